//! An agent's files on an email reply: the rendered body (plain text and HTML alternatives)
//! becomes the first part of a `multipart/mixed` mail and each file follows as an attachment
//! with its stored type and name. The bytes come from the hub; nothing here reads the disk.

use crate::hub::channel_files::OutgoingFile;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart};

/// `body` alone when there are no files; otherwise `multipart/mixed` with the files after it.
pub fn with_files(body: MultiPart, files: Vec<OutgoingFile>) -> MultiPart {
    if files.is_empty() {
        return body;
    }
    let mut mixed = MultiPart::mixed().multipart(body);
    for f in files {
        // Stored types come from our own sniffing, so they always parse; the fallback is only
        // there so a bad row cannot stop the mail.
        let content_type = ContentType::parse(&f.content_type)
            .unwrap_or(ContentType::parse("application/octet-stream").expect("a valid MIME type"));
        mixed = mixed.singlepart(Attachment::new(f.name).body(f.bytes, content_type));
    }
    mixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_follow_the_body_as_attachments() {
        let body = MultiPart::alternative_plain_html("hi".to_string(), "<p>hi</p>".to_string());
        let files = vec![OutgoingFile {
            name: "r.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.4\n".to_vec(),
        }];
        let mail = lettre::Message::builder()
            .from("a@example.test".parse().unwrap())
            .to("b@example.test".parse().unwrap())
            .subject("s")
            .multipart(with_files(body, files))
            .unwrap();
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("Content-Disposition: attachment; filename=\"r.pdf\""), "{raw}");
        assert!(raw.contains("Content-Type: application/pdf"), "{raw}");
    }
}
