//! A minimal JSON-RPC client for Tryton (`POST /<db>/rpc/`): one HTTP/1.1 request per call over
//! a fresh connection (loopback or LAN: a few ms), TLS for `trytons://`. Logs in once with
//! `common.db.login`, sends `Authorization: Session …`, and logs in again when the session expires.
//! Errors never carry the password or the session.

use crate::backoffice::Error;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Where Tryton is, parsed from `tryton://USER:PASSWORD@HOST:PORT/DATABASE[?company=ID]`.
#[derive(Clone)]
pub struct Target {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    password: String,
    pub company: Option<i64>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl Target {
    pub fn parse(raw: &str) -> Result<Target, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("not a tryton:// URL: {e}"))?;
        let tls = match url.scheme() {
            "tryton" => false,
            "trytons" => true,
            other => return Err(format!("unknown back-office scheme {other:?}: use tryton:// or trytons://")),
        };
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("the Tryton URL has no host")?.to_string();
        let database = url.path().trim_matches('/').to_string();
        if database.is_empty() || database.contains('/') {
            return Err("the Tryton URL must end in /DATABASE".into());
        }
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        let user = decode(url.username());
        if user.is_empty() {
            return Err("the Tryton URL has no user (tryton://USER:PASSWORD@HOST:PORT/DATABASE)".into());
        }
        let password = decode(url.password().unwrap_or(""));
        let mut company = None;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "company" => company = Some(v.parse().map_err(|_| format!("company={v:?} is not a number"))?),
                other => return Err(format!("unknown option {other:?} in the Tryton URL")),
            }
        }
        let port = url.port().unwrap_or(if tls { 443 } else { 8000 });
        Ok(Target { tls, host, port, database, user, password, company })
    }

    /// The URL without the password, for logs and the admin page.
    pub fn redacted(&self) -> String {
        let scheme = if self.tls { "trytons" } else { "tryton" };
        format!("{scheme}://{}:***@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

pub struct Rpc {
    target: Target,
    session: tokio::sync::Mutex<Option<String>>,
}

fn down(what: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("Tryton: {what}"))
}

impl Rpc {
    pub fn new(target: Target) -> Rpc {
        Rpc { target, session: tokio::sync::Mutex::new(None) }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Calls `method` with `params`, logging in first or again as needed.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, Error> {
        let body = json!({"id": 1, "method": method, "params": params});
        for attempt in 0..2 {
            let auth = self.session_header(attempt > 0).await?;
            match self.post(&body, Some(&auth)).await? {
                (401 | 403, _) => continue,
                (_, v) => return answer(method, v),
            }
        }
        Err(down("the session was refused twice after logging in"))
    }

    async fn session_header(&self, renew: bool) -> Result<String, Error> {
        let mut session = self.session.lock().await;
        if renew || session.is_none() {
            let params = json!([self.target.user, {"password": self.target.password}, "en"]);
            let body = json!({"id": 0, "method": "common.db.login", "params": params});
            let (status, v) = self.post(&body, None).await?;
            let v =
                if status == 200 { answer("common.db.login", v) } else { Err(down(format!("login HTTP {status}"))) };
            let v = v.map_err(|_| down("login refused (check the user and password)"))?;
            let (Some(uid), Some(token)) = (v.get(0).and_then(Value::as_i64), v.get(1).and_then(Value::as_str)) else {
                return Err(down("login answered without a session"));
            };
            *session = Some(format!("Session {}", base64(&format!("{}:{uid}:{token}", self.target.user))));
        }
        Ok(session.clone().unwrap_or_default())
    }

    async fn post(&self, body: &Value, auth: Option<&str>) -> Result<(u16, Value), Error> {
        let t = &self.target;
        let payload = body.to_string();
        let mut head = format!(
            "POST /{}/rpc/ HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            t.database,
            t.host,
            t.port,
            payload.len()
        );
        if let Some(a) = auth {
            head.push_str(&format!("Authorization: {a}\r\n"));
        }
        head.push_str("\r\n");
        head.push_str(&payload);
        let tcp = tokio::net::TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(|e| down(format!("cannot connect to {}:{}: {e}", t.host, t.port)))?;
        let _ = tcp.set_nodelay(true);
        let raw = if t.tls {
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(t.host.clone())
                .map_err(|_| down("the host is not a valid TLS name"))?;
            let connector = crate::net::tls_connector().map_err(|e| down(format!("TLS: {e}")))?;
            let tls = connector.connect(name, tcp).await.map_err(|e| down(format!("TLS handshake: {e}")))?;
            exchange(tls, head.as_bytes()).await?
        } else {
            exchange(tcp, head.as_bytes()).await?
        };
        parse_response(&raw)
    }
}

async fn exchange(mut s: impl AsyncRead + AsyncWrite + Unpin, request: &[u8]) -> Result<Vec<u8>, Error> {
    s.write_all(request).await.map_err(|e| down(format!("send: {e}")))?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.map_err(|e| down(format!("receive: {e}")))?;
    Ok(out)
}

fn parse_response(raw: &[u8]) -> Result<(u16, Value), Error> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| down("truncated HTTP answer"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status: u16 =
        head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| down("bad HTTP status"))?;
    let mut body = raw[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    if status == 401 || status == 403 {
        return Ok((status, Value::Null));
    }
    if status != 200 {
        return Err(down(format!("HTTP {status}")));
    }
    let v = serde_json::from_slice(&body).map_err(|e| down(format!("not JSON: {e}")))?;
    Ok((status, v))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}

/// The `result` of a JSON-RPC answer; an `error` becomes [`Error::Refused`] (Tryton said no)
/// with Tryton's message, which names the rule, never our credentials.
fn answer(method: &str, v: Value) -> Result<Value, Error> {
    if let Some(e) = v.get("error").filter(|e| !e.is_null()) {
        let text = match e {
            Value::Array(parts) => parts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(": "),
            other => other.to_string(),
        };
        return Err(Error::Refused(format!("{method}: {}", text.chars().take(300).collect::<String>())));
    }
    Ok(v.get("result").cloned().unwrap_or(Value::Null))
}

fn base64(s: &str) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        let t = Target::parse("tryton://admin:s%40cret@127.0.0.1:8011/shop?company=2").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.database.as_str(), t.company), ("127.0.0.1", 8011, "shop", Some(2)));
        assert_eq!(t.password, "s@cret");
        assert!(!t.redacted().contains("cret") && !format!("{t:?}").contains("cret"));
        assert!(Target::parse("trytons://u:p@erp.example.com/db").unwrap().tls);
        assert!(Target::parse("tryton://u:p@h:1/").is_err());
        assert!(Target::parse("http://u:p@h:1/db").is_err());
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64("admin:1:abc"), "YWRtaW46MTphYmM=");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
    }
}
