//! Admin API for the bot's rules (`/api/admin/intents…`): read, validate, save (a new version
//! of the whole rule set, in force at once), delete, try a message, history with diffs,
//! rollback, export, and the messages the bot did not understand.

use super::AppState;
use super::api_types::{
    self as t, Classification, Export, IntentList, IntentSaved, MissList, RuleVersionDiff, RuleVersionList,
    ValidationResult, VersionOnly,
};
use super::error::{ApiError, ApiResult};
use super::openapi::{Conflict, Forbidden, InvalidRules, NotFound, Unauthorized};
use super::session::Admin;
use crate::bot::bundle::{Rejection, RuleBundle, diff};
use crate::bot::{DialogueState, Input};
use crate::domain::ConversationStatus;
use crate::hub::SaveError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(classify))
        .routes(routes!(validate))
        .routes(routes!(export))
        .routes(routes!(versions))
        .routes(routes!(version))
        .routes(routes!(rollback))
        .routes(routes!(rollback_named))
        .routes(routes!(misses))
        .routes(routes!(dismiss_miss))
        .routes(routes!(get_intent, put_intent, delete_intent))
}

pub const PRECEDENCE: &str = "The files in intents/ and templates/ are the initial rule set: on the first start of an \
     empty database they are stored as version 1. From then on the database wins: edits in the admin pages are new \
     versions, and the files are read again only by `kituo intents import`, which stores them as a new version \
     (validated like any save). `kituo intents export DIR` and this endpoint write the current version back as files.";

fn rejected(r: Rejection) -> Response {
    let body = t::Rejection {
        error: t::RejectionError {
            code: "invalid_rules",
            message: format!("the rule set was not saved: {}", r.summary()),
        },
        problems: r.problems,
        broken_examples: r.broken_examples,
    };
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

/// The intents of the rule set in force
#[utoipa::path(get, path = "/api/admin/intents", tag = "admin: rules", operation_id = "listIntents",
    responses(
        (status = 200, description = "OK", body = IntentList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn list(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<IntentList>> {
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
    Ok(Json(IntentList { version: bot.version, intents }))
}

/// One intent
#[utoipa::path(get, path = "/api/admin/intents/{name}", tag = "admin: rules", operation_id = "getIntent",
    params(("name" = String, Path, description = "Intent name")),
    responses(
        (status = 200, description = "OK", body = t::Intent),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
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

/// Create or replace an intent (new rule-set version)
///
/// The body's `name` may be left out; if given it must match the URL. `hits` is ignored.
#[utoipa::path(put, path = "/api/admin/intents/{name}", tag = "admin: rules", operation_id = "putIntent",
    params(("name" = String, Path, description = "Intent name")),
    request_body = t::IntentDraft,
    responses(
        (status = 200, description = "Replaced", body = IntentSaved),
        (status = 201, description = "Created", body = IntentSaved),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidRules),
    ))]
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
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(IntentSaved { version, intent })).into_response()
}

/// Delete an intent (new rule-set version)
#[utoipa::path(delete, path = "/api/admin/intents/{name}", tag = "admin: rules", operation_id = "deleteIntent",
    params(("name" = String, Path, description = "Intent name")),
    responses(
        (status = 200, description = "OK", body = VersionOnly),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidRules),
    ))]
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
    Json(VersionOnly { version }).into_response()
}

/// Validate a draft intent (as you type)
///
/// The rule set with this draft intent, checked as a save would be. Nothing is stored.
#[utoipa::path(post, path = "/api/admin/intents/validate", tag = "admin: rules", operation_id = "validateIntent",
    request_body = t::Draft,
    responses(
        (status = 200, description = "`ok`: a save would succeed", body = ValidationResult),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn validate(
    State(state): State<AppState>,
    Admin(_a): Admin,
    Json(d): Json<t::Draft>,
) -> ApiResult<Json<ValidationResult>> {
    let mut bundle = state.hub.bot().bundle.clone();
    let result = tokio::task::spawn_blocking(move || {
        bundle.put_intent_json(&d.intent).and_then(|_| bundle.build().map(|bot| bot.rules.overlaps()))
    })
    .await
    .map_err(ApiError::internal)?;
    // Overlaps (an example another intent also claims at an equal or higher priority) are
    // shown but do not block a save.
    Ok(Json(match result {
        Ok(overlaps) => ValidationResult { ok: true, problems: Vec::new(), broken_examples: Vec::new(), overlaps },
        Err(r) => ValidationResult {
            ok: false,
            problems: r.problems,
            broken_examples: r.broken_examples,
            overlaps: Vec::new(),
        },
    }))
}

/// Try a message against the rules (sends nothing)
///
/// What the bot would do with a message, against the real back office, sending nothing. The
/// reply is the one a customer verified for the record would get.
#[utoipa::path(post, path = "/api/admin/intents/classify", tag = "admin: rules", operation_id = "classifyMessage",
    request_body = t::TryMessage,
    responses(
        (status = 200, description = "OK", body = Classification),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 422, response = InvalidRules),
    ))]
async fn classify(State(state): State<AppState>, Admin(_a): Admin, Json(t): Json<t::TryMessage>) -> Response {
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
    Json(Classification {
        intent: c.intent,
        locale: c.locale.unwrap_or_default(),
        slots: c.slots,
        pattern: c.pattern,
        excluded: c.excluded,
        corrected: c.corrected,
        reply,
    })
    .into_response()
}

/// The rule set in force as files
#[utoipa::path(get, path = "/api/admin/intents/export", tag = "admin: rules", operation_id = "exportRules",
    responses(
        (status = 200, description = "OK", body = Export),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn export(State(state): State<AppState>, Admin(_a): Admin) -> Json<Export> {
    let bot = state.hub.bot();
    Json(Export { version: bot.version, files: bot.bundle.export(), precedence: PRECEDENCE })
}

/// Rule-set version history
#[utoipa::path(get, path = "/api/admin/intents/versions", tag = "admin: rules", operation_id = "listRuleVersions",
    responses(
        (status = 200, description = "OK", body = RuleVersionList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn versions(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<RuleVersionList>> {
    let list = state.queries.rule_versions().await?;
    Ok(Json(RuleVersionList { versions: list.iter().map(t::RuleVersion::from).collect() }))
}

fn parse_bundle(v: &crate::store::RuleVersion) -> ApiResult<RuleBundle> {
    serde_json::from_str(v.bundle.as_deref().unwrap_or("{}")).map_err(ApiError::internal)
}

/// A version with its diff to the previous one
#[utoipa::path(get, path = "/api/admin/intents/versions/{version}", tag = "admin: rules", operation_id = "getRuleVersion",
    params(("version" = i64, Path, description = "Version number")),
    responses(
        (status = 200, description = "OK", body = RuleVersionDiff),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn version(
    State(state): State<AppState>,
    Admin(_a): Admin,
    Path(version): Path<i64>,
) -> ApiResult<Json<RuleVersionDiff>> {
    let queries = &state.queries;
    let v = queries.rule_version(version).await?.ok_or_else(|| ApiError::not_found("version"))?;
    let new = parse_bundle(&v)?;
    let old = match queries.rule_version(version - 1).await? {
        Some(p) => parse_bundle(&p)?,
        None => RuleBundle { intents: Vec::new(), templates: Default::default() },
    };
    Ok(Json(RuleVersionDiff { version: t::RuleVersion::from(&v), diff: diff(&old, &new) }))
}

/// Roll back to a version given in the body (the same as versions/{version}/rollback)
#[utoipa::path(post, path = "/api/admin/intents/rollback", tag = "admin: rules", operation_id = "rollbackRulesByBody",
    request_body = VersionOnly,
    responses(
        (status = 200, description = "The new version", body = VersionOnly),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidRules),
    ))]
async fn rollback_named(state: State<AppState>, who: Admin, Json(b): Json<VersionOnly>) -> Response {
    rollback(state, who, Path(b.version)).await
}

/// Roll back to a version (stored as a new version)
#[utoipa::path(post, path = "/api/admin/intents/versions/{version}/rollback", tag = "admin: rules",
    operation_id = "rollbackRules",
    params(("version" = i64, Path, description = "Version number")),
    responses(
        (status = 200, description = "The new version", body = VersionOnly),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 422, response = InvalidRules),
    ))]
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
    Json(VersionOnly { version: new }).into_response()
}

/// Messages the bot did not understand, grouped
#[utoipa::path(get, path = "/api/admin/intents/misses", tag = "admin: rules", operation_id = "listMisses",
    responses(
        (status = 200, description = "OK", body = MissList),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
async fn misses(State(state): State<AppState>, Admin(_a): Admin) -> ApiResult<Json<MissList>> {
    let list = state.queries.misses(200).await?;
    Ok(Json(MissList { misses: list.iter().map(t::Miss::from).collect() }))
}

/// Dismiss a group of misses
#[utoipa::path(post, path = "/api/admin/intents/misses/{id}/dismiss", tag = "admin: rules", operation_id = "dismissMiss",
    params(("id" = String, Path, description = "Miss id")),
    responses(
        (status = 204, description = "Dismissed"),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
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
