//! The email channel: customers write to a support mailbox; Kituo reads it over IMAP and
//! answers over SMTP in the same thread.
//!
//! - [`inbound`]   IMAP (IDLE, else polling), UIDVALIDITY + last-UID tracking, mark seen or
//!   move only after the mail is stored, Message-ID dedupe, quarantine of unreadable mail
//! - [`mime`]      MIME → text (charsets, encoded headers), attachments with a size cap
//! - [`html_text`] HTML-only mail made readable; our replies' HTML part
//! - [`strip`]     quoted replies and signatures removed from what the bot and console see
//! - [`threading`] which conversation a mail continues; the conversation's email data
//! - [`outbound`]  the [`ChannelSender`]: threaded replies through SMTP (lettre)
//!
//! The adapter talks only to the hub: `resolve` (de-duplication, the threading clues it parsed,
//! the owner check), `receive_with_state` (the message with its original mail, one commit), the
//! quarantine and the mailbox read position; it never touches the store.

mod attach_out;
pub mod html_text;
pub mod inbound;
pub mod mime;
pub mod outbound;
pub mod strip;
pub mod threading;

use crate::config::EmailArgs;
use crate::hub::Hub;
use crate::outbox::ChannelSender;
use anyhow::{Context, bail};
use lettre::message::Mailbox;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What happens to a mail in the mailbox once Kituo has stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterStore {
    MarkSeen,
    MoveTo(String),
}

/// One IMAP mailbox to read.
#[derive(Clone)]
pub struct ImapTarget {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub folder: String,
}

impl ImapTarget {
    /// `imap[s]://USER:PASS@HOST[:PORT][/FOLDER]` (user and password percent-encoded).
    pub fn parse(raw: &str) -> anyhow::Result<ImapTarget> {
        let url = url::Url::parse(raw).map_err(|e| anyhow::anyhow!("not a URL ({e})"))?;
        let tls = match url.scheme() {
            "imap" => false,
            "imaps" => true,
            other => bail!("scheme {other:?}: use imap:// or imaps://"),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).context("no host")?;
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = decode(url.username());
        if user.is_empty() {
            bail!("no user name");
        }
        let password = decode(url.password().unwrap_or(""));
        let folder = decode(url.path().trim_start_matches('/'));
        Ok(ImapTarget {
            tls,
            port: url.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            user,
            password,
            folder: if folder.is_empty() { "INBOX".into() } else { folder },
        })
    }

    /// Stable name of the mailbox for UID tracking (no password).
    pub fn key(&self) -> String {
        format!(
            "{}://{}@{}:{}/{}",
            if self.tls { "imaps" } else { "imap" },
            self.user,
            self.host,
            self.port,
            self.folder
        )
    }
}

impl std::fmt::Debug for ImapTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// Everything the channel needs, parsed and checked at start.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub mailboxes: Vec<ImapTarget>,
    pub smtp_url: String,
    pub from: Mailbox,
    /// Our domain (from the From address): Message-IDs are made on it.
    pub domain: String,
    pub after_store: AfterStore,
    pub poll: Duration,
    pub max_attachment_bytes: usize,
    pub plus_addressing: bool,
}

impl EmailConfig {
    pub fn from_args(args: &EmailArgs) -> anyhow::Result<Option<EmailConfig>> {
        let set = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !set(&args.imap_url) && !set(&args.smtp_url) {
            return Ok(None);
        }
        let (Some(imap), Some(smtp), Some(from)) = (&args.imap_url, &args.smtp_url, &args.from) else {
            bail!("the email channel needs KITUO_EMAIL_IMAP_URL, KITUO_EMAIL_SMTP_URL and KITUO_EMAIL_FROM");
        };
        let mailboxes = imap
            .split([' ', ',', '\n'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                ImapTarget::parse(s.trim())
                    .with_context(|| format!("KITUO_EMAIL_IMAP_URL {}", crate::config::redact(s)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let from: Mailbox = from.parse().map_err(|e| anyhow::anyhow!("KITUO_EMAIL_FROM {from:?}: {e}"))?;
        let domain = from.email.domain().to_string();
        // Checked now, so a typo fails the start instead of every delivery.
        outbound::transport(smtp).with_context(|| format!("KITUO_EMAIL_SMTP_URL {}", crate::config::redact(smtp)))?;
        Ok(Some(EmailConfig {
            mailboxes,
            smtp_url: smtp.clone(),
            from,
            domain,
            after_store: match args.move_to.as_deref().map(str::trim) {
                Some(folder) if !folder.is_empty() => AfterStore::MoveTo(folder.to_string()),
                _ => AfterStore::MarkSeen,
            },
            poll: Duration::from_secs(args.poll_secs.max(1)),
            max_attachment_bytes: args.max_attachment_bytes,
            plus_addressing: args.plus_addressing,
        }))
    }
}

/// A configured email channel.
#[derive(Clone)]
pub struct EmailChannel {
    config: Arc<EmailConfig>,
}

impl EmailChannel {
    /// `Ok(None)` when email is not configured.
    pub fn from_args(args: &EmailArgs) -> anyhow::Result<Option<EmailChannel>> {
        Ok(EmailConfig::from_args(args)?.map(|config| EmailChannel { config: Arc::new(config) }))
    }

    /// The outbox's way out: replies through SMTP.
    pub fn sender(&self, hub: Arc<Hub>) -> Arc<dyn ChannelSender> {
        let sender = outbound::EmailSender::new(hub, self.config.clone())
            .expect("the SMTP URL was checked when the channel was configured");
        Arc::new(sender)
    }

    /// Reads every configured mailbox until `token` is cancelled.
    pub async fn run(self, hub: Arc<Hub>, token: CancellationToken) {
        let tasks: Vec<_> = self
            .config
            .mailboxes
            .iter()
            .map(|target| {
                tokio::spawn(inbound::run_mailbox(hub.clone(), self.config.clone(), target.clone(), token.clone()))
            })
            .collect();
        for t in tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a mailbox reader panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_urls_parse_with_encoded_credentials() {
        let t = ImapTarget::parse("imap://support%40example.test:p%40ss+w%2Frd@127.0.0.1:1143/INBOX").unwrap();
        assert!(!t.tls);
        assert_eq!((t.host.as_str(), t.port), ("127.0.0.1", 1143));
        assert_eq!(t.user, "support@example.test");
        assert_eq!(t.password, "p@ss+w/rd");
        assert_eq!(t.folder, "INBOX");
        assert_eq!(t.key(), "imap://support@example.test@127.0.0.1:1143/INBOX");
        let s = ImapTarget::parse("imaps://u:p@mail.example.com").unwrap();
        assert!(s.tls);
        assert_eq!(s.port, 993);
        assert!(ImapTarget::parse("http://u:p@x").is_err());
        assert!(ImapTarget::parse("imap://host/INBOX").is_err());
    }

    #[test]
    fn config_needs_all_three_settings() {
        assert!(EmailConfig::from_args(&EmailArgs::default()).unwrap().is_none());
        let partial = EmailArgs { imap_url: Some("imap://u:p@127.0.0.1:1/INBOX".into()), ..EmailArgs::default() };
        assert!(EmailConfig::from_args(&partial).is_err());
        let full = EmailArgs {
            imap_url: Some("imap://u:p@127.0.0.1:1/INBOX imap://u2:p@127.0.0.1:1/Support".into()),
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            from: Some("Kituo Support <support@example.test>".into()),
            move_to: Some("Processed".into()),
            ..EmailArgs::default()
        };
        let cfg = EmailConfig::from_args(&full).unwrap().unwrap();
        assert_eq!(cfg.mailboxes.len(), 2);
        assert_eq!(cfg.domain, "example.test");
        assert_eq!(cfg.after_store, AfterStore::MoveTo("Processed".into()));
    }
}
