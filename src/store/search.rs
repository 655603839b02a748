//! SQL for full-text search over conversations: message text (SQLite `messages_fts`, PostgreSQL
//! `messages.search`) and the contact's name and channel identities (`contacts_fts`;
//! `contacts.search` + `contact_identities.search`), combined with the list filters.
//!
//! Ranking: conversations whose contact matches come first (a name or an address is the
//! strongest signal), then by the best-scoring message of each conversation (SQLite `bm25`,
//! PostgreSQL `ts_rank`; higher is better here), then the most recently updated.

use super::queue::{SUMMARY_SELECT, summary_from_row};
use super::{Backend, ConversationSummary, ListFilter, Result, Store};
use crate::search::SearchQuery;
use sqlx::Row;

/// One conversation a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub summary: ConversationSummary,
    /// Relevance of the best matching message (0 when only the contact matched).
    pub score: f64,
    /// The best matching message's text, if a message matched.
    pub message: Option<String>,
    /// The contact's name or an identity matched.
    pub contact_matched: bool,
}

/// At most this many matching messages (the newest) and contacts are ranked per search: a word
/// in half the database costs the same as a word in a few thousand messages. Filters apply
/// before the cut, so a filtered search is still complete up to it.
pub const RANKED_HITS: i64 = 5000;

/// The newest matching messages under the filters (`{filters}`), best per conversation:
/// `(conversation_id, score, body)`. SQLite reads the FTS index in descending rowid order and
/// stops at the cut.
const SQLITE_MESSAGE_HITS: &str = "select conversation_id, -min(score) as score, body from (
        select messages_fts.conversation_id, bm25(messages_fts) as score, messages_fts.body
          from messages_fts join conversations c on c.conversation_id = messages_fts.conversation_id
         where messages_fts match $1 and {filters}
         order by messages_fts.rowid desc limit {cut}
      ) hits group by conversation_id";
const SQLITE_CONTACT_HITS: &str = "select c.conversation_id from (
        select contact_id from contacts_fts where contacts_fts match $1 order by rowid desc limit {cut}
      ) f join conversations c on c.contact_id = f.contact_id where {filters}";

const POSTGRES_MESSAGE_HITS: &str = "select distinct on (conversation_id) conversation_id, score, body from (
        select m.conversation_id, cast(ts_rank(m.search, to_tsquery('simple', $1)) as double precision) as score,
               m.body, m.seq
          from messages m join conversations c on c.conversation_id = m.conversation_id
         where m.search @@ to_tsquery('simple', $1) and {filters}
         order by m.created_at desc limit {cut}
      ) hits order by conversation_id, score desc, seq desc";
const POSTGRES_CONTACT_HITS: &str = "select c.conversation_id from (
        select contact_id from contacts where search @@ to_tsquery('simple', $1)
        union select contact_id from contact_identities where search @@ to_tsquery('simple', $1)
        limit {cut}
      ) f join conversations c on c.contact_id = f.contact_id where {filters}";

impl Store {
    /// Conversations matching `query` and `filter`, best first (see the module doc).
    pub async fn search_conversations(&self, query: &SearchQuery, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        let (text, messages, contacts) = match self.backend {
            Backend::Sqlite => (query.fts5(), SQLITE_MESSAGE_HITS, SQLITE_CONTACT_HITS),
            Backend::Postgres => (query.tsquery(), POSTGRES_MESSAGE_HITS, POSTGRES_CONTACT_HITS),
        };
        let mut binds = vec![text];
        // One set of placeholders, used in both parts.
        let filters = filter.clauses(&mut binds).join(" and ");
        let fill = |part: &str| part.replace("{filters}", &filters).replace("{cut}", &RANKED_HITS.to_string());
        let (messages, contacts) = (fill(messages), fill(contacts));
        let sql = format!(
            "with mh as ({messages}), ch as ({contacts}),
                  cand as (select conversation_id from mh union select conversation_id from ch)
             select c.conversation_id, coalesce(mh.score, 0.0) as score, mh.body,
                    cast(case when ch.conversation_id is null then 0 else 1 end as bigint) as contact_hit
               from cand join conversations c on c.conversation_id = cand.conversation_id
               left join mh on mh.conversation_id = c.conversation_id
               left join ch on ch.conversation_id = c.conversation_id
              order by contact_hit desc, score desc, c.updated_at desc, c.conversation_id
              limit {}",
            filter.limit.clamp(1, 500)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let ranked = q.fetch_all(&self.pool).await?;
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ranked.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{SUMMARY_SELECT} where c.conversation_id in ({})", marks.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in &ranked {
            q = q.bind(r.try_get::<String, _>(0)?);
        }
        let mut summaries = q.fetch_all(&self.pool).await?.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        self.fill_queue_positions(&mut summaries).await?;
        let mut hits = Vec::with_capacity(ranked.len());
        for r in &ranked {
            let id: String = r.try_get(0)?;
            // A conversation changed between the two reads can be missing: skip it.
            let Some(at) = summaries.iter().position(|s| s.id == id) else { continue };
            hits.push(SearchHit {
                summary: summaries.swap_remove(at),
                score: r.try_get("score")?,
                message: r.try_get("body")?,
                contact_matched: r.try_get::<i64, _>("contact_hit")? == 1,
            });
        }
        Ok(hits)
    }
}
