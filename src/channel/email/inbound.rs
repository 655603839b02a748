//! Reading a mailbox over IMAP: IDLE when the server has it, polling otherwise.
//!
//! Exactly-once intake across crashes and restarts rests on three things:
//! 1. UID tracking: the mailbox's UIDVALIDITY and the last processed UID are stored; after a
//!    restart only UIDs above it are fetched (a changed UIDVALIDITY, or a first start, takes
//!    the unseen mail instead).
//! 2. Order: a mail is stored first (through the hub), then marked seen (or moved), then its UID
//!    is recorded. A crash in between leaves it unseen and above the recorded UID: it is read
//!    again, and
//! 3. Message-ID dedupe (`email:<Message-ID>` is unique among messages) makes that second read
//!    store nothing.
//!
//! A mail that cannot be parsed, or keeps failing to be stored, is quarantined (kept with its
//! raw bytes for agents and admins) and the mailbox moves on: one bad mail never blocks it.

use super::mime::{self, ParsedMail};
use super::strip::strip_reply;
use super::threading::{self, EmailMeta};
use super::{AfterStore, EmailConfig, ImapTarget};
use crate::domain::{Channel, Verification};
use crate::hub::{
    self, ChannelState, EmailOriginal, Hub, Inbound, MailAttachment, MailOriginal, NewQuarantine, Resolution, Sender,
    Thread,
};
use crate::net::tls_connector;
use anyhow::{Context, anyhow};
use futures_util::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// Longest text handed to the bot and shown in the console (the original is kept whole).
const MAX_TEXT_CHARS: usize = 10_000;
/// Attempts to store one mail before it is quarantined.
const MAX_STORE_ATTEMPTS: u32 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Any single IMAP command taking longer than this means the connection is dead.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// The byte stream under an IMAP session: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

type Session = async_imap::Session<Box<dyn Io>>;

/// What became of one mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Intake {
    Stored {
        conversation_id: String,
        message_id: String,
    },
    /// Already stored earlier (same Message-ID).
    Duplicate,
    Quarantined(String),
    /// Our own mail (e.g. a copy of a reply): not a customer message.
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Hub(#[from] hub::Error),
}

/// Reads one mailbox until `token` is cancelled, reconnecting with backoff.
pub async fn run_mailbox(hub: Arc<Hub>, config: Arc<EmailConfig>, target: ImapTarget, token: CancellationToken) {
    let mut failures: HashMap<u32, u32> = HashMap::new();
    let mut delay = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let result = tokio::select! {
            _ = token.cancelled() => return,
            r = session(&hub, &config, &target, &mut failures) => r,
        };
        if let Err(e) = result {
            tracing::warn!(mailbox = %target.key(), error = %format!("{e:#}"), "IMAP session ended; reconnecting");
        }
        if started.elapsed() > Duration::from_secs(60) {
            delay = Duration::from_secs(1);
        }
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(60));
    }
}

async fn session(
    hub: &Hub,
    config: &EmailConfig,
    target: &ImapTarget,
    failures: &mut HashMap<u32, u32>,
) -> anyhow::Result<()> {
    let mut session = connect(target).await?;
    let conn_name = format!("imap:{}", target.key());
    hub.metrics.set_connection(&conn_name, true);
    struct Down<'a>(&'a Hub, String);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            self.0.metrics.set_connection(&self.1, false);
        }
    }
    let _down = Down(hub, conn_name);
    let caps = timed(session.capabilities()).await?;
    let can_idle = caps.has_str("IDLE");
    let can_move = caps.has_str("MOVE");
    let selected = timed(session.select(&target.folder)).await.with_context(|| format!("SELECT {}", target.folder))?;
    let uid_validity = i64::from(selected.uid_validity.context("the server reports no UIDVALIDITY")?);
    let key = target.key();
    let mut last_uid = match hub.mailbox_position(&key).await? {
        Some((validity, last)) if validity == uid_validity => Some(last),
        Some(_) => {
            tracing::warn!(mailbox = %key, "UIDVALIDITY changed: taking the unseen mail again (deduplicated by Message-ID)");
            None
        }
        None => None,
    };
    if last_uid.is_none() {
        // First start (or a new UIDVALIDITY): the unseen mail, then track from the newest UID.
        let baseline = i64::from(selected.uid_next.unwrap_or(1)) - 1;
        let mut unseen: Vec<u32> = timed(session.uid_search("UNSEEN")).await?.into_iter().collect();
        unseen.sort_unstable();
        let mut done = baseline;
        for uid in unseen {
            // Not recorded one by one: an interrupted first start starts over (deduplicated),
            // rather than resuming above a UID with older seen mail below it.
            process_uid(hub, config, target, &mut session, uid_validity, uid, can_move, failures, false).await?;
            done = done.max(i64::from(uid));
        }
        hub.set_mailbox_position(&key, uid_validity, done).await?;
        last_uid = Some(done);
    }
    let mut last = last_uid.unwrap_or(0);
    tracing::info!(mailbox = %key, idle = can_idle, last_uid = last, "reading mailbox");
    loop {
        let mut uids: Vec<u32> = timed(session.uid_search(format!("UID {}:*", last + 1)))
            .await?
            .into_iter()
            .filter(|u| i64::from(*u) > last)
            .collect();
        uids.sort_unstable();
        for uid in uids {
            process_uid(hub, config, target, &mut session, uid_validity, uid, can_move, failures, true).await?;
            last = i64::from(uid);
        }
        while session.unsolicited_responses.try_recv().is_ok() {}
        if can_idle {
            let mut idle = session.idle();
            timed(idle.init()).await?;
            {
                let (wait, _stop) = idle.wait_with_timeout(config.poll);
                wait.await?;
            }
            session = timed(idle.done()).await?;
        } else {
            tokio::time::sleep(config.poll).await;
            timed(session.noop()).await?;
        }
    }
}

/// Fetches, takes in, then marks seen (or moves) one mail, and records its UID (when
/// `record`). A mail that keeps failing to be stored is quarantined after
/// [`MAX_STORE_ATTEMPTS`].
#[allow(clippy::too_many_arguments)]
async fn process_uid(
    hub: &Hub,
    config: &EmailConfig,
    target: &ImapTarget,
    session: &mut Session,
    uid_validity: i64,
    uid: u32,
    can_move: bool,
    failures: &mut HashMap<u32, u32>,
    record: bool,
) -> anyhow::Result<()> {
    let key = target.key();
    let raw = {
        let fetches: Vec<_> =
            timed(async { session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await?.try_collect().await }).await?;
        fetches.into_iter().find(|f| f.uid == Some(uid)).and_then(|f| f.body().map(<[u8]>::to_vec))
    };
    let Some(raw) = raw else {
        // Expunged meanwhile: nothing to take in.
        if record {
            hub.set_mailbox_position(&key, uid_validity, i64::from(uid)).await?;
        }
        return Ok(());
    };
    let at = Place { mailbox: &key, uid_validity, uid: i64::from(uid) };
    let intake = match take_in(hub, config, &at, &raw).await {
        Ok(i) => {
            failures.remove(&uid);
            i
        }
        Err(e) => {
            let n = failures.entry(uid).or_insert(0);
            *n += 1;
            if *n < MAX_STORE_ATTEMPTS {
                return Err(anyhow!(e).context(format!("storing mail UID {uid} (attempt {n})")));
            }
            failures.remove(&uid);
            let reason = format!("could not be stored after {MAX_STORE_ATTEMPTS} attempts: {e}");
            quarantine(hub, &at, &raw, &reason).await?;
            Intake::Quarantined(reason)
        }
    };
    tracing::info!(mailbox = %key, uid, outcome = ?intake, "mail taken in");
    after_store(session, &config.after_store, uid, can_move).await?;
    if record {
        hub.set_mailbox_position(&key, uid_validity, i64::from(uid)).await?;
    }
    Ok(())
}

/// Where a mail sits in the mailbox.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub mailbox: &'a str,
    pub uid_validity: i64,
    pub uid: i64,
}

/// Marks a stored mail seen, or moves it.
async fn after_store(session: &mut Session, action: &AfterStore, uid: u32, can_move: bool) -> anyhow::Result<()> {
    let set = uid.to_string();
    match action {
        AfterStore::MarkSeen => {
            timed(async { session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?.try_collect::<Vec<_>>().await })
                .await?;
        }
        AfterStore::MoveTo(folder) if can_move => timed(session.uid_mv(&set, folder)).await?,
        AfterStore::MoveTo(folder) => {
            timed(session.uid_copy(&set, folder)).await?;
            timed(async {
                session.uid_store(&set, "+FLAGS.SILENT (\\Seen \\Deleted)").await?.try_collect::<Vec<_>>().await
            })
            .await?;
            timed(async { session.expunge().await?.try_collect::<Vec<_>>().await }).await?;
        }
    }
    Ok(())
}

/// Takes one raw mail in: quarantine, dedupe, thread, store through the hub, keep the original.
#[tracing::instrument(skip_all, fields(mailbox = at.mailbox, uid = at.uid))]
pub async fn take_in(hub: &Hub, config: &EmailConfig, at: &Place<'_>, raw: &[u8]) -> Result<Intake, Error> {
    let mail = match mime::parse(raw, config.max_attachment_bytes) {
        Ok(m) => m,
        Err(rejected) => {
            let reason = rejected.to_string();
            quarantine(hub, at, raw, &reason).await?;
            return Ok(Intake::Quarantined(reason));
        }
    };
    if mail.from == config.from.email.to_string().to_lowercase() {
        return Ok(Intake::Ignored);
    }
    if mail.automatic {
        let reason = "automatic mail (auto-reply, bounce or bulk): not answered".to_string();
        quarantine(hub, at, raw, &reason).await?;
        return Ok(Intake::Quarantined(reason));
    }
    let external_id = format!("email:{}", mail.message_id);
    let sender = Sender {
        kind: "email",
        value: mail.from.clone(),
        verification: Verification::EmailChannel,
        name: mail.from_name.clone(),
    };
    let fresh = EmailMeta::new().to_json();
    let thread = Thread::Clues(threading::clues(&mail));
    let (conversation_id, continues) =
        match hub.resolve(Channel::Email, &sender, thread, Some(&external_id), &fresh).await? {
            Resolution::Open { conversation_id, continues, .. } => (conversation_id, continues),
            Resolution::Duplicate => return Ok(Intake::Duplicate),
            // Mail threads are never refused: an unknown thread starts a conversation.
            Resolution::NotOurs => return Ok(Intake::Ignored),
        };
    let mut meta = EmailMeta::parse(&hub.channel_meta(&conversation_id).await?.unwrap_or(fresh));
    meta.absorb(&mail);
    let text = visible_text(&mail, continues);
    let meta = meta.to_json();
    let inbound =
        Inbound { text: &text, client_msg_id: None, external_id: Some(&external_id), channel_meta: Some(&meta) };
    let ack = hub.receive_with_state(&conversation_id, inbound, ChannelState { mail: Some(original(mail)) }).await?;
    Ok(Intake::Stored { conversation_id, message_id: ack.id })
}

/// What is kept of a mail besides its message: the original text and the attachments.
fn original(mail: ParsedMail) -> MailOriginal {
    let original = EmailOriginal {
        message_id: String::new(), // the stored message's, set when the message is written
        rfc_message_id: mail.message_id,
        sender: mail.from,
        subject: mail.subject,
        body: mail.text,
        from_html: mail.from_html,
        attachments: Vec::new(),
    };
    let attachments = mail
        .attachments
        .into_iter()
        .map(|a| MailAttachment { name: a.name, content_type: a.content_type, size: a.size as i64, content: a.content })
        .collect();
    MailOriginal { original, attachments }
}

/// What the bot and the console see: the mail without quotes and signature; the subject in
/// front when the mail starts a conversation (it often carries the question); a list of
/// attachments at the end is left to the original.
fn visible_text(mail: &ParsedMail, continues: bool) -> String {
    let body = strip_reply(&mail.text).text;
    let subject = mime::base_subject(&mail.subject);
    let mut text = if !continues && !subject.is_empty() && !body.contains(&subject) {
        if body.is_empty() { subject } else { format!("{subject}\n\n{body}") }
    } else {
        body
    };
    if text.trim().is_empty() {
        text = if mail.attachments.is_empty() { "(empty message)".into() } else { "(attachments only)".into() };
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        text = text.chars().take(MAX_TEXT_CHARS).collect::<String>() + "…";
    }
    text
}

async fn quarantine(hub: &Hub, at: &Place<'_>, raw: &[u8], reason: &str) -> Result<(), hub::Error> {
    let (sender, subject, id) = mime::peek_headers(raw);
    tracing::warn!(mailbox = at.mailbox, uid = at.uid, reason, "mail quarantined");
    hub.quarantine_mail(&NewQuarantine {
        mailbox: at.mailbox,
        uid_validity: at.uid_validity,
        uid: at.uid,
        reason,
        sender: sender.as_deref(),
        subject: subject.as_deref(),
        rfc_message_id: id.as_deref(),
        raw,
    })
    .await
}

/// Connects (TLS for imaps), reads the greeting and logs in.
async fn connect(target: &ImapTarget) -> anyhow::Result<Session> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((target.host.as_str(), target.port)))
        .await
        .context("connect timed out")?
        .with_context(|| format!("cannot connect to {}:{}", target.host, target.port))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if target.tls {
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(target.host.clone())
            .context("the IMAP host is not a valid TLS server name")?;
        let tls = tokio::time::timeout(CONNECT_TIMEOUT, tls_connector()?.connect(name, tcp))
            .await
            .context("TLS handshake timed out")?
            .context("TLS handshake failed")?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let mut client = async_imap::Client::new(stream);
    timed(async { client.read_response().await.map_err(async_imap::error::Error::from) })
        .await?
        .context("the server closed the connection before its greeting")?;
    let session = timed(async { client.login(&target.user, &target.password).await.map_err(|(e, _)| e) })
        .await
        .context("IMAP login failed")?;
    Ok(session)
}

/// An IMAP command with a deadline: a dead connection must not hang the reader.
async fn timed<T, E>(fut: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    tokio::time::timeout(COMMAND_TIMEOUT, fut).await.context("IMAP command timed out")?.map_err(anyhow::Error::from)
}
