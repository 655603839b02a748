//! Files on disk, and the files channel adapters bring in or take out: a Discord attachment is
//! kept like a widget upload (type by content, size limit, a row per file), and an agent's
//! reply hands its files to the email and Discord senders. The hub owns the attachments folder
//! ([`Files`]); adapters never see paths or rows, only bytes, names and types. The web layer
//! serves the same folder (`web::attachments`).

use super::{Hub, Result};
use crate::domain::files::{sanitise_name, sniff};
use crate::domain::{AttachmentRef, new_id};
use crate::store::NewStoredFile;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// Where files live and how large one may be.
#[derive(Debug)]
pub struct Files {
    dir: PathBuf,
    max_bytes: usize,
}

impl Files {
    pub fn new(dir: PathBuf, max_bytes: usize) -> Files {
        Files { dir, max_bytes }
    }

    /// `--max-upload-bytes`: the largest file kept, whichever way it came.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Files are stored under their random id, never under a name a client chose.
    pub fn path_of(&self, attachment_id: &str) -> PathBuf {
        self.dir.join(attachment_id)
    }

    /// Writes the file under its id (through a temporary name, so a half-written file is never
    /// served).
    pub async fn write(&self, attachment_id: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let dir = self.dir.clone();
        let path = self.path_of(attachment_id);
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let partial = path.with_extension("part");
            std::fs::write(&partial, &bytes)?;
            std::fs::rename(&partial, &path)
        })
        .await
        .map_err(std::io::Error::other)?
    }

    pub async fn read(&self, attachment_id: &str) -> std::io::Result<Vec<u8>> {
        let path = self.path_of(attachment_id);
        tokio::task::spawn_blocking(move || std::fs::read(path)).await.map_err(std::io::Error::other)?
    }
}

/// Why a file from a channel was not kept; the adapter lists it as a note line instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    #[error("not an image or PDF")]
    UnsupportedType,
    #[error("empty")]
    Empty,
    #[error("could not be stored")]
    NotStored,
}

/// A file to send with an outgoing message.
#[derive(Debug, Clone)]
pub struct OutgoingFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl Hub {
    /// Where files are kept (set once at start; without it channels keep no files).
    pub fn set_files(&self, files: Arc<Files>) {
        if self.files.set(files).is_err() {
            tracing::warn!("the attachments folder was already set; keeping the first");
        }
    }

    /// The largest file a channel may bring in (0: none, files are not configured).
    pub fn max_file_bytes(&self) -> usize {
        self.files.get().map_or(0, |f| f.max_bytes())
    }

    /// Keeps a file a channel brought in for `conversation_id`, checked as an upload is: within
    /// the size limit and of an accepted type by its first bytes. The returned file is not yet
    /// carried by a message: pass its id to [`Hub::receive_with_files`].
    pub async fn keep_channel_file(
        &self,
        conversation_id: &str,
        name: &str,
        bytes: Vec<u8>,
        uploaded_by: &str,
    ) -> Result<std::result::Result<AttachmentRef, FileRefusal>> {
        let Some(files) = self.files.get() else { return Ok(Err(FileRefusal::NotStored)) };
        if bytes.is_empty() {
            return Ok(Err(FileRefusal::Empty));
        }
        if bytes.len() > files.max_bytes() {
            return Ok(Err(FileRefusal::TooLarge(files.max_bytes())));
        }
        let Some(content_type) = sniff(&bytes) else { return Ok(Err(FileRefusal::UnsupportedType)) };
        let file = NewStoredFile {
            attachment_id: new_id(),
            conversation_id: conversation_id.to_string(),
            content_type: content_type.to_string(),
            size: bytes.len() as i64,
            name: sanitise_name(Some(name), content_type),
            sha256: hex::encode(Sha256::digest(&bytes)),
            uploaded_by: uploaded_by.to_string(),
        };
        if let Err(e) = files.write(&file.attachment_id, bytes).await {
            tracing::error!(error = %e, conversation_id, "cannot write a channel's file");
            return Ok(Err(FileRefusal::NotStored));
        }
        self.store.insert_attachment(&file).await?;
        Ok(Ok(AttachmentRef {
            url: format!("/api/attachments/{}", file.attachment_id),
            id: file.attachment_id,
            name: file.name,
            content_type: file.content_type,
            size: file.size,
        }))
    }

    /// The uploaded files a stored message carries, with their bytes, in upload order (what an
    /// agent attached to a reply). A file whose bytes are gone is left out (logged).
    pub async fn message_files(&self, message_id: &str) -> Result<Vec<OutgoingFile>> {
        let Some(files) = self.files.get() else { return Ok(Vec::new()) };
        let mut refs = self.store.attachments_of(&[message_id.to_string()]).await?;
        let mut out = Vec::new();
        // Only uploads live in the folder (files kept from mail are in the database and never
        // carried by our replies).
        for a in
            refs.remove(message_id).unwrap_or_default().into_iter().filter(|a| a.url.starts_with("/api/attachments/"))
        {
            match files.read(&a.id).await {
                Ok(bytes) => out.push(OutgoingFile { name: a.name, content_type: a.content_type, bytes }),
                Err(e) => tracing::error!(error = %e, attachment_id = %a.id, "an attached file cannot be read"),
            }
        }
        Ok(out)
    }
}
