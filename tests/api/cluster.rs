//! Real `kituo serve` processes: two nodes on one PostgreSQL sharing everything live, and a
//! node killed with SIGKILL under load losing nothing it acknowledged.

use crate::helpers::{Backend, Chat, Console, STAFF_PASSWORD, TestDb, backends, login_as, next_message};
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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kituo"));
    cmd.args(["serve", "--listen", &addr.to_string(), "--database-url", db_url]).env("KITUO_LOG", "warn");
    if !demo {
        cmd.arg("--no-demo");
    }
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

async fn add_agent(db_url: &str, email: &str) {
    let store = Store::connect(db_url).await.unwrap();
    let hash = kituo::auth::hash_password(STAFF_PASSWORD);
    store.create_agent(email, "Neema", kituo::domain::Role::Agent, &hash).await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn two_nodes_share_chat_queue_and_replies_live() {
    if !backends().contains(&Backend::Postgres) {
        let _ = writeln!(std::io::stderr(), "NOTE: multi-node test needs PostgreSQL: SKIPPED");
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
