//! Staff authentication: argon2 password hashes, console sessions (cookie + CSRF token),
//! bearer API tokens, and login rate limiting per IP and per account. Secrets are random 256-bit
//! tokens of which only SHA-256 hashes are stored.

use crate::domain::{Millis, new_secret, now_ms};
use crate::store::{Principal, Store};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "kituo_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).expect("16 bytes make a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody knows: verifying against it costs what a real check costs, so a
/// login for an unknown email takes as long as one with a wrong password.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_secret()))
}

/// A random password for generated accounts: 20 characters without look-alikes.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect()
}

/// A new session: (cookie value, csrf token). The cookie value is stored only as a hash.
pub async fn create_session(store: &Store, agent_id: &str) -> crate::store::Result<(String, String)> {
    let token = new_secret();
    let csrf = new_secret();
    let expires: Millis = now_ms() + SESSION_TTL.as_millis() as i64;
    store.create_session(&sha256_hex(&token), agent_id, &csrf, expires).await?;
    Ok((token, csrf))
}

pub async fn session_principal(store: &Store, cookie_value: &str) -> crate::store::Result<Option<Principal>> {
    store.session_principal(&sha256_hex(cookie_value)).await
}

pub async fn bearer_principal(store: &Store, token: &str) -> crate::store::Result<Option<Principal>> {
    store.token_principal(&sha256_hex(token)).await
}

/// The value of one cookie in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// Failed-login counters: per IP and per account, in a sliding window.
pub struct LoginLimiter {
    state: Mutex<HashMap<String, (u32, Instant)>>,
    window: Duration,
    per_ip: u32,
    per_account: u32,
}

impl Default for LoginLimiter {
    fn default() -> LoginLimiter {
        LoginLimiter { state: Mutex::default(), window: Duration::from_secs(15 * 60), per_ip: 20, per_account: 5 }
    }
}

impl LoginLimiter {
    fn count(&self, key: &str) -> u32 {
        let map = self.state.lock().expect("limiter mutex poisoned: a holder panicked");
        map.get(key).filter(|(_, since)| since.elapsed() < self.window).map_or(0, |(n, _)| *n)
    }

    /// Whether another attempt is allowed now.
    pub fn allowed(&self, ip: IpAddr, account: &str) -> bool {
        self.count(&format!("ip:{ip}")) < self.per_ip
            && self.count(&format!("acct:{}", account.to_lowercase())) < self.per_account
    }

    pub fn failed(&self, ip: IpAddr, account: &str) {
        let mut map = self.state.lock().expect("limiter mutex poisoned: a holder panicked");
        for key in [format!("ip:{ip}"), format!("acct:{}", account.to_lowercase())] {
            let entry = map.entry(key).or_insert((0, Instant::now()));
            if entry.1.elapsed() >= self.window {
                *entry = (0, Instant::now());
            }
            entry.0 += 1;
        }
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
    }

    pub fn succeeded(&self, account: &str) {
        let mut map = self.state.lock().expect("limiter mutex poisoned: a holder panicked");
        map.remove(&format!("acct:{}", account.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn cookies_are_read_by_name() {
        assert_eq!(cookie_value("a=1; kituo_session=abc; b=2", SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value("a=1", SESSION_COOKIE), None);
    }

    #[test]
    fn limiter_blocks_an_account_after_failures() {
        let l = LoginLimiter::default();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..5 {
            assert!(l.allowed(ip, "a@x.io"));
            l.failed(ip, "a@x.io");
        }
        assert!(!l.allowed(ip, "A@x.io"));
        assert!(l.allowed(ip, "b@x.io"), "other accounts are not blocked");
    }
}
