//! Reply stripping: what the bot and the console show of a customer's mail. Removes the quoted
//! history a mail client adds — attribution lines ("On … wrote:" in many languages, also wrapped
//! over several lines, date-first forms, Polymail's four-line form, "---- Name wrote ----"),
//! separators ("-----Original Message-----" and localised kin), quoted header blocks (From:- or
//! Date:-first, localised), `>` blocks above or below the reply (bottom-posting) — and the
//! signature (see [`signature`]). A forwarded message is kept whole.
//!
//! Pure text in, text out. The caller keeps the original for agents; when stripping would leave
//! nothing, the original is shown instead, so a mail is never reduced to an empty message.

mod patterns;
mod signature;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod corpus_intl;

use patterns::{Header, is_blank, is_quote};

/// The visible part of a mail body and whether anything was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    pub text: String,
    pub removed: bool,
}

/// Lines an attribution may wrap over (Polymail's form takes five with its blank line).
const MAX_ATTRIBUTION_LINES: usize = 4;

/// Strips quoted history and signature from a plain-text mail body.
pub fn strip_reply(body: &str) -> Stripped {
    let normalized = body.replace("\r\n", "\n").replace(['\r'], "\n").replace('\u{a0}', " ");
    let whole = normalized.trim().to_string();
    let lines = split_inline_attributions(&normalized);
    if forwarded(&lines) {
        // A forward is meant to be read: keep the whole mail as written.
        return Stripped { text: whole, removed: false };
    }
    let mut visible = visible_lines(&lines);
    visible.truncate(signature::signature_start(&visible));
    let text = visible.iter().map(|l| l.trim_end()).collect::<Vec<_>>().join("\n").trim().to_string();
    if text.is_empty() {
        // Only quotes (or nothing): show the mail as it came rather than an empty message.
        return Stripped { text: whole, removed: false };
    }
    let removed = text != whole;
    Stripped { text, removed }
}

/// "reply On Wed, 4 Apr 2012 at 15:59, bob@example.com wrote:" becomes two lines, so the
/// attribution can be found like any other.
fn split_inline_attributions(body: &str) -> Vec<String> {
    let raw: Vec<&str> = body.lines().collect();
    let mut out = Vec::with_capacity(raw.len());
    for (i, line) in raw.iter().enumerate() {
        let quoted_next = raw[i + 1..].iter().find(|l| !is_blank(l)).is_some_and(|l| is_quote(l));
        let whole_line = patterns::opens_attribution(line) && patterns::is_attribution(line.trim(), quoted_next);
        match patterns::inline_attribution(line).filter(|_| quoted_next && !is_quote(line) && !whole_line) {
            Some(at) => {
                let (reply, attribution) = line.split_at(at);
                out.push(reply.trim_end_matches(['-', ' ']).to_string());
                out.push(attribution.trim_start().to_string());
            }
            None => out.push((*line).to_string()),
        }
    }
    out
}

/// Is the first history marker of the mail a forwarded-message marker?
fn forwarded(lines: &[String]) -> bool {
    (0..lines.len()).find_map(|i| marker_at(lines, i)) == Some(Marker::Forward)
}

/// What quoted history starts at line `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// A separator or header block: everything below is history.
    Block,
    /// An attribution over this many lines; a `>` block may follow, and text after it is
    /// the customer's again (bottom-posting).
    Attribution(usize),
    /// A forwarded message: kept whole.
    Forward,
}

fn marker_at(lines: &[String], i: usize) -> Option<Marker> {
    let line = lines[i].trim();
    if line.is_empty() {
        return None;
    }
    if patterns::is_forward(line) {
        return Some(Marker::Forward);
    }
    if is_quote(line) {
        return None;
    }
    if patterns::is_separator(line) || header_block_at(lines, i) {
        return Some(Marker::Block);
    }
    if let Some(span) = polymail_at(lines, i) {
        return Some(Marker::Attribution(span));
    }
    let span = attribution_span(lines, i)?;
    // A customer's last line right above an attribution is not part of it: prefer the later
    // start when the next line reads as an attribution on its own terms.
    if span > 1 && attribution_span(lines, i + 1).is_some() {
        let next_opens = patterns::opens_attribution(&lines[i + 1]);
        if next_opens || !patterns::opens_attribution(line) {
            return None;
        }
    }
    Some(Marker::Attribution(span))
}

/// Lines of an attribution starting at `i` (wrapped over up to four lines), if there is one.
fn attribution_span(lines: &[String], i: usize) -> Option<usize> {
    let mut joined = String::new();
    for span in 1..=MAX_ATTRIBUTION_LINES {
        let Some(next) = lines.get(i + span - 1) else { break };
        if span > 1 && (is_blank(next) || is_quote(next)) {
            break;
        }
        if span > 1 {
            joined.push(' ');
        }
        joined.push_str(next.trim());
        let quoted_next = lines[i + span..].iter().find(|l| !is_blank(l)).is_some_and(|l| is_quote(l));
        if patterns::is_attribution(&joined, quoted_next) {
            return Some(span);
        }
    }
    None
}

/// Polymail: "On Tue, Apr 11, 2017 at 10:07 PM John Smith", (blank), "<", "mailto:…", "> wrote:".
fn polymail_at(lines: &[String], i: usize) -> Option<usize> {
    if !lines[i].trim_start().to_lowercase().starts_with("on ") {
        return None;
    }
    let window = &lines[i + 1..lines.len().min(i + 6)];
    let open = window.iter().position(|l| l.trim() == "<")?;
    let wrote = window.iter().position(|l| {
        let t = l.trim().to_lowercase();
        t.starts_with('>') && (t.ends_with("wrote:") || t.ends_with("sent:"))
    })?;
    let mailto = window[open..wrote].iter().any(|l| l.trim().to_lowercase().starts_with("mailto:"));
    (open < wrote && mailto).then_some(wrote + 2)
}

/// A quoted mail's header block at `i`: a From:/Date:/Sent: line and at least one more header
/// line below it (a wrapped value may sit between), with an address, a dated Date:/Sent:, or
/// three header lines to tell it from "From: Dar / To: Arusha" in running text.
fn header_block_at(lines: &[String], i: usize) -> bool {
    let Some(first) = patterns::header(&lines[i]) else { return false };
    if first == Header::Other {
        return false;
    }
    let mut headers = vec![i];
    let mut gap = 0;
    for (j, line) in lines.iter().enumerate().skip(i + 1).take(8) {
        if patterns::header(line).is_some() {
            headers.push(j);
            gap = 0;
        } else if is_blank(line) || gap >= 1 {
            break;
        } else {
            gap += 1;
        }
    }
    let block = &lines[i..=*headers.last().expect("headers holds the first line")];
    let has_address = block.iter().any(|l| l.contains('@'));
    let dated = headers
        .iter()
        .any(|&j| patterns::header(&lines[j]) == Some(Header::Date) && lines[j].chars().any(|c| c.is_ascii_digit()));
    headers.len() >= 2 && (has_address || dated || headers.len() >= 3)
}

/// The customer's lines: everything but quoted history, `>` blocks that belong to it, and a
/// rule line left above a removed block.
fn visible_lines(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let mut cut = false;
    while i < lines.len() {
        match marker_at(lines, i) {
            Some(Marker::Forward | Marker::Block) => {
                cut = true;
                break;
            }
            Some(Marker::Attribution(span)) => {
                cut = true;
                let mut j = i + span;
                while j < lines.len() && is_blank(&lines[j]) {
                    j += 1;
                }
                if j >= lines.len() || !is_quote(&lines[j]) {
                    break; // unquoted history (Outlook-style) runs to the end
                }
                i = skip_quote_block(lines, j);
                while i < lines.len() && is_blank(&lines[i]) {
                    i += 1;
                }
                trim_rules(&mut out);
                if !out.is_empty() && i < lines.len() {
                    out.push(String::new());
                }
            }
            None => {
                out.push(lines[i].clone());
                i += 1;
            }
        }
    }
    if cut {
        trim_rules(&mut out);
    }
    drop_quote_blocks(&mut out);
    out
}

/// Index after the `>` block starting at `j`; a stray link line caught between two quoted
/// lines ("(http://…) >") belongs to the block.
fn skip_quote_block(lines: &[String], mut j: usize) -> usize {
    while j < lines.len() {
        let line = &lines[j];
        let sandwiched = !is_blank(line)
            && lines.get(j + 1).is_some_and(|n| is_quote(n))
            && (line.trim_end().ends_with('>') || line.trim_start().starts_with(['(', '<']) || line.contains("http"));
        if is_quote(line)
            || sandwiched
            || (is_blank(line)
                && lines[j + 1..].iter().take_while(|l| is_blank(l)).count() < 3
                && next_is_quote(lines, j))
        {
            j += 1;
        } else {
            break;
        }
    }
    j
}

fn next_is_quote(lines: &[String], j: usize) -> bool {
    lines[j..].iter().find(|l| !is_blank(l)).is_some_and(|l| is_quote(l))
}

/// Drops trailing blank lines and rule lines ("-----", "_____") that stood above history.
fn trim_rules(out: &mut Vec<String>) {
    while out.last().is_some_and(|l| is_blank(l) || patterns::is_rule(l)) {
        out.pop();
    }
}

/// `>` blocks without an attribution: a trailing block is the quoted mail (top-posting); a
/// single leading block followed by text is the quoted mail of a bottom-poster. Quotes
/// interleaved with answers are left alone: the answers need them.
fn drop_quote_blocks(out: &mut Vec<String>) {
    let before = out.len();
    while out.last().is_some_and(|l| is_blank(l) || is_quote(l)) {
        out.pop();
    }
    if out.len() < before {
        trim_rules(out);
    }
    let first = out.iter().position(|l| !is_blank(l));
    if first.is_some_and(|f| is_quote(&out[f])) {
        let end = out.iter().position(|l| !is_blank(l) && !is_quote(l)).unwrap_or(out.len());
        if !out[end..].iter().any(|l| is_quote(l)) {
            out.drain(..end);
        }
    }
}
