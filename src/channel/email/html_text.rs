//! HTML ↔ text for mail: HTML-only mail made readable for the bot and the console (blocks,
//! lists, links, quoted `<blockquote>`s, entities), and our plain-text replies as the HTML part.
//! Pure string work, no mail structure (that is `mime`).

/// HTML → readable text: block elements become line breaks, list items bullets, links keep
/// their target, `<blockquote>` lines are quoted with `> ` (so reply stripping sees them),
/// `<style>`, `<script>` and `<head>` vanish, entities are decoded, whitespace is collapsed.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut quote_depth = 0usize;
    let mut skip_until: Option<&'static str> = None;
    let mut pending_href: Vec<Option<String>> = Vec::new();
    let mut rest = html;
    let mut at_line_start = true;
    let mut pending_space = false;
    while !rest.is_empty() {
        if let Some(pos) = rest.find('<') {
            let (text, tail) = rest.split_at(pos);
            if skip_until.is_none() {
                push_text(&mut out, &decode_entities(text), quote_depth, &mut at_line_start, &mut pending_space);
            }
            // A comment or a tag.
            if tail.starts_with("<!--") {
                rest = tail.find("-->").map_or("", |e| &tail[e + 3..]);
                continue;
            }
            let Some(end) = tag_end(tail) else {
                rest = "";
                continue;
            };
            let tag = &tail[1..end];
            rest = &tail[end + 1..];
            let closing = tag.starts_with('/');
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            if let Some(until) = skip_until {
                if closing && name == until {
                    skip_until = None;
                }
                continue;
            }
            match (name.as_str(), closing) {
                ("style", false) => skip_until = Some("style"),
                ("script", false) => skip_until = Some("script"),
                ("head", false) => skip_until = Some("head"),
                ("title", false) => skip_until = Some("title"),
                ("br", _) => newline(&mut out, quote_depth, &mut at_line_start, &mut pending_space, false),
                (
                    "p" | "div" | "table" | "tr" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre" | "hr"
                    | "section" | "article" | "header" | "footer",
                    _,
                ) => {
                    let blank = matches!(name.as_str(), "p" | "h1" | "h2" | "h3" | "table" | "ul" | "ol");
                    newline(&mut out, quote_depth, &mut at_line_start, &mut pending_space, blank);
                }
                ("li", false) => {
                    newline(&mut out, quote_depth, &mut at_line_start, &mut pending_space, false);
                    push_text(&mut out, "- ", quote_depth, &mut at_line_start, &mut pending_space);
                }
                ("td" | "th", true) => pending_space = true,
                ("blockquote", false) => {
                    newline(&mut out, quote_depth, &mut at_line_start, &mut pending_space, false);
                    quote_depth += 1;
                }
                ("blockquote", true) => {
                    newline(&mut out, quote_depth, &mut at_line_start, &mut pending_space, false);
                    quote_depth = quote_depth.saturating_sub(1);
                }
                ("a", false) => pending_href.push(attribute(tag, "href")),
                ("a", true) => {
                    if let Some(Some(href)) = pending_href.pop()
                        && (href.starts_with("http://") || href.starts_with("https://"))
                        && !out.ends_with(&href)
                    {
                        push_text(&mut out, &format!(" ({href})"), quote_depth, &mut at_line_start, &mut pending_space);
                    }
                }
                ("img", _) => {
                    if let Some(alt) = attribute(tag, "alt").filter(|a| !a.trim().is_empty()) {
                        push_text(&mut out, &format!("[{alt}]"), quote_depth, &mut at_line_start, &mut pending_space);
                    }
                }
                _ => {}
            }
        } else {
            if skip_until.is_none() {
                push_text(&mut out, &decode_entities(rest), quote_depth, &mut at_line_start, &mut pending_space);
            }
            rest = "";
        }
    }
    // Collapse runs of blank lines.
    let mut result = String::new();
    let mut blank = 0;
    for line in out.lines() {
        let line = line.trim_end();
        if line.trim_start_matches('>').trim().is_empty() && !line.starts_with('>') {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        result.push_str(line);
        result.push('\n');
    }
    result.trim().to_string()
}

/// Index of the `>` closing the tag that starts at 0, respecting quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let start = from + found;
        from = start + name.len();
        let before_ok = start == 0 || lower.as_bytes()[start - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let offset = tag.len() - rest.len() + 1;
        let value = tag[offset..].trim_start();
        let v = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
            _ => value.split(|c: char| c.is_whitespace() || c == '>').next().unwrap_or(""),
        };
        return Some(decode_entities(v));
    }
    None
}

fn newline(out: &mut String, depth: usize, at_line_start: &mut bool, pending_space: &mut bool, blank: bool) {
    *pending_space = false;
    if !*at_line_start {
        out.push('\n');
        *at_line_start = true;
    }
    if blank && !out.is_empty() && !out.ends_with("\n\n") {
        push_prefix(out, depth);
        out.push('\n');
    }
}

/// Deepest quote level written out as `> ` prefixes; deeper `<blockquote>`s still count (so
/// closing tags balance) but add no more prefix, or thousands of nested blockquotes would put
/// thousands of `> ` before every line.
const MAX_QUOTE_PREFIX: usize = 16;

fn push_prefix(out: &mut String, depth: usize) {
    for _ in 0..depth.min(MAX_QUOTE_PREFIX) {
        out.push_str("> ");
    }
}

fn push_text(out: &mut String, text: &str, depth: usize, at_line_start: &mut bool, pending_space: &mut bool) {
    if text.starts_with(|c: char| c.is_whitespace() && c != '\u{a0}') {
        *pending_space = true;
    }
    for (i, word) in text.split(|c: char| c.is_whitespace() && c != '\u{a0}').filter(|w| !w.is_empty()).enumerate() {
        if i > 0 {
            *pending_space = true;
        }
        if *at_line_start {
            push_prefix(out, depth);
            *at_line_start = false;
        } else if *pending_space {
            out.push(' ');
        }
        *pending_space = false;
        out.push_str(&word.replace('\u{a0}', " "));
    }
    if text.ends_with(|c: char| c.is_whitespace() && c != '\u{a0}') {
        *pending_space = true;
    }
}

/// Named entities common in mail, and numeric ones.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        let end = tail[1..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '#')).map(|e| e + 1);
        let decoded = end.filter(|e| tail[*e..].starts_with(';')).and_then(|e| {
            let name = &tail[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "rdquo" => Some('”'),
                "ldquo" => Some('“'),
                "euro" => Some('€'),
                "copy" => Some('©'),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Plain text → the HTML body of our replies: escaped, paragraphs and line breaks kept.
pub fn text_to_html(text: &str) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.trim().lines().map(escape).collect::<Vec<_>>().join("<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_blockquotes_do_not_multiply_the_text() {
        let html = format!("{}{}", "<blockquote>".repeat(5_000), "x<br>".repeat(2_000));
        let text = html_to_text(&html);
        assert!(text.len() < 2_000 * (2 * MAX_QUOTE_PREFIX + 2), "{} bytes", text.len());
        assert_eq!(text.lines().next(), Some(format!("{}x", "> ".repeat(MAX_QUOTE_PREFIX)).as_str()));
    }

    #[test]
    fn reply_bodies_become_escaped_html() {
        assert_eq!(text_to_html("a < b\nline 2\n\nnext"), "<p>a &lt; b<br>\nline 2</p>\n<p>next</p>");
    }
}
