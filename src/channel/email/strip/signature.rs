//! Signatures at the end of the customer's own text: the "-- " delimiter (and "--"/"---"
//! once editors ate the space), "-Name" / "- name", a rule line above a mailing-list or
//! company footer, phone and app lines ("Sent from my iPhone", "Sent from Mailbox for
//! iPhone", "Sent from my Verizon Wireless BlackBerry", "Von meinem iPhone gesendet"), and
//! "Thanks!\nName" closing a short reply.
//!
//! Conservative on purpose: "Sent from my desk, is much easier …" is a sentence, a bullet list
//! ("- and another") is content, and "Price list:\n---\nkikoi 35" is a price list.

use super::patterns::{is_blank, is_rule};
use regex::Regex;
use std::sync::LazyLock;

fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).expect("signature patterns are valid regexes (checked by the unit tests)")
}

/// A whole line that is a phone or app signature; short, with no sentence after it.
static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^(sent from my [^,;:!?]{2,40}|sent from (mailbox|outlook|mail|yahoo mail|gmail|samsung mobile|acompli|my mobile|windows mail|aol mail|proton mail|spark|blue mail)( (for|on) [^,;:!?]{2,20})?|sent with proton ?mail( secure email)?|sent (from|via|with) [^,;:!?]{2,30} (for|on) (iphone|ipad|android|blackberry|windows phone)|get outlook for \w+( \w+)?(<[^>]*>)?|sent on the go|sent while mobile|enviado desde mi [^,;:!?]{2,40}|enviado do meu [^,;:!?]{2,30}|envoyé de mon [^,;:!?]{2,30}|envoyé depuis (mon )?[^,;:!?]{2,30}|von meinem [^,;:!?]{2,30} gesendet|gesendet von meinem [^,;:!?]{2,30}|inviato da(l mio)? [^,;:!?]{2,30}|verzonden (vanaf|met) (mijn )?[^,;:!?]{2,30}|verstuurd vanaf (mijn )?[^,;:!?]{2,30}|skickat från (min )?[^,;:!?]{2,30}|sendt fra (min )?[^,;:!?]{2,30}|wysłane z (mojego )?[^,;:!?]{2,30}|отправлено с (моего )?[^,;:!?]{2,30}|imetumwa kutoka kwa [^,;:!?]{2,30}|从我的 ?[^,;:!?]{2,20}发送)\.?$",
    )
});

/// "-Abhishek Kona", "- roman", "-A": a dash right before a short name.
static DASH_NAME: LazyLock<Regex> = LazyLock::new(|| compile(r"^-{1,2} ?\p{L}[\p{L}.']*( \p{L}[\p{L}.']*){0,2}$"));

/// A closing word on its own line ("Thanks!", "Regards,", "Asante,").
static CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^(thanks|thank you|thanks again|many thanks|thx|cheers|regards|best|best regards|kind regards|warm regards|best wishes|br|asante|asante sana|ahsante|shukrani|danke|vielen dank|grüße|gruß|merci|cordialement|gracias|saludos|obrigado|obrigada|grazie|dank je|groeten|mvh|hälsningar)\s*[,.!]*$",
    )
});

/// A name line: up to three words of letters, no sentence punctuation.
static NAME: LazyLock<Regex> = LazyLock::new(|| compile(r"^\p{L}[\p{L}.'-]*( \p{L}[\p{L}.'-]*){0,2}$"));

/// Lines of content before `end`, ignoring blanks.
fn content_lines(lines: &[String], end: usize) -> usize {
    lines[..end].iter().filter(|l| !is_blank(l)).count()
}

fn prev_content(lines: &[String], i: usize) -> Option<&str> {
    lines[..i].iter().rev().find(|l| !is_blank(l)).map(|l| l.trim())
}

/// Where the signature starts in `lines` (the customer's text, quotes already removed), or
/// `lines.len()` when there is none. Never returns a cut that would leave no text.
pub fn signature_start(lines: &[String]) -> usize {
    let mut end = lines.len();
    loop {
        while end > 0 && is_blank(&lines[end - 1]) {
            end -= 1;
        }
        let cut = delimiter(&lines[..end])
            .or_else(|| dash_name(&lines[..end]))
            .or_else(|| footer_rule(&lines[..end]))
            .or_else(|| mobile(&lines[..end]))
            .or_else(|| closing_and_name(&lines[..end]));
        match cut {
            Some(at) if at < end && content_lines(lines, at) > 0 => end = at,
            _ => return end,
        }
    }
}

/// "-- " (or "--", "---" with a name-like line after it): everything below is the signature.
fn delimiter(lines: &[String]) -> Option<usize> {
    let i = lines.iter().position(|l| {
        let t = l.trim_end();
        t == "--" || t == "-- " || t == "---"
    })?;
    if lines[i].trim_end() == "---" {
        // "---" is also a rule inside content; a signature has a name or greeting under it.
        let next = lines[i + 1..].iter().find(|l| !is_blank(l))?;
        let starts_upper = next.trim().chars().next().is_some_and(char::is_uppercase);
        if !starts_upper || next.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    Some(i)
}

/// "-Name" / "- name" among the last lines, not part of a bullet list, nothing below it
/// but a footer under a rule.
fn dash_name(lines: &[String]) -> Option<usize> {
    let start = lines.len().saturating_sub(10);
    (start..lines.len()).find(|&i| {
        let line = &lines[i];
        if line.starts_with(char::is_whitespace) || !DASH_NAME.is_match(line.trim_end()) {
            return false;
        }
        let prev = prev_content(lines, i);
        let in_list = prev.is_some_and(|p| p.starts_with('-') || p.starts_with('*') || p.ends_with(':'));
        // Below it: nothing, or a footer under a rule (a mailing list's), never more content.
        let below: Vec<&String> = lines[i + 1..].iter().filter(|l| !is_blank(l)).collect();
        let footer_only = below.is_empty() || (is_rule(below[0]) && below.len() <= 6);
        !in_list && footer_only
    })
}

/// A long rule ("______", "------") above a short block at the very end: a mailing-list or
/// company footer.
fn footer_rule(lines: &[String]) -> Option<usize> {
    let start = lines.len().saturating_sub(8);
    (start..lines.len()).find(|&i| {
        let t = lines[i].trim();
        let long_rule = is_rule(t) && t.chars().count() >= 5 && !t.contains(' ');
        let below: Vec<&String> = lines[i + 1..].iter().filter(|l| !is_blank(l)).collect();
        long_rule
            && !below.is_empty()
            && below.len() <= 6
            && (t.starts_with('_') || below.iter().all(|l| l.len() <= 80))
    })
}

/// A phone or app signature on the last line.
fn mobile(lines: &[String]) -> Option<usize> {
    let last = lines.len().checked_sub(1)?;
    MOBILE.is_match(lines[last].trim()).then_some(last)
}

/// "Thanks!\nRoman" ending a short reply.
fn closing_and_name(lines: &[String]) -> Option<usize> {
    let content: Vec<usize> = (0..lines.len()).filter(|&i| !is_blank(&lines[i])).collect();
    let [.., closing, name] = content[..] else { return None };
    let before = content.len() - 2;
    let short_reply = (1..=4).contains(&before);
    (short_reply && CLOSING.is_match(lines[closing].trim()) && NAME.is_match(lines[name].trim())).then_some(closing)
}
