//! SQL for customer satisfaction: the request written with each resolution (see
//! [`Store::apply_transition`]), the one rating it accepts, the rating shown on a conversation and
//! the CSAT reports per agent, team, channel and day. Also the link-signing key.

use super::conversations::NewMessage;
use super::{Result, Store};
use crate::domain::{MessageView, Millis, new_secret, now_ms};
use sqlx::Row;
use std::collections::HashMap;

/// A request to rate, as written with a resolution.
#[derive(Debug, Clone)]
pub struct NewCsat {
    pub csat_id: String,
    pub channel: String,
    pub agent_id: Option<String>,
    pub team: Option<String>,
}

/// A stored request and its rating, if given.
#[derive(Debug, Clone, PartialEq)]
pub struct CsatRequest {
    pub csat_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub channel: String,
    pub rating: Option<i64>,
    pub comment: Option<String>,
    pub created_at: Millis,
    /// True when a newer request of the same conversation replaced this one.
    pub superseded: bool,
}

/// Why a rating was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateRefusal {
    /// No request exists (or none for this conversation).
    NoRequest,
    /// This resolution was rated already.
    AlreadyRated,
    /// The conversation was resolved again since: rate the newer request.
    Superseded,
}

/// CSAT figures of one group (an agent, a team, a channel or a day).
#[derive(Debug, Clone, PartialEq)]
pub struct CsatGroup {
    pub key: Option<String>,
    /// The agent's display name, for agent groups.
    pub name: Option<String>,
    pub ratings: i64,
    pub average: Option<f64>,
    /// Ratings of 4 or 5.
    pub satisfied: i64,
}

/// Every CSAT grouping the reports show.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CsatReport {
    pub by_agent: Vec<CsatGroup>,
    pub by_team: Vec<CsatGroup>,
    pub by_channel: Vec<CsatGroup>,
    pub by_day: Vec<CsatGroup>,
}

const REQUEST_SELECT: &str = "select r.csat_id, r.conversation_id, r.message_id, r.channel, r.rating, r.comment, r.created_at,
        (select count(*) from csat_requests n where n.conversation_id = r.conversation_id and n.created_at > r.created_at) as newer
   from csat_requests r";

fn request_from_row(r: &sqlx::any::AnyRow) -> Result<CsatRequest> {
    Ok(CsatRequest {
        csat_id: r.try_get("csat_id")?,
        conversation_id: r.try_get("conversation_id")?,
        message_id: r.try_get("message_id")?,
        channel: r.try_get("channel")?,
        rating: r.try_get("rating")?,
        comment: r.try_get("comment")?,
        created_at: r.try_get("created_at")?,
        superseded: r.try_get::<i64, _>("newer")? > 0,
    })
}

/// Writes the request of a resolution inside its transaction; `message_id` is the notice.
pub(super) async fn insert_request(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    conversation_id: &str,
    message_id: &str,
    c: &NewCsat,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "insert into csat_requests (csat_id, conversation_id, message_id, channel, agent_id, team, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.csat_id)
    .bind(conversation_id)
    .bind(message_id)
    .bind(&c.channel)
    .bind(c.agent_id.as_deref())
    .bind(c.team.as_deref())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The secret that signs rating links: created once, shared by every node through the database.
    pub async fn csat_signing_key(&self) -> Result<String> {
        sqlx::query(
            "insert into signing_keys (name, secret, created_at) values ('csat', $1, $2)
             on conflict (name) do nothing",
        )
        .bind(new_secret())
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        let row = sqlx::query("select secret from signing_keys where name = 'csat'").fetch_one(self.writer()).await?;
        Ok(row.try_get(0)?)
    }

    pub async fn csat_request(&self, csat_id: &str) -> Result<Option<CsatRequest>> {
        let sql = format!("{REQUEST_SELECT} where r.csat_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(csat_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// The conversation's newest request, rated or not.
    pub async fn latest_csat(&self, conversation_id: &str) -> Result<Option<CsatRequest>> {
        let sql =
            format!("{REQUEST_SELECT} where r.conversation_id = $1 order by r.created_at desc, r.csat_id limit 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(conversation_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Stores the rating of a request: once, and only on the conversation's newest request.
    pub async fn rate_csat(
        &self,
        csat_id: &str,
        rating: i64,
        comment: Option<&str>,
    ) -> Result<Result<(), RateRefusal>> {
        let mut tx = self.begin_write().await?;
        let outcome = rate_in(&mut tx, csat_id, rating, comment).await?;
        tx.commit().await?;
        Ok(outcome.map(|_| ()))
    }

    /// A rating sent as a reply on a channel (a Discord message "5"): the rating, the customer's
    /// message and our thanks in one transaction, the thanks queued on `channel`. The
    /// conversation stays resolved. `Ok(None)` when the request cannot be rated (then nothing
    /// is stored).
    pub async fn rate_csat_by_reply(
        &self,
        csat_id: &str,
        rating: i64,
        comment: Option<&str>,
        messages: &[NewMessage],
        channel: &str,
    ) -> Result<Option<Vec<MessageView>>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let Some(conversation_id) = rate_in(&mut tx, csat_id, rating, comment).await?.ok().map(|c| c.conversation_id)
        else {
            return Ok(None);
        };
        let row = sqlx::query(
            "update conversations set last_seq = last_seq + $1, updated_at = $2 where conversation_id = $3
             returning last_seq",
        )
        .bind(messages.len() as i64)
        .bind(now)
        .bind(&conversation_id)
        .fetch_one(&mut *tx)
        .await?;
        let last: i64 = row.try_get(0)?;
        let mut stored = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let seq = last - messages.len() as i64 + 1 + i as i64;
            let view = super::queue::insert_message(&mut tx, &conversation_id, seq, m, now).await?;
            if let Some(ext) = &m.external_id {
                // A redelivered channel message is then found by its id and stored once.
                sqlx::query("update messages set external_id = $1 where message_id = $2")
                    .bind(ext)
                    .bind(&view.id)
                    .execute(&mut *tx)
                    .await?;
            }
            if m.author != crate::domain::Author::Customer && !m.private {
                super::outbox::enqueue(&mut tx, &view, channel).await?;
            }
            stored.push(view);
        }
        tx.commit().await?;
        Ok(Some(stored))
    }

    /// `(rating, comment)` of the newest rated request of each conversation.
    pub async fn csat_of(&self, ids: &[String]) -> Result<HashMap<String, (i64, Option<String>)>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "select conversation_id, rating, comment from csat_requests
              where rated_at is not null and conversation_id in ({}) order by rated_at",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id);
        }
        for r in q.fetch_all(&self.pool).await? {
            // Ordered by time: the newest rating wins.
            out.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
        Ok(out)
    }

    /// Ratings given for resolutions since `since`, grouped four ways.
    pub async fn csat_report(&self, since: Millis) -> Result<CsatReport> {
        let group = |key: &'static str, day: bool| async move {
            let sql = format!(
                "select {key} as k, count(*) as n, cast(avg(rating) as double precision) as a,
                        sum(case when rating >= 4 then 1 else 0 end) as s
                   from csat_requests r where rated_at is not null and created_at >= $1
                  group by {key} order by {key}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).fetch_all(&self.pool).await?;
            rows.iter()
                .map(|r| {
                    let key: Option<String> = if day {
                        let d: i64 = r.try_get("k")?;
                        Some(crate::domain::rfc3339(d * 86_400_000)[..10].to_string())
                    } else {
                        r.try_get("k")?
                    };
                    Ok(CsatGroup {
                        key,
                        name: None,
                        ratings: r.try_get("n")?,
                        average: r.try_get("a")?,
                        satisfied: r.try_get::<Option<i64>, _>("s")?.unwrap_or(0),
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        let mut by_agent = group("agent_id", false).await?;
        let names: HashMap<String, String> = sqlx::query_as::<_, (String, String)>("select agent_id, name from agents")
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .collect();
        for g in &mut by_agent {
            g.name = g.key.as_ref().and_then(|k| names.get(k).cloned());
        }
        Ok(CsatReport {
            by_agent,
            by_team: group("team", false).await?,
            by_channel: group("channel", false).await?,
            by_day: group("created_at / 86400000", true).await?,
        })
    }
}

/// The conditional rating write shared by both ways of rating.
async fn rate_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    csat_id: &str,
    rating: i64,
    comment: Option<&str>,
) -> Result<Result<CsatRequest, RateRefusal>> {
    let sql = format!("{REQUEST_SELECT} where r.csat_id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(csat_id).fetch_optional(&mut **tx).await?;
    let Some(request) = row.as_ref().map(request_from_row).transpose()? else {
        return Ok(Err(RateRefusal::NoRequest));
    };
    if request.rating.is_some() {
        return Ok(Err(RateRefusal::AlreadyRated));
    }
    if request.superseded {
        return Ok(Err(RateRefusal::Superseded));
    }
    let r = sqlx::query(
        "update csat_requests set rating = $1, comment = $2, rated_at = $3 where csat_id = $4 and rated_at is null",
    )
    .bind(rating)
    .bind(comment)
    .bind(now_ms())
    .bind(csat_id)
    .execute(&mut **tx)
    .await?;
    if r.rows_affected() == 0 {
        return Ok(Err(RateRefusal::AlreadyRated));
    }
    Ok(Ok(CsatRequest { rating: Some(rating), comment: comment.map(str::to_string), ..request }))
}
