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

/// One ranked conversation before its summary is read: the best matching message's score and
/// text (if a message matched) and whether the contact matched.
pub(super) struct Ranked {
    pub conversation_id: String,
    pub score: f64,
    pub body: Option<String>,
    pub contact_hit: bool,
}

/// Most pending messages moved into SQLite's search index in one transaction (a few ms of the
/// writer's time, so turns waiting behind it are not held up long).
const INDEX_CHUNK: i64 = 2000;

/// One chunk of [`index_pending`], begin to commit in one query (one hop to sqlx's SQLite
/// thread): the writer is held for SQLite's own work only, not for four round trips while turns
/// wait behind it. The delete's rows are the pending rows taken.
const INDEX_ONE_CHUNK: &str = "begin immediate;
    insert into messages_fts (rowid, body, conversation_id)
      select m.rowid, m.body, m.conversation_id
        from (select message_rowid from search_pending order by message_rowid limit ?) p
        join messages m on m.rowid = p.message_rowid;
    delete from search_pending where message_rowid in
      (select message_rowid from search_pending order by message_rowid limit ?)
      returning message_rowid;
    commit";

/// SQLite: moves the messages noted in `search_pending` (migration 0018) into `messages_fts`, in
/// transactions of at most [`INDEX_CHUNK`]; returns how many pending rows it took (the rows of
/// messages deleted while pending are dropped with the others). Runs beside the turn writer
/// (see `after_commits`) and before every search.
pub(super) async fn index_pending(writer: &sqlx::AnyPool) -> Result<u64> {
    let mut taken = 0;
    loop {
        let query = sqlx::query(INDEX_ONE_CHUNK).bind(INDEX_CHUNK).bind(INDEX_CHUNK);
        let rows = super::fetch_in_one_hop(writer, query).await?.len() as u64;
        taken += rows;
        if rows < INDEX_CHUNK as u64 {
            return Ok(taken);
        }
    }
}

impl Store {
    /// Indexes the messages stored since the last pass: SQLite's `search_pending` rows, or
    /// PostgreSQL's GIN pending list (answers the pages merged, not messages). A search does it
    /// first, so it finds every stored message at the index's speed.
    pub async fn index_pending(&self) -> Result<u64> {
        match self.backend {
            Backend::Sqlite => index_pending(self.writer()).await,
            Backend::Postgres => super::search_pg::merge_pending(self.writer()).await,
        }
    }

    /// Conversations matching `query` and `filter`, best first (see the module doc).
    pub async fn search_conversations(&self, query: &SearchQuery, filter: &ListFilter) -> Result<Vec<SearchHit>> {
        let ranked = match self.backend {
            Backend::Sqlite => self.sqlite_ranked(query, filter).await?,
            Backend::Postgres => self.postgres_ranked(query, filter).await?,
        };
        if ranked.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ranked.len()).map(|i| format!("${i}")).collect();
        let sql = format!("{SUMMARY_SELECT} where c.conversation_id in ({})", marks.join(", "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in &ranked {
            q = q.bind(r.conversation_id.as_str());
        }
        let mut summaries = q.fetch_all(&self.pool).await?.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        self.fill_summaries(&mut summaries).await?;
        let mut hits = Vec::with_capacity(ranked.len());
        for r in ranked {
            // A conversation changed between the two reads can be missing: skip it.
            let Some(at) = summaries.iter().position(|s| s.id == r.conversation_id) else { continue };
            hits.push(SearchHit {
                summary: summaries.swap_remove(at),
                score: r.score,
                message: r.body,
                contact_matched: r.contact_hit,
            });
        }
        Ok(hits)
    }

    /// SQLite ranks in one statement: its FTS index is read newest first and stops at the cut.
    async fn sqlite_ranked(&self, query: &SearchQuery, filter: &ListFilter) -> Result<Vec<Ranked>> {
        index_pending(self.writer()).await?;
        let mut binds = vec![query.fts5()];
        // One set of placeholders, used in both parts.
        let filters = filter.clauses(&mut binds).join(" and ");
        let fill = |part: &str| part.replace("{filters}", &filters).replace("{cut}", &RANKED_HITS.to_string());
        let (messages, contacts) = (fill(SQLITE_MESSAGE_HITS), fill(SQLITE_CONTACT_HITS));
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
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(Ranked {
                    conversation_id: r.try_get(0)?,
                    score: r.try_get("score")?,
                    body: r.try_get("body")?,
                    contact_hit: r.try_get::<i64, _>("contact_hit")? == 1,
                })
            })
            .collect()
    }
}
