//! Admin API for the bot's rules (`/api/admin/intents…`): read, validate, save (a new version
//! of the whole rule set, in force at once), delete, try a message, history with diffs,
//! rollback, export, and the messages the bot did not understand.

use super::error::{ApiError, ApiResult};
use super::session::Admin;
use super::{AppState, views};
use crate::bot::bundle::{Rejection, RuleBundle, diff};
use crate::bot::{DialogueState, Input};
use crate::domain::ConversationStatus;
use crate::hub::SaveError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/intents", get(list))
        .route("/api/admin/intents/classify", post(classify))
        .route("/api/admin/intents/validate", post(validate))
        .route("/api/admin/intents/export", get(export))
        .route("/api/admin/intents/versions", get(versions))
        .route("/api/admin/intents/versions/{version}", get(version))
        .route("/api/admin/intents/versions/{version}/rollback", post(rollback))
        .route("/api/admin/intents/rollback", post(rollback_named))
        .route("/api/admin/intents/misses", get(misses))
        .route("/api/admin/intents/misses/{id}/dismiss", post(dismiss_miss))
        .route("/api/admin/intents/{name}", get(get_intent).put(put_intent).delete(delete_intent))
}

pub const PRECEDENCE: &str = "The files in intents/ and templates/ are the initial rule set: on the first start of an \
     empty database they are stored as version 1. From then on the database wins: edits in the admin pages are new \
     versions, and the files are read again only by `kituo intents import`, which stores them as a new version \
     (validated like any save). `kituo intents export DIR` and this endpoint write the current version back as files.";

fn rejected(r: Rejection) -> Response {
    let body = json!({
        "error": {"code": "invalid_rules", "message": format!("the rule set was not saved: {}", r.summary())},
        "problems": r.problems,
        "broken_examples": r.broken_examples,
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn save_failed(e: SaveError) -> Response {
    match e {
        SaveError::Invalid(r) => rejected(r),
        SaveError::Store(crate::store::Error::Conflict) => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "the rules changed on another server at the same moment; try again",
        )
        .into_response(),
        SaveError::Store(e) => ApiError::from(e).into_response(),
    }
}

async fn hits(state: &AppState) -> ApiResult<std::collections::HashMap<String, i64>> {
    let mut hits: std::collections::HashMap<String, i64> = state.queries.intent_hits().await?.into_iter().collect();
    for (k, v) in state.hub.pending_hits() {
        *hits.entry(k).or_default() += v;
    }
    Ok(hits)
}

async fn list(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<Value>> {
    let bot = state.hub.bot();
    let hits = hits(&state).await?;
    let intents: Vec<Value> = bot
        .bundle
        .intents
        .iter()
        .map(|d| {
            let mut v = bot.bundle.intent_json(d);
            v["hits"] = json!(hits.get(&d.name).copied().unwrap_or(0));
            v
        })
        .collect();
    Ok(Json(json!({"version": bot.version, "intents": intents})))
}

async fn get_intent(
    State(state): State<AppState>,
    Admin(_a): Admin,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let bot = state.hub.bot();
    let def = bot.bundle.intent(&name).ok_or_else(|| ApiError::not_found("intent"))?;
    let mut v = bot.bundle.intent_json(def);
    v["hits"] = json!(hits(&state).await?.get(&name).copied().unwrap_or(0));
    Ok(Json(v))
}

async fn put_intent(
    State(state): State<AppState>,
    Admin(who): Admin,
    Path(name): Path<String>,
    Json(mut body): Json<Value>,
) -> Response {
    if let Some(obj) = body.as_object_mut() {
        obj.remove("hits");
        obj.entry("name").or_insert_with(|| json!(name));
    }
    if body["name"] != json!(name) {
        return ApiError::invalid("name", "must match the name in the URL").into_response();
    }
    let created = state.hub.bot().bundle.intent(&name).is_none();
    let note = if created { format!("add intent {name}") } else { format!("edit intent {name}") };
    let (version, bundle) = match state.hub.edit_rules(&who.name, &note, |b| b.put_intent_json(&body)).await {
        Ok((v, _, bundle)) => (v, bundle),
        Err(e) => return save_failed(e),
    };
    audit(&state, &who.agent_id, "rules.save", &format!("intent:{name}"), json!({"version": version, "note": note}))
        .await;
    let intent = bundle.intent(&name).map(|d| bundle.intent_json(d)).unwrap_or(Value::Null);
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(json!({"version": version, "intent": intent})))
        .into_response()
}

async fn delete_intent(State(state): State<AppState>, Admin(who): Admin, Path(name): Path<String>) -> Response {
    if state.hub.bot().bundle.intent(&name).is_none() {
        return ApiError::not_found("intent").into_response();
    }
    let version =
        match state.hub.edit_rules(&who.name, &format!("delete intent {name}"), |b| Ok(b.remove_intent(&name))).await {
            Ok((v, _, _)) => v,
            Err(e) => return save_failed(e),
        };
    audit(&state, &who.agent_id, "rules.delete", &format!("intent:{name}"), json!({"version": version})).await;
    Json(json!({"version": version})).into_response()
}

#[derive(Deserialize)]
struct Draft {
    intent: Value,
}

/// Validation as you type: the rule set with this draft intent, checked as a save would be.
async fn validate(State(state): State<AppState>, Admin(_a): Admin, Json(d): Json<Draft>) -> ApiResult<Json<Value>> {
    let mut bundle = state.hub.bot().bundle.clone();
    let result = tokio::task::spawn_blocking(move || {
        bundle.put_intent_json(&d.intent).and_then(|_| bundle.build().map(|bot| bot.rules.overlaps()))
    })
    .await
    .map_err(ApiError::internal)?;
    // Overlaps (an example another intent also claims at an equal or higher priority) are
    // shown but do not block a save.
    Ok(Json(match result {
        Ok(overlaps) => json!({"ok": true, "problems": [], "broken_examples": [], "overlaps": overlaps}),
        Err(r) => json!({"ok": false, "problems": r.problems, "broken_examples": r.broken_examples, "overlaps": []}),
    }))
}

#[derive(Deserialize)]
struct TryMessage {
    text: String,
    /// An unsaved draft intent to try instead of the saved one.
    intent: Option<Value>,
}

/// What the bot would do with a message, against the real back office, sending nothing. The
/// reply is the one a customer verified for the record would get.
async fn classify(State(state): State<AppState>, Admin(_a): Admin, Json(t): Json<TryMessage>) -> Response {
    let saved = state.hub.bot();
    let draft;
    let bot = match t.intent {
        Some(mut intent) => {
            let valid_name = intent["name"].as_str().is_some_and(|n| {
                !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
            if !valid_name {
                intent["name"] = json!("draft_preview");
            }
            let mut bundle = saved.bundle.clone();
            let built =
                tokio::task::spawn_blocking(move || bundle.put_intent_json(&intent).and_then(|_| bundle.build())).await;
            let Ok(built) = built else { return ApiError::internal("rule check panicked").into_response() };
            match built {
                Ok(b) => {
                    draft = b;
                    &draft
                }
                Err(r) => return rejected(r),
            }
        }
        None => saved.as_ref(),
    };
    let c = bot.rules.classify(&t.text);
    let backoffice = state.hub.backoffice();
    // Prove the record's owner so the reply shows what a verified customer sees.
    let mut verified = Vec::new();
    for (slot, lookup) in [("order_number", true), ("invoice_number", false)] {
        if let Some(n) = c.slots.get(slot) {
            let email = if lookup {
                backoffice.order(n).await.ok().flatten().map(|o| o.customer_email)
            } else {
                backoffice.invoice(n).await.ok().flatten().map(|i| i.customer_email)
            };
            verified.extend(email.map(|e| e.to_lowercase()));
        }
    }
    let input = Input {
        text: &t.text,
        state: DialogueState::default(),
        locale: c.locale.unwrap_or_default(),
        status: ConversationStatus::Bot,
        verified_emails: &verified,
        strong_emails: &[],
    };
    let reply = match bot.respond(input, backoffice).await {
        Ok(o) => Some(o.replies.join("\n\n")),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    Json(json!({
        "intent": c.intent, "locale": c.locale.unwrap_or_default(), "slots": c.slots,
        "pattern": c.pattern, "excluded": c.excluded, "corrected": c.corrected, "reply": reply,
    }))
    .into_response()
}

async fn export(State(state): State<AppState>, Admin(_a): Admin) -> Json<Value> {
    let bot = state.hub.bot();
    Json(json!({"version": bot.version, "files": bot.bundle.export(), "precedence": PRECEDENCE}))
}

async fn versions(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<Value>> {
    let list = state.queries.rule_versions().await?;
    Ok(Json(json!({"versions": list.iter().map(|v| json!({
        "version": v.version, "author": v.author, "note": v.note, "created_at": views::time(Some(v.created_at)),
    })).collect::<Vec<_>>()})))
}

fn parse_bundle(v: &crate::store::RuleVersion) -> ApiResult<RuleBundle> {
    serde_json::from_str(v.bundle.as_deref().unwrap_or("{}")).map_err(ApiError::internal)
}

async fn version(State(state): State<AppState>, Admin(_a): Admin, Path(version): Path<i64>) -> ApiResult<Json<Value>> {
    let queries = &state.queries;
    let v = queries.rule_version(version).await?.ok_or_else(|| ApiError::not_found("version"))?;
    let new = parse_bundle(&v)?;
    let old = match queries.rule_version(version - 1).await? {
        Some(p) => parse_bundle(&p)?,
        None => RuleBundle { intents: Vec::new(), templates: Default::default() },
    };
    Ok(Json(json!({
        "version": v.version, "author": v.author, "note": v.note, "created_at": views::time(Some(v.created_at)),
        "diff": diff(&old, &new),
    })))
}

#[derive(Deserialize)]
struct RollbackBody {
    version: i64,
}

/// `POST /api/admin/intents/rollback {"version":N}`: the same as the versions/{v}/rollback route.
async fn rollback_named(state: State<AppState>, who: Admin, Json(b): Json<RollbackBody>) -> Response {
    rollback(state, who, Path(b.version)).await
}

async fn rollback(State(state): State<AppState>, Admin(who): Admin, Path(version): Path<i64>) -> Response {
    let v = match state.queries.rule_version(version).await {
        Ok(Some(v)) => v,
        Ok(None) => return ApiError::not_found("version").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let bundle = match parse_bundle(&v) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let note = format!("roll back to version {version}");
    let new = match state
        .hub
        .edit_rules(&who.name, &note, |b| {
            *b = bundle;
            Ok(())
        })
        .await
    {
        Ok((n, _, _)) => n,
        Err(e) => return save_failed(e),
    };
    audit(&state, &who.agent_id, "rules.rollback", &format!("version:{version}"), json!({"version": new})).await;
    Json(json!({"version": new})).into_response()
}

async fn misses(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<Value>> {
    let list = state.queries.misses(200).await?;
    Ok(Json(json!({"misses": list.iter().map(|m| json!({
        "id": m.miss_id, "text": m.sample, "count": m.count, "last_at": views::time(Some(m.last_at)),
    })).collect::<Vec<_>>()})))
}

async fn dismiss_miss(
    State(state): State<AppState>,
    Admin(_a): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.hub.dismiss_miss(&id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::not_found("miss")) }
}

/// Writes an audit entry through the hub; a failure is logged, never fatal to the request that
/// already happened.
pub async fn audit(state: &AppState, actor: &str, action: &str, target: &str, details: Value) {
    state.hub.audit(actor, action, target, details).await;
}
