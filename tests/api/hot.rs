//! The message hot path answers from memory (issue 16): the widget socket holds its
//! conversation's turn state and the built-in back office keeps its answers. These tests check
//! that what is held never hides a change made elsewhere.

use crate::helpers::{Backend, Chat, TestApp, admin, backends, eventually, hand_off, query_i64, spawn_app};
use crate::import::import;
use serde_json::json;
use std::time::Duration;

/// Sends a message and waits for its ack (frames of earlier turns are skipped).
async fn send_acked(chat: &mut Chat, text: &str) -> serde_json::Value {
    let id = chat.next_id();
    chat.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
    loop {
        let f = chat.frame().await;
        if f["type"] == "ack" && f["client_msg_id"] == id.as_str() {
            return f;
        }
        assert_ne!(f["type"], "error", "message refused: {f}");
    }
}

/// `kituo_turn_state_reads_total`: turns that read their conversation (absent until the first).
async fn state_reads(app: &TestApp) -> i64 {
    let text = crate::actions::metrics(app).await;
    let line = text.lines().find_map(|l| l.strip_prefix("kituo_turn_state_reads_total "));
    line.map_or(0, |v| v.trim().parse().expect("a count"))
}

#[tokio::test]
async fn a_new_visitor_is_answered_without_a_read_while_others_identify() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        if backend == Backend::Postgres {
            // When a node's listener starts listening it resyncs every open socket, which drops
            // their held copies (events may have been missed). Start after that.
            eventually("the node listening for other nodes' events", Duration::from_secs(10), || async {
                let sql = "select count(*) from pg_stat_activity
                            where datname = current_database() and query ilike 'listen%'";
                (query_i64(&app, sql).await > 0).then_some(())
            })
            .await;
        }
        // A new visitor's socket holds the conversation it created: even the first message
        // reads nothing.
        let mut visitors = Vec::new();
        for _ in 0..6 {
            let mut chat = app.chat().await;
            assert!(chat.ask("hello").await.contains("welcome"), "{backend:?}");
            visitors.push(chat);
        }
        assert_eq!(state_reads(&app).await, 0, "{backend:?}");

        // Another visitor's identify (a signed-in shop customer opening any page) leaves their
        // copies alone. Contacts share 4,096 slots, so one of the six may share Juma's.
        let mut juma = crate::actions::signed_chat(&app, "juma.otieno@example.co.ke").await;
        for chat in &mut visitors {
            assert!(chat.ask("do you have the kanga pair in stock?").await.contains("48 available"), "{backend:?}");
        }
        let reads = state_reads(&app).await;
        assert!(reads <= 1, "{backend:?}: another contact's identify dropped {reads} of 6 held copies");

        // Juma's own copy took the email the shop vouched for: the bot sees it at once, unread.
        let reply = juma.ask("where is my order 1010").await;
        assert!(reply.contains("FCL2611458720"), "{backend:?}: {reply}");
        assert_eq!(state_reads(&app).await, reads, "{backend:?}");

        // A returning visitor's socket has no copy yet: its first message reads, the next does not.
        let token = visitors[0].visitor_token.clone();
        drop(visitors);
        let mut back = Chat::connect(app.addr, Some(&token)).await;
        back.ask("hello again").await;
        back.ask("do you have the kanga pair in stock?").await;
        assert_eq!(state_reads(&app).await, reads + 1, "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_new_visitors_held_row_is_the_row_stored() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.hub.store();
        let (contact_id, row) = store.create_web_visitor("a-token-hash").await.unwrap();
        let (read, emails) = store.conversation_for_turn(&row.conversation_id).await.unwrap().expect("stored");
        assert_eq!(format!("{row:?}"), format!("{read:?}"), "{backend:?}");
        assert_eq!(read.contact_id, contact_id);
        assert!(emails.verified.is_empty() && emails.strong.is_empty(), "{backend:?}: {emails:?}");
        let visitor = store.web_visitor("a-token-hash").await.unwrap();
        assert_eq!(visitor, Some((contact_id, row.conversation_id.clone())), "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_team_given_between_two_messages_is_kept() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        boss.post("/api/admin/teams/billing/members", json!({"agent_id": boss.id})).await.ok();
        let mut chat = app.chat().await;
        // The socket now holds the conversation as queued, without a team.
        hand_off(&mut chat).await;
        let id = chat.conversation_id.clone();
        let assign = format!("/api/conversations/{id}/assign");
        let c = boss.post(&assign, json!({"team": "billing"})).await.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["team"].as_str()), (Some("queued"), Some("billing")), "{backend:?}: {c}");

        // Only the team changed (no message, same status and assignee): the customer's next turn
        // must not write the held, older owner back.
        send_acked(&mut chat, "are you still there?").await;
        let c = boss.conversation(&id).await["conversation"].clone();
        assert_eq!(c["team"], "billing", "{backend:?}: the customer's turn undid the transfer: {c}");
        assert_eq!(c["status"], "queued", "{backend:?}: {c}");
        app.stop().await;
    }
}

#[tokio::test]
async fn an_import_by_another_process_reaches_a_running_servers_answers() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        let before = chat.ask("do you have the kanga pair in stock?").await;
        assert!(before.contains("48 available"), "{backend:?}: demo stock: {before}");
        // Asked again: answered from memory, the same.
        assert!(chat.ask("do you have the kanga pair in stock?").await.contains("48 available"));

        let csv = "sku,name,quantity_on_hand,restock_date,price,currency\n\
                   KG-KAN-01,Kanga pair with Swahili proverb,7,,18000.00,TZS\n";
        let out = import(&app.db, "products", csv);
        assert!(out.status.success(), "{backend:?}: {}", String::from_utf8_lossy(&out.stderr));

        let addr = app.addr;
        let after = eventually("the imported stock in the bot's answer", Duration::from_secs(10), || async move {
            let mut chat = Chat::connect(addr, None).await;
            let reply = chat.ask("do you have the kanga pair in stock?").await;
            reply.contains("7 available").then_some(reply)
        })
        .await;
        assert!(!after.contains("48"), "{backend:?}: {after}");
        app.stop().await;
    }
}

/// Proofs' turns (identities, a forgiven attempt, the contact's name) committed at once with a
/// plain one (on SQLite in the batch's one query, on PostgreSQL one statement each): each writes
/// its own rows, a stale one writes none of them, and a contact's existing name stays.
#[tokio::test]
async fn proof_turns_committed_together_write_only_their_own_rows() {
    use kituo::domain::Verification;
    use kituo::store::NewIdentity;
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.hub.store().clone();
        let mut rows = Vec::new();
        for i in 0..5 {
            let (_, row) = store.create_web_visitor(&format!("proof-visitor-{i}")).await.unwrap();
            let now = kituo::domain::now_ms();
            store.proof_attempt_record(&format!("attempt-{i}"), &[("record", "order:1001")], now).await.unwrap();
            rows.push(row);
        }
        store.name_contact_if_unnamed(&rows[1].contact_id, "Named Before").await.unwrap();
        let turns: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let mut turn = plain_turn(row, 0, &format!("proof-{i}"), &format!("p{i}@x.test"));
                if i < 4 {
                    let email =
                        |verification| NewIdentity { kind: "email", value: format!("p{i}@x.test"), verification };
                    turn.identities = vec![email(Verification::None), email(Verification::OrderEmail)];
                    turn.forgive_attempt = Some(format!("attempt-{i}"));
                    turn.contact_name = Some(format!("Name {i}"));
                }
                if i == 3 {
                    // Handed to the queue since the turn was computed: nothing of it is written.
                    turn.from.status = kituo::domain::ConversationStatus::Queued;
                }
                store.commit_turn(turn.into())
            })
            .collect();
        let results = futures_util::future::join_all(turns).await;
        for (i, r) in results.iter().enumerate() {
            match i {
                3 => assert!(matches!(r, Err(kituo::store::Error::Conflict)), "{backend:?}: {r:?}"),
                _ => assert_eq!(r.as_ref().map(Vec::len).ok(), Some(2), "{backend:?} {i}: {r:?}"),
            }
        }
        let count = |sql: &'static str| query_i64(&app, sql);
        let proven = count(
            "select count(*) from contact_identities where kind = 'email' and value like 'p_@x.test'
                and verification = 'order_email'",
        )
        .await;
        assert_eq!(proven, 3, "{backend:?}: turns 0–2, merged to one verified row each");
        assert_eq!(count("select count(*) from contact_identities where value = 'p3@x.test'").await, 0);
        let left = count("select count(*) from proof_failures where attempt_id like 'attempt-%'").await;
        assert_eq!(left, 2, "{backend:?}: the stale turn's attempt and the plain turn's stay counted");
        assert_eq!(count("select count(*) from proof_failures where attempt_id = 'attempt-3'").await, 1);
        let named = count("select count(*) from contacts where name in ('Name 0', 'Name 2')").await;
        assert_eq!(named, 2, "{backend:?}");
        assert_eq!(count("select count(*) from contacts where name in ('Name 1', 'Name 3')").await, 0);
        assert_eq!(count("select count(*) from contacts where name = 'Named Before'").await, 1);
        app.stop().await;
    }
}

/// A turn of one customer message from `cmid`, computed against `expected_seq`.
fn plain_turn(row: &kituo::store::ConversationRow, expected_seq: i64, cmid: &str, text: &str) -> kituo::store::Turn {
    use kituo::domain::Author;
    use kituo::store::NewMessage;
    let mut customer = NewMessage::ours(Author::Customer, "Customer", text, false);
    customer.client_msg_id = Some(cmid.to_string());
    let reply = NewMessage::ours(Author::Bot, "Kituo", &format!("re: {text}"), false);
    let mut turn = kituo::store::Turn::plain(row, vec![customer, reply]);
    turn.expected_seq = expected_seq;
    turn
}

/// What customer `i` says in round `r`; one of them writes what JSON and SQL must escape.
fn said(i: usize, r: i64) -> String {
    match i {
        3 => format!("hello {i} {r} \"quoted\" back\\slash, tab\t, it's, émoji 🎉, line\nbreak, $1 ?"),
        _ => format!("hello {i} {r}"),
    }
}

/// Many plain turns committed at once (they share statements: on SQLite one query from begin to
/// commit, on PostgreSQL the first few one statement each and the rest one statement for the
/// batch): each good one is stored with its seqs, a stale one changes nothing (not even its
/// audit row), and a repeated `client_msg_id` fails only its own turn, not the others waiting
/// with it.
#[tokio::test]
async fn turns_committed_together_keep_their_own_outcomes() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let store = app.hub.store().clone();
        let mut rows = Vec::new();
        for i in 0..12 {
            let (_, row) = store.create_web_visitor(&format!("batch-visitor-{i}")).await.unwrap();
            rows.push(store.conversation(&row.conversation_id).await.unwrap().unwrap());
        }
        // Conversation 11 already holds "dup-11"; conversation 10 was handed to the queue since
        // its turns were computed (the same seq, another owner).
        store.commit_turn(plain_turn(&rows[11], 0, "dup-11", "first").into()).await.unwrap();
        store.commit_turn(plain_turn(&rows[10], 0, "early-10", "first").into()).await.unwrap();
        for round in 0..2 {
            let turns: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let (seq, cmid) = match (round, i) {
                        (_, 10) => (2, format!("stale-{round}")),
                        (0, 11) => (2, "dup-11".to_string()),
                        (1, 11) => (2, "fresh-11".to_string()),
                        _ => (2 * round, format!("m-{i}-{round}")),
                    };
                    let mut turn = plain_turn(row, seq, &cmid, &said(i, round));
                    if i == 10 {
                        turn.from.status = kituo::domain::ConversationStatus::Queued;
                    }
                    // Disclosures write an audit row with their turn, and only with it.
                    if i % 5 == 0 {
                        let row = (
                            "bot".to_string(),
                            "batch.test".to_string(),
                            format!("turn:{i}:{round}"),
                            "{}".to_string(),
                        );
                        turn.audit.push(row);
                    }
                    store.commit_turn(turn.into())
                })
                .collect();
            let results = futures_util::future::join_all(turns).await;
            for (i, r) in results.iter().enumerate() {
                match (round, i) {
                    (_, 10) => assert!(matches!(r, Err(kituo::store::Error::Conflict)), "{backend:?} {round}: {r:?}"),
                    (0, 11) => assert!(matches!(r, Err(kituo::store::Error::Duplicate)), "{backend:?}: {r:?}"),
                    _ => {
                        let stored = r.as_ref().unwrap_or_else(|e| panic!("{backend:?} {round} {i}: {e}"));
                        let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
                        let base = if i == 11 { 2 } else { 2 * round };
                        assert_eq!(seqs, vec![base + 1, base + 2], "{backend:?} {round} {i}");
                    }
                }
            }
        }
        let audit = store.audit_entries(Some("batch.test"), None, 100).await.unwrap();
        let mut targets: Vec<&str> = audit.iter().map(|a| a.target.as_str()).collect();
        targets.sort();
        assert_eq!(targets, ["turn:0:0", "turn:0:1", "turn:5:0", "turn:5:1"], "{backend:?}: stale turn 10 wrote none");
        for (i, row) in rows.iter().enumerate() {
            let stored = store.messages_after(&row.conversation_id, 0, 100, true).await.unwrap();
            let texts: Vec<&str> = stored.iter().map(|m| m.text.as_str()).collect();
            let want: Vec<String> = match i {
                10 | 11 => vec!["first".into(), "re: first".into()],
                _ => (0..2).flat_map(|r| [said(i, r), format!("re: {}", said(i, r))]).collect(),
            };
            let want: Vec<String> = if i == 11 {
                want.into_iter().chain(["hello 11 1".into(), "re: hello 11 1".into()]).collect()
            } else {
                want
            };
            assert_eq!(texts, want, "{backend:?}: conversation {i}");
            let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>(), "{backend:?}: {i}");
            let now = store.conversation(&row.conversation_id).await.unwrap().unwrap();
            assert_eq!(now.last_seq, stored.len() as i64, "{backend:?}: the row moved with its messages ({i})");
        }
    }
}
