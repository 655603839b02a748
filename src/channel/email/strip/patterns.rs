//! The line patterns reply stripping recognises: attribution lines ("On … wrote:" and its many
//! translations and date-first forms), separators ("-----Original Message-----" and localised
//! kin), forwarded-message markers, and the header lines of a quoted mail block.
//!
//! Only classification lives here (text in, yes/no out); deciding where the customer's text
//! ends is `mod.rs`'s job.

use regex::Regex;
use std::sync::LazyLock;

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("strip patterns are valid regexes (checked by the unit tests)")
}

/// Verbs that end an attribution ("… wrote:"), in the languages customers write in.
const WROTE: &str = r"wrote|writes|schrieb|schreef|geschreven|verzond|skrev|skriver|a\s+écrit|écrit|escribió|escreveu|ha\s+scritto|scritto|napisał\(a\)|napisała|napisał|napisal|pisze|написал\(а\)|написала|написал|пише|kirjoitti|đã\s+viết|yazdı|napsal|aliandika|ameandika|aliandikia";

/// Words an attribution starts with ("On", "Am", "Le", …), used to tell a wrapped attribution
/// from a customer's last line that happens to sit right above it.
static OPENER: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^[-*\s]*(on|at|in message|le|el|em|il|am|op|den|på|w dniu|dnia|dňa|vào|tarehe|mnamo|siku|pe|ma|ti|ke|to|la|su|ср|вт|пн|чт|пт|сб|вс|søn\.?|man\.?|tir\.?|ons\.?|tor\.?|fre\.?|lør\.?|在)\b|^[-*\s]*\d{1,4}\s?[-/.年,]|^[-*\s]*\d{1,2}\s\p{L}",
    )
});

/// "… wrote:" at the end of a line (any language), with an optional colon.
static ENDS_WROTE: LazyLock<Regex> = LazyLock::new(|| compile(&format!(r"(?i)\b({WROTE})\s*(\(a\))?\s*[:：]?$")));

/// "On … sent:" / "On … said:" (only after an English opener: these verbs are common words).
static ON_SENT: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)^(on|at)\s.{4,}\b(sent|said|says)\s*:$"));

/// The verb in the middle: "Am … schrieb Name <x@y>:", "Den … skrev Name:", "Name <x@y> schrieb
/// am Fr., 28. Apr. 2017 um 11:53 Uhr:", "Bob wrote on Mon, 3 Feb 2026 10:00:".
static WROTE_INSIDE: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"(?i)^.{{2,}}\b({WROTE})\b.{{1,160}}[:：]$")));

/// Date first, then the sender's address: "2014-10-17 11:28 GMT+03:00 Name <x@y>:",
/// "2011/4/7 Name <x@y>", "02.04.2012 14:20 пользователь "x@y" <x@y> написал:",
/// "2016/11/08 14:26、Name <x@y> のメッセージ:", "2016. 11. 8. 오후 12:39 Name <x@y> 작성:".
static DATE_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(\d{4}\s?[-/.年]\s?\d{1,2}\s?[-/.月]\s?\d{1,2}|\d{1,2}\s?[-/.]\s?\d{1,2}\s?[-/.]\s?\d{2,4})\D.*\S@\S")
});

/// A year somewhere, and the line ends with an address (and a colon): "вт, 5 янв. 2016 г. в
/// 23:39, Name <x@y>:", "Tue, 11 Apr 2017 22:07 John Smith js@example.com:".
static YEAR_THEN_ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\b(19|20)\d\d\b.{1,120}\S@[^\s<>]+\.[^\s<>]+>?\s*\)?\s*[:：]$"));

/// East Asian forms without a Latin verb: Chinese "在 … 写道：", Japanese Gmail
/// "2026年2月3日(火) 10:00 Name <a@b>:", Korean "… 작성:", Japanese Apple "… のメッセージ:".
static CJK: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^(在.{4,}(写道|寫道)\s*[:：]?|\d{4}年\d{1,2}月\d{1,2}日.*[:：]|.{6,}(작성|のメッセージ)\s*[:：])$")
});

/// Does this (possibly joined) line read as an attribution? `quoted_next` says whether quoted
/// lines follow, which is evidence enough for forms that carry no date or address.
pub fn is_attribution(line: &str, quoted_next: bool) -> bool {
    let dashed = line.starts_with("--") && line.ends_with("--");
    let core = line.trim_matches(|c: char| c == '-' || c == '*' || c.is_whitespace());
    if core.is_empty() || core.chars().count() > 300 {
        return false;
    }
    let evidence = core.chars().any(|c| c.is_ascii_digit() || c == '@');
    if CJK.is_match(core) || (DATE_FIRST.is_match(core) && !core.ends_with('.')) || YEAR_THEN_ADDRESS.is_match(core) {
        return true;
    }
    if ENDS_WROTE.is_match(core) {
        let colon = core.ends_with(':') || core.ends_with('：');
        let closed = colon || dashed;
        // A date or address plus either a closing colon/dashes or quotes below; without a date
        // or address, both.
        return if evidence { closed || quoted_next } else { closed && quoted_next };
    }
    (ON_SENT.is_match(core) || WROTE_INSIDE.is_match(core)) && evidence
}

/// Does the line start the way attributions start (an opener word or a date)?
pub fn opens_attribution(line: &str) -> bool {
    OPENER.is_match(line.trim())
}

/// "reply text On Wed, 4 Apr 2012 at 15:59, bob@example.com wrote:" — the customer's text and
/// the attribution on one line. Returns where the attribution starts.
pub fn inline_attribution(line: &str) -> Option<usize> {
    static INLINE: LazyLock<Regex> = LazyLock::new(|| {
        compile(&format!(r"(?i)\S(\s*-*\s*)\b(on\s[^:]{{0,80}}\d[^\n]{{0,120}}\b({WROTE}|sent)\s*:)\s*$"))
    });
    let caps = INLINE.captures(line)?;
    let start = caps.get(1)?.start();
    (start > 0).then_some(start)
}

/// "-----Original Message-----" and its translations; also Outlook's "Reply Message".
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^[-_=*\s]*(original message|reply message|ursprüngliche nachricht|antwort nachricht|originalnachricht|message d'origine|message original|mail original|mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht|origineel bericht|oprindelig meddelelse|oprindelig besked|opprinnelig melding|ursprungligt meddelande|alkuperäinen viesti|wiadomość oryginalna|původní zpráva|исходное сообщение|оригинальное сообщение|原始邮件|原始郵件|元のメッセージ|ujumbe wa awali|ujumbe asili)[-_=*\s:]*$",
    )
});

/// Is this a separator line above quoted history?
pub fn is_separator(line: &str) -> bool {
    SEPARATOR.is_match(line.trim())
}

/// Markers of a forwarded message, which is kept whole: the customer sends it to be read.
static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^[-_=*\s]*(forwarded message|forwarded e-?mail|begin forwarded message|weitergeleitete nachricht|anfang der weitergeleiteten nachricht|message transféré|début du message transféré|mensaje reenviado|mensagem encaminhada|início da mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht|vidarebefordrat meddelande|videresendt meddelelse|videresendt melding|przekazana wiadomość|пересылаемое сообщение|转发的邮件|ujumbe uliotumwa upya)[-_=*\s:]*$",
    )
});

/// Is this a forwarded-message marker?
pub fn is_forward(line: &str) -> bool {
    FORWARD.is_match(line.trim())
}

/// The kind of a header line inside a quoted mail block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// From:, Von:, De:, Fra:, Od:, От:, …
    From,
    /// Date:, Sent:, Gesendet:, Envoyé:, Sendt:, Skickat:, …
    Date,
    /// To:, Cc:, Subject:, An:, Betreff:, Til:, Emne:, …
    Other,
}

static HEADER_FROM: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^\**\s*(from|von|de|da|van|fra|från|od|от|kutoka|lähettäjä|kimden|expéditeur|发件人|寄件者|差出人)\s*\**\s*[:：]\s*\**\s*\S",
    )
});
static HEADER_DATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^\**\s*(date|sent|datum|gesendet|envoyé|enviado|enviado el|enviada em|fecha|data|inviato|verzonden|verstuurd|sendt|skickat|lähetetty|wysłano|odesláno|отправлено|дата|gönderildi|tarehe|imetumwa|发送时间|日付|送信日時)\s*\**\s*[:：]\s*\**\s*\S",
    )
});
static HEADER_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^\**\s*(to|cc|bcc|reply-to|subject|an|cc|betreff|à|a|objet|destinataire|répondre à|para|asunto|assunto|oggetto|aan|onderwerp|til|emne|till|ämne|vastaanottaja|aihe|do|temat|komu|předmět|кому|тема|kime|konu|kwa|mada|收件人|主题|主旨|宛先|件名)\s*\**\s*[:：]",
    )
});

/// Classifies a header line of a quoted mail block.
pub fn header(line: &str) -> Option<Header> {
    let line = line.trim();
    if HEADER_FROM.is_match(line) {
        Some(Header::From)
    } else if HEADER_DATE.is_match(line) {
        Some(Header::Date)
    } else if HEADER_OTHER.is_match(line) {
        Some(Header::Other)
    } else {
        None
    }
}

/// A line made only of rule characters ("-----", "_____", "=====", "* * *").
pub fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() >= 2 && t.chars().all(|c| matches!(c, '-' | '_' | '=' | '*' | '~' | '#' | '+' | '—' | ' '))
}

pub fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

pub fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}
