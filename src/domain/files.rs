//! Stored files' pure rules, shared by every way a file comes in (widget and console uploads,
//! Discord attachments): the type is decided by the first bytes, never by the name, and the
//! name is kept only for display, made safe for headers and HTML. No IO lives here.

/// Longest kept file name (characters).
pub const MAX_NAME_CHARS: usize = 100;

/// The file types accepted, found by their magic bytes; `None` for anything else.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "pdf",
    }
}

/// A display name safe in a header and in HTML: the last path segment, ASCII letters, digits,
/// `.`, `-`, `_` and spaces kept (others become `_`), no leading dots, at most
/// [`MAX_NAME_CHARS`]; `file.<ext>` when nothing is left.
pub fn sanitise_name(raw: Option<&str>, content_type: &str) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.chars().all(|c| c == '_' || c == '.') {
        return format!("file.{}", extension(content_type));
    }
    cleaned.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0\0\x10JFIF"), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a\x01\0"), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff(b"hello, this is text"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(sanitise_name(Some("../../etc/passwd"), "image/png"), "passwd");
        assert_eq!(sanitise_name(Some("C:\\Users\\a\\photo 1.png"), "image/png"), "photo 1.png");
        assert_eq!(sanitise_name(Some("a\"b<c>.png"), "image/png"), "a_b_c_.png");
        assert_eq!(sanitise_name(Some(".hidden.pdf"), "application/pdf"), "hidden.pdf");
        assert_eq!(sanitise_name(None, "image/jpeg"), "file.jpg");
        assert_eq!(sanitise_name(Some("ñ"), "application/pdf"), "file.pdf");
        assert_eq!(sanitise_name(Some(&"x".repeat(500)), "image/png").len(), MAX_NAME_CHARS);
    }
}
