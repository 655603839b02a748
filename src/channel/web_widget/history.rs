//! What a widget is sent of its conversation: each message as a frame (never private notes),
//! the history after a seq (resume, a gap, a lag), who is helping, and the rating request once
//! the resolution notice arrives. Reads go through the hub.

use super::frames::ServerFrame;
use super::session::{Connection, SocketResult};
use crate::domain::{Author, MessageView, rfc3339};

impl Connection {
    pub(super) async fn send_message(&mut self, m: &MessageView) -> SocketResult {
        if m.private {
            return Ok(());
        }
        self.max_sent_seq = self.max_sent_seq.max(m.seq);
        let frame = ServerFrame::Message {
            id: &m.id,
            seq: m.seq,
            author: m.author,
            author_name: &m.author_name,
            text: &m.text,
            created_at: rfc3339(m.created_at),
            quick_replies: &m.quick_replies,
            attachments: (!m.attachments.is_empty()).then_some(m.attachments.as_slice()),
        };
        self.feed(&frame).await?;
        if m.author == Author::System && m.kind.is_none() {
            // A system line marks a change of hands or a resolution: say who helps now, and
            // ask for the rating if this line is the pending request's notice.
            Box::pin(self.after_system_message(&m.id)).await?;
        }
        Ok(())
    }

    async fn after_system_message(&mut self, message_id: &str) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        self.send_agent().await?;
        match self.state.hub.latest_csat(&conversation_id).await {
            Ok(Some(r)) if r.message_id == message_id && r.rating.is_none() => {
                self.send(&ServerFrame::CsatRequest { conversation_id: &conversation_id }).await
            }
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the rating request");
                Ok(())
            }
        }
    }

    /// Tells the widget who is helping when that changed (the header shows the agent's name);
    /// nothing while no agent ever joined.
    pub(super) async fn send_agent(&mut self) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let name = self.state.hub.assignee_name(&conversation_id).await.ok().flatten();
        if name == self.agent_sent {
            return Ok(());
        }
        self.agent_sent = name;
        let frame = ServerFrame::Agent { name: self.agent_sent.as_deref() };
        let text = serde_json::to_string(&frame).expect("server frames always serialise");
        self.socket.send(axum::extract::ws::Message::Text(text.into())).await
    }

    /// Sends every message after `after_seq`, in order.
    pub(super) async fn resume(&mut self, after_seq: i64) -> SocketResult {
        let Some(conversation_id) = self.session.as_ref().map(|s| s.conversation_id.clone()) else {
            return Ok(());
        };
        let hub = self.state.hub.clone();
        let mut history = hub.history(&conversation_id, after_seq, false);
        loop {
            let page = match history.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => return Ok(()),
                Err(e) => {
                    tracing::error!(error = %e, "resume failed");
                    return self.send_error("unavailable", "could not load history; reconnect to retry").await;
                }
            };
            for m in &page {
                self.send_message(m).await?;
            }
            self.flush().await?;
        }
    }
}
