//! The API's request and response types: what each `/api/…` operation takes and returns, as
//! typed structs (serde) with their OpenAPI schemas (`utoipa::ToSchema`). Handlers build these
//! instead of ad-hoc JSON, so the document (`web::openapi`) describes what they really send.
//! Pure shapes and their mappings from store rows: no IO, no state.

pub mod admin;
pub mod common;
pub mod misc;
pub mod rules;
pub mod staff;

pub use admin::*;
pub use common::*;
pub use misc::*;
pub use rules::*;
pub use staff::*;
