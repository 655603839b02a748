//! Staff authentication: argon2 password hashes, console sessions (cookie + CSRF token),
//! bearer API tokens, and the login throttle (see [`LoginLimiter`]). Secrets are random
//! 256-bit tokens of which only SHA-256 hashes are stored.

use crate::domain::{Millis, new_secret, now_ms};
use crate::store::{Principal, Queries, Store};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

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

pub async fn session_principal(queries: &Queries, cookie_value: &str) -> crate::store::Result<Option<Principal>> {
    queries.session_principal(&sha256_hex(cookie_value)).await
}

pub async fn bearer_principal(queries: &Queries, token: &str) -> crate::store::Result<Option<Principal>> {
    queries.token_principal(&sha256_hex(token)).await
}

/// The value of one cookie in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').filter_map(|kv| kv.trim().split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v)
}

/// The login throttle. Failures are counted in the database (so every node and a restart see
/// them) under three keys, each in a sliding window:
/// - per (account, address): the first few failures are free, then each further attempt must wait
///   a delay that doubles with every failure (5 s, 10 s, 20 s, … up to the window): `429` with
///   `Retry-After` until it has passed. A guesser at one address slows down exponentially.
/// - per address (any accounts): at most `per_address` failures per window, then `429` until the
///   oldest leaves the window. One address cannot spray many accounts.
/// - per account (any addresses): only a slowdown (a short server-side delay before checking),
///   never a refusal, so nobody can lock an admin out: the right password from an address that
///   has not failed always gets in.
pub struct LoginLimiter {
    pub window: Duration,
    /// Failures per (account, address) before delays start.
    pub free_failures: i64,
    pub per_address: i64,
    /// Failures per account after which each attempt on it is slowed down.
    pub account_slowdown_after: i64,
}

impl Default for LoginLimiter {
    fn default() -> LoginLimiter {
        LoginLimiter {
            window: Duration::from_secs(15 * 60),
            free_failures: 3,
            per_address: 30,
            account_slowdown_after: 10,
        }
    }
}

/// What the throttle says about one login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginVerdict {
    /// Check the password, after waiting this long (the per-account slowdown; usually zero).
    Check { slowdown: Duration },
    /// Refuse with `429`; the client may retry after this many seconds. `per_address` says which
    /// limit refused.
    Refuse { retry_after_secs: u64, per_address: bool },
}

fn pair_key(account: &str, ip: IpAddr) -> String {
    format!("pair:{}|{ip}", account.trim().to_lowercase())
}

impl LoginLimiter {
    /// Decides from the three windows (pure, so the policy is testable without a clock).
    pub fn decide(
        &self,
        now: Millis,
        pair: crate::store::EventWindow,
        address: crate::store::EventWindow,
        account: crate::store::EventWindow,
    ) -> LoginVerdict {
        let window_ms = self.window.as_millis() as i64;
        let secs = |ms: i64| (ms.max(0) as u64).div_ceil(1000).max(1);
        if address.count >= self.per_address {
            let free_at = address.oldest.unwrap_or(now) + window_ms;
            return LoginVerdict::Refuse { retry_after_secs: secs(free_at - now), per_address: true };
        }
        if pair.count >= self.free_failures {
            let doublings = (pair.count - self.free_failures).min(30) as u32;
            let delay = 5000i64.saturating_mul(1 << doublings).min(window_ms);
            let free_at = pair.newest.unwrap_or(now) + delay;
            if free_at > now {
                return LoginVerdict::Refuse { retry_after_secs: secs(free_at - now), per_address: false };
            }
        }
        let over = account.count - self.account_slowdown_after;
        let slowdown =
            if over >= 0 { Duration::from_millis((100 * (over + 1)).min(1000) as u64) } else { Duration::ZERO };
        LoginVerdict::Check { slowdown }
    }

    /// Reads the windows for this attempt and decides.
    pub async fn check(&self, queries: &Queries, ip: IpAddr, account: &str) -> crate::store::Result<LoginVerdict> {
        let now = now_ms();
        let since = now - self.window.as_millis() as i64;
        let pair = queries.login_failures(&pair_key(account, ip), since).await?;
        let address = queries.login_failures(&format!("ip:{ip}"), since).await?;
        let acct = queries.login_failures(&format!("acct:{}", account.trim().to_lowercase()), since).await?;
        Ok(self.decide(now, pair, address, acct))
    }

    pub async fn failed(&self, store: &Store, ip: IpAddr, account: &str) -> crate::store::Result<()> {
        let now = now_ms();
        let keys = [pair_key(account, ip), format!("ip:{ip}"), format!("acct:{}", account.trim().to_lowercase())];
        store.record_login_failure(&keys, now, now - self.window.as_millis() as i64).await
    }

    /// A successful login forgets this address's failures on the account.
    pub async fn succeeded(&self, store: &Store, ip: IpAddr, account: &str) -> crate::store::Result<()> {
        store.clear_login_failures(&pair_key(account, ip)).await
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

    fn window(count: i64, oldest: Millis, newest: Millis) -> crate::store::EventWindow {
        crate::store::EventWindow { count, oldest: Some(oldest), newest: Some(newest) }
    }

    #[test]
    fn delays_grow_per_pair_and_an_account_is_only_slowed() {
        let l = LoginLimiter::default();
        let none = crate::store::EventWindow::default();
        let now = 1_000_000;
        assert_eq!(l.decide(now, window(2, now, now), none, none), LoginVerdict::Check { slowdown: Duration::ZERO });
        // Third failure just now: wait 5 s; fifth: 20 s; after the wait, checking again.
        let v = l.decide(now, window(3, now - 10, now), none, none);
        assert_eq!(v, LoginVerdict::Refuse { retry_after_secs: 5, per_address: false });
        let v = l.decide(now, window(5, now - 10, now - 500), none, none);
        assert_eq!(v, LoginVerdict::Refuse { retry_after_secs: 20, per_address: false });
        assert!(matches!(l.decide(now + 20_000, window(5, now, now - 500), none, none), LoginVerdict::Check { .. }));
        // The address limit refuses until the oldest failure leaves the window.
        let v = l.decide(now, none, window(30, now - 60_000, now), none);
        assert_eq!(v, LoginVerdict::Refuse { retry_after_secs: 840, per_address: true });
        // However many failures an account has, a clean address is only slowed down (at most 1 s).
        let v = l.decide(now, none, none, window(1000, now, now));
        assert_eq!(v, LoginVerdict::Check { slowdown: Duration::from_secs(1) });
    }
}
