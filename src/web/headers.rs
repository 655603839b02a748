//! Security headers on every response, set in one middleware so no route can forget them.
//!
//! Everything gets `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin`. Staff
//! pages (login, console, admin) and every other response get a Content-Security-Policy that
//! allows script and style only from files of this origin (no inline script or style) and no
//! framing (`frame-ancestors 'none'`, plus `X-Frame-Options: DENY` for old browsers), so a page
//! on another origin cannot put the console in an iframe and trick an agent into clicking.
//! What a customer's site embeds is the exception: the demo shop (`/`) may be framed and lets
//! the widget add its stylesheet, and the widget script carries no framing rule at all.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Staff pages and everything else: files of this origin only, never framed. Images may come
/// from HTTPS hosts (Discord avatars in the console).
pub const STAFF_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The demo shop: scripts from this origin only; inline style allowed because the widget adds
/// its own `<style>` element to the page that embeds it; framing allowed (it stands for a
/// customer's site).
pub const DEMO_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// What a path may be: embedded by other origins (the shop page, the widget script) or not.
fn policy(path: &str) -> Option<&'static str> {
    match path {
        "/" => Some(DEMO_CSP),
        // A script's own CSP is ignored by the page that loads it; no framing rule either.
        "/widget.js" => None,
        _ => Some(STAFF_CSP),
    }
}

/// Adds the headers after the handler ran; a header the handler set itself is kept.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    match policy(&path) {
        Some(STAFF_CSP) => {
            set(header::CONTENT_SECURITY_POLICY, STAFF_CSP);
            set(header::X_FRAME_OPTIONS, "DENY");
        }
        Some(csp) => set(header::CONTENT_SECURITY_POLICY, csp),
        None => {}
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_customer_facing_paths_may_be_framed() {
        assert_eq!(policy("/console"), Some(STAFF_CSP));
        assert_eq!(policy("/admin"), Some(STAFF_CSP));
        assert_eq!(policy("/login"), Some(STAFF_CSP));
        assert_eq!(policy("/"), Some(DEMO_CSP));
        assert_eq!(policy("/widget.js"), None);
        assert!(STAFF_CSP.contains("frame-ancestors 'none'") && !STAFF_CSP.contains("unsafe-inline"));
        assert!(!DEMO_CSP.contains("frame-ancestors") && !DEMO_CSP.contains("script-src 'self' 'unsafe"));
    }
}
