//! Search, filters, saved views and notification preferences through the API, on SQLite and
//! PostgreSQL: a conversation is found by a word, an address and an order number; filters
//! combine with `q`; contact matches and denser messages rank first; bad values are 422s naming
//! the parameter; views and preferences belong to one agent.

use crate::helpers::{
    Chat, Staff, TestApp, WIDGET_SECRET, admin, agent, backends, hand_off, queued_customer, sign, spawn_app,
};
use serde_json::{Value, json};

/// A widget chat whose email (and name) the embedding site vouches for.
async fn signed_chat(app: &TestApp, email: &str, name: &str) -> Chat {
    let mut chat = app.chat().await;
    chat.send(json!({"type": "identify", "email": email, "name": name, "hmac": sign(WIDGET_SECRET, email)})).await;
    let ok = chat.frame().await;
    assert_eq!(ok["type"], "identified", "{ok}");
    chat
}

/// Sends a customer message and waits for its ack (whatever answers it).
pub async fn tell(chat: &mut Chat, text: &str) {
    let id = chat.next_id();
    chat.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
    loop {
        let f = chat.frame().await;
        if f["type"] == "ack" && f["client_msg_id"] == id.as_str() {
            return;
        }
        assert_ne!(f["type"], "error", "{f}");
    }
}

async fn search(staff: &Staff, query: &str) -> Vec<Value> {
    let r = staff.get(&format!("/api/conversations?{query}")).await;
    r.ok()["conversations"].as_array().cloned().unwrap_or_default()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|c| c["id"].as_str().unwrap_or_default().to_string()).collect()
}

/// The highlighted parts of a hit's snippet, lower-cased.
fn marked(hit: &Value) -> Vec<String> {
    let text: Vec<char> = hit["search"]["snippet"].as_str().unwrap_or_default().chars().collect();
    let ranges = hit["search"]["highlights"].as_array().cloned().unwrap_or_default();
    ranges
        .iter()
        .map(|r| {
            let (a, b) = (r[0].as_u64().unwrap() as usize, r[1].as_u64().unwrap() as usize);
            text[a..b].iter().collect::<String>().to_lowercase()
        })
        .collect()
}

#[tokio::test]
async fn a_conversation_is_found_by_a_word_an_address_and_an_order_number() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Search Agent").await;
        // An address with no orders: with one, the bot would offer her order by number for the
        // return and her conversation would (rightly) match the order number below too.
        let mut wanjiru = signed_chat(&app, "wanjiru.kamau@mail.example.test", "Wanjiru Kamau").await;
        tell(&mut wanjiru, "The parcel arrived damaged, the lantern glass is cracked").await;
        let mut other = app.chat().await;
        tell(&mut other, "Any news on order SO-2026-0042? Asante sana").await;
        let mut third = app.chat().await;
        tell(&mut third, "Hello, do you deliver to Mombasa?").await;

        let found = search(&neema, "q=damaged").await;
        assert_eq!(ids(&found), [wanjiru.conversation_id.clone()], "{backend:?}: a word");
        assert_eq!(marked(&found[0]), ["damaged"], "{backend:?}: {}", found[0]["search"]);
        assert_eq!(found[0]["search"]["matched"], json!(["message"]));
        assert!(found[0]["labels"].is_array(), "search results carry labels like the list");

        let found = search(&neema, "q=wanjiru.kamau%40mail.example.test").await;
        assert_eq!(ids(&found), [wanjiru.conversation_id.clone()], "{backend:?}: an address");
        assert_eq!(found[0]["search"]["matched"], json!(["contact"]), "{backend:?}");
        assert_eq!(ids(&search(&neema, "q=kamau").await), [wanjiru.conversation_id.clone()], "{backend:?}: a name");

        for q in ["SO-2026-0042", "so-2026-0042", "SO-2026-00", "0042"] {
            let found = search(&neema, &format!("q={q}")).await;
            assert_eq!(ids(&found), [other.conversation_id.clone()], "{backend:?}: order number as {q}: {found:#?}");
        }
        let found = search(&neema, "q=SO-2026-0042").await;
        assert_eq!(marked(&found[0]), ["so", "2026", "0042"], "{backend:?}");
        // The words of a number must stand together: these are all present, not as one number.
        assert!(search(&neema, "q=2026-so").await.is_empty(), "{backend:?}");
        // Space-separated words must all occur.
        assert_eq!(ids(&search(&neema, "q=lantern+cracked").await), [wanjiru.conversation_id.clone()]);
        assert!(search(&neema, "q=lantern+mombasa").await.is_empty(), "{backend:?}");
        assert!(search(&neema, "q=kilimanjaro").await.is_empty(), "{backend:?}");
        // Prefix of the last word; text that needs escaping is only words to the index.
        assert_eq!(ids(&search(&neema, "q=momb").await), [third.conversation_id.clone()], "{backend:?}");
        assert!(search(&neema, "q=%22%29%3B+drop+table+messages+--").await.is_empty(), "{backend:?}");
    }
}

/// SQLite indexes new messages beside the writer (issue 16), and a search first indexes what is
/// still pending: a message is found right after its ack, every time.
#[tokio::test]
async fn a_message_is_found_right_after_its_ack() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let staff = agent(&app, "Index Agent").await;
        let mut chat = app.chat().await;
        for i in 0..5 {
            tell(&mut chat, &format!("the zebrafish tank number {i} leaks")).await;
            let found = search(&staff, &format!("q=zebrafish+{i}")).await;
            assert_eq!(ids(&found), [chat.conversation_id.clone()], "{backend:?}: message {i}");
            // The search left nothing pending: the customer's message and the bot's reply are in.
            assert_eq!(app.hub.store().index_pending().await.unwrap(), 0, "{backend:?}");
        }
        assert_eq!(ids(&search(&staff, "q=zebrafish").await), [chat.conversation_id.clone()], "{backend:?}");
    }
}

#[tokio::test]
async fn filters_combine_with_search_and_bad_values_name_the_parameter() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Filter Admin").await;
        boss.post("/api/admin/labels", json!({"name": "vip", "color": "#f1c40f"})).await.ok();
        let mut queued = queued_customer(&app).await;
        tell(&mut queued, "My umbrella handle snapped").await;
        let mut with_bot = app.chat().await;
        tell(&mut with_bot, "Do you sell a red umbrella?").await;
        let (q_id, b_id) = (queued.conversation_id.clone(), with_bot.conversation_id.clone());

        let mut both = ids(&search(&boss, "q=umbrella").await);
        both.sort();
        let mut want = vec![q_id.clone(), b_id.clone()];
        want.sort();
        assert_eq!(both, want, "{backend:?}");
        assert_eq!(ids(&search(&boss, "q=umbrella&status=queued").await), std::slice::from_ref(&q_id), "{backend:?}");
        assert_eq!(ids(&search(&boss, "q=umbrella&status=bot").await), std::slice::from_ref(&b_id), "{backend:?}");
        assert_eq!(ids(&search(&boss, "q=umbrella&status=queued&assignee=none").await), std::slice::from_ref(&q_id));
        assert!(search(&boss, "q=umbrella&assignee=me").await.is_empty(), "{backend:?}");
        assert_eq!(search(&boss, "q=umbrella&channel=web").await.len(), 2, "{backend:?}");
        assert!(search(&boss, "q=umbrella&channel=email").await.is_empty(), "{backend:?}");
        boss.post(&format!("/api/conversations/{b_id}/labels"), json!({"labels": ["vip"]})).await.ok();
        assert_eq!(ids(&search(&boss, "q=umbrella&label=vip").await), std::slice::from_ref(&b_id), "{backend:?}");
        assert_eq!(
            ids(&search(&boss, "label=vip&channel=web").await),
            std::slice::from_ref(&b_id),
            "filters without q too"
        );
        assert!(search(&boss, "q=umbrella&since=2999-01-01").await.is_empty(), "{backend:?}");
        assert_eq!(search(&boss, "q=umbrella&since=2020-01-01&until=2999-01-01T00:00:00Z").await.len(), 2);
        assert!(search(&boss, "q=umbrella&until=2020-01-01").await.is_empty(), "{backend:?}");

        for (query, field) in [
            ("q=%21%21", "q"),
            ("status=sleeping", "status"),
            ("channel=fax", "channel"),
            ("team=nobody-has-this-team", "team"),
            ("since=yesterday", "since"),
            ("until=2026-13-40", "until"),
            ("since=2026-06-02&until=2026-06-01", "until"),
        ] {
            let r = boss.get(&format!("/api/conversations?{query}")).await;
            assert_eq!(r.status, 422, "{backend:?} {query}: {}", r.text);
            let message = r.json["error"]["message"].as_str().unwrap_or_default();
            assert!(message.starts_with(&format!("{field}:")), "{query} names {field}: {message}");
        }
    }
}

#[tokio::test]
async fn contact_matches_and_denser_messages_rank_first() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Ranking Agent").await;
        // Queued conversations: no bot reply adds words of its own.
        let mut sparse = queued_customer(&app).await;
        tell(
            &mut sparse,
            "Good morning, I ordered several things last month for the shop and one of them, a kettle, \
             may need a refund later but first I would like to know about delivery times to Kisumu and Nakuru",
        )
        .await;
        let mut dense = queued_customer(&app).await;
        tell(&mut dense, "Refund please: refund the kettle, I asked for a refund twice").await;
        let mut named = signed_chat(&app, "refund.mwangi@example.test", "Refund Mwangi").await;
        hand_off(&mut named).await;
        tell(&mut named, "Habari, nina swali").await;

        let found = search(&neema, "q=refund").await;
        assert_eq!(
            ids(&found),
            [named.conversation_id.clone(), dense.conversation_id.clone(), sparse.conversation_id.clone()],
            "{backend:?}: the contact first, then the denser message: {found:#?}"
        );
        let score = |i: usize| found[i]["search"]["score"].as_f64().unwrap();
        assert!(score(1) > score(2), "{backend:?}: scores {} > {}", score(1), score(2));
        assert!(marked(&found[2]).contains(&"refund".to_string()), "{backend:?}");
    }
}

#[tokio::test]
async fn saved_views_belong_to_one_agent() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let amina = agent(&app, "View Owner").await;
        let baraka = agent(&app, "View Other").await;
        assert_eq!(amina.get("/api/views").await.ok()["views"], json!([]));
        let body =
            json!({"name": "Queued refunds", "q": "refund", "filters": {"status": "queued", "channel": " web "}});
        let r = amina.post("/api/views", body.clone()).await;
        assert_eq!(r.status, 201, "{backend:?}: {}", r.text);
        let view = r.json["view"].clone();
        assert_eq!(view["name"], "Queued refunds");
        assert_eq!(view["q"], "refund");
        assert_eq!(
            view["filters"],
            json!({"status": "queued", "channel": "web"}),
            "stored trimmed, only what was given"
        );
        let id = view["id"].as_str().unwrap().to_string();
        assert_eq!(amina.get("/api/views").await.ok()["views"], json!([view]), "{backend:?}");

        let r = amina.post("/api/views", body).await;
        assert_eq!(r.status, 422, "a second view with the same name: {}", r.text);
        for (bad, field) in [
            (json!({"name": "x", "filters": {"channel": "fax"}}), "channel"),
            (json!({"name": "x", "filters": {"since": "soon"}}), "since"),
            (json!({"name": "x", "q": "--"}), "q"),
            (json!({"name": "  "}), "name"),
        ] {
            let r = amina.post("/api/views", bad.clone()).await;
            assert_eq!(r.status, 422, "{backend:?} {bad}: {}", r.text);
            assert!(r.text.contains(field), "{bad} names {field}: {}", r.text);
        }
        assert_eq!(amina.post("/api/views", json!({"name": "x", "filters": {"colour": "red"}})).await.status, 422);

        // Another agent neither sees nor deletes it; the same name is free for them.
        assert_eq!(baraka.get("/api/views").await.ok()["views"], json!([]), "{backend:?}");
        assert_eq!(baraka.delete(&format!("/api/views/{id}")).await.status, 404, "{backend:?}");
        assert_eq!(baraka.post("/api/views", json!({"name": "Queued refunds"})).await.status, 201);
        assert_eq!(amina.get("/api/views").await.ok()["views"].as_array().map(Vec::len), Some(1));

        assert_eq!(amina.delete(&format!("/api/views/{id}")).await.status, 204, "{backend:?}");
        assert_eq!(amina.get("/api/views").await.ok()["views"], json!([]));
        assert_eq!(amina.delete(&format!("/api/views/{id}")).await.status, 404);
        assert_eq!(baraka.get("/api/views").await.ok()["views"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn notification_preferences_are_per_agent() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let amina = agent(&app, "Prefs Owner").await;
        let baraka = agent(&app, "Prefs Other").await;
        let defaults = json!({"assigned_to_me": true, "customer_message": true, "new_in_queue": true, "sound": false});
        assert_eq!(amina.get("/api/me/notifications").await.ok()["notifications"], defaults, "{backend:?}");
        let r = amina.put("/api/me/notifications", json!({"new_in_queue": false, "sound": true})).await;
        let mine = json!({"assigned_to_me": true, "customer_message": true, "new_in_queue": false, "sound": true});
        assert_eq!(r.ok()["notifications"], mine, "{backend:?}");
        assert_eq!(amina.get("/api/me/notifications").await.ok()["notifications"], mine, "{backend:?}");
        assert_eq!(baraka.get("/api/me/notifications").await.ok()["notifications"], defaults, "{backend:?}");
        assert_eq!(amina.put("/api/me/notifications", json!({"sound": "loud"})).await.status, 422);
        assert_eq!(amina.put("/api/me/notifications", json!({"popups": true})).await.status, 422);
        assert_eq!(amina.get("/api/me/notifications").await.ok()["notifications"], mine, "unchanged by refusals");
    }
}
