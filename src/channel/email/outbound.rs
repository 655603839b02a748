//! Replies out through SMTP (lettre): the outbox worker hands us a stored bot or agent reply,
//! we render it into the locale's email layout (plain text and HTML from
//! `templates/<locale>/email_layout.j2`), thread it — our own Message-ID on our domain carrying
//! the reply token, In-Reply-To the customer's last Message-ID, References their chain plus that
//! id, `Re:` subject — and hand it to the relay. What the relay refuses for good is permanent;
//! everything else (relay down, 4xx, timeouts) is retried by the outbox with backoff.

use super::EmailConfig;
use super::mime::text_to_html;
use super::threading::{EmailMeta, ReplyToken, our_message_id, plus_address};
use crate::domain::{Author, Channel, Locale, OutboxItem};
use crate::hub::Hub;
use crate::outbox::{ChannelSender, SendError, Sent};
use futures_util::future::BoxFuture;
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::{Value, context};
use std::sync::Arc;
use std::time::Duration;

/// How long one delivery may take before it counts as failed (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The SMTP transport for `smtp://…`, `smtp://…?tls=required`, `smtps://…`.
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.timeout(Some(SMTP_TIMEOUT)).build())
}

pub struct EmailSender {
    hub: Arc<Hub>,
    config: Arc<EmailConfig>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl EmailSender {
    pub fn new(hub: Arc<Hub>, config: Arc<EmailConfig>) -> Result<EmailSender, lettre::transport::smtp::Error> {
        let transport = transport(&config.smtp_url)?;
        Ok(EmailSender { hub, config, transport })
    }

    async fn deliver(&self, item: &OutboxItem) -> Result<Sent, SendError> {
        let conversation_id = &item.message.conversation_id;
        let mut meta = EmailMeta::parse(&item.channel_meta);
        if meta.token.is_empty() {
            meta.token = EmailMeta::new().token;
        }
        let address = meta
            .customer
            .clone()
            .or_else(|| item.recipient.clone())
            .ok_or_else(|| SendError::Permanent("the contact has no email address".into()))?;
        let address: Address =
            address.parse().map_err(|e| SendError::Permanent(format!("bad recipient {address:?}: {e}")))?;
        let name = meta.customer_name.clone().or_else(|| item.contact_name.clone());
        let to = Mailbox::new(name.clone(), address);
        let token = ReplyToken { secret: meta.token.clone(), conversation_id: conversation_id.clone() };
        let our_id = our_message_id(&token, &item.message.id, &self.config.domain);
        let locale = match self.hub.conversation_locale(conversation_id).await {
            Ok(Some(locale)) => locale,
            Ok(None) => return Err(SendError::Permanent("the conversation no longer exists".into())),
            Err(e) => return Err(SendError::Retry(format!("cannot read the conversation: {e}"))),
        };
        let subject = reply_subject(&meta.subject, locale);
        let (text, html) = self.render(item, locale, &subject, name.as_deref())?;

        let mut builder = Message::builder()
            .from(self.config.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{our_id}>")));
        if let Some(last) = &meta.last_message_id {
            builder = builder.in_reply_to(format!("<{last}>"));
        }
        if !meta.references.is_empty() {
            // lettre replaces the header on every call: the whole chain goes in at once.
            let chain: Vec<String> = meta.references.iter().map(|id| format!("<{id}>")).collect();
            builder = builder.references(chain.join(" "));
        }
        if self.config.plus_addressing
            && let Some(plus) = plus_address(self.config.from.email.as_ref(), &token)
            && let Ok(plus) = plus.parse::<Address>()
        {
            builder = builder.reply_to(Mailbox::new(self.config.from.name.clone(), plus));
        }
        let files =
            self.hub.message_files(&item.message.id).await.map_err(|e| SendError::Retry(format!("files: {e}")))?;
        let email = builder
            .multipart(super::attach_out::with_files(MultiPart::alternative_plain_html(text, html), files))
            .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => {
                // Re-read the conversation's data: a customer mail may have arrived while this
                // one was on its way, and its In-Reply-To/References must not be lost.
                let mut latest = match self.hub.channel_meta(conversation_id).await {
                    Ok(Some(json)) => EmailMeta::parse(&json),
                    _ => meta,
                };
                if latest.token.is_empty() {
                    latest.token = token.secret.clone();
                }
                latest.sent(&our_id);
                Ok(Sent { channel_meta: Some(latest.to_json()) })
            }
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("the relay refused the mail: {e}"))),
            Err(e) => Err(SendError::Retry(format!("SMTP: {e}"))),
        }
    }

    /// A mail that is not a reply (a one-time code): plain text to the address in the payload,
    /// which the hub took from the record, never from what the customer typed.
    async fn deliver_payload(&self, payload: &str) -> Result<Sent, SendError> {
        #[derive(serde::Deserialize)]
        struct Payload {
            to: String,
            subject: String,
            body: String,
        }
        let p: Payload =
            serde_json::from_str(payload).map_err(|e| SendError::Permanent(format!("unreadable mail payload: {e}")))?;
        let to: Address = p.to.parse().map_err(|e| SendError::Permanent(format!("bad recipient {:?}: {e}", p.to)))?;
        let email = Message::builder()
            .from(self.config.from.clone())
            .to(Mailbox::new(None, to))
            .subject(p.subject)
            .message_id(Some(format!("<{}@{}>", crate::domain::new_id(), self.config.domain)))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(p.body)
            .map_err(|e| SendError::Permanent(format!("cannot build the mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(Sent::default()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("the relay refused the mail: {e}"))),
            Err(e) => Err(SendError::Retry(format!("SMTP: {e}"))),
        }
    }

    /// (plain text, HTML) of the reply in the locale's email layout.
    fn render(
        &self,
        item: &OutboxItem,
        locale: Locale,
        subject: &str,
        customer_name: Option<&str>,
    ) -> Result<(String, String), SendError> {
        let bot = self.hub.bot();
        let body = item.message.text.as_str();
        let ctx = |html: bool| {
            context! {
                html => html,
                body => body,
                body_html => Value::from_safe_string(text_to_html(body)),
                author => item.message.author.as_str(),
                author_name => &item.message.author_name,
                subject => subject,
                customer_name => customer_name,
                locale => locale.as_str(),
            }
        };
        let render = |html: bool| {
            bot.templates.render(locale, "email_layout", ctx(html)).map_err(|e| {
                tracing::error!(error = %e, "email_layout template failed");
                SendError::Retry(format!("email layout template: {e}"))
            })
        };
        Ok((render(false)?, render(true)?))
    }
}

impl ChannelSender for EmailSender {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    fn send<'a>(&'a self, item: &'a OutboxItem) -> BoxFuture<'a, Result<Sent, SendError>> {
        Box::pin(async move {
            if let Some(payload) = &item.payload {
                return self.deliver_payload(payload).await;
            }
            if item.message.author == Author::Customer {
                return Err(SendError::Permanent("customer messages are never sent back".into()));
            }
            if item.message.private {
                return Err(SendError::Permanent("private notes are never sent".into()));
            }
            self.deliver(item).await
        })
    }
}

/// `Re: <thread subject>`; a thread without a subject gets a plain one in the locale.
pub fn reply_subject(subject: &str, locale: Locale) -> String {
    if subject.trim().is_empty() {
        match locale {
            Locale::En => "Re: Your message".into(),
            Locale::Sw => "Re: Ujumbe wako".into(),
        }
    } else {
        format!("Re: {}", subject.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bot::render::Templates;

    #[test]
    fn subjects_get_one_re_prefix() {
        assert_eq!(reply_subject("Order 1001", Locale::En), "Re: Order 1001");
        assert_eq!(reply_subject("", Locale::Sw), "Re: Ujumbe wako");
    }

    #[test]
    fn the_layout_renders_text_and_escaped_html_in_every_locale() {
        let templates = Templates::load(std::path::Path::new("templates")).expect("templates load");
        for locale in Locale::ALL {
            for html in [false, true] {
                let ctx = context! {
                    html => html,
                    body => "Order <1001> & more",
                    body_html => Value::from_safe_string(text_to_html("Order <1001> & more")),
                    author => "agent",
                    author_name => "Neema <Team>",
                    subject => "Re: Order 1001",
                    customer_name => "Amina",
                    locale => locale.as_str(),
                };
                let out = templates.render(locale, "email_layout", ctx).unwrap();
                if html {
                    assert!(out.contains("Order &lt;1001&gt; &amp; more"), "{locale}: {out}");
                    assert!(out.contains("Neema &lt;Team&gt;"), "{locale}: {out}");
                    assert!(!out.contains("<Team>"), "{locale}: {out}");
                } else {
                    assert!(out.starts_with("Order <1001> & more"), "{locale}: {out}");
                    assert!(out.contains("\n-- \n"), "{locale}: signature delimiter: {out}");
                }
            }
        }
    }
}
