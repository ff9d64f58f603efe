//! Login throttling: failures are counted per (account, client address) and
//! per client address, in the shared limiter (Redis, or in-process in the
//! embedded default). Over either count, logins from that address answer
//! 429 `rate_limited` with Retry-After until the window ends, before any
//! password is checked.
//!
//! Nothing is counted per account alone, so an attacker cannot lock a real
//! user out: the account's owner, from an address with no recent failures,
//! logs in as always. An attacker with many addresses gets
//! [`PER_ACCOUNT_ADDRESS`] guesses per address per window.

use crate::error::ErrorCode;
use crate::{ApiError, AppState};
use actix_web::HttpRequest;
use ipnet::IpNet;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// Failed logins for one account from one address, per window.
pub const PER_ACCOUNT_ADDRESS: u32 = 5;
/// Failed logins from one address, whatever the account, per window.
pub const PER_ADDRESS: u32 = 30;
/// The window both counts run over.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// The address the request came from: the peer, or, when the peer is one
/// of `trusted` proxies, the nearest address in `X-Forwarded-For` that is
/// not a trusted proxy. A client's own `X-Forwarded-For` is believed only
/// as far as our proxies vouch for it.
pub fn client_address(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        // A header's list, not a stored column (`row_boundary`).
        .flat_map(|v| v.split([',']))
        .map(|part| part.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        // A list we cannot read is not believed at all.
        .unwrap_or_default();
    // Right to left: each hop was added by the one after it.
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

/// The limiter keys of one login attempt. Hashed: usernames and addresses
/// are not kept readable in Redis.
pub struct LoginKeys {
    pair: String,
    address: String,
}

impl LoginKeys {
    pub fn new(kind: &str, account: &str, address: Option<IpAddr>) -> Self {
        let address = address.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
        let hash = |s: String| hex::encode(&Sha256::digest(s.as_bytes())[..16]);
        LoginKeys {
            pair: format!(
                "login:pair:{}",
                hash(format!("{kind}\0{}\0{address}", account.to_lowercase()))
            ),
            address: format!("login:addr:{}", hash(address)),
        }
    }
}

/// 429 if this account may not be tried from this address now. A limiter
/// that cannot be reached lets the attempt through (and says so in the
/// log): Argon2's cost and the permits still bound the rate.
pub async fn check(state: &AppState, keys: &LoginKeys) -> Result<(), ApiError> {
    for (key, max) in [
        (&keys.address, PER_ADDRESS),
        (&keys.pair, PER_ACCOUNT_ADDRESS),
    ] {
        match state.limiter.peek(key).await {
            Ok((failures, left)) if failures >= u64::from(max) => {
                let secs = left.as_millis().div_ceil(1000).max(1) as u64;
                return Err(ApiError::rate_limited(
                    ErrorCode::RateLimited,
                    format!("too many failed logins; try again in {secs} seconds"),
                    secs,
                ));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "rate limiter unavailable; login not throttled"),
        }
    }
    Ok(())
}

/// Count one failed attempt against both keys.
pub async fn failed(state: &AppState, keys: &LoginKeys) {
    for (key, max) in [
        (&keys.address, PER_ADDRESS),
        (&keys.pair, PER_ACCOUNT_ADDRESS),
    ] {
        if let Err(e) = state.limiter.hit(key, max, WINDOW).await {
            tracing::warn!(error = %e, "rate limiter unavailable; failure not counted");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.5:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "1.2.3.4, 203.0.113.9"))
            .to_http_request();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // No proxy trusted: the peer, whatever the header says.
        assert_eq!(client_address(&req, &[]), Some(ip("10.0.0.5")));
        // The proxy trusted: the hop it saw (not the client's own claim).
        assert_eq!(
            client_address(&req, &nets(&["10.0.0.0/8"])),
            Some(ip("203.0.113.9"))
        );
        // Two proxies trusted: one further.
        assert_eq!(
            client_address(&req, &nets(&["10.0.0.0/8", "203.0.113.9/32"])),
            Some(ip("1.2.3.4"))
        );
        let garbage = TestRequest::default()
            .peer_addr("10.0.0.5:4000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "not-an-ip"))
            .to_http_request();
        assert_eq!(
            client_address(&garbage, &nets(&["10.0.0.0/8"])),
            Some(ip("10.0.0.5"))
        );
    }
}
