//! What agents do to a conversation through the hub: take, hand back, transfer and resolve it
//! (one state machine, retried on conflicts), reply or leave a private note, show typing, and set
//! their presence. Every change is committed by the store and then published on the bus.

use super::bus::{AgentEvent, Event};
use super::{Error, Hub, Result};
use crate::domain::ownership::{self, Action};
use crate::domain::{Author, Channel, ConversationStatus, MessageView, Presence};
use crate::store::{self, ConversationSummary, NewMessage, Principal, TransitionWrite};
use minijinja::context;
use std::sync::Arc;

impl Hub {
    /// Tells the conversation's watchers (widget and consoles) that someone is typing.
    pub fn typing(&self, conversation_id: &str, author: Author, name: &str, agent_id: Option<&str>) {
        self.bus.publish(conversation_id, Event::Typing { author });
        self.bus.publish_agents(AgentEvent::Typing {
            conversation_id: conversation_id.to_string(),
            author,
            name: name.to_string(),
            agent_id: agent_id.map(str::to_string),
        });
    }

    /// Changes who owns a conversation, through the one state machine ([`state::transition`]),
    /// retrying when the conversation changed meanwhile. An agent taking the conversation is
    /// announced to the customer ("Neema joined the conversation").
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
    pub async fn transition(&self, conversation_id: &str, action: Action) -> Result<ConversationSummary> {
        self.transition_as(conversation_id, action, false).await
    }

    /// The dispatcher's assignment: [`Hub::transition`], written only while the agent is still
    /// online (checked in the same statement: the agent may have gone away since the dispatcher
    /// read who was available). `Error::Transition` when they are not.
    pub(super) async fn auto_assign(&self, conversation_id: &str, agent: &str) -> Result<ConversationSummary> {
        self.transition_as(conversation_id, Action::AssignAgent { agent: agent.to_string() }, true).await
    }

    async fn transition_as(
        &self,
        conversation_id: &str,
        action: Action,
        online_only: bool,
    ) -> Result<ConversationSummary> {
        for _ in 0..16 {
            let conv = self.store.conversation(conversation_id).await?.ok_or(Error::NotFound)?;
            let from = conv.ownership();
            let to = ownership::transition(&from, &action)?;
            let joined = match &to.assignee {
                Some(new) if to.status == ConversationStatus::Assigned && from.assignee.as_ref() != Some(new) => {
                    Some(new.clone())
                }
                _ => None,
            };
            let mut csat = None;
            let mut outbound_channel = None;
            let system_message = match &joined {
                Some(agent_id) => {
                    let name = self.store.agent(agent_id).await?.map_or_else(|| "An agent".to_string(), |a| a.name);
                    let text = self
                        .bot()
                        .templates
                        .render(conv.locale, "agent_joined", context! { agent_name => &name })
                        .unwrap_or_else(|_| format!("{name} joined the conversation."));
                    Some(NewMessage::ours(Author::System, "Kituo", &text, false))
                }
                None if to.status == ConversationStatus::Resolved => {
                    // The customer is told and asked for a rating (one request per resolution).
                    let (notice, request, outbound) = self.resolution_notice(&conv, &to).await?;
                    csat = Some(request);
                    outbound_channel = outbound;
                    Some(notice)
                }
                None => None,
            };
            // Resolving, handing back, unassigning or transferring frees the previous owner.
            let frees_capacity = from.status == ConversationStatus::Assigned
                && (to.status != ConversationStatus::Assigned || to.assignee != from.assignee);
            let write = TransitionWrite {
                conversation_id: conversation_id.to_string(),
                from,
                to: to.clone(),
                system_message,
                csat,
                outbound_channel,
                online_only,
            };
            match self.store.apply_transition(&write).await {
                Ok(stored) => {
                    if let Some(agent) = joined {
                        self.store.mark_assigned(&agent).await?;
                    }
                    let delivered = write.outbound_channel.is_some() && stored.is_some();
                    self.publish(stored.into_iter().collect(), &conv.channel);
                    if delivered {
                        self.outbox_signal.notify_waiters();
                    }
                    if to.status == ConversationStatus::Queued || frees_capacity {
                        self.dispatch.notify_one();
                    }
                    return self.summary(conversation_id).await;
                }
                Err(store::Error::Conflict) if online_only => {
                    // Moved on, or the agent is no longer online: the dispatcher picks again.
                    return Err(Error::Transition(ownership::TransitionError::AlreadyAssigned));
                }
                Err(store::Error::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    /// The conversation's summary, also sent to every console.
    pub async fn summary(&self, conversation_id: &str) -> Result<ConversationSummary> {
        let mut s = self.store.conversation_summary(conversation_id).await?.ok_or(Error::NotFound)?;
        self.with_sla(std::slice::from_mut(&mut s)).await?;
        self.bus.publish_agents(AgentEvent::Conversation(Arc::new(s.clone())));
        Ok(s)
    }

    /// An agent's reply (sent to the customer on the conversation's channel) or private note
    /// (never sent). A reply to an unowned conversation makes it the agent's.
    pub async fn agent_message(
        &self,
        conversation_id: &str,
        agent: &Principal,
        text: &str,
        private: bool,
    ) -> Result<MessageView> {
        self.agent_message_with_files(conversation_id, agent, text, private, &[]).await
    }

    /// [`Hub::agent_message`] carrying files the agent uploaded to this conversation
    /// (`attachments`: their ids), linked before the message is published.
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
    pub async fn agent_message_with_files(
        &self,
        conversation_id: &str,
        agent: &Principal,
        text: &str,
        private: bool,
        attachments: &[String],
    ) -> Result<MessageView> {
        let text = &*crate::domain::without_controls(text);
        for _ in 0..16 {
            let conv = self.store.conversation(conversation_id).await?.ok_or(Error::NotFound)?;
            let from = conv.ownership();
            let to = if private {
                from.clone()
            } else {
                ownership::transition(&from, &Action::AgentReply { agent: agent.agent_id.clone() })?
            };
            let message = NewMessage::ours(Author::Agent, &agent.name, text, private);
            let outbound = (conv.channel != Channel::Web.as_str()).then_some(conv.channel.as_str());
            match self.store.commit_agent_message(conversation_id, &from, &to, &message, outbound, attachments).await {
                Ok(stored) => {
                    if to.assignee != from.assignee
                        && let Some(a) = &to.assignee
                    {
                        self.store.mark_assigned(a).await?;
                    }
                    self.publish(vec![stored.clone()], &conv.channel);
                    if !private {
                        self.metrics.count("kituo_messages_out_total", &format!("channel=\"{}\"", conv.channel), 1);
                    }
                    self.summary(conversation_id).await?;
                    if outbound.is_some() && !private {
                        self.outbox_signal.notify_waiters();
                    }
                    return Ok(stored);
                }
                Err(store::Error::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    /// Records an agent's presence and tells every console; an agent coming online may take
    /// waiting conversations.
    pub async fn set_presence(&self, agent_id: &str, presence: Presence) -> Result<()> {
        if self.store.set_presence(agent_id, presence).await? {
            self.bus.publish_agents(AgentEvent::Presence { agent_id: agent_id.to_string(), presence });
            if presence == Presence::Online {
                self.dispatch.notify_one();
            }
        }
        Ok(())
    }
}
