//! The human agent queue over the staff API and the widget: handoff, ownership transitions,
//! replies and private notes, concurrent claims, auto-assignment (capacity, least loaded, round
//! robin, priority, teams), the offline grace period, business hours, reports and the 360° view.

use crate::helpers::{
    Chat, Staff, TestApp, TestDb, admin, agent, backends, eventually, exec_sql, hand_off, next_message, poll_until,
    queued_customer, serve_args, spawn_app, spawn_on, wait_conversation,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn text(v: &Value) -> &str {
    v["text"].as_str().unwrap_or("")
}

/// Ids of `GET /api/conversations?…`, in order.
async fn list(staff: &Staff, query: &str) -> Vec<Value> {
    staff.get(&format!("/api/conversations?{query}")).await.ok()["conversations"].as_array().unwrap().clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

/// Sends a customer message without waiting for a bot reply; returns the ack.
async fn send_customer(chat: &mut Chat, text: &str) -> Value {
    let id = chat.next_id();
    chat.send(json!({"type": "message", "text": text, "client_msg_id": id})).await;
    loop {
        let f = chat.frame().await;
        if f["type"] == "ack" {
            assert_eq!(f["client_msg_id"], id.as_str());
            return f;
        }
        assert!(f["type"] == "message", "unexpected frame {f}");
    }
}

/// Waits until the conversation is assigned to `who`.
async fn wait_assigned(staff: &Staff, id: &str, who: &Staff) -> Value {
    wait_conversation(staff, id, &format!("conversation assigned to {}", who.name), |c| {
        c["status"] == "assigned" && c["assignee"]["id"] == who.id.as_str()
    })
    .await
}

async fn set_capacity(admin: &Staff, who: &Staff, capacity: i64) {
    let r = admin.patch(&format!("/api/admin/agents/{}", who.id), json!({"capacity": capacity})).await;
    assert_eq!(r.ok()["agent"]["capacity"], capacity);
}

#[tokio::test]
async fn a_handoff_queues_the_conversation_with_a_summary_and_a_place_in_the_queue() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let mut chat = app.chat().await;
        let (_, reply, notice) = hand_off(&mut chat).await;
        assert!(reply.to_lowercase().contains("person"), "{backend:?}: handoff reply: {reply}");
        assert!(notice.contains("number 1 in the queue"), "{backend:?}: queue notice: {notice}");

        let queue = list(&neema, "status=queued").await;
        assert_eq!(ids(&queue), vec![chat.conversation_id.clone()], "{backend:?}");
        let c = &queue[0];
        assert_eq!(c["status"], "queued");
        assert_eq!(c["channel"], "web");
        assert_eq!(c["queue_position"], 1, "{backend:?}: {c}");
        assert!(c["assignee"].is_null());
        let summary = c["summary"].as_str().unwrap_or("");
        assert!(
            summary.contains("Asked for a person") && summary.contains("talk to a human"),
            "{backend:?}: {summary}"
        );
        for field in ["id", "contact", "updated_at", "created_at"] {
            assert!(!c[field].is_null(), "{backend:?}: list item lacks {field}: {c}");
        }

        let detail = neema.conversation(&chat.conversation_id).await;
        let handoff = &detail["handoff"];
        assert_eq!(handoff["intent"], "human_handoff", "{backend:?}: {handoff}");
        assert_eq!(handoff["reason"], "asked", "{backend:?}: {handoff}");
        assert_eq!(handoff["summary"].as_str(), Some(summary));
        let authors: Vec<&str> =
            detail["messages"].as_array().unwrap().iter().map(|m| m["author"].as_str().unwrap()).collect();
        assert_eq!(authors, ["customer", "bot", "system"], "{backend:?}");

        // A second customer is number 2; the lists agree.
        let mut second = app.chat().await;
        let (_, _, notice) = hand_off(&mut second).await;
        assert!(notice.contains("number 2 in the queue"), "{backend:?}: {notice}");
        let queue = list(&neema, "status=queued").await;
        assert_eq!(ids(&queue), vec![chat.conversation_id.clone(), second.conversation_id.clone()], "{backend:?}");
        assert_eq!(queue[1]["queue_position"], 2);
        // A bot conversation is not in the queue, but in the bot list.
        let mut bot_only = app.chat().await;
        bot_only.ask("Do you have the solar lantern in stock?").await;
        assert_eq!(ids(&list(&neema, "status=bot").await), vec![bot_only.conversation_id.clone()], "{backend:?}");
        assert_eq!(list(&neema, "status=open").await.len(), 3, "{backend:?}");
        assert_eq!(neema.get("/api/conversations?status=nonsense").await.status, 422);
    }
}

#[tokio::test]
async fn claim_reply_private_note_silence_resolve_reopen_and_handback() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let mut chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();

        // Claim: assigned to me, the customer is told who joined.
        let r = neema.act(&id, "claim").await;
        let c = r.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["assignee"]["id"].as_str()), (Some("assigned"), Some(neema.id.as_str())));
        assert_eq!(c["assignee"]["name"], "Neema");
        let joined = next_message(&mut chat, "joined", |f| f["author"] == "system").await;
        assert_eq!(text(&joined), "Neema joined the conversation.", "{backend:?}");
        assert_eq!(ids(&list(&neema, "assignee=me").await), vec![id.clone()], "{backend:?}: my list");
        assert!(list(&neema, "status=queued").await.is_empty(), "{backend:?}: the queue is empty");

        // A reply reaches the widget as the agent.
        let r = neema
            .post(&format!("/api/conversations/{id}/messages"), json!({"text": "Hi, I'm Neema. How can I help?"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.json["message"]["private"], false);
        let got = chat.frame().await;
        assert_eq!(
            (got["type"].as_str(), got["author"].as_str()),
            (Some("message"), Some("agent")),
            "{backend:?}: {got}"
        );
        assert_eq!(text(&got), "Hi, I'm Neema. How can I help?");
        assert_eq!(got["author_name"], "Neema");

        // A private note never reaches the widget: the next frame it gets is the next reply.
        let note_text = "Customer sounded upset on the phone yesterday";
        let note =
            neema.post(&format!("/api/conversations/{id}/messages"), json!({"text": note_text, "private": true})).await;
        assert_eq!(note.status, 201, "{}", note.text);
        assert_eq!(note.json["message"]["private"], true);
        let note_seq = note.json["message"]["seq"].as_i64().unwrap();
        let r = neema
            .post(&format!("/api/conversations/{id}/messages"), json!({"text": "Let me check that for you."}))
            .await;
        let reply_seq = r.ok()["message"]["seq"].as_i64().unwrap();
        assert_eq!(reply_seq, note_seq + 1);
        let got = chat.frame().await;
        assert_eq!(text(&got), "Let me check that for you.", "{backend:?}: the widget got {got} before the reply");
        // Nor on resume from the start.
        chat.send(json!({"type": "resume", "after_seq": 0})).await;
        let mut seqs = Vec::new();
        loop {
            let f = chat.frame().await;
            assert_eq!(f["type"], "message", "{f}");
            assert!(!text(&f).contains("upset"), "{backend:?}: the private note reached the widget on resume: {f}");
            seqs.push(f["seq"].as_i64().unwrap());
            if f["seq"].as_i64() == Some(reply_seq) {
                break;
            }
        }
        assert!(!seqs.contains(&note_seq) && seqs.windows(2).all(|w| w[0] < w[1]), "{backend:?}: {seqs:?}");
        let detail = neema.conversation(&id).await;
        let stored = detail["messages"].as_array().unwrap().iter().find(|m| m["seq"] == note_seq).cloned().unwrap();
        assert_eq!(
            (stored["private"].as_bool(), text(&stored)),
            (Some(true), note_text),
            "{backend:?}: the console sees it"
        );

        // Once a person replied, the bot stays quiet, even on questions it knows.
        let ack = send_customer(&mut chat, "Do you have the solar lantern in stock?").await;
        let ack_seq = ack["seq"].as_i64().unwrap();
        let detail = neema.conversation(&id).await;
        let after: Vec<&Value> =
            detail["messages"].as_array().unwrap().iter().filter(|m| m["seq"].as_i64() > Some(ack_seq)).collect();
        assert!(after.is_empty(), "{backend:?}: the bot spoke in an agent's conversation: {after:?}");
        assert_eq!(detail["conversation"]["status"], "assigned");
        assert!(
            detail["conversation"]["unread"].as_i64() > Some(0),
            "{backend:?}: unread count: {}",
            detail["conversation"]
        );
        let r = neema.act(&id, "read").await;
        assert_eq!(r.ok()["conversation"]["unread"], 0, "{backend:?}");
        neema.post(&format!("/api/conversations/{id}/messages"), json!({"text": "We have 17."})).await.ok();
        let f = next_message(&mut chat, "the agent's answer", |f| f["author"] != "customer").await;
        assert_eq!((f["author"].as_str(), text(&f)), (Some("agent"), "We have 17."), "{backend:?}: {f}");

        // Resolve; a second resolve and a claim are refused.
        assert_eq!(neema.act(&id, "resolve").await.ok()["conversation"]["status"], "resolved");
        let again = neema.act(&id, "resolve").await;
        assert_eq!((again.status, again.code()), (409, "resolved"), "{backend:?}: {}", again.text);
        let claim = neema.act(&id, "claim").await;
        assert_eq!((claim.status, claim.code()), (409, "resolved"), "{backend:?}: {}", claim.text);

        // The customer writes again: back to the bot, which answers.
        let answer = chat.ask("Do you have the solar lantern in stock?").await;
        assert!(answer.contains("Solar lantern") && answer.contains("17"), "{backend:?}: {answer}");
        let c = neema.conversation(&id).await["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["assignee"].is_null()), (Some("bot"), true), "{backend:?}: {c}");

        // Reopen takes a resolved conversation; it is refused on an open one.
        let reopen = neema.act(&id, "reopen").await;
        assert_eq!((reopen.status, reopen.code()), (409, "not_resolved"), "{backend:?}: {}", reopen.text);
        neema.act(&id, "resolve").await.ok();
        let c = neema.act(&id, "reopen").await.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["assignee"]["id"].as_str()), (Some("assigned"), Some(neema.id.as_str())));
        neema.post(&format!("/api/conversations/{id}/messages"), json!({"text": "Anything else?"})).await.ok();
        next_message(&mut chat, "the agent's question", |f| text(f) == "Anything else?").await;

        // Hand back to the bot: it answers again.
        let c = neema.act(&id, "handback").await.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["assignee"].is_null()), (Some("bot"), true), "{backend:?}: {c}");
        let answer = chat.ask("is the kikoi available?").await;
        assert!(answer.contains("10 December 2026"), "{backend:?}: the bot answers after a handback: {answer}");
        assert_eq!(neema.act("no-such-conversation", "claim").await.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_claims_have_exactly_one_winner() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut agents = Vec::new();
        for i in 0..8 {
            agents.push(agent(&app, &format!("Claimer {i}")).await);
        }
        let chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(agents.len()));
        let tasks: Vec<_> = agents
            .iter()
            .cloned()
            .map(|a| {
                let (id, barrier) = (id.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = a.act(&id, "claim").await;
                    (a.id.clone(), r)
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let winners: Vec<&(String, crate::helpers::Resp)> = results.iter().filter(|(_, r)| r.status == 200).collect();
        assert_eq!(
            winners.len(),
            1,
            "{backend:?}: {:?}",
            results.iter().map(|(_, r)| (r.status, r.code())).collect::<Vec<_>>()
        );
        for (_, r) in results.iter().filter(|(_, r)| r.status != 200) {
            assert_eq!((r.status, r.code()), (409, "already_assigned"), "{backend:?}: {}", r.text);
        }
        let winner = &winners[0].0;
        let detail = agents[0].conversation(&id).await;
        assert_eq!(detail["conversation"]["assignee"]["id"], winner.as_str(), "{backend:?}");
        let joined = detail["messages"].as_array().unwrap().iter().filter(|m| text(m).contains("joined")).count();
        assert_eq!(joined, 1, "{backend:?}: one join message");
        // Loads agree with the database.
        let list = agents[0].get("/api/agents").await;
        for a in list.ok()["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"].as_str().unwrap().starts_with("Claimer"))
        {
            let want = i64::from(a["id"] == winner.as_str());
            assert_eq!(a["load"].as_i64(), Some(want), "{backend:?}: {a}");
        }
    }
}

#[tokio::test]
async fn auto_assignment_respects_capacity_and_offers_the_oldest_when_an_agent_frees_up() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        let neema = agent(&app, "Neema").await;
        let first = queued_customer(&app).await;
        let mut second = queued_customer(&app).await;
        let (a, b) = (first.conversation_id.clone(), second.conversation_id.clone());
        set_capacity(&boss, &neema, 1).await;
        neema.presence("online").await;

        wait_assigned(&neema, &a, &neema).await;
        // At capacity: the second stays queued and becomes first in line.
        let c = neema.conversation(&b).await["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["queue_position"].as_i64()), (Some("queued"), Some(1)), "{backend:?}: {c}");
        let me = neema.get("/api/me").await.ok()["agent"].clone();
        assert_eq!(
            (me["load"].as_i64(), me["capacity"].as_i64(), me["presence"].as_str()),
            (Some(1), Some(1), Some("online"))
        );

        // Freed by resolving: the waiting conversation is offered at once.
        let resolved_at = Instant::now();
        neema.act(&a, "resolve").await.ok();
        let prompt = poll_until(Duration::from_secs(2), || async {
            (neema.conversation(&b).await["conversation"]["assignee"]["id"] == neema.id.as_str()).then_some(())
        })
        .await;
        if prompt.is_none() {
            let late = poll_until(Duration::from_secs(10), || async {
                (neema.conversation(&b).await["conversation"]["assignee"]["id"] == neema.id.as_str()).then_some(())
            })
            .await;
            panic!(
                "{backend:?}: after the agent resolved a conversation the waiting one was {} (2 s expected): \
                 resolving does not wake the dispatcher, only its 5 s sweep finds the freed capacity",
                if late.is_some() {
                    format!("assigned only after {:?}", resolved_at.elapsed())
                } else {
                    "never assigned".into()
                }
            );
        }
        let joined =
            next_message(&mut second, "joined", |f| f["author"] == "system" && text(f).contains("joined")).await;
        assert_eq!(text(&joined), "Neema joined the conversation.", "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capacity_holds_when_many_handoffs_arrive_at_once() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        let mut crew = Vec::new();
        for name in ["Neema", "Juma", "Zawadi"] {
            let a = agent(&app, name).await;
            set_capacity(&boss, &a, 1).await;
            crew.push(a);
        }
        crew[0].presence("online").await;
        crew[1].presence("online").await;
        let addr = app.addr;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(6));
        let customers: Vec<_> = (0..6)
            .map(|_| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    let mut chat = Chat::connect(addr, None).await;
                    barrier.wait().await;
                    hand_off(&mut chat).await;
                    chat
                })
            })
            .collect();
        let mut chats = Vec::new();
        for c in customers {
            chats.push(c.await.unwrap());
        }
        let assigned = |n: usize| {
            let boss = boss.clone();
            async move {
                eventually(&format!("{n} assigned conversations"), Duration::from_secs(10), || async {
                    (list(&boss, "status=assigned").await.len() >= n).then_some(())
                })
                .await
            }
        };
        assigned(2).await;
        // A third agent coming online is a sync point: the dispatcher ran again after it.
        crew[2].presence("online").await;
        assigned(3).await;
        assert_eq!(list(&boss, "status=assigned").await.len(), 3, "{backend:?}: more than capacity assigned");
        assert_eq!(list(&boss, "status=queued").await.len(), 3, "{backend:?}");
        let agents = boss.get("/api/agents").await.ok()["agents"].clone();
        for a in &crew {
            let row = agents.as_array().unwrap().iter().find(|x| x["id"] == a.id.as_str()).unwrap();
            assert_eq!(row["load"], 1, "{backend:?}: {row}");
        }
        drop(chats);
    }
}

#[tokio::test]
async fn auto_assignment_prefers_the_least_loaded_agent_then_round_robin() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let juma = agent(&app, "Juma").await;
        neema.presence("online").await;
        juma.presence("online").await;
        let who_has = |id: String| {
            let neema = neema.clone();
            async move {
                eventually("auto-assignment", Duration::from_secs(10), || async {
                    let c = neema.conversation(&id).await["conversation"].clone();
                    (c["status"] == "assigned").then(|| c["assignee"]["id"].as_str().unwrap().to_string())
                })
                .await
            }
        };
        let one = queued_customer(&app).await;
        let first = who_has(one.conversation_id.clone()).await;
        let two = queued_customer(&app).await;
        let second = who_has(two.conversation_id.clone()).await;
        assert_ne!(first, second, "{backend:?}: both went to the same agent while the other had none");
        let agents = neema.get("/api/agents").await.ok()["agents"].clone();
        for a in
            agents.as_array().unwrap().iter().filter(|a| a["id"] == neema.id.as_str() || a["id"] == juma.id.as_str())
        {
            assert_eq!(a["load"], 1, "{backend:?}: {a}");
        }

        // Both free again: the tie goes to the one assigned longest ago.
        for (id, who) in [(&one.conversation_id, &first), (&two.conversation_id, &second)] {
            let owner = if *who == neema.id { &neema } else { &juma };
            owner.act(id, "resolve").await.ok();
        }
        let three = queued_customer(&app).await;
        let third = who_has(three.conversation_id.clone()).await;
        assert_eq!(third, first, "{backend:?}: round robin on equal load");
    }
}

#[tokio::test]
async fn the_queue_is_ordered_by_priority_then_oldest_first() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        let neema = agent(&app, "Neema").await;
        let mut queued = Vec::new();
        for _ in 0..3 {
            queued.push(queued_customer(&app).await.conversation_id);
            tokio::time::sleep(Duration::from_millis(3)).await; // distinct queued_at
        }
        let q = list(&neema, "status=queued").await;
        assert_eq!(ids(&q), queued, "{backend:?}: oldest first");
        let positions: Vec<i64> = q.iter().map(|c| c["queue_position"].as_i64().unwrap()).collect();
        assert_eq!(positions, [1, 2, 3], "{backend:?}");

        // Nothing in the API sets a priority yet: set it in the database.
        exec_sql(&app, "update conversations set priority = 5 where conversation_id = $1", &[&queued[2]]).await;
        let q = list(&neema, "status=queued").await;
        assert_eq!(ids(&q), [queued[2].clone(), queued[0].clone(), queued[1].clone()], "{backend:?}: priority first");
        let positions: Vec<i64> = q.iter().map(|c| c["queue_position"].as_i64().unwrap()).collect();
        assert_eq!(positions, [1, 2, 3], "{backend:?}");

        // The dispatcher offers in the same order.
        set_capacity(&boss, &neema, 1).await;
        neema.presence("online").await;
        wait_assigned(&neema, &queued[2], &neema).await;
        assert_eq!(ids(&list(&neema, "status=queued").await), [queued[0].clone(), queued[1].clone()], "{backend:?}");
    }
}

/// Fails the invoice check three times: the conversation is queued for billing.
async fn failed_invoice_checks(chat: &mut Chat) {
    for attempt in 0..3 {
        let ask = chat.ask("what's the status of invoice INV-2026-0017?").await;
        assert!(ask.to_lowercase().contains("email"), "{ask}");
        chat.ask(&format!("guess{attempt}@example.com")).await;
    }
}

#[tokio::test]
async fn a_team_conversation_goes_only_to_a_member_of_that_team() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        let outsider = agent(&app, "Outsider").await;
        let biller = agent(&app, "Biller").await;
        let r = boss.post("/api/admin/teams/billing/members", json!({"agent_id": biller.id})).await;
        assert_eq!(r.ok()["team"], "billing");
        let teams = biller.get("/api/teams").await.ok()["teams"].clone();
        assert!(teams.as_array().unwrap().iter().any(|t| t["name"] == "billing" && t["members"] == 1), "{teams}");
        assert_eq!(biller.get("/api/me").await.ok()["agent"]["teams"], json!(["billing"]));
        outsider.presence("online").await;

        // Failed invoice checks hand off to the invoice intent's team.
        let mut invoice = app.chat().await;
        failed_invoice_checks(&mut invoice).await;
        let detail = boss.conversation(&invoice.conversation_id).await;
        assert_eq!(detail["conversation"]["team"], "billing", "{backend:?}: {}", detail["conversation"]);
        assert_eq!(detail["handoff"]["intent"], "invoice_status", "{backend:?}: {}", detail["handoff"]);
        assert_eq!(detail["handoff"]["reason"], "verification_failed");

        // A conversation for anyone, queued after it, goes to the outsider: the dispatcher has
        // looked at the billing one and left it.
        let anyone = queued_customer(&app).await;
        wait_assigned(&boss, &anyone.conversation_id, &outsider).await;
        let c = boss.conversation(&invoice.conversation_id).await["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["assignee"].is_null()), (Some("queued"), true), "{backend:?}: {c}");

        biller.presence("online").await;
        wait_assigned(&boss, &invoice.conversation_id, &biller).await;
    }
}

#[tokio::test]
async fn transfer_to_an_agent_or_a_team_and_unassign_to_the_queue() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Boss").await;
        let neema = agent(&app, "Neema").await;
        let juma = agent(&app, "Juma").await;
        let mut chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();
        neema.act(&id, "claim").await.ok();
        next_message(&mut chat, "Neema joined", |f| text(f) == "Neema joined the conversation.").await;

        // To another agent.
        let assign = format!("/api/conversations/{id}/assign");
        let c = neema.post(&assign, json!({"agent_id": juma.id})).await.ok()["conversation"].clone();
        assert_eq!(c["assignee"]["id"], juma.id.as_str(), "{backend:?}: {c}");
        next_message(&mut chat, "Juma joined", |f| f["author"] == "system").await;
        assert_eq!(ids(&list(&juma, "assignee=me").await), vec![id.clone()]);
        assert!(list(&neema, "assignee=me").await.is_empty());
        for bad in [
            json!({"agent_id": "nope"}),
            json!({"team": "nope"}),
            json!({}),
            json!({"agent_id": juma.id, "team": "billing"}),
        ] {
            let r = neema.post(&assign, bad.clone()).await;
            assert_eq!(r.status, 422, "{backend:?}: {bad}: {}", r.text);
        }

        // Unassign: back in the queue, first in line.
        let c = juma.act(&id, "unassign").await.ok()["conversation"].clone();
        assert_eq!(
            (c["status"].as_str(), c["assignee"].is_null(), c["queue_position"].as_i64()),
            (Some("queued"), true, Some(1))
        );
        let again = juma.act(&id, "unassign").await;
        assert_eq!((again.status, again.code()), (409, "not_assigned"), "{backend:?}: {}", again.text);

        // To a team: only its members get it.
        boss.post("/api/admin/teams/billing/members", json!({"agent_id": neema.id})).await.ok();
        let c = juma.post(&assign, json!({"team": "billing"})).await.ok()["conversation"].clone();
        assert_eq!((c["status"].as_str(), c["team"].as_str()), (Some("queued"), Some("billing")), "{backend:?}: {c}");
        juma.presence("online").await;
        let other = queued_customer(&app).await;
        wait_assigned(&juma, &other.conversation_id, &juma).await;
        assert_eq!(
            juma.conversation(&id).await["conversation"]["status"],
            "queued",
            "{backend:?}: a non-member got it"
        );
        neema.presence("online").await;
        wait_assigned(&juma, &id, &neema).await;
    }
}

/// An app whose agents' conversations return to the queue 1 s after they go offline.
async fn spawn_with_short_grace(backend: crate::helpers::Backend) -> TestApp {
    spawn_on(TestDb::new(backend).await, |url| {
        let mut args = serve_args(url);
        args.offline_grace_secs = 1;
        args
    })
    .await
}

#[tokio::test]
async fn an_offline_agents_conversations_return_to_the_queue_after_the_grace_period() {
    for backend in backends() {
        let app = spawn_with_short_grace(backend).await;
        let neema = agent(&app, "Neema").await;
        let boss = admin(&app, "Boss").await;
        let console = crate::helpers::Console::connect(&neema).await;
        let chat = queued_customer(&app).await;
        let id = chat.conversation_id.clone();
        wait_assigned(&boss, &id, &neema).await;

        console.close().await;
        eventually("the agent to be offline", Duration::from_secs(5), || async {
            let agents = boss.get("/api/agents").await.ok()["agents"].clone();
            agents
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"] == neema.id.as_str() && a["presence"] == "offline")
                .then_some(())
        })
        .await;
        let offline_at = Instant::now();
        assert_eq!(
            boss.conversation(&id).await["conversation"]["status"],
            "assigned",
            "{backend:?}: requeued before the grace"
        );
        let c = eventually("the conversation back in the queue", Duration::from_secs(15), || async {
            let c = boss.conversation(&id).await["conversation"].clone();
            (c["status"] == "queued").then_some(c)
        })
        .await;
        assert!(offline_at.elapsed() >= Duration::from_millis(900), "{backend:?}: requeued within the grace");
        assert!(c["assignee"].is_null(), "{backend:?}: {c}");
        assert_eq!(c["queue_position"], 1);
    }
}

/// Storage does not matter here: the dispatcher's timing does.
#[tokio::test]
async fn offline_requeue_is_not_starved_by_a_busy_dispatcher() {
    let app = spawn_with_short_grace(crate::helpers::Backend::Sqlite).await;
    let neema = agent(&app, "Neema").await;
    let boss = admin(&app, "Boss").await;
    neema.presence("online").await;
    let chat = queued_customer(&app).await;
    wait_assigned(&boss, &chat.conversation_id, &neema).await;
    neema.presence("offline").await;
    // Other work keeps waking the dispatcher (here: capacity edits, as busy queues do).
    let started = Instant::now();
    let mut capacity = 2;
    let requeued = poll_until(Duration::from_secs(13), || {
        capacity = if capacity == 2 { 3 } else { 2 };
        let (boss, id, agent_id, capacity) = (boss.clone(), chat.conversation_id.clone(), boss.id.clone(), capacity);
        async move {
            boss.patch(&format!("/api/admin/agents/{agent_id}"), json!({"capacity": capacity})).await.ok();
            tokio::time::sleep(Duration::from_millis(400)).await;
            (boss.conversation(&id).await["conversation"]["status"] == "queued").then_some(())
        }
    })
    .await;
    assert!(
        requeued.is_some(),
        "an offline agent's conversation was not requeued within {:?} (grace 1 s, sweep 5 s) while the dispatcher \
         was woken every ~0.4 s: every wake-up restarts the sweep timer in hub::dispatch::run_dispatcher",
        started.elapsed()
    );
}

#[tokio::test]
async fn outside_business_hours_the_customer_is_told_when_the_team_is_back() {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    for backend in backends() {
        // A one-minute window twelve hours from now: closed now.
        let at = time::OffsetDateTime::now_utc() + time::Duration::hours(12);
        let day = at.weekday().number_days_from_monday() as usize;
        let (h, m) = (at.hour() as u16, at.minute() as u16);
        let (end_h, end_m) = ((h * 60 + m + 1) / 60, (h * 60 + m + 1) % 60);
        let spec = format!("{} {h:02}:{m:02}-{end_h:02}:{end_m:02}", DAYS[day]);
        let app = spawn_on(TestDb::new(backend).await, |url| {
            let mut args = serve_args(url);
            args.business_hours = Some(spec.clone());
            args.utc_offset = "+00:00".into();
            args
        })
        .await;
        let neema = agent(&app, "Neema").await;
        let mut chat = app.chat().await;
        let (_, _, notice) = hand_off(&mut chat).await;
        let back = format!("back on {} at {h:02}:{m:02}", NAMES[day]);
        assert!(notice.contains(&back), "{backend:?}: hours {spec:?}: expected {back:?} in {notice:?}");
        assert!(notice.contains("email"), "{backend:?}: invites the customer to leave an email: {notice}");
        assert!(!notice.contains("in the queue"), "{backend:?}: {notice}");
        // Still queued for whoever comes in.
        assert_eq!(ids(&list(&neema, "status=queued").await), vec![chat.conversation_id.clone()], "{backend:?}");
    }
}

#[tokio::test]
async fn reports_give_conversations_containment_and_response_times_per_channel_and_day() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let mut handed = queued_customer(&app).await;
        let id = handed.conversation_id.clone();
        neema.act(&id, "claim").await.ok();
        neema.post(&format!("/api/conversations/{id}/messages"), json!({"text": "Hello!"})).await.ok();
        next_message(&mut handed, "the reply", |f| f["author"] == "agent").await;
        neema.act(&id, "resolve").await.ok();
        let mut bot_only = app.chat().await;
        bot_only.ask("Do you have the solar lantern in stock?").await;
        // A visitor who never wrote is not a conversation.
        let _idle = app.chat().await;

        let days = neema.get("/api/reports").await.ok()["days"].clone();
        let today = &time::OffsetDateTime::now_utc().date().to_string();
        let row = days
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == today.as_str() && d["channel"] == "web")
            .unwrap_or_else(|| panic!("{backend:?}: no row for {today}/web in {days}"))
            .clone();
        assert_eq!(row["conversations"], 2, "{backend:?}: {row}");
        assert_eq!(row["bot_resolved"], 1, "{backend:?}: {row}");
        let rate = row["containment_rate"].as_f64().unwrap();
        assert!(rate > 0.0 && rate < 1.0 && (rate - 0.5).abs() < 1e-9, "{backend:?}: {row}");
        let frt = row["first_response_avg_s"].as_f64().unwrap_or_else(|| panic!("{backend:?}: {row}"));
        assert!((0.0..60.0).contains(&frt), "{backend:?}: {row}");
        assert!(row["resolution_avg_s"].as_f64().is_some_and(|s| s >= frt), "{backend:?}: {row}");
        assert_eq!(neema.get("/api/reports?days=1").await.ok()["days"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn the_contact_view_shows_proven_identities_orders_invoices_and_conversations() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let neema = agent(&app, "Neema").await;
        let mut chat = app.chat().await;
        chat.ask("Where is my order 1001?").await;
        let answer = chat.ask("amina.mwakilema@example.co.tz").await;
        assert!(answer.contains("EE482913057TZ"), "{backend:?}: {answer}");
        hand_off(&mut chat).await;

        let detail = neema.conversation(&chat.conversation_id).await;
        let summary = &detail["conversation"];
        assert_eq!(summary["contact"]["email"], "amina.mwakilema@example.co.tz", "{backend:?}: {summary}");
        let contact_id = summary["contact"]["id"].as_str().unwrap().to_string();
        assert_eq!(detail["handoff"]["verified_emails"], json!(["amina.mwakilema@example.co.tz"]), "{backend:?}");

        let view = neema.get(&format!("/api/contacts/{contact_id}")).await.ok().clone();
        assert_eq!(view["contact"]["id"], contact_id.as_str());
        let identities = view["identities"].as_array().unwrap();
        assert!(
            identities.iter().any(|i| i["kind"] == "email"
                && i["value"] == "amina.mwakilema@example.co.tz"
                && i["verification"] == "order_email"),
            "{backend:?}: {identities:?}"
        );
        let mut orders: Vec<&str> =
            view["orders"].as_array().unwrap().iter().map(|o| o["order_number"].as_str().unwrap()).collect();
        orders.sort();
        assert_eq!(orders, ["1001", "1007", "ORD-88304"], "{backend:?}: Amina's orders and no one else's");
        let o1001 = view["orders"].as_array().unwrap().iter().find(|o| o["order_number"] == "1001").unwrap();
        assert_eq!(
            (o1001["status"].as_str(), o1001["tracking_number"].as_str()),
            (Some("shipped"), Some("EE482913057TZ"))
        );
        assert_eq!(o1001["carrier"], "Posta Tanzania");
        let mask = o1001["lines"].as_array().unwrap().iter().find(|l| l["sku"] == "WC-MSK-09").expect("order lines");
        assert_eq!((mask["quantity"].as_i64(), mask["stock"]["available"].as_i64()), (Some(1), Some(0)), "{mask}");
        let mut invoices: Vec<&str> =
            view["invoices"].as_array().unwrap().iter().map(|i| i["invoice_number"].as_str().unwrap()).collect();
        invoices.sort();
        assert_eq!(invoices, ["INV-2026-0016", "INV-2026-0019"], "{backend:?}");
        let open =
            view["invoices"].as_array().unwrap().iter().find(|i| i["invoice_number"] == "INV-2026-0019").unwrap();
        assert_eq!(open["status"], "open");
        assert!(open["amount"].as_str().is_some_and(|a| a.contains("185,000")), "{backend:?}: {open}");
        let convs = view["conversations"].as_array().unwrap();
        assert_eq!(ids(convs), vec![chat.conversation_id.clone()], "{backend:?}");
        assert_eq!(convs[0]["status"], "queued");
        assert_eq!(neema.get("/api/contacts/no-such-contact").await.status, 404);

        // An unproven claim shows no orders: a customer who only typed an email.
        let mut stranger = app.chat().await;
        stranger.ask("order 1002 please").await;
        stranger.ask("amina.mwakilema@example.co.tz").await; // wrong owner for 1002
        let d = neema.conversation(&stranger.conversation_id).await;
        let other = neema.get(&format!("/api/contacts/{}", d["conversation"]["contact"]["id"].as_str().unwrap())).await;
        assert_eq!(other.ok()["orders"], json!([]), "{backend:?}: {}", other.text);
    }
}
