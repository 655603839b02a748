//! SQL for contacts, identities, conversations and messages.

use super::{Error, Result, Store};
use crate::domain::Ownership;
use crate::domain::{Author, Channel, ConversationStatus, Locale, MessageView, Verification, new_id, now_ms};
use sqlx::Row;

/// A conversation as the hub needs it to compute the next turn.
#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub conversation_id: String,
    pub contact_id: String,
    pub channel: String,
    pub status: ConversationStatus,
    pub locale: Locale,
    pub last_seq: i64,
    pub dialogue_state: String,
    pub assignee_id: Option<String>,
    pub team: Option<String>,
    pub agent_replied: bool,
}

impl ConversationRow {
    /// A web conversation as [`Store::create_web_visitor`] stores it.
    pub fn new_web(conversation_id: &str, contact_id: &str) -> ConversationRow {
        ConversationRow {
            conversation_id: conversation_id.into(),
            contact_id: contact_id.into(),
            channel: Channel::Web.as_str().into(),
            status: ConversationStatus::Bot,
            locale: Locale::En,
            last_seq: 0,
            dialogue_state: "{}".into(),
            assignee_id: None,
            team: None,
            agent_replied: false,
        }
    }

    pub fn ownership(&self) -> Ownership {
        Ownership { status: self.status, assignee: self.assignee_id.clone(), team: self.team.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub author: Author,
    pub author_name: String,
    pub text: String,
    pub client_msg_id: Option<String>,
    pub private: bool,
    /// The channel's own id of an inbound message (e.g. `email:<Message-ID>`): stored once.
    pub external_id: Option<String>,
    /// Answers offered as buttons in the widget (see [`MessageView::quick_replies`]).
    pub quick_replies: Vec<String>,
}

impl NewMessage {
    /// A message from our side (bot, agent, system) with no client or external id.
    pub fn ours(author: Author, author_name: &str, text: &str, private: bool) -> NewMessage {
        NewMessage {
            author,
            author_name: author_name.to_string(),
            text: text.to_string(),
            client_msg_id: None,
            private,
            external_id: None,
            quick_replies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewIdentity {
    pub kind: &'static str,
    pub value: String,
    pub verification: Verification,
}

/// Everything one turn changes, committed atomically by [`Store::commit_turn`].
#[derive(Debug, Clone)]
pub struct Turn {
    pub conversation_id: String,
    pub contact_id: String,
    /// The conversation's channel (`web`, `email`, `discord`), for events and metrics.
    pub channel: String,
    /// The `last_seq` the turn was computed against.
    pub expected_seq: i64,
    /// Ownership the turn was computed against, and after it.
    pub from: Ownership,
    pub to: Ownership,
    /// Set when the bot hands over in this turn.
    pub handoff: Option<Handoff>,
    pub locale: Locale,
    pub dialogue_state: String,
    pub messages: Vec<NewMessage>,
    pub identities: Vec<NewIdentity>,
    /// Set when replies must also be delivered through the outbox (email, Discord).
    pub outbound_channel: Option<String>,
    /// New channel data for the conversation (JSON), when the inbound message changed it.
    pub channel_meta: Option<String>,
    /// Audit rows written with the turn: (actor, action, target, details JSON).
    pub audit: Vec<(String, String, String, String)>,
    /// The intent the bot recognised, or whether it did not understand (for admin statistics,
    /// recorded by the hub after the commit).
    pub intent: Option<String>,
    pub miss: bool,
    /// A one-time code sent in this turn: stored hashed, its mail queued in the same transaction.
    pub proof_mail: Option<super::ProofMail>,
    /// Mails the bot sends in this turn (an invoice copy): the index of the turn's message they
    /// hang on, and the JSON `{to, subject, body}`; queued in the same transaction.
    pub mails: Vec<(usize, String)>,
    /// Labels the matched intent adds to the conversation (each created, grey, if missing).
    pub labels: Vec<String>,
    /// What the channel keeps of the customer message (the original mail), written with it.
    pub channel_state: Option<std::sync::Arc<super::ChannelState>>,
    /// A proof attempt of this turn that succeeded: its rows, counted as a failure until now,
    /// are deleted in the turn's own commit (see `bot::proof`).
    pub forgive_attempt: Option<String>,
    /// The name the back office has for an email this turn proved: given to the contact in the
    /// turn's commit if it has none yet (a name from the widget, a mail header or an agent stays).
    pub contact_name: Option<String>,
}

impl Turn {
    /// The conversation's `last_seq` once the turn is stored.
    pub fn new_seq(&self) -> i64 {
        self.expected_seq + self.messages.len() as i64
    }

    /// A turn that writes only `messages` against `conv` as it was read (same owner before and
    /// after, nothing else written); callers set what their turn changes beyond that.
    pub fn plain(conv: &ConversationRow, messages: Vec<NewMessage>) -> Turn {
        Turn {
            conversation_id: conv.conversation_id.clone(),
            contact_id: conv.contact_id.clone(),
            channel: conv.channel.clone(),
            expected_seq: conv.last_seq,
            from: conv.ownership(),
            to: conv.ownership(),
            handoff: None,
            locale: conv.locale,
            dialogue_state: conv.dialogue_state.clone(),
            messages,
            identities: Vec::new(),
            outbound_channel: None,
            channel_meta: None,
            audit: Vec::new(),
            intent: None,
            miss: false,
            proof_mail: None,
            mails: Vec::new(),
            labels: Vec::new(),
            channel_state: None,
            forgive_attempt: None,
            contact_name: None,
        }
    }
}

/// What the bot collected for the agent who takes over.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub summary: String,
    /// JSON: intent, slots, verification state.
    pub context: String,
    pub priority: i64,
}

const MESSAGE_COLUMNS: &str =
    "message_id, conversation_id, seq, author, author_name, body, private, created_at, quick_replies";

pub(super) fn message_from_row(row: &sqlx::any::AnyRow) -> Result<MessageView> {
    let author: String = row.try_get("author")?;
    let author = Author::parse(&author).ok_or_else(|| Error::Invalid(format!("unknown author {author:?}")))?;
    let author_name: String = row.try_get("author_name")?;
    Ok(MessageView {
        id: row.try_get("message_id")?,
        conversation_id: row.try_get("conversation_id")?,
        seq: row.try_get("seq")?,
        author,
        kind: crate::domain::message_kind(author, &author_name),
        author_name,
        text: row.try_get("body")?,
        private: row.try_get::<i64, _>("private")? != 0,
        created_at: row.try_get("created_at")?,
        // Only the history queries select it; elsewhere a message has none.
        quick_replies: row
            .try_get::<Option<String>, _>("quick_replies")
            .ok()
            .flatten()
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        attachments: Vec::new(),
    })
}

/// A contact's emails as the bot sees them: proven at all (`verified`), and proven strongly enough
/// for the bot to act on their records (`strong`: a signed widget identity or mail from the address).
#[derive(Debug, Default)]
pub struct ProvenEmails {
    pub verified: Vec<String>,
    pub strong: Vec<String>,
}

impl Store {
    /// The contact and latest web conversation of a visitor token (by its hash).
    pub async fn web_visitor(&self, token_hash: &str) -> Result<Option<(String, String)>> {
        let row = sqlx::query(
            "select i.contact_id, c.conversation_id
               from contact_identities i
               join conversations c on c.contact_id = i.contact_id and c.channel = 'web'
              where i.kind = 'web' and i.value = $1
              order by c.created_at desc
              limit 1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// Creates a visitor: a contact known by its token's hash, and its web conversation as
    /// [`ConversationRow::new_web`] describes it (its values are bound from that row, so the
    /// visitor's socket can hold the conversation from the start: see `hub::HeldState`).
    /// Returns the contact and that row. On PostgreSQL the three inserts are one statement (one
    /// round trip instead of five with `begin` and `commit`).
    pub async fn create_web_visitor(&self, token_hash: &str) -> Result<(String, ConversationRow)> {
        let contact_id = new_id();
        let conv = ConversationRow::new_web(&new_id(), &contact_id);
        let now = now_ms();
        let (id, channel, status, locale) =
            (conv.conversation_id.as_str(), conv.channel.as_str(), conv.status.as_str(), conv.locale.as_str());
        match self.backend {
            super::Backend::Postgres => {
                // The foreign keys are checked at the end of the statement, after all three rows.
                sqlx::query(
                    "with contact as (insert into contacts (contact_id, name, created_at) values ($1, null, $3)),
                          identity as (insert into contact_identities (contact_id, kind, value, verification, created_at)
                                       values ($1, 'web', $2, 'none', $3))
                     insert into conversations
                       (conversation_id, contact_id, channel, status, locale, last_seq, dialogue_state, created_at, updated_at)
                     values ($4, $1, $5, $6, $7, $8, $9, $3, $3)",
                )
                .bind(&contact_id)
                .bind(token_hash)
                .bind(now)
                .bind(id)
                .bind(channel)
                .bind(status)
                .bind(locale)
                .bind(conv.last_seq)
                .bind(conv.dialogue_state.as_str())
                .execute(&self.writer)
                .await?;
            }
            super::Backend::Sqlite => {
                let mut tx = self.begin_write().await?;
                sqlx::query("insert into contacts (contact_id, name, created_at) values ($1, null, $2)")
                    .bind(&contact_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "insert into contact_identities (contact_id, kind, value, verification, created_at)
                     values ($1, 'web', $2, 'none', $3)",
                )
                .bind(&contact_id)
                .bind(token_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "insert into conversations
                       (conversation_id, contact_id, channel, status, locale, last_seq, dialogue_state, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                )
                .bind(id)
                .bind(&contact_id)
                .bind(channel)
                .bind(status)
                .bind(locale)
                .bind(conv.last_seq)
                .bind(conv.dialogue_state.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok((contact_id, conv))
    }

    pub async fn conversation(&self, conversation_id: &str) -> Result<Option<ConversationRow>> {
        let sql = format!("select {CONVERSATION_COLUMNS} from conversations where conversation_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conversation_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(conversation_from_row).transpose()
    }

    /// The conversation and its contact's proven emails, in one round trip: what the hub reads
    /// before every inbound message.
    pub async fn conversation_for_turn(
        &self,
        conversation_id: &str,
    ) -> Result<Option<(ConversationRow, ProvenEmails)>> {
        // Emails are normalised addresses, which never contain the unit separator.
        let aggregate = match self.backend {
            super::Backend::Sqlite => "group_concat(i.value, char(31))",
            super::Backend::Postgres => "string_agg(i.value, chr(31))",
        };
        let emails_where = |verification: &str| {
            format!(
                "(select {aggregate} from contact_identities i
                   where i.contact_id = c.contact_id and i.kind = 'email' and {verification})"
            )
        };
        let sql = format!(
            "select {CONVERSATION_COLUMNS}, {} as verified, {} as strong
               from conversations c where conversation_id = $1",
            emails_where("i.verification <> 'none'"),
            emails_where("i.verification in ('hmac', 'email_channel')"),
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conversation_id).fetch_optional(&self.pool).await?;
        let Some(r) = row else { return Ok(None) };
        let split = |column: &str| -> Result<Vec<String>> {
            let joined: Option<String> = r.try_get(column)?;
            let mut emails: Vec<String> =
                joined.as_deref().unwrap_or("").split('\u{1f}').filter(|e| !e.is_empty()).map(str::to_string).collect();
            emails.sort();
            emails.dedup();
            Ok(emails)
        };
        let emails = ProvenEmails { verified: split("verified")?, strong: split("strong")? };
        Ok(Some((conversation_from_row(&r)?, emails)))
    }

    pub async fn message_by_id(&self, message_id: &str) -> Result<Option<MessageView>> {
        let sql = format!("select {MESSAGE_COLUMNS} from messages where message_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(message_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// One `NOTIFY channel, payload` per payload, in one statement (PostgreSQL only).
    pub async fn notify_all(&self, channel: &str, payloads: &[String]) -> Result<()> {
        if self.backend != super::Backend::Postgres || payloads.is_empty() {
            return Ok(());
        }
        let calls: Vec<String> = (0..payloads.len()).map(|i| format!("pg_notify($1, ${})", i + 2)).collect();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("select {}", calls.join(", "))));
        query = query.bind(channel);
        for p in payloads {
            query = query.bind(p);
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// The stored message a client already sent with this id, if any.
    pub async fn message_by_client_id(
        &self,
        conversation_id: &str,
        client_msg_id: &str,
    ) -> Result<Option<MessageView>> {
        let sql = format!("select {MESSAGE_COLUMNS} from messages where conversation_id = $1 and client_msg_id = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation_id)
            .bind(client_msg_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(message_from_row).transpose()
    }

    /// Messages with seq > `after_seq`, oldest first, at most `limit`; private notes only when
    /// `include_private` (never for customers).
    pub async fn messages_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit: i64,
        include_private: bool,
    ) -> Result<Vec<MessageView>> {
        let sql = format!(
            "select {MESSAGE_COLUMNS} from messages
              where conversation_id = $1 and seq > $2 and (private = 0 or $4 = 1)
              order by seq limit $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation_id)
            .bind(after_seq)
            .bind(limit)
            .bind(i64::from(include_private))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from_row).collect()
    }

    /// Records a proven identity (and the contact's name, when given) outside a turn.
    pub async fn add_identity(&self, contact_id: &str, identity: &NewIdentity, name: Option<&str>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        upsert_identity(&mut tx, contact_id, identity).await?;
        if let Some(name) = name {
            sqlx::query("update contacts set name = $1 where contact_id = $2")
                .bind(name)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives a contact without a name the name its proven email carries in the back office;
    /// a name the contact already has (from the widget, an email header, an agent) stays.
    pub async fn name_contact_if_unnamed(&self, contact_id: &str, name: &str) -> Result<()> {
        sqlx::query(NAME_IF_UNNAMED).bind(name).bind(contact_id).execute(self.writer()).await?;
        Ok(())
    }

    /// The contact's picture on their channel (a Discord avatar URL); unchanged values write nothing.
    pub async fn set_contact_avatar(&self, contact_id: &str, avatar_url: &str) -> Result<()> {
        sqlx::query(
            "update contacts set avatar_url = $1
              where contact_id = $2 and (avatar_url is null or avatar_url <> $1)",
        )
        .bind(avatar_url)
        .bind(contact_id)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    pub async fn contact_avatar(&self, contact_id: &str) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as("select avatar_url from contacts where contact_id = $1")
            .bind(contact_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.0))
    }
}

const CONVERSATION_COLUMNS: &str =
    "conversation_id, contact_id, channel, status, locale, last_seq, dialogue_state, assignee_id, team, agent_replied";

fn conversation_from_row(r: &sqlx::any::AnyRow) -> Result<ConversationRow> {
    let status: String = r.try_get("status")?;
    let locale: String = r.try_get("locale")?;
    Ok(ConversationRow {
        conversation_id: r.try_get("conversation_id")?,
        contact_id: r.try_get("contact_id")?,
        channel: r.try_get("channel")?,
        status: ConversationStatus::parse(&status)
            .ok_or_else(|| Error::Invalid(format!("unknown status {status:?}")))?,
        locale: Locale::parse(&locale).unwrap_or_default(),
        last_seq: r.try_get("last_seq")?,
        dialogue_state: r.try_get("dialogue_state")?,
        assignee_id: r.try_get("assignee_id")?,
        team: r.try_get("team")?,
        agent_replied: r.try_get::<i64, _>("agent_replied")? != 0,
    })
}

/// `$1` the name, `$2` the contact (see [`Store::name_contact_if_unnamed`]).
pub(super) const NAME_IF_UNNAMED: &str =
    "update contacts set name = $1 where contact_id = $2 and (name is null or name = '')";

pub(super) async fn upsert_identity(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    contact_id: &str,
    identity: &NewIdentity,
) -> Result<()> {
    let sql = if identity.verification == Verification::None {
        "insert into contact_identities (contact_id, kind, value, verification, created_at)
         values ($1, $2, $3, $4, $5)
         on conflict (contact_id, kind, value) do nothing"
    } else {
        "insert into contact_identities (contact_id, kind, value, verification, created_at)
         values ($1, $2, $3, $4, $5)
         on conflict (contact_id, kind, value) do update set verification = excluded.verification"
    };
    sqlx::query(sql)
        .bind(contact_id)
        .bind(identity.kind)
        .bind(&identity.value)
        .bind(identity.verification.as_str())
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
