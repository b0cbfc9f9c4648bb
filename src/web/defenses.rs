//! What the reply form's defenses need from HTTP: the reader's address. (The signed form
//! token is checked by `services::discussion`.)

use std::net::IpAddr;

use axum::http::HeaderMap;

use crate::config::Network;

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
}
