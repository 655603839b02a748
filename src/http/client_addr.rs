//! The client's address, the key of every per-address limit (login throttle, socket cap,
//! security events). It is the TCP peer, unless the peer is a trusted proxy
//! (`--trusted-proxy`): then the right-most `X-Forwarded-For` entry that is not itself a trusted
//! proxy. Entries further left are written by the client and could be forged, so they are never
//! believed; without trusted proxies the header is ignored altogether.

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The address a request comes from, after the trusted-proxy rule.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`), as a router's state
/// provides them to [`ClientIp`].
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpAddr>>);

/// The client address behind `peer`, given the trusted proxies.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    hops.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer)
}

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustedProxies: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip());
        let TrustedProxies(trusted) = TrustedProxies::from_ref(state);
        Ok(ClientIp(client_ip(peer, &parts.headers, &trusted)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let h = headers("1.2.3.4, 203.0.113.7");
        assert_eq!(client_ip(proxy, &h, &[]), proxy, "no trusted proxies: the header is ignored");
        assert_eq!(client_ip(client, &h, &[proxy]), client, "a direct client cannot claim another address");
        assert_eq!(client_ip(proxy, &h, &[proxy]), client, "the right-most entry, not the forgeable left one");
        let h = headers("203.0.113.7, 10.0.0.2");
        let two: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(client_ip(proxy, &h, &[proxy, two]), client, "chained trusted proxies are skipped");
        assert_eq!(client_ip(proxy, &headers("garbage"), &[proxy]), proxy, "an unreadable header is ignored");
    }
}
