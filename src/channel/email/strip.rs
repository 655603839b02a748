//! Reply stripping: what the bot and the console show of a customer's mail. Removes the quoted
//! history a mail client appends ("On … wrote:" in several languages, also when wrapped over
//! lines; Outlook's "-----Original Message-----" and From:/Sent:/To:/Subject: header blocks;
//! trailing `>` blocks) and the signature (`-- ` delimiter, "Sent from my phone" lines).
//!
//! Pure text in, text out. The caller keeps the original for agents; when stripping would leave
//! nothing, the original is shown instead, so a mail is never reduced to an empty message.

use regex::Regex;
use std::sync::LazyLock;

/// The visible part of a mail body and whether anything was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    pub text: String,
    pub removed: bool,
}

/// Openers and closers of attribution lines ("On <date>, <name> wrote:"), per language. A line
/// (or up to three joined lines, for clients that wrap it) must match one of these.
static ATTRIBUTION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // English, also Gmail's "On Mon, 3 Feb 2026 at 10:00, Name <a@b> wrote:"
        r"(?i)^on\b.{4,}\b(wrote|writes)\s*:$",
        // German
        r"(?i)^am\b.{4,}\bschrieb\b.*:$",
        // French
        r"(?i)^le\b.{4,}\ba [ée]crit\s*:$",
        // Spanish
        r"(?i)^el\b.{4,}\bescribi[óo]\s*:$",
        // Portuguese
        r"(?i)^em\b.{4,}\bescreveu\s*:$",
        // Italian
        r"(?i)^il\b.{4,}\bha scritto\s*:$",
        // Dutch
        r"(?i)^op\b.{4,}\bschreef\b.*:$",
        // Swedish, Danish, Norwegian
        r"(?i)^den\b.{4,}\bskrev\b.*:$",
        // Polish
        r"(?i)^w dniu\b.{4,}\bnapisa[łl]a?\s*:$",
        // Swahili ("Tarehe …, … aliandika:")
        r"(?i)^(tarehe|mnamo|siku)\b.{4,}\b(aliandika|ameandika|aliandikia)\s*:$",
        // Japanese Gmail ("2026年2月3日(火) 10:00 Name <a@b>:")
        r"^\d{4}年\d{1,2}月\d{1,2}日.*[:：]$",
        // Chinese ("在 2026年2月3日 … 写道：")
        r"^在.{4,}(写道|寫道)\s*[:：]$",
        // Anything else that ends like an attribution
        r"(?i)^.{0,200}\b(wrote|writes|schrieb|escribió|escreveu|aliandika)\s*:$",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("attribution patterns are valid regexes"))
    .collect()
});

/// Separators Outlook and others put above the quoted mail.
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^[-_=\s]*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original|messaggio originale|oorspronkelijk bericht|ujumbe wa awali|ujumbe asili)[-_=\s]*$",
    )
    .expect("separator pattern is a valid regex")
});

/// A header line of a quoted mail block: "From:", "Von:", "De:", "Kutoka:" …
static HEADER_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\*?(from|von|de|da|van|från|od|kutoka|发件人|差出人)\s*\*?\s*[:：]").expect("valid regex")
});
static HEADER_OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\*?(sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|date|à|objet|enviado|fecha|para|asunto|inviato|oggetto|verzonden|aan|onderwerp|skickat|till|ämne|imetumwa|tarehe|kwa|mada|发送时间|收件人|主题|送信日時|宛先|件名)\s*\*?\s*[:：]",
    )
    .expect("valid regex")
});

/// Phone and app signatures that stand alone at the end.
static MOBILE_SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(sent from my \w+|sent from (mail|outlook) for|get outlook for \w+|sent from yahoo mail|imetumwa kutoka kwa|von meinem \w+ gesendet|envoyé de mon \w+|enviado desde mi \w+)",
    )
    .expect("valid regex")
});

fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Is an attribution line starting at `i` (possibly wrapped over up to three lines)? Returns
/// true only when it looks like a real attribution: it names a date or address, or quoted
/// lines follow it, so "On Monday I wrote:" in running text stays.
fn attribution_at(lines: &[&str], i: usize) -> bool {
    for span in 1..=3 {
        if i + span > lines.len() {
            break;
        }
        if lines[i..i + span].iter().skip(1).any(|l| is_blank(l) || is_quote(l)) {
            break;
        }
        let joined = lines[i..i + span].iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        if ATTRIBUTION.iter().any(|re| re.is_match(&joined)) {
            let evidence = joined.chars().any(|c| c.is_ascii_digit() || c == '@');
            let quoted_next = lines[i + span..].iter().find(|l| !is_blank(l)).is_none_or(|l| is_quote(l));
            return evidence || quoted_next;
        }
    }
    false
}

/// An Outlook-style header block at `i`: a From: line followed within four lines by at least
/// two of Sent/Date/To/Subject.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    if !HEADER_FROM.is_match(lines[i].trim()) {
        return false;
    }
    let others = lines[i + 1..].iter().take(5).filter(|l| HEADER_OTHER.is_match(l.trim())).count();
    others >= 2
}

/// Where the quoted history starts, if anywhere.
fn history_start(lines: &[&str]) -> Option<usize> {
    for i in 0..lines.len() {
        let line = lines[i].trim();
        if line.is_empty() || is_quote(lines[i]) {
            continue;
        }
        if SEPARATOR.is_match(line) {
            return Some(i);
        }
        // Outlook's underscore rule right above a header block.
        if line.len() >= 10 && line.chars().all(|c| c == '_') && i + 1 < lines.len() {
            let next = lines[i + 1..].iter().position(|l| !is_blank(l)).map(|p| i + 1 + p);
            if next.is_some_and(|n| header_block_at(lines, n)) {
                return Some(i);
            }
        }
        if header_block_at(lines, i) || attribution_at(lines, i) {
            return Some(i);
        }
    }
    None
}

/// Strips quoted history and signature from a plain-text mail body.
pub fn strip_reply(body: &str) -> Stripped {
    let normalized = body.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalized.lines().collect();
    let mut end = history_start(&lines).unwrap_or(lines.len());

    // Signature: everything from the "-- " delimiter on (also "--" once trailing spaces are gone).
    if let Some(sig) = lines[..end].iter().position(|l| l.trim_end() == "--") {
        end = sig;
    }
    loop {
        // Trailing blank lines, a trailing `>` block, a lone phone signature at the end.
        while end > 0 && is_blank(lines[end - 1]) {
            end -= 1;
        }
        if end > 0 && is_quote(lines[end - 1]) {
            while end > 0 && (is_quote(lines[end - 1]) || is_blank(lines[end - 1])) {
                end -= 1;
            }
            continue;
        }
        if end > 0 && MOBILE_SIGNATURE.is_match(lines[end - 1].trim()) {
            end -= 1;
            continue;
        }
        break;
    }
    let text = lines[..end].iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n").trim().to_string();
    if text.is_empty() {
        // Only quotes (or nothing): show the mail as it came rather than an empty message.
        return Stripped { text: normalized.trim().to_string(), removed: false };
    }
    let removed = text != normalized.trim();
    Stripped { text, removed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(body: &str) -> String {
        strip_reply(body).text
    }

    #[test]
    fn english_gmail_attribution_and_quote() {
        let body = "Thanks, that helps!\n\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <support@example.com> wrote:\n\n> Your order 1001 has shipped.\n> Tracking: EE482913057TZ\n";
        assert_eq!(visible(body), "Thanks, that helps!");
        assert!(strip_reply(body).removed);
    }

    #[test]
    fn wrapped_attribution_over_two_and_three_lines() {
        let two = "Where is it now?\n\nOn Mon, 3 Feb 2026 at 10:00, Kituo Support <\nsupport@example.com> wrote:\n> shipped\n";
        assert_eq!(visible(two), "Where is it now?");
        let three = "Still waiting.\n\nOn Tuesday, February 3, 2026 10:00 AM,\nKituo Support Team of Example Shop\n<support@example.com> wrote:\n\n> shipped\n";
        assert_eq!(visible(three), "Still waiting.");
    }

    #[test]
    fn attributions_in_other_languages() {
        let cases = [
            "Am 03.02.2026 um 10:00 schrieb Kituo Support <support@example.com>:",
            "Le lun. 3 févr. 2026 à 10:00, Kituo Support <support@example.com> a écrit :",
            "El lun, 3 feb 2026 a las 10:00, Kituo Support (<support@example.com>) escribió:",
            "Em seg., 3 de fev. de 2026 às 10:00, Kituo Support <support@example.com> escreveu:",
            "Il giorno lun 3 feb 2026 alle ore 10:00 Kituo Support <support@example.com> ha scritto:",
            "Op ma 3 feb. 2026 om 10:00 schreef Kituo Support <support@example.com>:",
            "Den mån 3 feb. 2026 kl 10:00 skrev Kituo Support <support@example.com>:",
            "W dniu 3.02.2026 o 10:00 Kituo Support <support@example.com> napisał:",
            "Tarehe 3 Feb 2026 saa 10:00, Kituo Support <support@example.com> aliandika:",
            "2026年2月3日(火) 10:00 Kituo Support <support@example.com>:",
            "在 2026年2月3日 10:00，Kituo Support <support@example.com> 写道：",
        ];
        for attribution in cases {
            let body = format!("Asante sana.\n\n{attribution}\n\n> Oda yako imesafirishwa.\n");
            assert_eq!(visible(&body), "Asante sana.", "{attribution}");
        }
    }

    #[test]
    fn outlook_original_message_separator() {
        let body = "Please cancel it.\n\n-----Original Message-----\nFrom: Kituo Support <support@example.com>\nSent: Monday, February 3, 2026 10:00 AM\nTo: Amina <amina@example.co.tz>\nSubject: RE: Order 1001\n\nYour order has shipped.";
        assert_eq!(visible(body), "Please cancel it.");
    }

    #[test]
    fn outlook_header_block_with_underscore_rule() {
        let body = "Any update?\r\n\r\n________________________________\r\nFrom: Kituo Support <support@example.com>\r\nSent: Monday, February 3, 2026 10:00\r\nTo: Amina\r\nSubject: Re: Order 1001\r\n\r\nYour order has shipped.\r\n";
        assert_eq!(visible(body), "Any update?");
        let bare = "Any update?\n\nFrom: Kituo Support <support@example.com>\nDate: Mon, 3 Feb 2026 10:00\nTo: Amina\nSubject: Order 1001\n\nshipped";
        assert_eq!(visible(bare), "Any update?");
        let german = "Danke.\n\nVon: Kituo Support <support@example.com>\nGesendet: Montag, 3. Februar 2026 10:00\nAn: Amina\nBetreff: Bestellung";
        assert_eq!(visible(german), "Danke.");
    }

    #[test]
    fn trailing_quote_block_without_attribution() {
        let body = "Yes, that is my address.\n\n> Is your address still Plot 12, Msasani?\n> Reply to confirm.\n\n";
        assert_eq!(visible(body), "Yes, that is my address.");
    }

    #[test]
    fn inline_quotes_in_the_middle_stay() {
        let body = "> Which order?\n1001\n> And your email?\namina@example.co.tz";
        assert_eq!(visible(body), body);
        assert!(!strip_reply(body).removed);
    }

    #[test]
    fn dash_dash_space_signature() {
        let body = "Where is order 1001?\n\n-- \nAmina Mwakilema\nMsasani, Dar es Salaam\n+255 700 000 000";
        assert_eq!(visible(body), "Where is order 1001?");
        let no_space = "Where is order 1001?\n--\nAmina";
        assert_eq!(visible(no_space), "Where is order 1001?");
    }

    #[test]
    fn phone_signatures_at_the_end() {
        assert_eq!(visible("Where is my order?\n\nSent from my iPhone"), "Where is my order?");
        assert_eq!(visible("Oda yangu iko wapi?\n\nImetumwa kutoka kwa Samsung"), "Oda yangu iko wapi?");
    }

    #[test]
    fn content_that_only_looks_similar_is_kept() {
        let body = "On Monday I wrote:\nplease send the invoice again, I need to re-send it to accounts.";
        assert_eq!(visible(body), body.trim());
        let dashes = "Price list:\n---\nkikoi 35";
        assert_eq!(visible(dashes), dashes);
    }

    #[test]
    fn a_mail_that_is_only_a_quote_is_shown_whole() {
        let body = "> forwarded text only\n> nothing else";
        assert_eq!(visible(body), body);
    }

    #[test]
    fn signature_and_quote_together() {
        let body = "Thanks!\n-- \nAmina\n\nOn Mon, 3 Feb 2026, Kituo <support@example.com> wrote:\n> hi";
        assert_eq!(visible(body), "Thanks!");
    }
}
