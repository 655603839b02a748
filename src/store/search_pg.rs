//! PostgreSQL's way to the conversations a search finds (what is found and how it is ranked is
//! in `search.rs`; this module only chooses how to read it so the cost stays flat as the
//! history grows). Only SQL for PostgreSQL lives here; SQLite reads its FTS index newest first
//! in one statement and needs none of this.
//!
//! The newest [`RANKED_HITS`] matching messages under the filters are ranked. A GIN index
//! answers "which messages contain these words" but not "which are the newest": for a word in
//! a third of the history it hands over hundreds of thousands of rows to sort. So:
//! - a **probe** counts the matches among the newest [`PROBE`] messages (a few milliseconds);
//! - a **common** search (the probe predicts the cut is reached within the newest [`WALK`]
//!   messages) **walks** messages newest first (`messages_created`, migration 0016) and stops
//!   at the cut; if the walk falls short, the GIN index supplies the rest from older messages;
//! - a **rare** search (an order number, an address, a rare word) reads the GIN index, whose
//!   cost follows the number of matches, not the size of the history.
//!
//! Both ways return exactly the newest matches, so the choice changes speed, never results.
//! The last steps (the best message per conversation, the contact matches, the order) are done
//! on at most a cut's worth of rows by primary-key lookups, never a scan of `conversations`.

use super::search::{RANKED_HITS, Ranked};
use super::{ListFilter, Result, Store};
use crate::domain::Millis;
use crate::search::SearchQuery;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// Merges the GIN index's pending list into the index in bulk (migration 0019); answers the
/// pending pages it emptied. Runs beside the turn writers (`after_commits`) and before every
/// search. Inserts go on while it runs; concurrent merges (other nodes) wait their turn.
pub(super) async fn merge_pending(writer: &sqlx::AnyPool) -> Result<u64> {
    let pages: i64 =
        sqlx::query_scalar("select gin_clean_pending_list('messages_search'::regclass)").fetch_one(writer).await?;
    Ok(pages.max(0) as u64)
}

/// Newest messages the probe looks at.
const PROBE: i64 = 2000;
/// Newest messages a common search walks at most before the GIN index takes over: a search the
/// probe finds in at least `RANKED_HITS / WALK` of the messages (1.25 %) walks.
const WALK: i64 = 400_000;

/// A matching message: its conversation, place in it and relevance.
struct MessageHit {
    message_id: String,
    conversation_id: String,
    seq: i64,
    score: f64,
}

/// A search's text and filters as SQL pieces shared by every statement: `$1` is the tsquery,
/// the filters' values follow. Empty conditions when the filter keeps every conversation (then
/// messages are read without touching `conversations`).
struct Parts {
    binds: Vec<String>,
    /// For the GIN read: a join the planner may turn into a hash join.
    join: String,
    cond: String,
    /// For the walk: the filters checked per message by primary key, which keeps the walk in
    /// `created_at` order so it stops at the cut.
    per_row: String,
}

impl Parts {
    fn new(query: &SearchQuery, filter: &ListFilter) -> Parts {
        let mut binds = vec![query.tsquery()];
        let clauses = filter.clauses(&mut binds).join(" and ");
        if !filter.narrows() {
            return Parts { binds, join: String::new(), cond: String::new(), per_row: String::new() };
        }
        Parts {
            binds,
            join: " join conversations c on c.conversation_id = m.conversation_id".into(),
            cond: format!(" and {clauses}"),
            per_row: format!(
                " and coalesce((select {clauses} from conversations c where c.conversation_id = m.conversation_id), false)"
            ),
        }
    }
}

/// The hit columns over a subquery `h` of matching messages; the rank is computed only for the
/// rows kept.
const HIT_COLUMNS: &str = "select h.message_id, h.conversation_id, h.seq,
        cast(ts_rank(h.search, to_tsquery('simple', $1)) as double precision) as score";

impl Store {
    /// The conversations `query` finds under `filter`, ranked, at most `filter.limit`.
    pub(super) async fn postgres_ranked(&self, query: &SearchQuery, filter: &ListFilter) -> Result<Vec<Ranked>> {
        if let Err(e) = merge_pending(self.writer()).await {
            // The pending list is searched too (more slowly): the results stay complete.
            tracing::warn!(error = %e, "merging the search index's pending list failed");
        }
        let parts = Parts::new(query, filter);
        let messages = self.newest_message_hits(&parts).await?;
        let contacts = self.contact_hits(query, filter).await?;

        // The best message of each conversation: highest score, then the latest.
        let mut best: HashMap<&str, &MessageHit> = HashMap::new();
        for hit in &messages {
            let slot = best.entry(hit.conversation_id.as_str()).or_insert(hit);
            if (hit.score, hit.seq) > (slot.score, slot.seq) {
                *slot = hit;
            }
        }
        let candidates: Vec<&str> = best.keys().copied().chain(contacts.iter().map(String::as_str)).collect();
        let updated = self.updated_at_of(&candidates).await?;
        let mut ranked: Vec<(&str, bool, f64, Millis)> = updated
            .iter()
            .map(|(id, at)| (id.as_str(), contacts.contains(id), best.get(id.as_str()).map_or(0.0, |h| h.score), *at))
            .collect();
        ranked.sort_by(|a, b| {
            b.1.cmp(&a.1).then(b.2.partial_cmp(&a.2).unwrap_or(Ordering::Equal)).then(b.3.cmp(&a.3)).then(a.0.cmp(b.0))
        });
        ranked.truncate(filter.limit.clamp(1, 500) as usize);

        let shown: Vec<&str> = ranked.iter().filter_map(|r| best.get(r.0).map(|h| h.message_id.as_str())).collect();
        let mut bodies = self.bodies_of(&shown).await?;
        Ok(ranked
            .into_iter()
            .map(|(id, contact_hit, score, _)| Ranked {
                conversation_id: id.to_string(),
                score,
                body: best.get(id).and_then(|h| bodies.remove(&h.message_id)),
                contact_hit,
            })
            .collect())
    }

    /// The newest [`RANKED_HITS`] messages matching under the filters, newest first (see the
    /// module doc for the two ways).
    async fn newest_message_hits(&self, parts: &Parts) -> Result<Vec<MessageHit>> {
        let per_row = &parts.per_row;
        let probe = format!(
            "select count(*) from (select conversation_id, search from messages order by created_at desc limit {PROBE}) m
              where m.search @@ to_tsquery('simple', $1){per_row}"
        );
        let found: i64 =
            fetch(self, probe, &parts.binds).await?.first().map(|r| r.try_get(0)).transpose()?.unwrap_or(0);
        if found * WALK < RANKED_HITS * PROBE {
            self.gin_hits(parts, None, RANKED_HITS).await
        } else {
            self.walked_hits(parts, WALK).await
        }
    }

    /// The walk over the newest `walk` messages ([`WALK`] except in tests), then the GIN index
    /// for older ones if the walk found fewer than the cut.
    async fn walked_hits(&self, parts: &Parts, walk: i64) -> Result<Vec<MessageHit>> {
        let per_row = &parts.per_row;
        // A subquery with its own limit cannot take the filter inside: the planner must walk
        // the newest messages in order, and the outer limit stops the walk at the cut.
        let sql = format!(
            "{HIT_COLUMNS} from (select m.message_id, m.conversation_id, m.seq, m.search
               from (select message_id, conversation_id, seq, search, created_at from messages
                      order by created_at desc limit {walk}) m
              where m.search @@ to_tsquery('simple', $1){per_row}
              order by m.created_at desc limit {RANKED_HITS}) h"
        );
        let mut hits = hit_rows(&fetch(self, sql, &parts.binds).await?)?;
        let missing = RANKED_HITS - hits.len() as i64;
        if missing == 0 {
            return Ok(hits);
        }
        let edge = format!("select created_at from messages order by created_at desc offset {} limit 1", walk - 1);
        let Some(edge) = fetch::<&str>(self, edge, &[]).await?.first().map(|r| r.try_get::<i64, _>(0)).transpose()?
        else {
            return Ok(hits); // the walk saw every message
        };
        // Older messages (ties at the edge included, so skip the ones the walk already has).
        let seen: HashSet<String> = hits.iter().map(|h| h.message_id.clone()).collect();
        let rest = self.gin_hits(parts, Some(edge), missing + seen.len() as i64).await?;
        hits.extend(rest.into_iter().filter(|h| !seen.contains(&h.message_id)).take(missing as usize));
        Ok(hits)
    }

    /// Matching messages through the GIN index, newest first, at most `cut`, optionally only
    /// those at or before `edge`. (`created_at + 0` keeps the planner from walking
    /// `messages_created` for a search it wrongly believes common: prefix searches get a flat
    /// 2 % estimate in PostgreSQL 15.)
    async fn gin_hits(&self, parts: &Parts, edge: Option<Millis>, cut: i64) -> Result<Vec<MessageHit>> {
        let (join, cond) = (&parts.join, &parts.cond);
        let older = edge.map(|e| format!(" and m.created_at <= {e}")).unwrap_or_default();
        let sql = format!(
            "{HIT_COLUMNS} from (select m.message_id, m.conversation_id, m.seq, m.search from messages m{join}
              where m.search @@ to_tsquery('simple', $1){cond}{older}
              order by m.created_at + 0 desc limit {cut}) h"
        );
        hit_rows(&fetch(self, sql, &parts.binds).await?)
    }

    /// Conversations (under the filters) whose contact's name or an identity matches, for at
    /// most [`RANKED_HITS`] contacts.
    async fn contact_hits(&self, query: &SearchQuery, filter: &ListFilter) -> Result<HashSet<String>> {
        let mut binds = vec![query.tsquery()];
        let filters = filter.clauses(&mut binds).join(" and ");
        // Each source stops at the cut; each contact's conversations are read through
        // `conversations_contact` (`offset 0` keeps the planner from turning that into a scan
        // of every conversation).
        let sql = format!(
            "select x.conversation_id from (select contact_id from (
                (select contact_id from contacts where search @@ to_tsquery('simple', $1) limit {RANKED_HITS})
                union (select contact_id from contact_identities where search @@ to_tsquery('simple', $1) limit {RANKED_HITS})
              ) u limit {RANKED_HITS}) f
             cross join lateral (select c.conversation_id from conversations c
                                  where c.contact_id = f.contact_id and {filters} offset 0) x"
        );
        fetch(self, sql, &binds).await?.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// `updated_at` of each of `ids` (ids no longer there are left out).
    async fn updated_at_of(&self, ids: &[&str]) -> Result<Vec<(String, Millis)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "select conversation_id, updated_at from conversations where conversation_id in ({})",
            marks(ids.len())
        );
        let rows = fetch(self, sql, ids).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    /// The text of each of `ids` (messages).
    async fn bodies_of(&self, ids: &[&str]) -> Result<HashMap<String, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!("select message_id, body from messages where message_id in ({})", marks(ids.len()));
        let rows = fetch(self, sql, ids).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }
}

/// `$1, $2, …, $n`.
fn marks(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

async fn fetch<S: AsRef<str>>(store: &Store, sql: String, binds: &[S]) -> Result<Vec<AnyRow>> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b.as_ref());
    }
    Ok(q.fetch_all(&store.pool).await?)
}

fn hit_rows(rows: &[AnyRow]) -> Result<Vec<MessageHit>> {
    rows.iter()
        .map(|r| {
            Ok(MessageHit {
                message_id: r.try_get("message_id")?,
                conversation_id: r.try_get("conversation_id")?,
                seq: r.try_get("seq")?,
                score: r.try_get("score")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ConversationStatus;
    use crate::store::BulkConversation;

    fn ids(hits: &[MessageHit]) -> Vec<&str> {
        hits.iter().map(|h| h.message_id.as_str()).collect()
    }

    /// On PostgreSQL (`KITUO_TEST_POSTGRES_URL`; skipped without it): a short walk plus the
    /// index for older messages finds exactly the messages the index alone finds, in the same
    /// order, with and without filters.
    #[tokio::test]
    async fn the_walk_and_the_index_find_the_same_newest_messages() {
        let Some(admin_url) = std::env::var("KITUO_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
            eprintln!("NOTE: KITUO_TEST_POSTGRES_URL is not set: skipped");
            return;
        };
        sqlx::any::install_default_drivers();
        let name = format!("kituo_u_{:016x}", rand::random::<u64>());
        let admin = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&admin).await.unwrap();
        let (base, params) = admin_url.split_once('?').map_or((admin_url.as_str(), ""), |(b, p)| (b, p));
        let url =
            format!("{}/{name}{}{params}", &base[..base.rfind('/').unwrap()], if params.is_empty() { "" } else { "?" });

        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let batch: Vec<BulkConversation> = (0..300_i64)
            .map(|n| BulkConversation {
                contact_name: format!("Contact {n}"),
                email: format!("c{n}@example.com"),
                channel: "web",
                status: if n % 3 == 0 { "queued" } else { "resolved" },
                created_at: 1_700_000_000_000 + n * 60_000,
                messages: (0..10)
                    .map(|i| {
                        let word = if (n + i) % 2 == 0 { "parcel" } else { "kettle" };
                        let rare = if (n * 10 + i) % 97 == 0 { " umbrella" } else { "" };
                        ("customer", format!("Where is my {word}{rare}? order SO-{n}"))
                    })
                    .collect(),
            })
            .collect();
        store.bulk_load(&batch).await.unwrap();
        store.analyze().await.unwrap();

        let queued = ListFilter { statuses: Some(vec![ConversationStatus::Queued]), ..ListFilter::default() };
        for (text, filter) in [("parcel", ListFilter::default()), ("parc", queued.clone()), ("umbrella", queued)] {
            let parts = Parts::new(&SearchQuery::parse(text).unwrap(), &filter);
            let by_index = store.gin_hits(&parts, None, RANKED_HITS).await.unwrap();
            assert!(!by_index.is_empty(), "{text}");
            for walk in [7, 500, 100_000] {
                let walked = store.walked_hits(&parts, walk).await.unwrap();
                assert_eq!(ids(&walked), ids(&by_index), "{text}, walk {walk}");
            }
        }
        store.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("drop database {name} with (force)"))).execute(&admin).await.unwrap();
    }
}
