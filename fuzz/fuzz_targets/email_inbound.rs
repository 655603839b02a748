//! Fuzz target `email_inbound`: a raw mail from a hostile sender, through every pure step of the
//! inbound email path.
//!
//! Covers `channel::email`: `mime::parse` (MIME, charsets, encodings, attachments with a size
//! cap) and `peek_headers` (the quarantine's look at a rejected mail); `strip::strip_reply` on
//! the text a mail yields; and the pure parts of `threading`: `thread_ids`,
//! `parse_our_message_id`, `clean_id`, `base_subject` and `EmailMeta::absorb`/`to_json`/`parse`.
//! `html_to_text` and `strip_reply` also get the raw bytes as text, so the fuzzer reaches them
//! without building MIME first. Not covered here: `threading::resolve`, which looks the ids up
//! in the database; tests/api/email.rs covers it against a real store.

#![no_main]

use kituo::channel::email::mime::{self, base_subject, clean_id, html_to_text, peek_headers};
use kituo::channel::email::strip::strip_reply;
use kituo::channel::email::threading::{EmailMeta, parse_our_message_id, thread_ids};
use libfuzzer_sys::fuzz_target;

/// Attachment cap: small, so both sides of it are reached.
const CAP: usize = 1024;

fuzz_target!(
    init: {
        // `mime` catches panics inside mail-parser (its internal assertions) and rejects the
        // mail; libFuzzer's hook would abort on them before that. Any other panic still aborts,
        // and so would one from mail-parser that `mime` failed to catch.
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/mail-parser-")) {
                abort_hook(info);
            }
        }));
    },
    |data: &[u8]| {
    let _ = peek_headers(data);
    if let Ok(mail) = mime::parse(data, CAP) {
        check_strip(&mail.text);
        for a in &mail.attachments {
            assert_eq!(a.content.is_some(), a.size <= CAP);
        }
        let ids = thread_ids(&mail);
        assert!(!ids.contains(&mail.message_id.as_str()));
        for id in ids {
            let _ = parse_our_message_id(id);
            let _ = clean_id(id);
        }
        let _ = base_subject(&mail.subject);
        let mut meta = EmailMeta::new();
        meta.absorb(&mail);
        meta.absorb(&mail);
        assert!(meta.references.len() <= 30);
        assert_eq!(meta.last_message_id.as_deref(), Some(mail.message_id.as_str()));
        assert_eq!(EmailMeta::parse(&meta.to_json()), meta);
    }
    // The same bytes as a body, a subject and an HTML part.
    let text = String::from_utf8_lossy(data);
    check_strip(&text);
    let _ = base_subject(&text);
    let _ = html_to_text(&text);
});

/// Stripping never turns a mail with visible text into an empty message.
fn check_strip(body: &str) {
    let stripped = strip_reply(body);
    if !body.trim().is_empty() {
        assert!(!stripped.text.is_empty(), "stripping emptied {body:?}");
    }
}
