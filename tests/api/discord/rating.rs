//! Rating a resolved Discord conversation with the buttons under the notice, on SQLite and
//! PostgreSQL: the customer's click is stored (the conversation JSON's `"csat"`), the notice
//! loses its buttons and says thanks; someone else's click and a second click are refused.

use super::fake::FakeDiscord;
use super::files::dm_answered;
use super::{amina, juma, start};
use crate::helpers::{agent, backends};
use serde_json::json;

#[tokio::test]
async fn discord_csat_buttons_rate_the_resolution_once_and_only_for_the_customer() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let neema = agent(&app, "Neema Said").await;
        let amina = amina();
        let (dm, id) = dm_answered(&app, &fake, &amina, "human").await;
        neema.act(&id, "claim").await.ok();
        let before = fake.posts_in(dm).len();
        neema.act(&id, "resolve").await.ok();

        let notice = fake
            .until("the resolution notice with buttons", |f| {
                f.posts_in(dm).into_iter().skip(before).find(|p| p.components.is_array())
            })
            .await;
        assert!(notice.content.contains("resolved"), "{backend:?}: {}", notice.content);
        let buttons = notice.components[0]["components"].as_array().expect("one row of buttons").clone();
        let labels: Vec<&str> = buttons.iter().filter_map(|b| b["label"].as_str()).collect();
        assert_eq!(labels, ["1", "2", "3", "4", "5"], "{backend:?}");
        let four = buttons[3]["custom_id"].as_str().unwrap().to_string();
        let two = buttons[1]["custom_id"].as_str().unwrap().to_string();

        // Someone else cannot rate Amina's conversation.
        let juma = juma();
        let theirs = fake.click(dm, &juma, notice.id, &four);
        let refused = fake.until("an answer to juma", |f| f.callbacks().into_iter().find(|(i, _)| *i == theirs)).await;
        assert_eq!(refused.1["type"], 4, "{backend:?}: {}", refused.1);
        assert_eq!(refused.1["data"]["flags"], 64, "{backend:?}: only juma sees it: {}", refused.1);
        assert!(neema.conversation(&id).await["conversation"]["csat"].is_null(), "{backend:?}");

        // Amina's click is the rating; the notice is updated, its buttons gone.
        let hers = fake.click(dm, &amina, notice.id, &four);
        let done = fake.until("an answer to amina", |f| f.callbacks().into_iter().find(|(i, _)| *i == hers)).await;
        assert_eq!(done.1["type"], 7, "{backend:?}: the notice is updated: {}", done.1);
        assert_eq!(done.1["data"]["components"], json!([]), "{backend:?}");
        assert!(done.1["data"]["content"].as_str().unwrap_or("").contains("4 out of 5"), "{backend:?}: {}", done.1);
        let c = neema.conversation(&id).await;
        assert_eq!(c["conversation"]["csat"]["rating"], 4, "{backend:?}: {c}");
        assert_eq!(c["conversation"]["status"], "resolved", "{backend:?}");

        // One rating per resolution.
        let again = fake.click(dm, &amina, notice.id, &two);
        let second =
            fake.until("an answer to the second click", |f| f.callbacks().into_iter().find(|(i, _)| *i == again)).await;
        assert_eq!(second.1["data"]["flags"], 64, "{backend:?}: {}", second.1);
        assert_eq!(neema.conversation(&id).await["conversation"]["csat"]["rating"], 4, "{backend:?}");
        assert!(fake.unexpected().is_empty(), "{backend:?}: {:?}", fake.unexpected());
    }
}
