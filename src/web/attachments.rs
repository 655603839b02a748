//! Attachments over HTTP: uploads from the widget (visitor token) and the console (staff), and
//! serving stored files to the visitor who owns the conversation and to staff.
//!
//! - `POST /api/widget/attachments?name=photo.png` — the body is the file's bytes. With the
//!   visitor token (`X-Visitor-Token` header or `visitor_token` query, the credential the widget
//!   socket uses) the file becomes a customer message in the visitor's conversation, through the
//!   hub like any message. With a staff session or bearer token and `conversation_id=…` the file
//!   is only stored; a reply then names it (`"attachments": [id]` in the reply body).
//! - `GET /api/attachments/{id}` — the bytes, to that conversation's visitor or to staff;
//!   another visitor gets 404 (not 403: an id's existence is not revealed), no credential 401.
//!
//! The type is decided by the file's first bytes ([`sniff`]): PNG, JPEG, GIF, WebP or PDF;
//! anything else is refused with 415, whatever its name says. The name is kept only for display,
//! sanitised to a safe subset ([`sanitise_name`]); files are stored under their random id.
//!
//! Storage: on disk, in the attachments folder (default `attachments/` beside the SQLite
//! database file, see [`folder`]), not in the database: files are large and written once,
//! serving them should not hold a database connection, the database stays small for backups
//! and `VACUUM`, and the same layout works for SQLite and PostgreSQL. The row in the store
//! (id, conversation, message, type, size, name, sha256) says who may read which file.

use super::AppState;
use super::api_types as t;
use super::client_addr::ClientIp;
use super::error::{ApiError, ApiResult};
use super::openapi::{Invalid, NotFound, Unauthorized};
use super::session::{Staff, principal_of};
pub use crate::domain::files::{sanitise_name, sniff};
use crate::domain::{AttachmentRef, new_id};
use crate::hub::Inbound;
pub use crate::hub::channel_files::Files;
use crate::store::NewStoredFile;
use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path as FsPath, PathBuf};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Header carrying the widget's visitor token on uploads.
pub const VISITOR_HEADER: &str = "x-visitor-token";

/// The attachments folder: `--attachments-dir` when given; otherwise `attachments/` beside a
/// SQLite database file (the data folder), or `./attachments` (PostgreSQL, in-memory SQLite).
pub fn folder(configured: Option<&FsPath>, database_url: &str) -> PathBuf {
    if let Some(dir) = configured {
        return dir.to_path_buf();
    }
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(""))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match file.and_then(|p| FsPath::new(p).parent()) {
        Some(parent) => parent.join("attachments"),
        None => PathBuf::from("attachments"),
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(upload, super::upload_limits::preflight)).routes(routes!(download))
}

#[derive(Deserialize, Default)]
struct UploadQuery {
    name: Option<String>,
    visitor_token: Option<String>,
    conversation_id: Option<String>,
}

/// Who uploads: a widget visitor (their conversation) or a staff member (a conversation they name).
enum Uploader {
    Visitor { conversation_id: String },
    Staff { agent_id: String, conversation_id: String },
}

fn too_large(max: usize) -> ApiError {
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the file is larger than {max} bytes"))
}

fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_type",
        "only PNG, JPEG, GIF and WebP images and PDF documents can be sent",
    )
}

async fn uploader(state: &AppState, parts: &mut axum::http::request::Parts, q: &UploadQuery) -> ApiResult<Uploader> {
    let token = parts
        .headers
        .get(VISITOR_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| q.visitor_token.clone());
    if let Some(token) = token {
        return match state.hub.visitor_conversation(token.trim()).await? {
            Some(conversation_id) => Ok(Uploader::Visitor { conversation_id }),
            None => Err(ApiError::unauthorized()),
        };
    }
    let Staff(who) = Staff::from_request_parts(parts, state).await?;
    let conversation_id =
        q.conversation_id.clone().ok_or_else(|| ApiError::invalid("conversation_id", "required for staff uploads"))?;
    if state.queries.conversation(&conversation_id).await?.is_none() {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(Uploader::Staff { agent_id: who.agent_id, conversation_id })
}

/// Reads the body, refusing more than `max` bytes (by `Content-Length` before reading, and
/// while reading for bodies that do not announce their length).
async fn read_limited(body: Body, headers: &axum::http::HeaderMap, max: usize) -> ApiResult<Vec<u8>> {
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if announced.is_some_and(|n: usize| n > max) {
        return Err(too_large(max));
    }
    match axum::body::to_bytes(body, max).await {
        Ok(b) => Ok(b.to_vec()),
        // The only limit here is the size (a broken connection cannot be answered anyway).
        Err(_) => Err(too_large(max)),
    }
}

/// Upload an image or PDF
///
/// The body is the file's bytes. With the visitor token (the widget) the file becomes a
/// customer message in the visitor's conversation; with a staff credential and
/// `conversation_id` it is only stored, and a reply names it in `attachments`. The type is
/// found from the first bytes: PNG, JPEG, GIF, WebP or PDF.
#[utoipa::path(post, path = "/api/widget/attachments", tag = "conversations", operation_id = "uploadAttachment",
    security((), ("cookieAuth" = []), ("bearerAuth" = [])),
    params(
        ("name" = Option<String>, Query, description = "The file's name (display only; sanitised)"),
        ("conversation_id" = Option<String>, Query, description = "Staff uploads: the conversation"),
        ("visitor_token" = Option<String>, Query, description = "The widget's visitor token (or the header)"),
        ("X-Visitor-Token" = Option<String>, Header, description = "The widget's visitor token"),
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "Stored", body = t::Uploaded),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 413, description = "Larger than the upload limit (`too_large`)", body = t::ErrorBody),
        (status = 415, description = "Not an accepted type, by content (`unsupported_type`)", body = t::ErrorBody),
        (status = 429, description = "Too many files from this visitor or address (`rate_limited`, with `Retry-After`)", body = t::ErrorBody),
        (status = 422, response = Invalid),
    ))]
async fn upload(State(state): State<AppState>, ClientIp(ip): ClientIp, request: Request) -> Response {
    let origin = super::upload_limits::allowed_origin(&state, request.headers());
    let response = match upload_inner(&state, ip, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    super::upload_limits::with_cors(origin, response)
}

async fn upload_inner(state: &AppState, ip: std::net::IpAddr, request: Request) -> ApiResult<Response> {
    let (mut parts, body) = request.into_parts();
    let q: UploadQuery = Query::try_from_uri(&parts.uri).map(|Query(q)| q).unwrap_or_default();
    let who = uploader(state, &mut parts, &q).await?;
    if let Uploader::Visitor { conversation_id } = &who
        && let Some(refusal) = super::upload_limits::admit(state, conversation_id, ip).await?
    {
        return Ok(refusal);
    }
    let max = state.files.max_bytes();
    let bytes = read_limited(body, &parts.headers, max).await?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("body", "the file is empty"));
    }
    let content_type = sniff(&bytes).ok_or_else(unsupported)?;
    let (conversation_id, uploaded_by) = match &who {
        Uploader::Visitor { conversation_id } => (conversation_id.clone(), "visitor".to_string()),
        Uploader::Staff { agent_id, conversation_id } => (conversation_id.clone(), agent_id.clone()),
    };
    let file = NewStoredFile {
        attachment_id: new_id(),
        conversation_id: conversation_id.clone(),
        content_type: content_type.to_string(),
        size: bytes.len() as i64,
        name: sanitise_name(q.name.as_deref(), content_type),
        sha256: hex::encode(Sha256::digest(&bytes)),
        uploaded_by,
    };
    state.files.write(&file.attachment_id, bytes).await.map_err(ApiError::internal)?;
    state.hub.store_attachment(&file).await?;
    let attachment = AttachmentRef {
        id: file.attachment_id.clone(),
        name: file.name.clone(),
        content_type: file.content_type.clone(),
        size: file.size,
        url: format!("/api/attachments/{}", file.attachment_id),
    };
    let mut body = t::Uploaded { attachment: t::AttachmentJson::from(&attachment), message: None };
    if let Uploader::Visitor { conversation_id } = &who {
        let text = format!("📎 {}", attachment.name);
        let client_msg_id = format!("attachment:{}", attachment.id);
        let inbound =
            Inbound { text: &text, client_msg_id: Some(&client_msg_id), external_id: None, channel_meta: None };
        let ids = [attachment.id.clone()];
        let ack = state.hub.receive_with_files(conversation_id, inbound, Some(ip), &ids).await?;
        body.message = Some(t::UploadedMessage { id: ack.id, seq: ack.seq });
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
struct DownloadQuery {
    visitor_token: Option<String>,
}

/// Who asks for a file: a visitor (the conversation their token opens, `None` for an unknown
/// token) or staff. Without any credential the answer is 401, like every `/api` route.
enum Reader {
    Visitor(Option<String>),
    Staff,
}

async fn reader(state: &AppState, parts: &axum::http::request::Parts, token: Option<String>) -> ApiResult<Reader> {
    if let Some(token) = token {
        return Ok(Reader::Visitor(state.hub.visitor_conversation(token.trim()).await?));
    }
    match principal_of(parts, state).await {
        Ok(Some(_)) => Ok(Reader::Staff),
        _ => Err(ApiError::unauthorized()),
    }
}

/// Download an attachment (staff, or the owning visitor's token)
///
/// Staff read every file; a visitor only their conversation's. Anyone else gets 404 (not 403:
/// whether an id exists is not revealed).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "conversations", operation_id = "getAttachment",
    security((), ("cookieAuth" = []), ("bearerAuth" = [])),
    params(
        ("id" = String, Path, description = "Attachment id"),
        ("visitor_token" = Option<String>, Query, description = "The widget's visitor token (or the header)"),
        ("X-Visitor-Token" = Option<String>, Header, description = "The widget's visitor token"),
    ),
    responses(
        (status = 200, description = "The bytes with the sniffed content type; nosniff",
            content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
    request: Request,
) -> ApiResult<Response> {
    let (parts, _) = request.into_parts();
    let token = parts.headers.get(VISITOR_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string).or(q.visitor_token);
    let who = reader(&state, &parts, token).await?;
    let file = state.queries.attachment(&id).await?;
    let file = match (who, file) {
        (Reader::Staff, Some(f)) => f,
        (Reader::Visitor(Some(conversation_id)), Some(f)) if f.conversation_id == conversation_id => f,
        _ => return Err(ApiError::not_found("attachment")),
    };
    let path = state.files.path_of(&file.attachment.id);
    let bytes = match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!(attachment_id = %id, "attachment row without its file");
            return Err(ApiError::not_found("attachment"));
        }
        Ok(Err(e)) => return Err(ApiError::internal(e)),
        Err(e) => return Err(ApiError::internal(e)),
    };
    let a = &file.attachment;
    let disposition = if a.content_type.starts_with("image/") { "inline" } else { "attachment" };
    let disposition = format!("{disposition}; filename=\"{}\"", a.name);
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    let value = |s: &str| HeaderValue::from_str(s).map_err(ApiError::internal);
    h.insert(header::CONTENT_TYPE, value(&a.content_type)?);
    h.insert(header::CONTENT_DISPOSITION, value(&disposition)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Opened directly, a stored file runs nothing and loads nothing.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_sits_beside_the_sqlite_file() {
        assert_eq!(folder(None, "sqlite:///var/lib/kituo/kituo.db"), PathBuf::from("/var/lib/kituo/attachments"));
        assert_eq!(folder(None, "sqlite://data/kituo.db?mode=rwc"), PathBuf::from("data/attachments"));
        assert_eq!(folder(None, "postgres://u@h/db"), PathBuf::from("attachments"));
        assert_eq!(folder(Some(FsPath::new("/srv/files")), "sqlite://k.db"), PathBuf::from("/srv/files"));
    }
}
