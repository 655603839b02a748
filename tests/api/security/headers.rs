//! Every page and script carries nosniff and `Referrer-Policy`; staff pages a CSP without inline
//! script or style that forbids framing (plus `X-Frame-Options: DENY`); the demo shop and the
//! widget script stay embeddable on other origins.

use crate::helpers::{Resp, backends, http, spawn_app};

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The CSP directive `name` ("" when the policy lacks it).
fn directive<'a>(csp: &'a str, name: &str) -> &'a str {
    csp.split(';').map(str::trim).find(|d| d.split_whitespace().next() == Some(name)).unwrap_or("")
}

#[tokio::test]
async fn pages_and_scripts_carry_security_headers_and_staff_pages_refuse_framing() {
    for backend in backends() {
        let app = spawn_app(backend).await;
        let staff = [
            "/login",
            "/login.js",
            "/login.css",
            "/console",
            "/console.js",
            "/console.css",
            "/admin",
            "/admin.js",
            "/admin.css",
            "/api/openapi.json",
            "/api/me",
            "/health",
            "/ready",
            "/metrics",
        ];
        for path in staff {
            let r = http(app.addr, "GET", path, &[], None).await;
            assert_ne!(r.status, 404, "{path} exists");
            assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
            assert_eq!(header(&r, "referrer-policy"), "same-origin", "{path}");
            assert_eq!(header(&r, "x-frame-options"), "DENY", "{path}");
            let csp = header(&r, "content-security-policy");
            assert_eq!(directive(csp, "frame-ancestors"), "frame-ancestors 'none'", "{path}: {csp}");
            assert_eq!(directive(csp, "script-src"), "script-src 'self'", "{path}: {csp}");
            assert_eq!(directive(csp, "style-src"), "style-src 'self'", "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        }
        // Staff pages keep no inline script or style, so the policy costs them nothing.
        for page in ["/login", "/console", "/admin"] {
            let html = http(app.addr, "GET", page, &[], None).await.text;
            assert!(!html.contains("<script>") && !html.contains("<style"), "{page} has inline script or style");
            assert!(!html.contains(" style=\""), "{page} has an inline style attribute");
        }

        // The demo shop stands for a customer's site: it may be framed and the widget may style it.
        let shop = http(app.addr, "GET", "/", &[], None).await;
        assert_eq!(shop.status, 200);
        assert_eq!(header(&shop, "x-content-type-options"), "nosniff");
        assert_eq!(header(&shop, "referrer-policy"), "same-origin");
        assert_eq!(header(&shop, "x-frame-options"), "", "the shop may be framed");
        let csp = header(&shop, "content-security-policy");
        assert_eq!(directive(csp, "frame-ancestors"), "", "the shop may be framed: {csp}");
        assert_eq!(directive(csp, "script-src"), "script-src 'self'", "{csp}");
        assert!(!shop.text.contains("<script>"), "the shop page has no inline script");
        let demo_js = http(app.addr, "GET", "/demo.js", &[], None).await;
        assert_eq!(demo_js.status, 200);
        assert_eq!(header(&demo_js, "x-content-type-options"), "nosniff");

        // The widget script loads on any origin and carries no framing rule.
        let widget = http(app.addr, "GET", "/widget.js", &[("origin", "https://shop.example")], None).await;
        assert_eq!(widget.status, 200);
        assert_eq!(header(&widget, "x-content-type-options"), "nosniff");
        assert_eq!(header(&widget, "referrer-policy"), "same-origin");
        assert_eq!(header(&widget, "access-control-allow-origin"), "*");
        assert_eq!(header(&widget, "x-frame-options"), "");
        assert!(header(&widget, "content-type").starts_with("application/javascript"));

        // Error responses too (a refused API call is still a response a browser may render).
        let refused = http(app.addr, "GET", "/api/conversations", &[], None).await;
        assert_eq!(refused.status, 401);
        assert_eq!(header(&refused, "x-frame-options"), "DENY");
        assert_eq!(header(&refused, "x-content-type-options"), "nosniff");
    }
}
