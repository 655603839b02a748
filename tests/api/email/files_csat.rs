//! Email end to end through Dovecot and the SMTP receiver, on SQLite and PostgreSQL: an agent's
//! file goes out as a MIME attachment of the reply, and a resolution is rated by the
//! customer's answering mail ("4 - …") after the resolution mail brought the rating links.

use super::dovecot::{self, Dovecot};
use super::smtp::SmtpReceiver;
use super::{AMINA, agent_token, eventually, http_json, mail, parse_reply, reply_to, start_serving, stored};
use crate::helpers::{TestApp, TestDb, backends, http_bytes};
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::json;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// A customer mail `id` that asks for a person: (conversation id, the bot's reply's Message-ID).
async fn handed_off(app: &TestApp, dovecot: &Dovecot, smtp: &SmtpReceiver, id: &str) -> (String, String) {
    let text = "I want to talk to a human about my delivery";
    dovecot.deliver(&mail(AMINA, "Delivery problem", id, "", text)).await;
    let bot = reply_to(smtp, id).await;
    let (conversation, _) = stored(app, id).await;
    (conversation, bot.message_id)
}

#[tokio::test]
async fn email_reply_carries_the_agents_file_as_a_mime_attachment() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dir = std::env::temp_dir().join(format!("kituo-mail-files-{:016x}", rand::random::<u64>()));
        let files = dir.clone();
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start_serving(TestDb::new(backend).await, &dovecot, &smtp, move |args| {
            args.attachments_dir = Some(files.clone());
        })
        .await;
        let token = agent_token(&app, "Neema").await;
        let (conversation, _) = handed_off(&app, &dovecot, &smtp, "f1@customer.example").await;

        let auth = format!("Bearer {token}");
        let path = format!("/api/widget/attachments?conversation_id={conversation}&name=return-label.pdf");
        let up =
            http_bytes(app.addr, "POST", &path, &[("authorization", &auth)], Some(("application/pdf", PDF.to_vec())))
                .await;
        assert_eq!(up.status, 201, "{backend:?}: {}", up.text);
        let file = up.json["attachment"]["id"].as_str().unwrap().to_string();
        let body = json!({"text": "Hi Amina, your return label is attached.", "attachments": [file]});
        let (status, resp) =
            http_json(&app, "POST", &format!("/api/conversations/{conversation}/messages"), &token, Some(&body)).await;
        assert_eq!(status, 201, "{backend:?}: {resp}");

        let raw = eventually("the agent's reply by SMTP", || async {
            smtp.messages().into_iter().find(|r| parse_reply(r).text.contains("return label is attached"))
        })
        .await;
        let m = MessageParser::default().parse(&raw.data).expect("parseable mail");
        assert_eq!(m.content_type().map(|c| c.subtype()), Some(Some("mixed")), "{backend:?}: multipart/mixed");
        assert_eq!(m.attachment_count(), 1, "{backend:?}");
        let a = m.attachment(0).unwrap();
        assert_eq!(a.attachment_name(), Some("return-label.pdf"), "{backend:?}");
        let ct = a.content_type().unwrap();
        assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")), "{backend:?}");
        assert_eq!(a.contents(), PDF, "{backend:?}: the same bytes");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn email_csat_resolution_mail_links_and_a_numbered_answer_rates_it() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start_serving(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        let token = agent_token(&app, "Neema").await;
        let (conversation, _) = handed_off(&app, &dovecot, &smtp, "c1@customer.example").await;
        for action in ["claim", "resolve"] {
            let (status, resp) = http_json(
                &app,
                "POST",
                &format!("/api/conversations/{conversation}/{action}"),
                &token,
                Some(&json!({})),
            )
            .await;
            assert!((200..300).contains(&status), "{backend:?}: {action}: {status} {resp}");
        }

        // The resolution mail reaches the customer with a link per rating.
        let resolution = eventually("the resolution mail", || async {
            smtp.messages().iter().map(parse_reply).find(|r| r.text.contains("/csat/"))
        })
        .await;
        let link = resolution.text.lines().find(|l| l.trim_start().starts_with("4: ")).map(str::trim);
        let link = link.unwrap_or_else(|| panic!("{backend:?}: no rating link in {}", resolution.text));
        assert!(link.contains(&format!("http://{}/csat/", app.addr)) && link.ends_with("?rating=4"), "{link}");

        // Amina answers the mail with a number; it comes in through the real mailbox.
        let extra =
            format!("In-Reply-To: <{id}>\nReferences: <c1@customer.example> <{id}>\n", id = resolution.message_id);
        let answer = mail(AMINA, "Re: Delivery problem", "c2@customer.example", &extra, "4 - quick and kind");
        dovecot.deliver(&answer).await;
        let c = eventually("the rating", || async {
            let (_, c) = http_json(&app, "GET", &format!("/api/conversations/{conversation}"), &token, None).await;
            c["conversation"]["csat"].is_object().then_some(c)
        })
        .await;
        assert_eq!(c["conversation"]["csat"], json!({"rating": 4, "comment": "quick and kind"}), "{backend:?}");
        assert_eq!(c["conversation"]["status"], "resolved", "{backend:?}: a rating does not reopen it");
        // Thanked by mail, in the same thread.
        let thanks = eventually("the thanks by mail", || async {
            smtp.messages().iter().map(parse_reply).find(|r| r.text.contains("4 out of 5"))
        })
        .await;
        assert_eq!(thanks.subject, "Re: Delivery problem", "{backend:?}: in the same thread");
    }
}
