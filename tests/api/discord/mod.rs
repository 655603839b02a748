//! The Discord channel against a Discord-protocol server on loopback ([`fake`]). Nothing here
//! can reach Discord: the API base is the fake's address, and before the app starts each test
//! checks that the gateway URL the bot will use is the fake's.

mod fake;
mod files;
mod rating;

use crate::helpers::{Backend, TestApp, TestDb, backends, serve_args, spawn_on};
use fake::{BOT_ID, FakeDiscord, LOUNGE, STAFF, SUPPORT, User};
use kituo::config::DiscordArgs;
use kituo::domain::{Channel, Role};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "fake-bot-token";

fn amina() -> User {
    User::human(7_001, "amina_m")
}

fn juma() -> User {
    User::human(7_002, "juma")
}

/// The app with Discord pointed at `fake`, once the bot has identified on the fake gateway.
async fn start(backend: Backend, fake: &FakeDiscord) -> TestApp {
    start_with(backend, fake, |_| {}).await
}

/// [`start`] with more arguments changed by `tweak`.
async fn start_with(backend: Backend, fake: &FakeDiscord, tweak: impl Fn(&mut kituo::config::ServeArgs)) -> TestApp {
    let discord = DiscordArgs {
        token: Some(TOKEN.into()),
        support_channel_id: Some(SUPPORT),
        api_base: Some(fake.api_base()),
        staff_channel_id: Some(STAFF),
    };
    // Guard: the gateway the bot will connect to is the fake's, never Discord's.
    let gateway = kituo::channel::discord::gateway_url(&discord).await.expect("the fake answers /gateway");
    assert_eq!(gateway, format!("ws://{}/gateway", fake.addr), "the bot must use the loopback gateway");
    let db = TestDb::new(backend).await;
    let app = spawn_on(db, move |url| {
        let mut args = serve_args(url);
        args.discord = discord.clone();
        tweak(&mut args);
        args
    })
    .await;
    fake.identified(1).await;
    // Ours and serenity's: the bot asked the fake, not Discord.
    assert!(fake.gateway_requests() >= 2, "{backend:?}");
    app
}

/// The conversation a Discord thread key points at.
async fn conversation(app: &TestApp, key: &str) -> String {
    app.hub
        .store()
        .conversation_by_thread_key(Channel::Discord, key)
        .await
        .expect("store reads")
        .unwrap_or_else(|| panic!("a conversation for {key}"))
}

/// An agent and a bearer token for the staff API.
async fn agent_token(app: &TestApp) -> String {
    let store = app.hub.store();
    let agent = store.create_agent("neema@kituo.test", "Neema", Role::Agent, "not-a-password-hash").await.unwrap();
    let token = format!("tok-{:016x}", rand::random::<u64>());
    store.create_api_token(&kituo::auth::sha256_hex(&token), "Neema", Role::Agent, &agent).await.unwrap();
    token
}

/// A minimal HTTP/1.1 client: POST JSON with a bearer token; (status, body).
async fn post_json(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        app.addr,
        body.len()
    );
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.expect("the app listens");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(15), tcp.read_to_end(&mut raw)).await.expect("a response").unwrap();
    let raw = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers end");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Quiet for a moment: lets a wrong extra reply show up before counting.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(700)).await;
}

#[tokio::test]
async fn dm_order_question_asks_for_the_email_and_discloses_only_on_the_right_one() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let amina = amina();

        fake.dm(&amina, "Hi, where is my order #1001?");
        let dm = fake.dm_channel(&amina);
        let ask = fake.posts(dm, 1).await;
        assert!(ask[0].content.to_lowercase().contains("email"), "{backend:?}: {}", ask[0].content);
        assert!(!ask[0].content.contains("EE482913057TZ"), "{backend:?}: nothing disclosed before the email");
        assert!(fake.typing_in(dm) >= 1, "{backend:?}: typing shown in the DM");

        fake.dm(&amina, "mallory@example.com");
        let wrong = fake.posts(dm, 2).await;
        assert!(!wrong[1].content.contains("EE482913057TZ"), "{backend:?}: {}", wrong[1].content);

        fake.dm(&amina, "order 1001 please");
        fake.posts(dm, 3).await;
        fake.dm(&amina, "It's amina.mwakilema@example.co.tz");
        let right = fake.posts(dm, 4).await;
        assert!(right[3].content.contains("EE482913057TZ"), "{backend:?}: {}", right[3].content);
        assert!(right[3].content.contains("Posta Tanzania"), "{backend:?}: {}", right[3].content);

        // One conversation for the DM, shown with the Discord user's name and avatar.
        let id = conversation(&app, &format!("dm:{}", amina.id)).await;
        let summary = app.hub.store().conversation_summary(&id).await.unwrap().unwrap();
        assert_eq!(summary.channel, "discord", "{backend:?}");
        assert_eq!(summary.contact_name.as_deref(), Some("amina_m"), "{backend:?}");
        let avatar = summary.contact_avatar_url.clone().unwrap_or_default();
        assert!(avatar.contains(&format!("/avatars/{}/", amina.id)), "{backend:?}: avatar {avatar:?}");
        let identities = app.hub.store().identities(&summary.contact_id).await.unwrap();
        assert!(identities.contains(&("discord".into(), amina.id.to_string(), "none".into())), "{identities:?}");
        assert!(
            identities.contains(&("email".into(), "amina.mwakilema@example.co.tz".into(), "order_email".into())),
            "{backend:?}: the proven email stays on the Discord contact: {identities:?}"
        );

        // Linked: a later question in a new support thread needs no second proof.
        let question = fake.say(SUPPORT, &amina, "what about order 1007?");
        let thread = fake.until("a thread", |f| f.threads().into_iter().find(|t| t.id == question)).await;
        let answer = fake.posts(thread.id, 1).await;
        assert!(answer[0].content.to_lowercase().contains("delivered"), "{backend:?}: {}", answer[0].content);
        // …but someone else's order still needs its email.
        fake.say(thread.id, &amina, "and order SO-2026-0042?");
        let other = fake.posts(thread.id, 2).await;
        assert!(other[1].content.to_lowercase().contains("email"), "{backend:?}: {}", other[1].content);
        assert!(fake.unexpected().is_empty(), "{backend:?}: {:?}", fake.unexpected());
        app.stop().await;
    }
}

#[tokio::test]
async fn support_channel_message_gets_its_own_thread_and_the_answer_goes_there() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let (amina, juma) = (amina(), juma());

        let first = fake.write(
            SUPPORT,
            &amina,
            "Mna kikoi?",
            &[("photo.jpg", "https://cdn.discordapp.test/attachments/1/2/photo.jpg")],
        );
        let thread = fake.until("a thread", |f| f.threads().into_iter().next()).await;
        assert_eq!((thread.parent_id, thread.id), (SUPPORT, first), "{backend:?}: thread on the message");
        assert!(thread.name.starts_with("amina_m: Mna kikoi?"), "{backend:?}: {}", thread.name);
        let reply = fake.posts(thread.id, 1).await;
        assert!(reply[0].content.to_lowercase().contains("kikoi"), "{backend:?}: {}", reply[0].content);
        assert!(fake.posts_in(SUPPORT).is_empty(), "{backend:?}: nothing posted in the support channel itself");
        assert!(fake.typing_in(thread.id) >= 1, "{backend:?}: typing shown in the thread");

        // An attachment that cannot be downloaded is a note line with its link.
        let id = conversation(&app, &format!("thread:{}", thread.id)).await;
        let stored = app.hub.store().messages_after(&id, 0, 50, true).await.unwrap();
        assert!(
            stored[0].text.ends_with(
                "[attachment] photo.jpg (not kept: could not be downloaded): https://cdn.discordapp.test/attachments/1/2/photo.jpg"
            ),
            "{backend:?}: {}",
            stored[0].text
        );

        // A follow-up in the thread continues the same conversation, in the same thread.
        fake.say(thread.id, &amina, "thanks!");
        fake.posts(thread.id, 2).await;
        assert_eq!(conversation(&app, &format!("thread:{}", thread.id)).await, id, "{backend:?}");

        // Someone else in that thread, and chatter in other channels, get no answer.
        fake.say(thread.id, &juma, "I have the same question");
        fake.say(LOUNGE, &juma, "where is my order 1001?");
        // Another customer's message in the support channel gets a thread of its own.
        let second = fake.say(SUPPORT, &juma, "Mna kikoi?");
        fake.posts(second, 1).await;
        settle().await;
        assert_eq!(fake.posts_in(thread.id).len(), 2, "{backend:?}: {:#?}", fake.posts_in(thread.id));
        assert!(fake.posts_in(LOUNGE).is_empty(), "{backend:?}");
        assert_eq!(fake.threads().len(), 2, "{backend:?}");
        let juma_thread = conversation(&app, &format!("thread:{second}")).await;
        assert_ne!(juma_thread, id, "{backend:?}: customers never share a conversation");
        app.stop().await;
    }
}

#[tokio::test]
async fn handoff_is_announced_to_staff_and_the_agent_reply_lands_in_the_same_thread() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let token = agent_token(&app).await;
        let amina = amina();

        let first = fake.say(SUPPORT, &amina, "I want a human please");
        let handoff = fake.posts(first, 1).await;
        assert!(!handoff[0].content.is_empty(), "{backend:?}");
        let id = conversation(&app, &format!("thread:{first}")).await;
        let conv = app.hub.store().conversation(&id).await.unwrap().unwrap();
        assert_eq!(conv.status.as_str(), "queued", "{backend:?}");

        // The staff channel hears about it once.
        let note = fake.posts(STAFF, 1).await;
        assert!(
            note[0].content.contains("amina_m") && note[0].content.contains(&id),
            "{backend:?}: {}",
            note[0].content
        );

        let (status, body) = post_json(
            &app,
            &format!("/api/conversations/{id}/messages"),
            &token,
            &json!({"text": "Hi Amina, Neema here. How can I help?"}),
        )
        .await;
        assert_eq!(status, 201, "{backend:?}: {body}");
        let replies = fake.posts(first, 2).await;
        assert_eq!(replies[1].content, "**Neema:** Hi Amina, Neema here. How can I help?", "{backend:?}");

        // The customer answers in the thread: the agent owns it now, the bot stays quiet.
        fake.say(first, &amina, "my parcel never arrived");
        let mut stored = false;
        for _ in 0..400 {
            let texts = app.hub.store().messages_after(&id, 0, 50, true).await.unwrap();
            stored = texts.iter().any(|m| m.text == "my parcel never arrived");
            if stored {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(stored, "{backend:?}: the customer's reply reaches the conversation");
        settle().await;
        assert_eq!(fake.posts_in(first).len(), 2, "{backend:?}: {:#?}", fake.posts_in(first));
        assert_eq!(fake.posts_in(STAFF).len(), 1, "{backend:?}: announced once");
        app.stop().await;
    }
}

#[tokio::test]
async fn gateway_drop_resumes_and_every_message_is_answered_once() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let amina = amina();
        // On resume, Discord may deliver again what the bot already had: replay generously.
        fake.set_replay_overlap(50);

        fake.dm(&amina, "Hi, where is my order #1001?");
        let dm = fake.dm_channel(&amina);
        fake.posts(dm, 1).await;
        let juma = juma();
        let question = fake.say(SUPPORT, &juma, "Mna kikoi?");
        fake.posts(question, 1).await;

        fake.drop_gateway();
        // Written while the bot is away: delivered on resume.
        fake.dm(&amina, "amina.mwakilema@example.co.tz");
        fake.until("a resume", |f| (f.resumes() >= 1).then_some(())).await;
        let answer = fake.posts(dm, 2).await;
        assert!(answer[1].content.contains("EE482913057TZ"), "{backend:?}: {}", answer[1].content);

        // After the resume, live messages still flow, and nothing was answered twice.
        fake.dm(&amina, "thanks!");
        fake.posts(dm, 3).await;
        settle().await;
        assert_eq!(fake.posts_in(dm).len(), 3, "{backend:?}: {:#?}", fake.posts_in(dm));
        let id = conversation(&app, &format!("dm:{}", amina.id)).await;
        let customer = app
            .hub
            .store()
            .messages_after(&id, 0, 50, false)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.author.as_str() == "customer")
            .count();
        assert_eq!(customer, 3, "{backend:?}: each Discord message stored once");
        assert_eq!(fake.identifies(), 1, "{backend:?}: resumed, not re-identified");
        // The replayed support-channel message got no second thread and no second answer.
        assert_eq!(fake.threads().len(), 1, "{backend:?}");
        assert_eq!(fake.posts_in(question).len(), 1, "{backend:?}");
        // Heartbeats flow (and are acknowledged, or serenity would reconnect again).
        fake.until("a heartbeat", |f| (f.heartbeats() >= 1).then_some(())).await;
        app.stop().await;
    }
}

#[tokio::test]
async fn own_and_other_bots_messages_are_ignored() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let amina = amina();
        let intents = fake.identify_intents().expect("intents sent");
        // GUILD_MESSAGES (1 << 9), DIRECT_MESSAGES (1 << 12), MESSAGE_CONTENT (1 << 15).
        assert_eq!(intents & (1 << 9 | 1 << 12 | 1 << 15), 1 << 9 | 1 << 12 | 1 << 15, "{backend:?}: {intents}");

        let other_bot = User { id: 7_500, name: "helper-bot", bot: true, avatar: None };
        // Our own account, even without the bot flag.
        let ourselves = User { id: BOT_ID, name: "Kituo", bot: false, avatar: None };
        fake.say(SUPPORT, &other_bot, "where is my order 1001?");
        fake.say(SUPPORT, &ourselves, "where is my order 1001?");
        fake.dm(&other_bot, "human");

        // A person's DM is answered; the bot's echo of its own reply is not.
        fake.dm(&amina, "Mna kikoi?");
        let dm = fake.dm_channel(&amina);
        fake.posts(dm, 1).await;
        settle().await;
        assert_eq!(fake.all_posts().len(), 1, "{backend:?}: {:#?}", fake.all_posts());
        assert!(fake.threads().is_empty(), "{backend:?}: no thread for bots");
        let bot_dm = fake.dm_channel(&other_bot);
        assert_eq!(fake.typing_in(bot_dm), 0, "{backend:?}");
        let store = app.hub.store();
        assert!(store.contact_by_identity("discord", "7500").await.unwrap().is_none(), "{backend:?}");
        assert!(store.contact_by_identity("discord", &BOT_ID.to_string()).await.unwrap().is_none(), "{backend:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_long_agent_reply_is_split_in_three_on_line_boundaries() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let token = agent_token(&app).await;
        let amina = amina();
        fake.dm(&amina, "human");
        let dm = fake.dm_channel(&amina);
        fake.posts(dm, 1).await;
        let id = conversation(&app, &format!("dm:{}", amina.id)).await;

        // 90 numbered lines of 50 characters: 4,500 characters.
        let text: String = (0..90).map(|i| format!("{i:02} {}\n", "x".repeat(46))).collect();
        assert_eq!(text.chars().count(), 4_500);
        let (status, body) =
            post_json(&app, &format!("/api/conversations/{id}/messages"), &token, &json!({"text": text})).await;
        assert_eq!(status, 201, "{backend:?}: {body}");
        let posts = fake.posts(dm, 4).await;
        settle().await;
        let all = fake.posts_in(dm);
        let parts: Vec<&str> = all[1..].iter().map(|p| p.content.as_str()).collect();
        assert_eq!(parts.len(), 3, "{backend:?}: {parts:#?}");
        assert!(parts.iter().all(|p| p.chars().count() <= 2_000), "{backend:?}");
        assert!(parts[0].starts_with("**Neema:** 00 "), "{backend:?}");
        // Cut between lines only: every line arrives whole, in order.
        let lines: Vec<&str> = parts.iter().flat_map(|p| p.lines()).collect();
        let expected: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 0 { format!("**Neema:** {l}") } else { l.to_string() })
            .collect();
        assert_eq!(lines, expected, "{backend:?}");
        assert_eq!(posts.len(), 4);
        // Each part has its own nonce, so a retry cannot post a part twice.
        let nonces: std::collections::HashSet<_> = all.iter().filter_map(|p| p.nonce.clone()).collect();
        assert_eq!(nonces.len(), 4, "{backend:?}: {all:#?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_then_sent() {
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let app = start(backend, &fake).await;
        let amina = amina();
        fake.fail_next_posts(1);
        fake.dm(&amina, "Mna kikoi?");
        let dm = fake.dm_channel(&amina);
        let posts = fake.posts(dm, 1).await;
        assert!(posts[0].content.to_lowercase().contains("kikoi"), "{backend:?}: {}", posts[0].content);
        let conv = conversation(&app, &format!("dm:{}", amina.id)).await;
        let mut states = Vec::new();
        for _ in 0..400 {
            states = app.hub.store().delivery_states(&conv).await.unwrap();
            if states.iter().all(|s| s.status == "sent") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert_eq!(states.len(), 1, "{backend:?}: {states:?}");
        assert_eq!((states[0].status.as_str(), states[0].attempts), ("sent", 2), "{backend:?}: {states:?}");
        assert_eq!(fake.posts_in(dm).len(), 1, "{backend:?}: the failed attempt posted nothing");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_refused_token_stops_the_channel_without_a_reconnect_storm() {
    let fake = FakeDiscord::start().await;
    fake.reject_token();
    let discord = DiscordArgs {
        token: Some(TOKEN.into()),
        support_channel_id: None,
        api_base: Some(fake.api_base()),
        staff_channel_id: None,
    };
    let gateway = kituo::channel::discord::gateway_url(&discord).await.expect("the fake answers /gateway");
    assert!(gateway.starts_with(&format!("ws://{}/", fake.addr)), "{gateway}");
    let app = spawn_on(TestDb::new(Backend::Sqlite).await, move |url| {
        let mut args = serve_args(url);
        args.discord = discord.clone();
        args
    })
    .await;
    fake.identified(1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.identifies(), 1, "a refused token is not retried");
    // The rest of Kituo keeps serving.
    let mut chat = app.chat().await;
    assert!(!chat.ask("Mna kikoi?").await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn on_discord_a_throttled_email_is_proven_by_a_one_time_code() {
    use crate::email::smtp::SmtpReceiver;
    const AMINA_EMAIL: &str = "amina.mwakilema@example.co.tz";
    for backend in backends() {
        let fake = FakeDiscord::start().await;
        let smtp = SmtpReceiver::start().await;
        let discord = DiscordArgs {
            token: Some(TOKEN.into()),
            support_channel_id: Some(SUPPORT),
            api_base: Some(fake.api_base()),
            staff_channel_id: Some(STAFF),
        };
        let gateway = kituo::channel::discord::gateway_url(&discord).await.expect("the fake answers /gateway");
        assert_eq!(gateway, format!("ws://{}/gateway", fake.addr), "the bot must use the loopback gateway");
        let smtp_url = smtp.url();
        let app = spawn_on(TestDb::new(backend).await, move |url| {
            let mut args = serve_args(url);
            args.discord = discord.clone();
            args.email.imap_url = Some("imap://support%40kituo.test:secret@127.0.0.1:1/INBOX".into());
            args.email.smtp_url = Some(smtp_url.clone());
            args.email.from = Some("Kituo Support <support@kituo.test>".into());
            args
        })
        .await;
        fake.identified(1).await;
        // Someone has used up the limit of Amina's email.
        let earlier = kituo::domain::now_ms() - 600_000;
        let rows: Vec<String> = (0..5).map(|i| format!("('seed-{i}', 'email', '{AMINA_EMAIL}', {earlier})")).collect();
        let sql =
            format!("insert into proof_failures (attempt_id, scope, subject, created_at) values {}", rows.join(", "));
        crate::helpers::exec_sql(&app, &sql, &[]).await;

        let amina = amina();
        fake.dm(&amina, &format!("where is order 1001? {AMINA_EMAIL}"));
        let dm = fake.dm_channel(&amina);
        let refused = fake.posts(dm, 1).await;
        let text = &refused[0].content;
        assert!(text.contains("too many unsuccessful attempts") && text.contains("\"code\""), "{backend:?}: {text}");
        assert!(!text.contains("EE482913057TZ"), "{backend:?}: {text}");
        fake.dm(&amina, "code");
        let sent = fake.posts(dm, 2).await;
        assert!(sent[1].content.contains("a 6-digit code is on its way"), "{backend:?}: {}", sent[1].content);
        let mail = crate::helpers::eventually("the code mail", Duration::from_secs(20), || async {
            smtp.messages().into_iter().find(|m| m.to.iter().any(|t| t == AMINA_EMAIL))
        })
        .await;
        let body = String::from_utf8_lossy(&mail.data).to_string();
        let code: String = body
            .split_once("code is ")
            .map(|(_, rest)| rest.chars().take(6).collect())
            .unwrap_or_else(|| panic!("a code in {body}"));
        fake.dm(&amina, &code);
        let shown = fake.posts(dm, 3).await;
        assert!(shown[2].content.contains("EE482913057TZ"), "{backend:?}: {}", shown[2].content);
        assert!(fake.unexpected().is_empty(), "{backend:?}: {:?}", fake.unexpected());
        app.stop().await;
    }
}
