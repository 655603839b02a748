//! Reply stripping end to end: mails in the formats real clients write (the wrapped attribution
//! right under the customer's last line, Polymail, a Danish Outlook block, bottom-posting, a
//! forward) delivered to Dovecot; the stored message shows only what the customer wrote, and the
//! staff API still serves the whole original.

use super::{AMINA, agent_token, dovecot, eventually, http_json, mail, start, stored};
use crate::email::smtp::SmtpReceiver;
use crate::helpers::{TestDb, backends};
use dovecot::Dovecot;

/// (Message-ID, body as the client sent it, what the customer wrote, a line that must be gone)
const MAILS: &[(&str, &str, &str, &str)] = &[
    (
        "strip-wrapped@customer.example",
        "Thanks Baraka\n On Mar 8, 2026 9:59 AM, \"Kituo Support\" <\nsupport@example.test> wrote:\n\n> Your parcel is ready for pickup\n",
        "Thanks Baraka",
        "ready for pickup",
    ),
    (
        "strip-polymail@customer.example",
        "Test reply from Polymail\n\nOn Tue, Apr 11, 2026 at 10:07 PM Kituo Support\n\n<\nmailto:Kituo Support <support@example.test>\n> wrote:\nYour order was confirmed.\n",
        "Test reply from Polymail",
        "confirmed",
    ),
    (
        "strip-danish@customer.example",
        "Jeg venter stadig på pakken.\n\nFra: Kituo Support <support@example.test>\nSendt: 19. marts 2026 12:10\nTil: Amina\nEmne: Din ordre\n\nPakken er sendt.",
        "Jeg venter stadig på pakken.",
        "Pakken er sendt",
    ),
    (
        "strip-bottom@customer.example",
        "On 04/19/2026 07:10 AM, Kituo Support wrote:\n\n>\n> Is Plot 12, Msasani still your address?\nYes, still the same address\n\nSent from my iPhone",
        "Yes, still the same address",
        "Msasani",
    ),
];

#[tokio::test]
async fn stored_mail_shows_only_the_customers_text_and_agents_keep_the_original() {
    if !dovecot::available() {
        return;
    }
    for backend in backends() {
        let dovecot = Dovecot::start().await;
        let smtp = SmtpReceiver::start().await;
        let app = start(TestDb::new(backend).await, &dovecot, &smtp, |_| {}).await;
        let token = agent_token(&app, "Neema").await;
        for (id, body, expected, gone) in MAILS {
            dovecot.deliver(&mail(AMINA, "Re: Order", id, "", body)).await;
            let (_, text) = stored(&app, id).await;
            // A mail that starts a conversation carries its subject in front.
            assert!(text.ends_with(expected), "{backend:?} {id}: {text:?}");
            assert!(!text.contains(gone), "{backend:?} {id}: quoted history shown: {text:?}");
            let message = app.hub.store().message_by_external_id(&format!("email:{id}")).await.unwrap().unwrap();
            // The original is saved right after the message: wait for it as an agent would.
            let path = format!("/api/email/messages/{}/original", message.id);
            let original = eventually(&format!("the original of {id}"), || async {
                let (status, original) = http_json(&app, "GET", &path, &token, None).await;
                (status == 200).then_some(original)
            })
            .await;
            let original = original["body"].as_str().unwrap_or_default().replace("\r\n", "\n");
            assert!(original.contains(gone) && original.contains(expected), "{backend:?} {id}: {original}");
        }

        // A forward is the customer's text, kept whole.
        let forward = "FYI\n\n---------- Forwarded message ----------\nFrom: Courier <noreply@courier.example.com>\nDate: Tue, Sep 4, 2026 at 1:35 PM\nSubject: Parcel\nTo: amina@example.co.tz\n\nYour parcel could not be delivered.";
        dovecot.deliver(&mail(AMINA, "Fwd: Parcel", "strip-forward@customer.example", "", forward)).await;
        let (_, text) = stored(&app, "strip-forward@customer.example").await;
        assert!(text.ends_with(forward), "{backend:?}: forward kept whole: {text:?}");
    }
}
