//! What the reply form's defenses need from HTTP: the reader's address, and whether the form
//! was sent from this site's pages. (The signed form token is checked by
//! `services::discussion`.)

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

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
    let standard = standard_forwarded(headers);
    if !standard.is_empty() {
        return standard;
    }
    x_forwarded_for(headers)
}

/// Every address either forwarding header names, whoever wrote it (a proxy may pass on a
/// client's own `Forwarded` untouched and append to `X-Forwarded-For`).
pub fn forwarded_addresses(headers: &HeaderMap) -> Vec<IpAddr> {
    let mut all = standard_forwarded(headers);
    all.extend(x_forwarded_for(headers));
    all
}

fn header_values(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

fn standard_forwarded(headers: &HeaderMap) -> Vec<IpAddr> {
    header_values(headers, "forwarded")
        .iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.trim().split_once('=')?;
                key.eq_ignore_ascii_case("for").then(|| parse_node(value))?
            })
        })
        .collect()
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    header_values(headers, "x-forwarded-for")
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

/// Whether a form was sent from this site's own pages: its `Origin` (or, without one, its
/// `Referer`) has `base_url`'s scheme, host and port. The form token is public (pages are
/// cached), so without this another site could make its visitors post replies. A request
/// with neither header passes: some browsers and privacy tools send none. `Origin: null` (a
/// sandboxed or privacy-stripped page) does not.
pub fn sent_from_here(headers: &HeaderMap, base_url: &str) -> bool {
    let Ok(base) = url::Url::parse(base_url) else {
        return true;
    };
    let Some(sent) = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)) else {
        return true;
    };
    let Some(from) = sent.to_str().ok().and_then(|s| url::Url::parse(s).ok()) else {
        return false;
    };
    from.origin() == base.origin()
        || (is_loopback(&base) && is_loopback(&from) && same_port(&base, &from))
}

/// `localhost`, `127.0.0.1` and `[::1]` are one machine: a site at its default address on
/// loopback is the same site under each name.
fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn same_port(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme() && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn forms_are_from_here_when_their_origin_is_the_sites() {
        use super::sent_from_here;
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, value.parse().unwrap());
            }
            map
        };
        let base = "https://news.example";
        for ok in [
            headers(&[]),
            headers(&[("origin", "https://news.example")]),
            headers(&[("origin", "https://news.example:443")]),
            headers(&[("referer", "https://news.example/2026/11/24/a/")]),
        ] {
            assert!(sent_from_here(&ok, base), "{ok:?}");
        }
        for foreign in [
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "http://news.example")]),
            headers(&[("origin", "https://news.example.evil.example")]),
            headers(&[("referer", "https://evil.example/page")]),
            headers(&[("origin", "https://evil.example"), ("referer", "https://news.example/")]),
        ] {
            assert!(!sent_from_here(&foreign, base), "{foreign:?}");
        }
        let local = "http://127.0.0.1:8080";
        assert!(sent_from_here(&headers(&[("origin", "http://localhost:8080")]), local));
        assert!(!sent_from_here(&headers(&[("origin", "http://localhost:9090")]), local));
    }

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
