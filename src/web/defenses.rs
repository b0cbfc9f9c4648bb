//! What the reply form needs from HTTP to defend itself: the signed form token (how long the
//! reader took, and whether the form came from this site) and the reader's address.

use std::net::IpAddr;

use axum::http::HeaderMap;

use super::cookies::Keys;
use crate::config::Network;

const TOKEN: &str = "reply-form";
/// A form older than this is stale. Generous, so that pages kept by a cache still work.
const TOKEN_LIFETIME: i64 = 3 * 24 * 3600;
/// Clocks of several nodes may differ a little.
const CLOCK_SKEW: i64 = 60;

/// A token for the reply form of `article_id`, issued `now`: `ISSUED.SIGNATURE`.
pub fn issue_token(keys: &Keys, article_id: i64, now: i64) -> String {
    format!("{now}.{}", keys.sign(TOKEN, &format!("{article_id}:{now}")))
}

/// Seconds since the form was served, if the token is this site's, for this article, and
/// fresh.
pub fn token_age(keys: &Keys, article_id: i64, token: &str, now: i64) -> Option<i64> {
    let (issued, signature) = token.trim().split_once('.')?;
    let issued: i64 = issued.parse().ok()?;
    let age = now - issued;
    let genuine = keys.verify(TOKEN, &format!("{article_id}:{issued}"), signature);
    (genuine && (-CLOCK_SKEW..=TOKEN_LIFETIME).contains(&age)).then_some(age.max(0))
}

/// The reader's address: the socket's, unless it is a trusted proxy, in which case the
/// nearest address in `X-Forwarded-For` (or `Forwarded`) that is not a trusted proxy.
/// Headers from any other peer are ignored: anyone can write them.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = forwarded_chain(headers);
    // Right to left: each hop appended the address it received from.
    forwarded.into_iter().rev().find(|ip| !is_trusted(*ip)).unwrap_or(peer)
}

fn forwarded_chain(headers: &HeaderMap) -> Vec<IpAddr> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    };
    let standard: Vec<IpAddr> = values("forwarded")
        .iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| parse_node(value))?
            })
        })
        .collect();
    if !standard.is_empty() {
        return standard;
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|ip| parse_node(&ip))
        .collect()
}

/// `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse() {
        return Some(ip);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    raw.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn trusted() -> Vec<Network> {
        vec![Network { address: "10.0.0.0".parse().unwrap(), prefix: 8 }]
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let spoof = headers(&[("x-forwarded-for", "1.2.3.4")]);
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(peer, &spoof, &trusted()), peer);
        assert_eq!(client_ip(peer, &spoof, &[]), peer);
    }

    #[test]
    fn trusted_proxies_are_believed_and_skipped() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(client_ip(proxy, &chain, &trusted()).to_string(), "198.51.100.7");
        let standard =
            headers(&[("forwarded", "for=192.0.2.60;proto=http, for=\"[2001:db8::1]:4711\"")]);
        assert_eq!(client_ip(proxy, &standard, &trusted()).to_string(), "2001:db8::1");
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted()), proxy);
    }

    #[test]
    fn tokens_tell_the_age_and_refuse_forgeries() {
        let keys = Keys::new("secret");
        let token = issue_token(&keys, 7, 1000);
        assert_eq!(token_age(&keys, 7, &token, 1004), Some(4));
        assert_eq!(token_age(&keys, 8, &token, 1004), None, "another article's");
        assert_eq!(token_age(&Keys::new("other"), 7, &token, 1004), None, "forged");
        assert_eq!(token_age(&keys, 7, &token, 1000 + TOKEN_LIFETIME + 1), None, "stale");
        assert_eq!(token_age(&keys, 7, "", 1000), None);
        assert_eq!(token_age(&keys, 7, &token.replace("1000.", "999."), 1004), None);
    }
}
