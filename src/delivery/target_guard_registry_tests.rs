//! The registry tables, entry by entry: the first and last address of every row are refused,
//! the addresses just outside a row are judged by what surrounds it, and the embedding forms
//! follow the IPv4 address they carry.

use super::*;

fn ip(raw: &str) -> IpAddr {
    raw.parse().unwrap()
}

fn next_v4(ip: Ipv4Addr, step: i64) -> Option<Ipv4Addr> {
    u32::try_from(i64::from(ip.to_bits()) + step)
        .ok()
        .map(Ipv4Addr::from_bits)
}

#[test]
fn every_ipv4_registry_entry_is_refused_from_first_to_last_address() {
    for row in &SPECIAL_V4 {
        assert_eq!(
            row.net.network(),
            row.net.addr(),
            "{} is not aligned",
            row.net
        );
        for edge in [row.net.network(), row.net.broadcast()] {
            assert!(
                !is_public(IpAddr::V4(edge)),
                "{edge} ({}, {}) should be refused",
                row.name,
                row.reference
            );
        }
    }
}

#[test]
fn every_ipv6_registry_entry_is_refused_from_first_to_last_address() {
    for row in &SPECIAL_V6 {
        assert_eq!(
            row.net.network(),
            row.net.addr(),
            "{} is not aligned",
            row.net
        );
        for edge in [row.net.network(), row.net.broadcast()] {
            assert!(
                !is_public(IpAddr::V6(edge)),
                "{edge} ({}, {}) should be refused",
                row.name,
                row.reference
            );
        }
    }
}

#[test]
fn ipv4_addresses_just_outside_an_entry_are_public_unless_another_entry_holds_them() {
    for row in &SPECIAL_V4 {
        let outside = [
            next_v4(row.net.network(), -1),
            next_v4(row.net.broadcast(), 1),
        ];
        for neighbour in outside.into_iter().flatten() {
            let expected = special_v4(neighbour).is_none();
            assert_eq!(
                is_public(IpAddr::V4(neighbour)),
                expected,
                "{neighbour}, next to {} ({})",
                row.net,
                row.name
            );
        }
    }
}

#[test]
fn the_registry_entries_refuse_their_well_known_members() {
    for raw in [
        "0.0.0.0",
        "10.0.0.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "192.0.0.9",
        "192.0.0.170",
        "192.31.196.1",
        "192.52.193.1",
        "192.168.1.1",
        "192.175.48.6",
        "198.18.0.1",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "64:ff9b:1::a00:1",
        "100::1",
        "100:0:0:1::1",
        "2001:1::1",
        "2001:1::2",
        "2001:1::3",
        "2001:2::1",
        "2001:3::1",
        "2001:4:112::1",
        "2001:10::1",
        "2001:20::1",
        "2001:30::1",
        "2001:db8::1",
        "2620:4f:8000::1",
        "3fff::1",
        "5f00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
    ] {
        assert!(!is_public(ip(raw)), "{raw} should be refused");
    }
}

#[test]
fn ipv6_outside_global_unicast_is_refused() {
    for raw in [
        "ff02::1",
        "ff0e::1",
        "4000::1",
        "8000::1",
        "::8.8.8.8",
        "1::1",
    ] {
        assert!(!is_public(ip(raw)), "{raw} should be refused");
    }
}

#[test]
fn public_addresses_next_to_special_ranges_are_allowed() {
    for raw in [
        "1.1.1.1",
        "8.8.8.8",
        "100.63.255.255",
        "100.128.0.0",
        "192.0.1.1",
        "192.31.195.255",
        "192.52.194.0",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2001:200::1",
        "2620:4f:7fff::1",
        "2a00:1450:4001::200e",
    ] {
        assert!(is_public(ip(raw)), "{raw} should be allowed");
    }
}

/// Each embedding form, written around a private and a public IPv4 address.
const EMBEDDINGS: [(&str, &str, &str); 6] = [
    ("IPv4-mapped", "::ffff:127.0.0.1", "::ffff:8.8.8.8"),
    (
        "IPv4-translated (SIIT)",
        "::ffff:0:7f00:1",
        "::ffff:0:808:808",
    ),
    (
        "NAT64 well-known prefix",
        "64:ff9b::10.0.0.1",
        "64:ff9b::1.1.1.1",
    ),
    ("6to4", "2002:c0a8:0101::1", "2002:0808:0808::1"),
    (
        "Teredo, client 127.0.0.1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
    ),
    (
        "Teredo, server 10.0.0.1",
        "2001:0:a00:1:8000:63bf:f7f7:f7f7",
        "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
    ),
];

#[test]
fn embedding_forms_are_judged_by_the_ipv4_address_they_carry() {
    for (form, private, public) in EMBEDDINGS {
        assert!(
            !is_public(ip(private)),
            "{form}: {private} should be refused"
        );
        assert!(is_public(ip(public)), "{form}: {public} should be allowed");
    }
}

#[test]
fn the_issue_example_of_an_ipv4_translated_loopback_is_refused() {
    assert!(!is_public(ip("::ffff:0:7f00:1")));
    assert!(!is_public(ip("::ffff:0:a9fe:a9fe")));
}

#[test]
fn every_embedding_row_extracts_the_address_a_test_names() {
    let cases = [
        ("::ffff:10.1.2.3", vec!["10.1.2.3"]),
        ("::ffff:0:10.1.2.3", vec!["10.1.2.3"]),
        ("64:ff9b::10.1.2.3", vec!["10.1.2.3"]),
        ("2002:0a01:0203::", vec!["10.1.2.3"]),
        (
            "2001:0:4136:e378:8000:63bf:f5fe:fdfc",
            vec!["65.54.227.120", "10.1.2.3"],
        ),
    ];
    for (raw, want) in cases {
        let IpAddr::V6(addr) = ip(raw) else {
            panic!("{raw} is IPv6");
        };
        let Some(Rule::ByEmbeddedIpv4(embedding)) = special_v6(addr).map(|row| row.rule) else {
            panic!("{raw} is an embedding form");
        };
        let want: Vec<Ipv4Addr> = want.iter().map(|w| w.parse().unwrap()).collect();
        assert_eq!(embedded_v4(addr, embedding), want, "{raw}");
    }
}

#[test]
fn a_refused_address_is_described_by_its_registry_entry() {
    assert_eq!(
        special_range(ip("169.254.169.254")).as_deref(),
        Some("Link Local (cloud metadata) (RFC 3927)")
    );
    assert_eq!(
        special_range(ip("2001:db8::1")).as_deref(),
        Some("Documentation (RFC 3849)")
    );
    assert_eq!(special_range(ip("8.8.8.8")), None);
    assert_eq!(special_range(ip("2606:4700:4700::1111")), None);
    assert_eq!(special_range(ip("::ffff:8.8.8.8")), None);
}
