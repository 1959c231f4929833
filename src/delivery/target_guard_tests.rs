//! The SSRF guard: address classes, URL parsing and resolution.

use super::*;

fn strict() -> TargetPolicy {
    TargetPolicy::default()
}

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

#[test]
fn non_public_ipv4_addresses_are_refused() {
    for raw in [
        "0.0.0.0",
        "0.1.2.3",
        "10.0.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.8.8.8",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
    ] {
        assert!(!is_public(ip(raw)), "{raw} should be refused");
    }
}

#[test]
fn public_ipv4_addresses_next_to_forbidden_ranges_are_allowed() {
    for raw in [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.1",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
    ] {
        assert!(is_public(ip(raw)), "{raw} should be allowed");
    }
}

#[test]
fn non_public_ipv6_addresses_are_refused() {
    for raw in [
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "2001:db8::1",
        "100::1",
        "2001:2::1",
        "3fff::1",
        "5f00::1",
        "64:ff9b:1::a00:1",
    ] {
        assert!(!is_public(ip(raw)), "{raw} should be refused");
    }
}

#[test]
fn ipv6_forms_embedding_a_private_ipv4_are_refused() {
    for raw in [
        "::ffff:127.0.0.1",                     // IPv4-mapped
        "::ffff:10.0.0.1",                      // IPv4-mapped
        "::169.254.169.254",                    // IPv4-compatible
        "2002:c0a8:0101::1",                    // 6to4 of 192.168.1.1
        "64:ff9b::10.0.0.1",                    // NAT64
        "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1
    ] {
        assert!(!is_public(ip(raw)), "{raw} should be refused");
    }
}

#[test]
fn ipv6_forms_embedding_a_public_ipv4_are_allowed() {
    for raw in [
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "2002:0808:0808::1",
        "64:ff9b::1.1.1.1",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo, client 8.8.8.8
    ] {
        assert!(is_public(ip(raw)), "{raw} should be allowed");
    }
}

#[test]
fn the_allow_list_opens_a_hole_for_its_range_only() {
    let policy = TargetPolicy {
        allow_list: vec!["10.1.2.0/24".parse().unwrap()],
        ..TargetPolicy::default()
    };
    assert!(policy.permits(ip("10.1.2.3")));
    assert!(policy.permits(ip("::ffff:10.1.2.3")));
    assert!(!policy.permits(ip("10.1.3.1")));
}

#[test]
fn allow_private_permits_loopback() {
    let policy = TargetPolicy {
        allow_private: true,
        ..TargetPolicy::default()
    };
    assert!(policy.permits(ip("127.0.0.1")));
}

#[test]
fn https_targets_with_a_public_host_parse() {
    let url = TargetUrl::parse("https://hooks.zapier.com/hooks/standard/1/abc/", &strict());
    assert_eq!(
        url.unwrap().as_str(),
        "https://hooks.zapier.com/hooks/standard/1/abc/"
    );
}

#[test]
fn plain_http_is_refused_unless_http_targets_are_allowed() {
    let raw = "http://hooks.example.com/x";
    assert_eq!(TargetUrl::parse(raw, &strict()), Err(TargetError::NotHttps));
    let http = TargetPolicy {
        allow_http: true,
        ..TargetPolicy::default()
    };
    assert!(TargetUrl::parse(raw, &http).is_ok());
}

#[test]
fn allowing_private_targets_does_not_allow_plain_http() {
    let private = TargetPolicy {
        allow_private: true,
        ..TargetPolicy::default()
    };
    for raw in ["http://8.8.8.8/x", "http://127.0.0.1:9000/x"] {
        assert_eq!(
            TargetUrl::parse(raw, &private),
            Err(TargetError::NotHttps),
            "{raw}"
        );
    }
    assert!(TargetUrl::parse("https://127.0.0.1:9000/x", &private).is_ok());
}

#[test]
fn allowing_http_does_not_open_private_addresses() {
    let http = TargetPolicy {
        allow_http: true,
        ..TargetPolicy::default()
    };
    assert!(TargetUrl::parse("http://8.8.8.8/x", &http).is_ok());
    assert_eq!(
        TargetUrl::parse("http://127.0.0.1/x", &http),
        Err(TargetError::ForbiddenAddress(ip("127.0.0.1")))
    );
}

#[test]
fn other_schemes_and_relative_urls_are_malformed() {
    for raw in [
        "ftp://example.com/",
        "file:///etc/passwd",
        "/hooks",
        "https://",
        "",
    ] {
        assert_eq!(
            TargetUrl::parse(raw, &strict()),
            Err(TargetError::Malformed),
            "{raw:?}"
        );
    }
}

#[test]
fn credentials_in_the_url_are_refused() {
    assert_eq!(
        TargetUrl::parse("https://user:pw@example.com/", &strict()),
        Err(TargetError::HasCredentials)
    );
}

#[test]
fn ip_literal_targets_are_checked_at_parse_time_in_every_spelling() {
    for (raw, refused) in [
        ("https://127.0.0.1/", "127.0.0.1"),
        ("https://2130706433/", "127.0.0.1"),
        ("https://0x7f.1/", "127.0.0.1"),
        ("https://[::1]:8443/", "::1"),
        (
            "https://[::ffff:169.254.169.254]/",
            "::ffff:169.254.169.254",
        ),
        ("https://[::ffff:0:7f00:1]/", "::ffff:0:7f00:1"),
    ] {
        assert_eq!(
            TargetUrl::parse(raw, &strict()),
            Err(TargetError::ForbiddenAddress(ip(refused))),
            "{raw}"
        );
    }
}

#[test]
fn overlong_urls_are_malformed() {
    let raw = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
    assert_eq!(
        TargetUrl::parse(&raw, &strict()),
        Err(TargetError::Malformed)
    );
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_at_subscribe_time() {
    let url = TargetUrl::parse("https://localhost/hook", &strict()).unwrap();
    let refused = check_resolves(&url, &strict()).await;
    assert!(matches!(refused, Err(TargetError::ForbiddenAddress(ip)) if ip.is_loopback()));
}

#[tokio::test]
async fn an_unknown_name_is_unresolvable() {
    let url = TargetUrl::parse("https://no-such-host.invalid/", &strict()).unwrap();
    assert_eq!(
        check_resolves(&url, &strict()).await,
        Err(TargetError::Unresolvable)
    );
}

#[tokio::test]
async fn the_guarded_resolver_drops_forbidden_addresses_and_fails_when_none_remain() {
    let resolver = GuardedResolver::new(Arc::new(strict()));
    let result = resolver.resolve("localhost".parse().unwrap()).await;
    assert!(result.is_err());
}

#[tokio::test]
async fn the_guarded_resolver_keeps_addresses_the_policy_allows() {
    let policy = TargetPolicy {
        allow_list: vec!["127.0.0.0/8".parse().unwrap()],
        ..TargetPolicy::default()
    };
    let resolver = GuardedResolver::new(Arc::new(policy));
    let Ok(addrs) = resolver.resolve("localhost".parse().unwrap()).await else {
        panic!("localhost should resolve to an allowed address");
    };
    let addrs: Vec<SocketAddr> = addrs.collect();
    assert!(!addrs.is_empty());
    assert!(addrs.iter().all(|addr| addr.ip() == ip("127.0.0.1")));
}
