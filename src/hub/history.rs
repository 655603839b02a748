//! Reads the customer sockets and the console need, so they never reach the store: a
//! conversation's history in pages (resume after a reconnect, a gap or a lag), with each message's
//! files; the latest rating request; who is helping. Reads only: nothing here writes state.

use super::{Hub, Result};
use crate::domain::MessageView;
use crate::store::CsatRequest;

/// Messages per history page.
pub const HISTORY_PAGE: i64 = 500;

/// A conversation's messages after a seq, a page at a time, each message with its files. Made by
/// [`Hub::history`]; `next_page` gives `None` once the history is exhausted.
pub struct History<'a> {
    hub: &'a Hub,
    conversation_id: &'a str,
    after: i64,
    include_private: bool,
    done: bool,
}

impl History<'_> {
    /// The next page in seq order, or `None` when every message was given.
    pub async fn next_page(&mut self) -> Result<Option<Vec<MessageView>>> {
        if self.done {
            return Ok(None);
        }
        let store = &self.hub.store;
        let mut page =
            store.messages_after(self.conversation_id, self.after, HISTORY_PAGE, self.include_private).await?;
        self.done = (page.len() as i64) < HISTORY_PAGE;
        if let Some(last) = page.last() {
            self.after = last.seq;
        }
        // Files are shown when they can be read; a failure costs the attachment list only.
        if let Err(e) = self.hub.fill_attachments(page.iter_mut().collect()).await {
            tracing::warn!(error = %e, "history: attachments not shown");
        }
        Ok(Some(page))
    }
}

impl Hub {
    /// The messages of a conversation after `after_seq` (private notes only when
    /// `include_private`: staff), in pages of [`HISTORY_PAGE`].
    pub fn history<'a>(&'a self, conversation_id: &'a str, after_seq: i64, include_private: bool) -> History<'a> {
        History { hub: self, conversation_id, after: after_seq, include_private, done: false }
    }

    /// Puts each message's stored files on it (history reads; live messages carry them already).
    pub async fn fill_attachments(&self, messages: Vec<&mut MessageView>) -> Result<()> {
        Ok(self.store.fill_attachments(messages).await?)
    }

    /// The conversation's most recent rating request (rated or not), if it ever had one.
    pub async fn latest_csat(&self, conversation_id: &str) -> Result<Option<CsatRequest>> {
        Ok(self.store.latest_csat(conversation_id).await?)
    }

    /// The display name of the agent assigned to the conversation; `None` when nobody is (or
    /// the conversation is unknown).
    pub async fn assignee_name(&self, conversation_id: &str) -> Result<Option<String>> {
        let Some(assignee) = self.store.conversation(conversation_id).await?.and_then(|c| c.assignee_id) else {
            return Ok(None);
        };
        Ok(self.store.agent(&assignee).await?.map(|a| a.name))
    }
}
