//! Files on Discord, both ways. In: each attachment of a customer's message is downloaded from
//! Discord's CDN and kept by the hub exactly like a widget upload (type by content, the
//! `--max-upload-bytes` limit), so agents see it in the console; a file that is too large, of
//! a refused type or unreachable is listed as a note line instead. Out: the files an agent
//! attached to a reply become the message's uploads (multipart `POST /channels/{id}/messages`).
//!
//! Owns only the Discord side (URLs, serenity types); storing goes through hub methods.

use crate::hub::channel_files::{FileRefusal, OutgoingFile};
use crate::hub::{ATTACHMENT_PREFIX, Hub};
use serenity::all::{Attachment, CreateAttachment};
use std::time::Duration;

/// How long one file's download may take.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Who a kept file was uploaded by (the store's `uploaded_by`).
const UPLOADED_BY: &str = "discord";

/// What became of one attachment.
enum Outcome {
    Kept(String),
    Refused(String),
}

/// Keeps the message's attachments for `conversation_id`; returns the text for the hub (the
/// message's content, then one line per file: its name, and why it was not kept when it was
/// not) and the ids of the kept files, to be carried by the stored message.
pub async fn keep(
    hub: &Hub,
    conversation_id: &str,
    content: &str,
    attachments: &[Attachment],
) -> (String, Vec<String>) {
    let mut notes = Vec::with_capacity(attachments.len());
    let mut kept = Vec::new();
    for a in attachments {
        match keep_one(hub, conversation_id, a).await {
            Outcome::Kept(id) => {
                kept.push(id);
                notes.push((a.filename.as_str(), a.url.as_str(), None));
            }
            Outcome::Refused(why) => notes.push((a.filename.as_str(), a.url.as_str(), Some(why))),
        }
    }
    (inbound_text(content, &notes), kept)
}

async fn keep_one(hub: &Hub, conversation_id: &str, a: &Attachment) -> Outcome {
    let max = hub.max_file_bytes();
    // Discord states the size: a file over the limit is not even downloaded.
    if a.size as usize > max {
        return Outcome::Refused(FileRefusal::TooLarge(max).to_string());
    }
    let bytes = match tokio::time::timeout(DOWNLOAD_TIMEOUT, a.download()).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, attachment_id = %a.id, "cannot download a Discord attachment");
            return Outcome::Refused("could not be downloaded".into());
        }
        Err(_) => {
            tracing::warn!(attachment_id = %a.id, "a Discord attachment's download timed out");
            return Outcome::Refused("could not be downloaded".into());
        }
    };
    match hub.keep_channel_file(conversation_id, &a.filename, bytes, UPLOADED_BY).await {
        Ok(Ok(file)) => Outcome::Kept(file.id),
        Ok(Err(refused)) => Outcome::Refused(refused.to_string()),
        Err(e) => {
            tracing::error!(error = %e, attachment_id = %a.id, "cannot record a Discord attachment");
            Outcome::Refused(FileRefusal::NotStored.to_string())
        }
    }
}

/// The message text with one line per attachment: its name, and for a file not kept, why and
/// its Discord URL (so an agent can still look); the bot does not read these lines. Empty when
/// there is nothing to answer.
pub fn inbound_text(content: &str, files: &[(&str, &str, Option<String>)]) -> String {
    let mut text = content.trim().to_string();
    for (name, url, refused) in files {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(ATTACHMENT_PREFIX);
        text.push_str(name);
        if let Some(why) = refused {
            text.push_str(&format!(" (not kept: {why}): {url}"));
        }
    }
    text
}

/// An agent's files as Discord uploads.
pub fn uploads(files: Vec<OutgoingFile>) -> Vec<CreateAttachment> {
    files.into_iter().map(|f| CreateAttachment::bytes(f.bytes, f.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_listed_after_the_text() {
        assert_eq!(inbound_text("  hi ", &[]), "hi");
        assert_eq!(inbound_text("see this", &[("a.png", "https://cdn/a.png", None)]), "see this\n[attachment] a.png");
        assert_eq!(
            inbound_text("", &[("b.exe", "https://cdn/b.exe", Some("not an image or PDF".into()))]),
            "[attachment] b.exe (not kept: not an image or PDF): https://cdn/b.exe"
        );
        assert_eq!(inbound_text(" ", &[]), "");
    }
}
