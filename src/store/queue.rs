//! SQL for the agent side of conversations: summaries and lists, ownership transitions
//! (conditional, so concurrent claims have one winner), agent messages and the contact's 360°
//! view (reports are in `reports`).

use super::conversations::{NewMessage, message_from_row};
use super::{Error, Result, Store};
use crate::domain::Ownership;
use crate::domain::{ConversationStatus, MessageView, Millis, new_ordered_id, now_ms};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct ConversationSummary {
    pub id: String,
    pub status: ConversationStatus,
    pub channel: String,
    pub contact_id: String,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    /// The contact's picture on their channel (a Discord avatar), if known.
    pub contact_avatar_url: Option<String>,
    pub assignee_id: Option<String>,
    pub assignee_name: Option<String>,
    pub team: Option<String>,
    pub priority: i64,
    pub summary: Option<String>,
    pub unread: i64,
    pub queued_at: Option<Millis>,
    pub last_message: Option<(String, String, Millis)>,
    pub created_at: Millis,
    pub updated_at: Millis,
    /// 1-based place in the queue, for queued conversations.
    pub queue_position: Option<i64>,
    pub first_response_at: Option<Millis>,
    pub resolved_at: Option<Millis>,
    /// SLA clocks; the store leaves this empty, the hub fills it (it knows targets and hours).
    pub sla: Option<crate::queue::sla::SlaView>,
    /// The conversation's labels, sorted by name (every summary the store returns has them, so
    /// a console event never shows a labelled conversation without its labels).
    pub labels: Vec<String>,
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// `None` = every status; `Some(vec![…])` = any of these.
    pub statuses: Option<Vec<ConversationStatus>>,
    /// `Some(None)` = unassigned only; `Some(Some(id))` = assigned to that agent.
    pub assignee: Option<Option<String>>,
    /// Only conversations carrying this label.
    pub label: Option<String>,
    /// Only conversations on this channel (`web`, `email`, `discord`).
    pub channel: Option<String>,
    /// Only conversations of this team.
    pub team: Option<String>,
    /// Only conversations started at or after this instant (epoch ms).
    pub since: Option<Millis>,
    /// Only conversations started before this instant (epoch ms, exclusive).
    pub until: Option<Millis>,
    pub limit: i64,
}

impl ListFilter {
    /// Whether this filter leaves out any conversation that has messages (then a search must
    /// look at each message's conversation).
    pub(super) fn narrows(&self) -> bool {
        self.statuses.is_some()
            || self.assignee.is_some()
            || self.label.is_some()
            || self.channel.is_some()
            || self.team.is_some()
            || self.since.is_some()
            || self.until.is_some()
    }

    /// The `where` conditions on `conversations c` this filter asks for; string values are
    /// appended to `binds` and referenced as `$n` (instants are integers written inline).
    pub(super) fn clauses(&self, binds: &mut Vec<String>) -> Vec<String> {
        let mut clauses = Vec::new();
        let bind = |binds: &mut Vec<String>, value: &str| {
            binds.push(value.to_string());
            format!("${}", binds.len())
        };
        if let Some(statuses) = &self.statuses {
            let marks: Vec<String> = statuses.iter().map(|s| bind(binds, s.as_str())).collect();
            clauses.push(format!("c.status in ({})", marks.join(", ")));
        }
        match &self.assignee {
            Some(Some(agent)) => clauses.push(format!("c.assignee_id = {}", bind(binds, agent))),
            Some(None) => clauses.push("c.assignee_id is null".into()),
            None => {}
        }
        if let Some(label) = &self.label {
            clauses.push(format!(
                "exists (select 1 from conversation_labels l where l.conversation_id = c.conversation_id and l.name = {})",
                bind(binds, label)
            ));
        }
        if let Some(channel) = &self.channel {
            clauses.push(format!("c.channel = {}", bind(binds, channel)));
        }
        if let Some(team) = &self.team {
            clauses.push(format!("c.team = {}", bind(binds, team)));
        }
        if let Some(since) = self.since {
            clauses.push(format!("c.created_at >= {since}"));
        }
        if let Some(until) = self.until {
            clauses.push(format!("c.created_at < {until}"));
        }
        // Conversations nobody wrote in (a widget opened and left) are not work.
        clauses.push("c.last_seq > 0".into());
        clauses
    }
}

pub(super) const SUMMARY_SELECT: &str = "select c.conversation_id, c.status, c.channel, c.contact_id, ct.name as contact_name, ct.avatar_url as contact_avatar_url,
        (select i.value from contact_identities i where i.contact_id = c.contact_id and i.kind = 'email'
          order by case when i.verification = 'none' then 1 else 0 end, i.created_at limit 1) as contact_email,
        c.assignee_id, ag.name as assignee_name, c.team, c.priority, c.summary, c.unread, c.queued_at,
        m.body as last_body, m.author as last_author, m.created_at as last_at, c.created_at, c.updated_at,
        c.first_response_at, c.resolved_at
   from conversations c
   join contacts ct on ct.contact_id = c.contact_id
   left join agents ag on ag.agent_id = c.assignee_id
   left join messages m on m.conversation_id = c.conversation_id and m.seq = c.last_seq";

pub(super) fn summary_from_row(r: &AnyRow) -> Result<ConversationSummary> {
    let status: String = r.try_get("status")?;
    let last_body: Option<String> = r.try_get("last_body")?;
    let last = match last_body {
        Some(body) => Some((body, r.try_get::<String, _>("last_author")?, r.try_get::<i64, _>("last_at")?)),
        None => None,
    };
    Ok(ConversationSummary {
        id: r.try_get("conversation_id")?,
        status: ConversationStatus::parse(&status).ok_or_else(|| Error::Invalid(format!("bad status {status}")))?,
        channel: r.try_get("channel")?,
        contact_id: r.try_get("contact_id")?,
        contact_name: r.try_get("contact_name")?,
        contact_email: r.try_get("contact_email")?,
        contact_avatar_url: r.try_get("contact_avatar_url")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        team: r.try_get("team")?,
        priority: r.try_get("priority")?,
        summary: r.try_get("summary")?,
        unread: r.try_get("unread")?,
        queued_at: r.try_get("queued_at")?,
        last_message: last,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        queue_position: None,
        labels: Vec::new(),
        first_response_at: r.try_get("first_response_at")?,
        resolved_at: r.try_get("resolved_at")?,
        sla: None,
    })
}

/// A write for one ownership transition, applied only if the conversation is still `from`.
#[derive(Debug, Clone)]
pub struct TransitionWrite {
    pub conversation_id: String,
    pub from: Ownership,
    pub to: Ownership,
    /// A system line for the customer and the console ("Amina joined the conversation").
    pub system_message: Option<NewMessage>,
    /// A resolution's rating request, written with the system message (its notice).
    pub csat: Option<super::csat::NewCsat>,
    /// Where the system message is also delivered (email, Discord), through the outbox.
    pub outbound_channel: Option<String>,
    /// Only while the new assignee is online (the dispatcher's assignments).
    pub online_only: bool,
}

impl Store {
    pub async fn conversation_summary(&self, id: &str) -> Result<Option<ConversationSummary>> {
        let sql = format!("{SUMMARY_SELECT} where c.conversation_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let mut s = summary_from_row(&row)?;
        self.fill_summaries(std::slice::from_mut(&mut s)).await?;
        Ok(Some(s))
    }

    /// Queued conversations ahead of (or level with) one with this priority queued at `queued_at`:
    /// its place in the queue if it is queued itself, the number ahead of it if not yet.
    pub async fn queue_position(&self, priority: i64, queued_at: Millis) -> Result<i64> {
        let row = sqlx::query(
            "select count(*) from conversations
              where status = 'queued' and (priority > $1 or (priority = $1 and queued_at <= $2))",
        )
        .bind(priority)
        .bind(queued_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Conversations for the console lists: the queue by priority then oldest first, others
    /// most recently updated first.
    pub async fn list_conversations(&self, filter: &ListFilter) -> Result<Vec<ConversationSummary>> {
        let mut binds: Vec<String> = Vec::new();
        let clauses = filter.clauses(&mut binds);
        let queue_only = filter.statuses.as_deref() == Some(&[ConversationStatus::Queued][..]);
        let order = if queue_only {
            "c.priority desc, c.queued_at, c.conversation_id"
        } else {
            "c.updated_at desc, c.conversation_id"
        };
        let sql = format!(
            "{SUMMARY_SELECT} where {} order by {order} limit {}",
            clauses.join(" and "),
            filter.limit.clamp(1, 500)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut list = rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        self.fill_summaries(&mut list).await?;
        Ok(list)
    }

    /// Sets `queue_position` on the queued conversations of a list, and every one's labels.
    pub(super) async fn fill_summaries(&self, list: &mut [ConversationSummary]) -> Result<()> {
        for s in list.iter_mut().filter(|s| s.status == ConversationStatus::Queued) {
            s.queue_position = Some(self.queue_position(s.priority, s.queued_at.unwrap_or(0)).await?);
        }
        let ids: Vec<String> = list.iter().map(|s| s.id.clone()).collect();
        let mut labels = self.labels_of(&ids).await?;
        for s in list.iter_mut() {
            s.labels = labels.remove(&s.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Queued conversations in the order they should be offered to agents.
    pub async fn queued_for_dispatch(&self, limit: i64) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query(
            "select conversation_id, team from conversations where status = 'queued'
              order by priority desc, queued_at, conversation_id limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub async fn assigned_to(&self, agent_id: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("select conversation_id from conversations where assignee_id = $1 and status = 'assigned'")
                .bind(agent_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Applies an ownership change if the conversation is still in `from`; `Error::Conflict`
    /// otherwise. Returns the system message stored with it, if any.
    pub async fn apply_transition(&self, w: &TransitionWrite) -> Result<Option<MessageView>> {
        let now = now_ms();
        let entering_queue = w.to.status == ConversationStatus::Queued && w.from.status != ConversationStatus::Queued;
        let resolving = w.to.status == ConversationStatus::Resolved;
        let to_bot = w.to.status == ConversationStatus::Bot;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "update conversations
                set status = $1, assignee_id = $2, team = $3,
                    queued_at = case when $4 = 1 then $5 else queued_at end,
                    resolved_at = case when $6 = 1 then $5 else resolved_at end,
                    agent_replied = case when $7 = 1 then 0 else agent_replied end,
                    dialogue_state = case when $7 = 1 then '{}' else dialogue_state end,
                    last_seq = last_seq + $8, updated_at = $5
              where conversation_id = $9 and status = $10 and coalesce(assignee_id, '') = $11
                and ($12 = 0 or exists (select 1 from agents a where a.agent_id = $2 and a.presence = 'online'))
             returning last_seq",
        )
        .bind(w.to.status.as_str())
        .bind(w.to.assignee.as_deref())
        .bind(w.to.team.as_deref())
        .bind(i64::from(entering_queue))
        .bind(now)
        .bind(i64::from(resolving))
        .bind(i64::from(to_bot))
        .bind(i64::from(w.system_message.is_some()))
        .bind(&w.conversation_id)
        .bind(w.from.status.as_str())
        .bind(w.from.assignee.as_deref().unwrap_or(""))
        .bind(i64::from(w.online_only))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Err(Error::Conflict) };
        let seq: i64 = row.try_get(0)?;
        let mut stored = None;
        if let Some(m) = &w.system_message {
            let view = insert_message(&mut tx, &w.conversation_id, seq, m, now).await?;
            if let Some(c) = &w.csat {
                super::csat::insert_request(&mut tx, &w.conversation_id, &view.id, c, now).await?;
            }
            if let Some(channel) = &w.outbound_channel {
                super::outbox::enqueue(&mut tx, &view, channel).await?;
            }
            stored = Some(view);
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// Stores an agent's reply or private note, moving ownership from `from` to `to`
    /// (conditional like [`Store::apply_transition`]); a public reply on `outbound_channel` is
    /// queued for delivery in the same transaction, which also gives it the uploaded files
    /// `attachments` (so the outbox never sends it without them).
    pub async fn commit_agent_message(
        &self,
        conversation_id: &str,
        from: &Ownership,
        to: &Ownership,
        message: &NewMessage,
        outbound_channel: Option<&str>,
        attachments: &[String],
    ) -> Result<MessageView> {
        let now = now_ms();
        let public = i64::from(!message.private);
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "update conversations
                set last_seq = last_seq + 1, status = $1, assignee_id = $2, team = $3,
                    agent_replied = case when $4 = 1 then 1 else agent_replied end,
                    first_response_at = case when $4 = 1 and first_response_at is null and queued_at is not null
                                             then $5 else first_response_at end,
                    updated_at = $5
              where conversation_id = $6 and status = $7 and coalesce(assignee_id, '') = $8
             returning last_seq",
        )
        .bind(to.status.as_str())
        .bind(to.assignee.as_deref())
        .bind(to.team.as_deref())
        .bind(public)
        .bind(now)
        .bind(conversation_id)
        .bind(from.status.as_str())
        .bind(from.assignee.as_deref().unwrap_or(""))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Err(Error::Conflict) };
        let seq: i64 = row.try_get(0)?;
        let mut stored = insert_message(&mut tx, conversation_id, seq, message, now).await?;
        stored.attachments = super::attachments::link_in(&mut tx, conversation_id, &stored.id, attachments).await?;
        if let Some(channel) = outbound_channel
            && !message.private
        {
            super::outbox::enqueue(&mut tx, &stored, channel).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    /// The JSON the bot left for the agent when it handed over, if it did.
    pub async fn handoff_context(&self, conversation_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("select handoff from conversations where conversation_id = $1")
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => None,
        })
    }

    pub async fn mark_read(&self, conversation_id: &str) -> Result<bool> {
        let r = sqlx::query("update conversations set unread = 0 where conversation_id = $1")
            .bind(conversation_id)
            .execute(self.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Every message of every conversation of the contact, oldest first, with its channel.
    pub async fn contact_history(&self, contact_id: &str, limit: i64) -> Result<Vec<(MessageView, String)>> {
        let rows = sqlx::query(
            "select * from (
                select m.message_id, m.conversation_id, m.seq, m.author, m.author_name, m.body, m.private,
                       m.created_at, c.channel
                  from messages m join conversations c on c.conversation_id = m.conversation_id
                 where c.contact_id = $1
                 order by m.created_at desc, m.seq desc
                 limit $2) x
              order by x.created_at, x.seq",
        )
        .bind(contact_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((message_from_row(r)?, r.try_get("channel")?))).collect()
    }

    pub async fn contact(&self, contact_id: &str) -> Result<Option<(Option<String>, Millis)>> {
        let row = sqlx::query("select name, created_at from contacts where contact_id = $1")
            .bind(contact_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// (kind, value, verification) of every identity of the contact.
    pub async fn identities(&self, contact_id: &str) -> Result<Vec<(String, String, String)>> {
        Ok(sqlx::query_as(
            "select kind, value, verification from contact_identities where contact_id = $1 order by kind, created_at",
        )
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// (id, status, channel, created_at, updated_at) of the contact's conversations, newest first.
    pub async fn conversations_of_contact(
        &self,
        contact_id: &str,
    ) -> Result<Vec<(String, String, String, Millis, Millis)>> {
        Ok(sqlx::query_as(
            "select conversation_id, status, channel, created_at, updated_at from conversations
              where contact_id = $1 order by updated_at desc limit 100",
        )
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

pub(super) async fn insert_message(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    seq: i64,
    m: &NewMessage,
    now: Millis,
) -> Result<MessageView> {
    let view = MessageView {
        id: new_ordered_id(),
        conversation_id: conversation_id.to_string(),
        seq,
        author: m.author,
        author_name: m.author_name.clone(),
        text: m.text.clone(),
        private: m.private,
        created_at: now,
        kind: crate::domain::message_kind(m.author, &m.author_name),
        quick_replies: Vec::new(),
        attachments: Vec::new(),
    };
    sqlx::query(
        "insert into messages (message_id, conversation_id, seq, author, author_name, body, client_msg_id, private, created_at)
         values ($1, $2, $3, $4, $5, $6, null, $7, $8)",
    )
    .bind(&view.id)
    .bind(conversation_id)
    .bind(seq)
    .bind(m.author.as_str())
    .bind(&m.author_name)
    .bind(&m.text)
    .bind(i64::from(m.private))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(view)
}
