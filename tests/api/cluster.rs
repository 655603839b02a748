//! Real `kituo serve` processes: two nodes on one PostgreSQL sharing everything live, a node
//! killed with SIGKILL under load losing nothing it acknowledged, and a killed node's mailbox and
//! waiting replies taken over by the other node, each mail and reply handled once.

use crate::email::dovecot::{self, Dovecot};
use crate::email::smtp::SmtpReceiver;
use crate::email::{AMINA, SUPPORT, TRACKING_1001, mail, replies_to};
use crate::helpers::{Backend, Chat, Console, STAFF_PASSWORD, TestDb, backends, eventually, login_as, next_message};
use kituo::store::Store;
use serde_json::json;
use std::collections::HashSet;
use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One server process; killed (SIGKILL) when dropped.
struct Node {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_node(db_url: &str, demo: bool) -> Node {
    start_node_with(db_url, demo, &[]).await
}

/// A node with more `serve` flags (e.g. the email channel's).
async fn start_node_with(db_url: &str, demo: bool, extra: &[&str]) -> Node {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kituo"));
    cmd.args(["serve", "--listen", &addr.to_string(), "--database-url", db_url]).env("KITUO_LOG", "warn");
    if !demo {
        cmd.arg("--no-demo");
    }
    cmd.args(extra);
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("kituo starts");
    let node = Node { child, addr };
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return node;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node on {addr} did not start");
}

/// True when `KITUO_TEST_POSTGRES_URL` is set; otherwise says so on stderr, or fails the test
/// when `KITUO_E2E_REQUIRED=1` (CI), so a missing database cannot pass silently.
fn postgres_available() -> bool {
    if backends().contains(&Backend::Postgres) {
        return true;
    }
    if std::env::var("KITUO_E2E_REQUIRED").is_ok_and(|v| v == "1") {
        panic!("the multi-node tests need KITUO_TEST_POSTGRES_URL but KITUO_E2E_REQUIRED=1");
    }
    let _ = writeln!(std::io::stderr(), "NOTE: multi-node test needs PostgreSQL: SKIPPED");
    false
}

async fn add_agent(db_url: &str, email: &str) {
    let store = Store::connect(db_url).await.unwrap();
    let hash = kituo::auth::hash_password(STAFF_PASSWORD);
    store.create_agent(email, "Neema", kituo::domain::Role::Agent, &hash).await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn two_nodes_share_chat_queue_and_replies_live() {
    if !postgres_available() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let node1 = start_node(&db.url, true).await;
    let node2 = start_node(&db.url, false).await;
    add_agent(&db.url, "neema@cluster.test").await;

    // The agent works on node 2; the customer chats on node 1.
    let staff = login_as(node2.addr, "neema@cluster.test", STAFF_PASSWORD).await;
    staff.presence("away").await;
    let mut console = Console::connect(&staff).await;
    let mut chat = Chat::connect(node1.addr, None).await;
    let (ack, _) = chat.say("I want to talk to a human").await;
    let conversation = chat.conversation_id.clone();
    console
        .frame_where("the customer's message from the other node", |f| {
            f["type"] == "message"
                && f["message"]["conversation_id"] == conversation.as_str()
                && f["message"]["author"] == "customer"
        })
        .await;
    console
        .frame_where("the queued conversation from the other node", |f| {
            f["type"] == "conversation"
                && f["conversation"]["id"] == conversation.as_str()
                && f["conversation"]["status"] == "queued"
        })
        .await;
    assert!(ack["seq"].as_i64().unwrap() >= 1);

    // Typing crosses nodes too.
    chat.send(json!({"type": "typing"})).await;
    console
        .frame_where("the customer typing", |f| f["type"] == "typing" && f["conversation_id"] == conversation.as_str())
        .await;

    // The agent claims and replies on node 2; the customer on node 1 sees it live.
    assert_eq!(staff.act(&conversation, "claim").await.status, 200);
    let r =
        staff.post(&format!("/api/conversations/{conversation}/messages"), json!({"text": "Karibu! I am here."})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let m = next_message(&mut chat, "the agent's reply from the other node", |f| f["author"] == "agent").await;
    assert_eq!(m["text"], "Karibu! I am here.");

    // Node 1 dies; the customer reconnects to node 2 and finds everything, in order, once.
    let token = chat.visitor_token.clone();
    drop(chat);
    drop(node1);
    let mut chat = Chat::connect(node2.addr, Some(&token)).await;
    assert_eq!(chat.conversation_id, conversation);
    chat.send(json!({"type": "resume", "after_seq": 0})).await;
    let mut seqs = Vec::new();
    while let Some(f) = chat.maybe_frame(Duration::from_millis(600)).await {
        if f["type"] == "message" {
            seqs.push(f["seq"].as_i64().unwrap());
        }
    }
    let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, expected, "every message once, in order");
    assert!(seqs.len() >= 5, "customer, bot, queue notice, joined, agent: {seqs:?}");
    console.close().await;
}

/// Clients chat as fast as they can; the server is killed with SIGKILL and restarted. Every
/// message that was acknowledged is stored exactly once, and the widgets resume.
#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_message() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let node = start_node(&db.url, true).await;
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(Chat::connect(node.addr, None).await);
        }
        let (kill_tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let mut tasks = Vec::new();
        for mut chat in clients {
            let mut killed = kill_tx.subscribe();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..500 {
                    let id = format!("{}-{i}", chat.conversation_id);
                    let frame = json!({"type": "message", "text": format!("do you have kanga {i}?"), "client_msg_id": id});
                    if futures_util::SinkExt::send(&mut chat.ws, frame.to_string().into()).await.is_err() {
                        break;
                    }
                    // Wait for this message's ack (other frames are replies).
                    let got = loop {
                        tokio::select! {
                            _ = killed.recv() => break None,
                            f = tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(&mut chat.ws)) => match f {
                                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => {
                                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                                    if v["type"] == "ack" && v["client_msg_id"] == id.as_str() { break Some(()) }
                                }
                                Ok(Some(Ok(_))) => {}
                                _ => break None,
                            },
                        }
                    };
                    if got.is_none() {
                        break;
                    }
                    acked.push(id);
                }
                (chat.visitor_token.clone(), chat.conversation_id.clone(), acked)
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(node); // SIGKILL
        let _ = kill_tx.send(());
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let total: usize = results.iter().map(|r| r.2.len()).sum();
        assert!(total > 0, "{backend:?}: some messages were acknowledged before the kill");

        let node = start_node(&db.url, true).await;
        let store = Store::connect(&db.url).await.unwrap();
        for (token, conversation, acked) in &results {
            let stored = store.messages_after(conversation, 0, 100_000, true).await.unwrap();
            let mut seen = HashSet::new();
            let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (1..=stored.len() as i64).collect::<Vec<_>>(), "{backend:?}: no holes in seq");
            for id in acked {
                let m = store.message_by_client_id(conversation, id).await.unwrap();
                assert!(m.is_some(), "{backend:?}: acknowledged message {id} is stored");
                assert!(seen.insert(m.unwrap().id), "{backend:?}: stored once");
            }
            // The widget comes back and resumes from where it was; the conversation still works.
            let mut chat = Chat::connect(node.addr, Some(token)).await;
            assert_eq!(&chat.conversation_id, conversation, "{backend:?}: the token resumes the same conversation");
            let reply = chat.ask("thanks").await;
            assert!(!reply.is_empty());
        }
        store.close().await;
    }
}

/// How long a node may take to notice a dead lease holder: the lease runs out 15 s after the
/// last renewal, is retried every 5 s, and the mailbox is then read and answered.
const TAKEOVER_WAIT: Duration = Duration::from_secs(60);

/// Two nodes configured with the same mailbox and the same relay. Only the lease holder reads
/// the mailbox, so a mail is answered once. The holder is killed (SIGKILL) while a reply it
/// wrote waits in the outbox for a relay that refused it: the other node takes the mailbox over
/// (a mail sent after the kill is answered) and delivers the waiting reply. At the end every
/// mail is stored once and every reply reached the relay once.
#[tokio::test]
async fn a_killed_nodes_mailbox_and_waiting_reply_are_taken_over_once() {
    if !postgres_available() || !dovecot::available() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let dovecot = Dovecot::start().await;
    let smtp = SmtpReceiver::start().await;
    let (imap_url, smtp_url) = (dovecot.imap_url(), smtp.url());
    let email = [
        "--email-imap-url",
        &imap_url,
        "--email-smtp-url",
        &smtp_url,
        "--email-from",
        SUPPORT,
        "--email-poll-secs",
        "5",
    ];
    let store = Store::connect(&db.url).await.unwrap();
    let lease_holder = || async { store.lease_holder("email").await.unwrap() };

    let node_a = start_node_with(&db.url, true, &email).await;
    let holder_a = eventually("node A holds the mailbox lease", TAKEOVER_WAIT, lease_holder).await;
    let _node_b = start_node_with(&db.url, false, &email).await;

    // 1. Both nodes up: the mail is read by the lease holder and answered.
    dovecot.deliver(&mail(AMINA, "Order 1001", "t1@customer.example", "", "where is my order 1001?")).await;
    let r1 =
        eventually("the reply to t1", TAKEOVER_WAIT, || async { replies_to(&smtp, "t1@customer.example").pop() }).await;
    assert!(r1.text.contains(TRACKING_1001), "{}", r1.text);

    // 2. The relay refuses; a second mail is stored by A and its reply waits for a retry: refused
    //    once, due again in a moment, and not in a worker's hands (a claim would hold it for 60 s).
    smtp.set_refusing(true);
    dovecot.deliver(&mail(AMINA, "Order 1007", "t2@customer.example", "", "and where is my order 1007?")).await;
    let external = "email:t2@customer.example";
    let m2 = eventually("t2 stored", TAKEOVER_WAIT, || async { store.message_by_external_id(external).await.unwrap() })
        .await;
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&db.url).await.unwrap();
    eventually("the reply to t2 refused and waiting for its retry", TAKEOVER_WAIT, || async {
        let rows: Vec<(String, i64, Option<String>, i64)> = sqlx::query_as(
            "select status, attempts, last_error, next_attempt_at from outbox where conversation_id = $1",
        )
        .bind(&m2.conversation_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        let due_in = |at: i64| at - kituo::domain::now_ms();
        let waiting = |r: &(String, i64, Option<String>, i64)| {
            r.0 == "pending" && r.1 >= 1 && r.2.is_some() && (500..30_000).contains(&due_in(r.3))
        };
        (!rows.is_empty() && rows.iter().all(waiting)).then_some(())
    })
    .await;
    assert!(smtp.refused() >= 1);
    assert_eq!(lease_holder().await.as_ref(), Some(&holder_a), "A kept the mailbox while it was alive");

    // 3. A dies; the relay comes back; a third mail arrives. B takes the mailbox over, answers
    //    the new mail and delivers the reply A left waiting.
    drop(node_a);
    smtp.set_refusing(false);
    dovecot.deliver(&mail(AMINA, "Order 1001 again", "t3@customer.example", "", "where is my order 1001?")).await;
    let holder_b = eventually("node B takes the mailbox lease over", TAKEOVER_WAIT, || async {
        lease_holder().await.filter(|h| *h != holder_a)
    })
    .await;
    for id in ["t2@customer.example", "t3@customer.example"] {
        eventually(&format!("the reply to {id}"), TAKEOVER_WAIT, || async { replies_to(&smtp, id).pop() }).await;
    }
    eventually("every delivery marked sent", TAKEOVER_WAIT, || async {
        (store.outbox_backlog().await.unwrap() == (0, 0)).then_some(())
    })
    .await;
    eventually("every mail marked seen", TAKEOVER_WAIT, || async {
        dovecot.search("INBOX", "UNSEEN").await.is_empty().then_some(())
    })
    .await;

    // Nothing lost, nothing twice.
    let mut reply_ids = HashSet::new();
    for id in ["t1@customer.example", "t2@customer.example", "t3@customer.example"] {
        let replies = replies_to(&smtp, id);
        assert_eq!(replies.len(), 1, "{id} answered exactly once: {replies:?}");
        assert!(reply_ids.insert(replies[0].message_id.clone()), "one Message-ID per reply: {replies:?}");
        let stored = store.message_by_external_id(&format!("email:{id}")).await.unwrap();
        assert!(stored.is_some(), "{id} is stored");
    }
    assert_eq!(smtp.messages().len(), 3, "no other mail reached the relay");
    let count = |sql: &'static str| {
        let pool = &pool;
        async move { sqlx::query_as::<_, (i64,)>(sql).fetch_one(pool).await.unwrap().0 }
    };
    assert_eq!(count("select count(*) from conversations where channel = 'email'").await, 3, "one conversation a mail");
    assert_eq!(
        count("select count(*) from messages where external_id like 'email:%'").await,
        3,
        "each mail stored once"
    );
    assert_eq!(count("select count(*) from outbox where status = 'sent'").await, 3, "one reply a mail, each sent");
    assert_eq!(lease_holder().await, Some(holder_b), "B keeps the mailbox");
    pool.close().await;
    store.close().await;
}

/// The notifications on `kituo_events` that arrive within `wait`, as JSON.
async fn notifications(listener: &mut sqlx::postgres::PgListener, wait: Duration) -> Vec<serde_json::Value> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, listener.recv()).await {
        seen.push(serde_json::from_str(n.payload()).expect("cluster notifications are JSON"));
    }
    seen
}

fn kinds(seen: &[serde_json::Value]) -> HashSet<String> {
    seen.iter().map(|n| n["k"].as_str().unwrap_or("?").to_string()).collect()
}

/// Reads notifications until some arrive that `pred` accepts; panics after 10 s.
async fn until_notified(
    listener: &mut sqlx::postgres::PgListener,
    what: &str,
    pred: impl Fn(&[serde_json::Value]) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !pred(&notifications(listener, Duration::from_millis(200)).await) {
        assert!(std::time::Instant::now() < deadline, "no notification: {what}");
    }
}

/// The customer keeps writing until the node announces nothing but hellos; panics after 15 s.
async fn until_alone(chat: &mut Chat, listener: &mut sqlx::postgres::PgListener, what: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        chat.say("Do you sell umbrellas?").await;
        let seen = notifications(listener, Duration::from_millis(400)).await;
        if kinds(&seen) == HashSet::from(["hello".to_string()]) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: {seen:?}");
    }
}

/// A node alone announces no events, only its hellos; a peer's hello makes it welcome that peer
/// (it left events out) and announce again; when the peer falls silent, it stops. A real second
/// node joining the then lone node sees its events live. The waits poll, so a loaded machine
/// only makes the test slower.
#[tokio::test]
async fn a_lone_node_announces_nothing_until_a_peer_says_hello() {
    if !postgres_available() {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen("kituo_events").await.unwrap();
    let heartbeat = ["--cluster-heartbeat-ms", "200"];
    let node1 = start_node_with(&db.url, true, &heartbeat).await;
    let peer = sqlx::PgPool::connect(&db.url).await.unwrap();
    let hello = "select pg_notify('kituo_events', '{\"k\":\"hello\",\"node\":\"test-peer\"}')";
    let mut chat = Chat::connect(node1.addr, None).await;
    // Until the node knows it is alone (two heartbeats after it starts listening), it announces
    // its events; then only its hellos.
    until_alone(&mut chat, &mut listener, "a lone node kept announcing").await;

    // A peer appears: the node left events out, so it welcomes the peer.
    sqlx::query(hello).execute(&peer).await.unwrap();
    until_notified(&mut listener, "the new peer's welcome", |seen| {
        seen.iter().any(|n| n["k"] == "welcome" && n["to"] == "test-peer")
    })
    .await;

    // While the peer keeps saying hello, the node announces its events again.
    let keep_alive = {
        let peer = peer.clone();
        tokio::spawn(async move {
            loop {
                let _ = sqlx::query(hello).execute(&peer).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    chat.say("Do you sell raincoats?").await;
    until_notified(&mut listener, "the customer's message, with a peer", |seen| kinds(seen).contains("message")).await;

    // The peer falls silent: after three heartbeats the node is alone again.
    keep_alive.abort();
    until_alone(&mut chat, &mut listener, "a node kept announcing to a silent peer").await;

    // A real node joins the lone one: once welcomed, an agent on it sees the first node's
    // customer live.
    let node2 = start_node_with(&db.url, false, &heartbeat).await;
    until_notified(&mut listener, "the new node's welcome", |seen| {
        seen.iter().any(|n| n["k"] == "welcome" && n["to"] != "test-peer")
    })
    .await;
    add_agent(&db.url, "neema@cluster.test").await;
    let staff = login_as(node2.addr, "neema@cluster.test", STAFF_PASSWORD).await;
    let mut console = Console::connect(&staff).await;
    let mut other = Chat::connect(node1.addr, None).await;
    other.say("I want to talk to a human").await;
    let conversation = other.conversation_id.clone();
    console
        .frame_where("the customer's message from the node that was alone", |f| {
            f["type"] == "message"
                && f["message"]["conversation_id"] == conversation.as_str()
                && f["message"]["author"] == "customer"
        })
        .await;
    console.close().await;
    drop(node2);
    peer.close().await;
}
