//! Who may call what: the authorisation matrix over every staff route (read from the routers'
//! source, so a new route is covered the day it is added), CSRF on cookie sessions, login and
//! its rate limit, logout, cookie attributes, API tokens, and `kituo agents add`.

use crate::helpers::{
    Console, Cred, STAFF_PASSWORD, Staff, add_staff, admin, agent, backends, console_handshake, hand_off, http, login,
    login_as, spawn_app,
};
use kituo::domain::Role;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// One route as the router declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    method: String,
    path: String,
}

/// Every `.route("PATH", get(…).post(…))` under `src/` whose path is a staff path
/// (`/api/…` or `/ws/agent`).
fn staff_routes() -> Vec<Route> {
    let mut files = Vec::new();
    collect_rs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            // The call's arguments: up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            let args = &rest[..end];
            let Some(path) = args.split('"').nth(1) else { continue };
            if !(path.starts_with("/api/") || path == "/ws/agent") {
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete"] {
                let needle = format!("{method}(");
                let mut from = 0;
                while let Some(i) = args[from..].find(&needle) {
                    let i = from + i;
                    let before = args[..i].chars().last().unwrap_or(' ');
                    if !(before.is_alphanumeric() || before == '_') {
                        routes.push(Route { method: method.to_uppercase(), path: path.to_string() });
                    }
                    from = i + needle.len();
                }
            }
        }
    }
    // Routes registered with `routes!` are declared by their `#[utoipa::path]`: read them from
    // the generated document.
    let doc = serde_json::to_value(kituo::web::openapi::document()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if path.starts_with("/api/") && item.get(method).is_some() {
                routes.push(Route { method: method.to_uppercase(), path: path.clone() });
            }
        }
    }
    routes.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    routes.dedup();
    routes
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A request for the route: path parameters filled with ids that do not exist, and a body that
/// passes validation where that matters (so "allowed" reaches the handler).
fn request_for(route: &Route) -> (String, Option<Value>) {
    let mut path = String::new();
    let mut in_param = false;
    for c in route.path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                path.push_str("nope-0000");
            }
            _ if in_param => {}
            _ => path.push(c),
        }
    }
    let unique = format!("{:08x}", rand::random::<u32>());
    let body = match (route.method.as_str(), route.path.as_str()) {
        ("GET" | "DELETE", _) => None,
        (_, "/api/me/presence") => Some(json!({"presence": "away"})),
        (_, "/api/conversations/{id}/messages") => Some(json!({"text": "hello"})),
        (_, "/api/conversations/{id}/assign") => Some(json!({"team": "no-such-team"})),
        (_, "/api/admin/agents") => Some(json!({
            "email": format!("matrix-{unique}@staff.test"), "name": "Matrix", "role": "agent",
            "password": "a long enough password",
        })),
        (_, "/api/admin/agents/{id}") => Some(json!({"capacity": 3})),
        (_, "/api/admin/teams/{team}/members") => Some(json!({"agent_id": "nope-0000"})),
        (_, "/api/admin/canned_responses/{shortcut}") => Some(json!({"text": "Hello there"})),
        (_, "/api/admin/tokens") => Some(json!({"name": format!("matrix-{unique}")})),
        _ => Some(json!({})),
    };
    match route.path.as_str() {
        "/api/stock" => path.push_str("?q=kikoi"),
        "/api/conversations" => path.push_str("?status=queued"),
        _ => {}
    }
    (path, body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Unauthorized,
    Forbidden,
    Allowed,
}

/// Calls the route as `who` and checks the outcome.
async fn check(who: &Staff, label: &str, route: &Route, expect: Expect) {
    let what = format!("{label} {} {}", route.method, route.path);
    if route.path == "/ws/agent" {
        let h = who.auth_headers(false);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let result = console_handshake(who.addr, &h).await;
        match (expect, result) {
            (Expect::Allowed, Ok(mut c)) => {
                let hello = c.frame().await;
                assert_eq!(hello["type"], "hello", "{what}: {hello}");
                c.close().await;
            }
            (Expect::Unauthorized, Err(401)) | (Expect::Forbidden, Err(403)) => {}
            (e, Ok(_)) => panic!("{what}: expected {e:?}, the socket opened"),
            (e, Err(s)) => panic!("{what}: expected {e:?}, handshake refused with {s}"),
        }
        return;
    }
    let (path, body) = request_for(route);
    let r = who.call(&route.method, &path, body).await;
    match expect {
        Expect::Unauthorized => {
            assert_eq!(r.status, 401, "{what}: {}", r.text);
            assert_eq!(r.code(), "unauthorized", "{what}: {}", r.text);
        }
        Expect::Forbidden => {
            assert_eq!(r.status, 403, "{what}: {}", r.text);
            assert_eq!(r.code(), "forbidden", "{what}: {}", r.text);
        }
        Expect::Allowed => {
            assert!(![401, 403].contains(&r.status) && r.status < 500, "{what}: allowed, got {} {}", r.status, r.text);
            // Collections exist for everyone allowed: no 404 to hide behind.
            if route.method == "GET" && !route.path.contains('{') {
                assert_eq!(r.status, 200, "{what}: {}", r.text);
            }
        }
    }
}

#[tokio::test]
async fn every_staff_route_follows_the_authorisation_matrix() {
    let routes = staff_routes();
    // The parser must keep finding the routers' routes.
    let must_have = [
        ("POST", "/api/login"),
        ("GET", "/api/conversations/{id}"),
        ("POST", "/api/conversations/{id}/claim"),
        ("POST", "/api/conversations/{id}/messages"),
        ("GET", "/api/contacts/{id}"),
        ("GET", "/api/reports"),
        ("PATCH", "/api/admin/agents/{id}"),
        ("DELETE", "/api/admin/tokens/{id}"),
        ("PUT", "/api/admin/canned_responses/{shortcut}"),
        ("DELETE", "/api/admin/canned_responses/{shortcut}"),
        ("GET", "/ws/agent"),
    ];
    for (m, p) in must_have {
        assert!(routes.contains(&Route { method: m.into(), path: p.into() }), "route {m} {p} not found in {routes:?}");
    }
    assert!(routes.len() >= 30, "expected at least 30 staff routes, found {}: {routes:?}", routes.len());

    for backend in backends() {
        let app = spawn_app(backend).await;
        let anonymous = Staff::anonymous(app.addr);
        let boss = admin(&app, "Matrix Admin").await;
        let worker = agent(&app, "Matrix Agent").await;
        let token = |role: &str| {
            let boss = boss.clone();
            let role = role.to_string();
            async move {
                let r = boss.post("/api/admin/tokens", json!({"name": format!("{role} token"), "role": role})).await;
                let body = r.ok().clone();
                assert_eq!(r.status, 201, "{}", r.text);
                (body["id"].as_str().unwrap().to_string(), body["token"].as_str().unwrap().to_string())
            }
        };
        let (_, agent_token) = token("agent").await;
        let (_, admin_token) = token("admin").await;
        let (revoked_id, revoked_token) = token("agent").await;
        assert_eq!(boss.delete(&format!("/api/admin/tokens/{revoked_id}")).await.status, 204);
        let mut chat = app.chat().await;
        chat.ask("hello").await;

        let agent_bearer = boss.with_bearer(&agent_token);
        let admin_bearer = boss.with_bearer(&admin_token);
        let revoked = boss.with_bearer(&revoked_token);
        let garbage = boss.with_bearer("kt_not-a-real-token");
        let visitor = boss.with_bearer(&chat.visitor_token);
        // A customer's visitor token as a cookie is no staff session either.
        let visitor_cookie =
            Staff { cred: Cred::Session { cookie: chat.visitor_token.clone(), csrf: "x".into() }, ..boss.clone() };

        let mut checked = 0;
        for route in routes.iter().filter(|r| r.path != "/api/login") {
            // A route written in src/ but not (yet) mounted answers with the router's bare 404:
            // nobody can reach it, so there is nothing to authorise. Mounted routes never do.
            if route.path != "/ws/agent" {
                let (path, body) = request_for(route);
                let r = anonymous.call(&route.method, &path, body).await;
                if r.status == 404 && r.text.is_empty() {
                    assert!(
                        !must_have.iter().any(|(m, p)| *m == route.method && *p == route.path),
                        "{backend:?}: {} {} is not served",
                        route.method,
                        route.path
                    );
                    eprintln!("NOTE: {} {} is in src/ but not served; not in the matrix", route.method, route.path);
                    continue;
                }
            }
            checked += 1;
            let admin_only = route.path.starts_with("/api/admin/");
            // Logging out ends the session; it gets sessions of its own.
            let (worker, boss) = if route.path == "/api/logout" {
                (
                    login_as(app.addr, &worker.email, STAFF_PASSWORD).await,
                    login_as(app.addr, &boss.email, STAFF_PASSWORD).await,
                )
            } else {
                (worker.clone(), boss.clone())
            };
            let as_agent = if admin_only { Expect::Forbidden } else { Expect::Allowed };
            check(&anonymous, &format!("{backend:?} anonymous"), route, Expect::Unauthorized).await;
            check(&revoked, &format!("{backend:?} revoked token"), route, Expect::Unauthorized).await;
            check(&garbage, &format!("{backend:?} unknown token"), route, Expect::Unauthorized).await;
            check(&visitor, &format!("{backend:?} visitor token as bearer"), route, Expect::Unauthorized).await;
            check(&visitor_cookie, &format!("{backend:?} visitor token as cookie"), route, Expect::Unauthorized).await;
            check(&worker, &format!("{backend:?} agent session"), route, as_agent).await;
            check(&agent_bearer, &format!("{backend:?} agent-role token"), route, as_agent).await;
            check(&boss, &format!("{backend:?} admin session"), route, Expect::Allowed).await;
            check(&admin_bearer, &format!("{backend:?} admin-role token"), route, Expect::Allowed).await;
        }

        assert!(checked >= 30, "{backend:?}: only {checked} routes were checked");

        // Not a bearer scheme at all.
        let r = http(app.addr, "GET", "/api/me", &[("authorization", "Basic YWRtaW46YWRtaW4=")], None).await;
        assert_eq!(r.status, 401, "{backend:?}: {}", r.text);
    }
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_change_state_and_bearer_tokens_do_not() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Csrf Admin").await;
        let neema = agent(&app, "Neema").await;
        let other = login_as(app.addr, &neema.email, STAFF_PASSWORD).await;
        let Cred::Session { cookie, csrf } = neema.cred.clone() else { unreachable!() };
        let Cred::Session { csrf: other_csrf, .. } = other.cred.clone() else { unreachable!() };
        assert_ne!(csrf, other_csrf, "each session has its own CSRF token");
        let cookie_header = format!("{}={cookie}", kituo::auth::SESSION_COOKIE);
        let presence = json!({"presence": "away"});

        // No header, an empty one, a wrong one, another session's: all refused, nothing changes.
        for (label, token) in [
            ("missing", None),
            ("empty", Some("")),
            ("wrong", Some("nope")),
            ("other session's", Some(other_csrf.as_str())),
        ] {
            let mut h = vec![("cookie", cookie_header.as_str())];
            if let Some(t) = token {
                h.push(("x-csrf-token", t));
            }
            let r = http(app.addr, "PUT", "/api/me/presence", &h, Some(&presence)).await;
            assert_eq!(r.status, 403, "{backend:?}: {label} CSRF token: {}", r.text);
            assert_eq!(r.code(), "forbidden");
        }
        let me = neema.get("/api/me").await;
        assert_eq!(me.ok()["agent"]["presence"], "offline", "{backend:?}: refused requests changed nothing");
        assert_eq!(me.json["csrf_token"], csrf.as_str(), "{backend:?}: /api/me tells the console its CSRF token");

        // A forged claim leaves the conversation in the queue.
        let chat = crate::helpers::queued_customer(&app).await;
        let claim = format!("/api/conversations/{}/claim", chat.conversation_id);
        let r = neema.call_with("POST", &claim, Some(json!({})), false).await;
        assert_eq!(r.status, 403, "{backend:?}: {}", r.text);
        assert_eq!(neema.conversation(&chat.conversation_id).await["conversation"]["status"], "queued");
        // With the token it works.
        let r = neema.post(&claim, json!({})).await;
        assert_eq!(r.ok()["conversation"]["status"], "assigned", "{backend:?}");
        assert_eq!(neema.put("/api/me/presence", presence.clone()).await.status, 200);

        // Logging out is state-changing too.
        let r = neema.call_with("POST", "/api/logout", Some(json!({})), false).await;
        assert_eq!(r.status, 403, "{backend:?}: logout without CSRF: {}", r.text);
        assert_eq!(neema.get("/api/me").await.status, 200, "{backend:?}: still logged in");

        // Bearer tokens are not sent by browsers on their own: no CSRF token needed.
        let r = boss.post("/api/admin/tokens", json!({"name": "integration", "role": "agent"})).await;
        let bearer = boss.with_bearer(r.ok()["token"].as_str().unwrap());
        let r = bearer.call_with("PUT", "/api/me/presence", Some(json!({"presence": "away"})), false).await;
        assert_eq!(r.status, 200, "{backend:?}: bearer PUT without CSRF: {}", r.text);
        let queued = crate::helpers::queued_customer(&app).await;
        let r = bearer
            .call_with("POST", &format!("/api/conversations/{}/claim", queued.conversation_id), Some(json!({})), false)
            .await;
        assert_eq!(r.status, 200, "{backend:?}: bearer POST without CSRF: {}", r.text);
        // The token acts as the admin who created it, with the token's role.
        assert_eq!(r.json["conversation"]["assignee"]["id"], boss.id.as_str());
        assert_eq!(bearer.get("/api/admin/agents").await.status, 403, "{backend:?}: agent-role token");
    }
}

#[tokio::test]
async fn login_logout_rate_limit_and_cookie_attributes() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let (_, email) = add_staff(&app, "Amani", Role::Agent).await;
        let (_, bystander) = add_staff(&app, "Bystander", Role::Agent).await;

        // Wrong password and unknown account read the same.
        let wrong = login(app.addr, &email, "not the password").await;
        assert_eq!(wrong.status, 401, "{backend:?}: {}", wrong.text);
        assert_eq!(wrong.code(), "bad_credentials");
        assert!(wrong.set_cookies().is_empty(), "no cookie for a failed login");
        let unknown = login(app.addr, "nobody@staff.test", "not the password").await;
        assert_eq!((unknown.status, unknown.code()), (401, "bad_credentials"), "{backend:?}");
        assert_eq!(unknown.json["error"]["message"], wrong.json["error"]["message"]);

        // A good login: cookie attributes, CSRF token, the agent.
        let ok = login(app.addr, &email, STAFF_PASSWORD).await;
        let body = ok.ok().clone();
        assert_eq!(body["agent"]["name"], "Amani");
        assert_eq!(body["agent"]["role"], "agent");
        assert!(body["csrf_token"].as_str().is_some_and(|t| t.len() >= 32), "{body}");
        let cookies = ok.set_cookies();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let attrs: Vec<String> = cookies[0].split(';').map(|a| a.trim().to_lowercase()).collect();
        assert!(attrs[0].starts_with("kituo_session=") && attrs[0].len() > "kituo_session=".len() + 32, "{attrs:?}");
        for want in ["httponly", "samesite=lax", "path=/"] {
            assert!(attrs.iter().any(|a| a == want), "{backend:?}: cookie lacks {want}: {}", cookies[0]);
        }
        assert!(!attrs.iter().any(|a| a == "secure"), "{backend:?}: plain HTTP, no Secure: {}", cookies[0]);
        // Behind a TLS proxy the cookie is Secure.
        let tls = http(
            app.addr,
            "POST",
            "/api/login",
            &[("x-forwarded-proto", "https")],
            Some(&json!({"email": email, "password": STAFF_PASSWORD})),
        )
        .await;
        assert!(
            tls.set_cookies()[0].to_lowercase().split(';').any(|a| a.trim() == "secure"),
            "{:?}",
            tls.set_cookies()
        );

        // Logout ends the session: REST and console socket refuse the old cookie.
        let amani = login_as(app.addr, &email, STAFF_PASSWORD).await;
        assert_eq!(amani.get("/api/me").await.status, 200);
        let out = amani.post("/api/logout", json!({})).await;
        assert_eq!(out.status, 204, "{backend:?}: {}", out.text);
        assert!(
            out.set_cookies().iter().any(|c| c.contains("kituo_session=;") && c.contains("Max-Age=0")),
            "{:?}",
            out.set_cookies()
        );
        let after = amani.get("/api/me").await;
        assert_eq!(after.status, 401, "{backend:?}: the logged-out cookie still works: {}", after.text);
        let cookie = amani.cookie_header().unwrap();
        assert_eq!(console_handshake(app.addr, &[("cookie", &cookie)]).await.err(), Some(401));

        // Three failures from one address make that address wait, even with the right password
        // (a clean address is never refused: tests/api/security/login.rs); other accounts are fine.
        for i in 0..3 {
            let r = login(app.addr, &email, &format!("wrong {i}")).await;
            assert_eq!(r.status, 401, "{backend:?}: failure {i}: {}", r.text);
        }
        let locked = login(app.addr, &email, STAFF_PASSWORD).await;
        assert_eq!(locked.status, 429, "{backend:?}: 4th attempt: {}", locked.text);
        assert_eq!(locked.code(), "rate_limited");
        assert!(locked.headers.contains_key("retry-after"), "{backend:?}: 429 says when to retry");
        assert!(locked.set_cookies().is_empty());
        let locked_case = login(app.addr, &email.to_uppercase(), STAFF_PASSWORD).await;
        assert_eq!(locked_case.status, 429, "{backend:?}: the limit is per account, whatever the case");
        login_as(app.addr, &bystander, STAFF_PASSWORD).await;
    }
}

#[tokio::test]
async fn tokens_stop_working_when_revoked_or_their_creator_is_deactivated() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Token Admin").await;
        let deputy = admin(&app, "Deputy").await;
        let worker = agent(&app, "Token Agent").await;

        let r = boss.post("/api/admin/tokens", json!({"name": "crm"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let created = r.json.clone();
        assert_eq!(created["role"], "agent", "{backend:?}: tokens default to the agent role");
        let token = created["token"].as_str().unwrap().to_string();
        let crm = boss.with_bearer(&token);
        assert_eq!(crm.get("/api/conversations").await.status, 200);
        // Listed without the secret.
        let list = boss.get("/api/admin/tokens").await;
        assert!(!list.text.contains(&token), "{backend:?}: the token list leaks the secret");
        let listed =
            list.ok()["tokens"].as_array().unwrap().iter().find(|t| t["id"] == created["id"]).cloned().unwrap();
        assert_eq!((listed["name"].as_str(), listed["revoked_at"].is_null()), (Some("crm"), true));
        // Agents cannot make or revoke tokens.
        let path = format!("/api/admin/tokens/{}", created["id"].as_str().unwrap());
        assert_eq!(worker.post("/api/admin/tokens", json!({"name": "mine"})).await.status, 403);
        assert_eq!(worker.delete(&path).await.status, 403);
        assert_eq!(crm.get("/api/me").await.status, 200, "{backend:?}: still valid");

        assert_eq!(boss.delete(&path).await.status, 204);
        let r = crm.get("/api/conversations").await;
        assert_eq!(r.status, 401, "{backend:?}: revoked token still accepted: {}", r.text);
        assert_eq!(boss.delete(&path).await.status, 404, "{backend:?}: revoking twice");
        let h = crm.auth_headers(false);
        assert_eq!(console_handshake(app.addr, &[(h[0].0.as_str(), h[0].1.as_str())]).await.err(), Some(401));

        // A token lives only as long as its creator's account.
        let r = deputy.post("/api/admin/tokens", json!({"name": "deputy's", "role": "admin"})).await;
        let deputy_token = deputy.with_bearer(r.ok()["token"].as_str().unwrap());
        assert_eq!(deputy_token.get("/api/admin/agents").await.status, 200);
        let r = boss.patch(&format!("/api/admin/agents/{}", deputy.id), json!({"active": false})).await;
        assert_eq!(r.ok()["agent"]["active"], false);
        assert_eq!(deputy_token.get("/api/admin/agents").await.status, 401, "{backend:?}: deactivated creator's token");
        assert_eq!(deputy.get("/api/me").await.status, 401, "{backend:?}: deactivated agent's session");
        assert_eq!(login(app.addr, &deputy.email, STAFF_PASSWORD).await.status, 401, "{backend:?}: deactivated login");
    }
}

#[tokio::test]
async fn agents_get_403_on_admin_routes_and_admins_manage_agents() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let boss = admin(&app, "Manager").await;
        let worker = agent(&app, "Worker").await;
        let r = worker.post("/api/admin/agents", json!({"email": "x@staff.test", "name": "X", "role": "admin"})).await;
        assert_eq!(r.status, 403, "{backend:?}: an agent made an account: {}", r.text);
        let r = worker.patch(&format!("/api/admin/agents/{}", worker.id), json!({"role": "admin"})).await;
        assert_eq!(r.status, 403, "{backend:?}: an agent promoted themselves: {}", r.text);
        assert_eq!(worker.get("/api/me").await.ok()["agent"]["role"], "agent");

        // An admin-created account with a generated password can log in with it.
        let r = boss
            .post("/api/admin/agents", json!({"email": "Zawadi@Staff.Test", "name": "Zawadi", "role": "agent"}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let password = r.json["password"].as_str().expect("a generated password is returned once").to_string();
        assert_eq!(r.json["agent"]["email"], "zawadi@staff.test");
        let zawadi = login_as(app.addr, "zawadi@staff.test", &password).await;
        assert_eq!(zawadi.get("/api/admin/agents").await.status, 403);
        let again =
            boss.post("/api/admin/agents", json!({"email": "zawadi@staff.test", "name": "Z", "role": "agent"})).await;
        assert_eq!(again.status, 409, "{backend:?}: duplicate email: {}", again.text);
        let short = boss
            .post(
                "/api/admin/agents",
                json!({"email": "s@staff.test", "name": "S", "role": "agent", "password": "short"}),
            )
            .await;
        assert_eq!(short.status, 422, "{backend:?}: {}", short.text);

        // Promoted, the same session reaches admin routes.
        boss.patch(&format!("/api/admin/agents/{}", zawadi.id), json!({"role": "admin"})).await.ok();
        assert_eq!(zawadi.get("/api/admin/agents").await.status, 200, "{backend:?}: promotion applies at once");
    }
}

fn kituo_cli(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kituo"))
        .args(args)
        .env_remove("KITUO_DATABASE_URL")
        .env("KITUO_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kituo runs");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            pipe.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn kituo_agents_add_creates_accounts_that_can_log_in() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let url = app.db.url.clone();

        // --password-stdin: the first line is the password.
        let out = tokio::task::spawn_blocking({
            let url = url.clone();
            move || {
                kituo_cli(
                    &[
                        "agents",
                        "add",
                        "Rehema@Staff.Test",
                        "--name",
                        "Rehema",
                        "--role",
                        "agent",
                        "--password-stdin",
                        "--database-url",
                        &url,
                    ],
                    Some("rehema's long password\n"),
                )
            }
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{backend:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(!stdout.contains("rehema's long password"), "{backend:?}: the password is echoed: {stdout}");
        let rehema = login_as(app.addr, "rehema@staff.test", "rehema's long password").await;
        assert_eq!(rehema.name, "Rehema");
        assert_eq!(rehema.get("/api/admin/agents").await.status, 403, "{backend:?}: added as an agent");
        let wrong = login(app.addr, "rehema@staff.test", "rehema's long password\n").await;
        assert_eq!(wrong.status, 401, "{backend:?}: the newline is not part of the password");

        // Without --password-stdin a password is generated and printed once.
        let out = tokio::task::spawn_blocking({
            let url = url.clone();
            move || {
                kituo_cli(
                    &[
                        "agents",
                        "add",
                        "baraka@staff.test",
                        "--name",
                        "Baraka",
                        "--role",
                        "admin",
                        "--database-url",
                        &url,
                    ],
                    None,
                )
            }
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{backend:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        let password = stdout
            .lines()
            .find_map(|l| l.split_once("password (shown once):").map(|(_, p)| p.trim().to_string()))
            .unwrap_or_else(|| panic!("{backend:?}: no generated password printed: {stdout}"));
        assert!(password.len() >= 16, "{password}");
        let baraka = login_as(app.addr, "baraka@staff.test", &password).await;
        assert_eq!(baraka.get("/api/admin/agents").await.status, 200, "{backend:?}: added as an admin");

        // The same email twice fails and says why; a short stdin password is refused.
        let out = tokio::task::spawn_blocking({
            let url = url.clone();
            move || kituo_cli(&["agents", "add", "BARAKA@staff.test", "--name", "B", "--database-url", &url], None)
        })
        .await
        .unwrap();
        assert!(!out.status.success(), "{backend:?}: duplicate email accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"), "{:?}", out);
        let out = tokio::task::spawn_blocking(move || {
            kituo_cli(
                &["agents", "add", "c@staff.test", "--name", "C", "--password-stdin", "--database-url", &url],
                Some("short\n"),
            )
        })
        .await
        .unwrap();
        assert!(!out.status.success(), "{backend:?}: a 5-character password was accepted");
        assert_eq!(login(app.addr, "c@staff.test", "short").await.status, 401);
    }
}

#[tokio::test]
async fn the_console_socket_is_for_staff_only() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let mut chat = app.chat().await;
        hand_off(&mut chat).await;
        assert_eq!(console_handshake(app.addr, &[]).await.err(), Some(401), "{backend:?}: no cookie");
        let bogus = format!("{}=not-a-session", kituo::auth::SESSION_COOKIE);
        assert_eq!(console_handshake(app.addr, &[("cookie", &bogus)]).await.err(), Some(401), "{backend:?}");
        let worker = agent(&app, "Socket Agent").await;
        let c = Console::connect(&worker).await;
        c.close().await;
    }
}
