//! The OpenAPI document, generated: the routes under `/api/` (and the customer-facing HTTP
//! routes) are registered through `utoipa_axum`'s `OpenApiRouter`, which adds each handler's
//! `#[utoipa::path]` and the schemas of its types (`api_types`) to the document as it adds the
//! route. [`api_routes`] is the one place the documented routes are assembled: `web::router`
//! serves them, [`document`] describes them. Served staff-only at `GET /api/openapi.json`.
//! Nothing here touches state.

use super::AppState;
use super::session::Staff;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DESCRIPTION: &str = "Staff and admin API of Kituo, a customer-support hub (web chat, email, Discord) \
with a rule-based bot and back-office lookups. This document is generated from the handlers and their types.\n\n\
**Auth:** every operation except `POST /api/login`, the widget's and the rating page's needs the session \
cookie `kituo_session` (from `POST /api/login`, 12 h) or `Authorization: Bearer kt_…` (from \
`/api/admin/tokens`; acts with its role for the admin who made it). Cookie requests other than \
GET/HEAD/OPTIONS must send the session's `csrf_token` (from login or `GET /api/me`) as `X-CSRF-Token`, \
else 403. `/api/admin/*` needs role `admin` (else 403).\n\n\
**Errors:** `{\"error\":{\"code\",\"message\"}}`: 401 `unauthorized`/`bad_credentials`, 403 `forbidden`, \
404 `not_found`, 409 `already_assigned`/`resolved`/`not_assigned`/`not_resolved`/`conflict`/`not_failed`, \
422 `invalid` or `invalid_rules` (with `problems`, `broken_examples`), 429 `rate_limited`, 503 `busy` or \
`backoffice_unavailable`; any operation may return 500 `internal`. Bodies or parameters that cannot be \
parsed at all (bad JSON, missing or ill-typed field) get the framework's plain-text 400/415/422.\n\n\
**WebSockets** (not described here): `/ws/chat` is the widget's socket, `/ws/agent` the console's.";

#[derive(OpenApi)]
#[openapi(
    info(title = "Kituo", description = DESCRIPTION),
    tags(
        (name = "auth"), (name = "conversations"), (name = "contacts"), (name = "back office"),
        (name = "agents"), (name = "reports"), (name = "admin: rules"), (name = "admin: agents"),
        (name = "admin: settings"), (name = "email"), (name = "satisfaction"), (name = "labels"),
        (name = "meta"),
    ),
    security(("cookieAuth" = []), ("bearerAuth" = [])),
    components(
        schemas(super::api_types::ErrorBody, super::api_types::Rejection),
        responses(Unauthorized, Forbidden, NotFound, Invalid, Conflict, RateLimited, Busy, InvalidRules),
    ),
    modifiers(&SecuritySchemes),
)]
struct ApiDoc;

/// The two credentials: the console's session cookie and an API token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let cookie = ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "Session from `POST /api/login` (12 h). On POST/PUT/PATCH/DELETE also send the session's \
             `csrf_token` as header `X-CSRF-Token`, else 403.",
        );
        components.add_security_scheme("cookieAuth", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("API token `kt_…` from `POST /api/admin/tokens`; no CSRF header needed."))
            .build();
        components.add_security_scheme("bearerAuth", SecurityScheme::Http(bearer));
    }
}

/// A reusable error response: its name in `components/responses`, its description, the schema
/// of its body.
macro_rules! error_response {
    ($name:ident, $schema:literal, $description:literal) => {
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                let content = ContentBuilder::new().schema(Some(Ref::from_schema_name($schema))).build();
                let response =
                    ResponseBuilder::new().description($description).content("application/json", content).build();
                (stringify!($name), response.into())
            }
        }
    };
}

error_response!(Unauthorized, "Error", "`unauthorized`: no valid session cookie or bearer token.");
error_response!(
    Forbidden,
    "Error",
    "`forbidden`: wrong or missing `X-CSRF-Token` (cookie session), or not an admin (`/api/admin/*`)."
);
error_response!(NotFound, "Error", "`not_found`.");
error_response!(Invalid, "Error", "`invalid`: the message starts with the field name.");
error_response!(
    Conflict,
    "Error",
    "Not allowed in the current state: `already_assigned`, `resolved`, `not_assigned`, `not_resolved`, \
     `conflict` or `not_failed`."
);
error_response!(RateLimited, "Error", "`rate_limited`: too many attempts; see `Retry-After`.");
error_response!(Busy, "Error", "`busy` (try again) or `backoffice_unavailable`.");
error_response!(InvalidRules, "Rejection", "The rule set would not build (`invalid_rules`); nothing changed.");

/// Every documented route, with the document they make. `web::router` merges these (plus the
/// static pages and the sockets) and serves them.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(serve))
        .merge(super::staff_api::router())
        .merge(super::reports_api::router())
        .merge(super::search_api::router())
        .merge(super::admin_api::router())
        .merge(super::rules_api::router())
        .merge(super::settings::router())
        .merge(super::labels_api::router())
        .merge(super::csat_api::router())
        .merge(super::email_api::router())
        .merge(super::attachments::router())
}

/// The generated document.
pub fn document() -> utoipa::openapi::OpenApi {
    api_routes().into_openapi()
}

/// The document as served: built once.
static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    // Serialising plain data (strings, maps, numbers) cannot fail.
    document().to_json().expect("the OpenAPI document serialises")
});

/// This document. Like every `/api/*` route, for staff only.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    operation_id = "getOpenApi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object),
        (status = 401, response = Unauthorized),
    )
)]
async fn serve(_staff: Staff) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-cache")], DOCUMENT_JSON.as_str())
}
