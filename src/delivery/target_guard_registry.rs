//! Which IP addresses are public unicast, as tables: every entry of the IANA IPv4 and IPv6
//! Special-Purpose Address Registries (RFC 6890; registries as updated in 2025), plus the few
//! non-unicast ranges those registries leave to others (multicast, deprecated site-local).
//!
//! Every registry entry is refused as a hook target, including the handful marked "globally
//! reachable" (anycast services such as AS112, AMT, PCP and TURN): none is a web server a hook
//! could mean. IPv6 outside `2000::/3` (the only global unicast space IANA allocates) is refused
//! too. IPv6 forms that carry an IPv4 address are judged by that address, since that is where the
//! packets end up: IPv4-mapped, SIIT IPv4-translated, NAT64 and 6to4 by the one they embed,
//! Teredo by both its server and its client address.

use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What a special-purpose IPv6 range means for a hook target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Rule {
    /// Never a hook target.
    Refuse,
    /// Judged by the IPv4 address(es) it carries.
    ByEmbeddedIpv4(Embedding),
}

/// Where an IPv6 form keeps its IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Embedding {
    /// The last 32 bits (IPv4-mapped, IPv4-translated, NAT64 RFC 6052 `/96`).
    Last32,
    /// The 32 bits after the `/16` prefix (6to4, RFC 3056).
    After16,
    /// Teredo (RFC 4380): the server address after the `/32` prefix, and the client address
    /// bit-inverted in the last 32 bits. Both must be public.
    Teredo,
}

/// One IPv4 row: the range, its registry name and the RFC that defines it.
pub(super) struct SpecialV4 {
    pub net: Ipv4Net,
    pub name: &'static str,
    pub reference: &'static str,
}

/// One IPv6 row: the range, its registry name, the RFC that defines it and what to do with it.
pub(super) struct SpecialV6 {
    pub net: Ipv6Net,
    pub name: &'static str,
    pub reference: &'static str,
    pub rule: Rule,
}

const fn v4(octets: [u8; 4], len: u8, name: &'static str, reference: &'static str) -> SpecialV4 {
    let [a, b, c, d] = octets;
    SpecialV4 {
        net: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len),
        name,
        reference,
    }
}

const fn v6(
    segments: [u16; 8],
    len: u8,
    name: &'static str,
    reference: &'static str,
    rule: Rule,
) -> SpecialV6 {
    let [a, b, c, d, e, f, g, h] = segments;
    SpecialV6 {
        net: Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len),
        name,
        reference,
        rule,
    }
}

/// IANA IPv4 Special-Purpose Address Registry, every entry, then multicast (its own registry).
pub(super) const SPECIAL_V4: [SpecialV4; 25] = [
    v4([0, 0, 0, 0], 8, "\"This network\"", "RFC 791"),
    v4(
        [0, 0, 0, 0],
        32,
        "\"This host on this network\"",
        "RFC 1122",
    ),
    v4([10, 0, 0, 0], 8, "Private-Use", "RFC 1918"),
    v4([100, 64, 0, 0], 10, "Shared Address Space", "RFC 6598"),
    v4([127, 0, 0, 0], 8, "Loopback", "RFC 1122"),
    v4(
        [169, 254, 0, 0],
        16,
        "Link Local (cloud metadata)",
        "RFC 3927",
    ),
    v4([172, 16, 0, 0], 12, "Private-Use", "RFC 1918"),
    v4([192, 0, 0, 0], 24, "IETF Protocol Assignments", "RFC 6890"),
    v4(
        [192, 0, 0, 0],
        29,
        "IPv4 Service Continuity Prefix",
        "RFC 7335",
    ),
    v4([192, 0, 0, 8], 32, "IPv4 dummy address", "RFC 7600"),
    v4(
        [192, 0, 0, 9],
        32,
        "Port Control Protocol Anycast",
        "RFC 7723",
    ),
    v4(
        [192, 0, 0, 10],
        32,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
    ),
    v4([192, 0, 0, 170], 32, "NAT64/DNS64 Discovery", "RFC 8880"),
    v4([192, 0, 0, 171], 32, "NAT64/DNS64 Discovery", "RFC 8880"),
    v4([192, 0, 2, 0], 24, "Documentation (TEST-NET-1)", "RFC 5737"),
    v4([192, 31, 196, 0], 24, "AS112-v4", "RFC 7535"),
    v4([192, 52, 193, 0], 24, "AMT", "RFC 7450"),
    v4(
        [192, 88, 99, 0],
        24,
        "Deprecated (6to4 Relay Anycast)",
        "RFC 7526",
    ),
    v4([192, 168, 0, 0], 16, "Private-Use", "RFC 1918"),
    v4(
        [192, 175, 48, 0],
        24,
        "Direct Delegation AS112 Service",
        "RFC 7534",
    ),
    v4([198, 18, 0, 0], 15, "Benchmarking", "RFC 2544"),
    v4(
        [198, 51, 100, 0],
        24,
        "Documentation (TEST-NET-2)",
        "RFC 5737",
    ),
    v4(
        [203, 0, 113, 0],
        24,
        "Documentation (TEST-NET-3)",
        "RFC 5737",
    ),
    v4(
        [240, 0, 0, 0],
        4,
        "Reserved (includes Limited Broadcast)",
        "RFC 1112, RFC 919",
    ),
    v4(
        [224, 0, 0, 0],
        4,
        "Multicast (IANA Multicast Address Space)",
        "RFC 5771",
    ),
];

const REFUSE: Rule = Rule::Refuse;
const LAST_32: Rule = Rule::ByEmbeddedIpv4(Embedding::Last32);

/// IANA IPv6 Special-Purpose Address Registry, every entry, then the embedding and non-unicast
/// forms it leaves out. The most specific row containing an address decides.
pub(super) const SPECIAL_V6: [SpecialV6; 27] = [
    v6(
        [0, 0, 0, 0, 0, 0, 0, 1],
        128,
        "Loopback Address",
        "RFC 4291",
        REFUSE,
    ),
    v6(
        [0, 0, 0, 0, 0, 0, 0, 0],
        128,
        "Unspecified Address",
        "RFC 4291",
        REFUSE,
    ),
    v6(
        [0, 0, 0, 0, 0, 0xffff, 0, 0],
        96,
        "IPv4-mapped Address",
        "RFC 4291",
        LAST_32,
    ),
    v6(
        [0x64, 0xff9b, 0, 0, 0, 0, 0, 0],
        96,
        "IPv4-IPv6 Translat.",
        "RFC 6052",
        LAST_32,
    ),
    v6(
        [0x64, 0xff9b, 1, 0, 0, 0, 0, 0],
        48,
        "IPv4-IPv6 Translat.",
        "RFC 8215",
        REFUSE,
    ),
    v6(
        [0x100, 0, 0, 0, 0, 0, 0, 0],
        64,
        "Discard-Only Address Block",
        "RFC 6666",
        REFUSE,
    ),
    v6(
        [0x100, 0, 0, 1, 0, 0, 0, 0],
        64,
        "Dummy IPv6 Prefix",
        "RFC 9780",
        REFUSE,
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        23,
        "IETF Protocol Assignments",
        "RFC 2928",
        REFUSE,
    ),
    v6(
        [0x2001, 0, 0, 0, 0, 0, 0, 0],
        32,
        "TEREDO",
        "RFC 4380",
        Rule::ByEmbeddedIpv4(Embedding::Teredo),
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 1],
        128,
        "Port Control Protocol Anycast",
        "RFC 7723",
        REFUSE,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 2],
        128,
        "TURN Anycast",
        "RFC 8155",
        REFUSE,
    ),
    v6(
        [0x2001, 1, 0, 0, 0, 0, 0, 3],
        128,
        "DNS-SD Service Registration Protocol Anycast",
        "RFC 9665",
        REFUSE,
    ),
    v6(
        [0x2001, 2, 0, 0, 0, 0, 0, 0],
        48,
        "Benchmarking",
        "RFC 5180",
        REFUSE,
    ),
    v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, "AMT", "RFC 7450", REFUSE),
    v6(
        [0x2001, 4, 0x112, 0, 0, 0, 0, 0],
        48,
        "AS112-v6",
        "RFC 7535",
        REFUSE,
    ),
    v6(
        [0x2001, 0x10, 0, 0, 0, 0, 0, 0],
        28,
        "Deprecated (previously ORCHID)",
        "RFC 4843",
        REFUSE,
    ),
    v6(
        [0x2001, 0x20, 0, 0, 0, 0, 0, 0],
        28,
        "ORCHIDv2",
        "RFC 7343",
        REFUSE,
    ),
    v6(
        [0x2001, 0x30, 0, 0, 0, 0, 0, 0],
        28,
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        "RFC 9374",
        REFUSE,
    ),
    v6(
        [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
        32,
        "Documentation",
        "RFC 3849",
        REFUSE,
    ),
    v6(
        [0x2002, 0, 0, 0, 0, 0, 0, 0],
        16,
        "6to4",
        "RFC 3056",
        Rule::ByEmbeddedIpv4(Embedding::After16),
    ),
    v6(
        [0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0],
        48,
        "Direct Delegation AS112 Service",
        "RFC 7534",
        REFUSE,
    ),
    v6(
        [0x3fff, 0, 0, 0, 0, 0, 0, 0],
        20,
        "Documentation",
        "RFC 9637",
        REFUSE,
    ),
    v6(
        [0x5f00, 0, 0, 0, 0, 0, 0, 0],
        16,
        "Segment Routing (SRv6) SIDs",
        "RFC 9602",
        REFUSE,
    ),
    v6(
        [0xfc00, 0, 0, 0, 0, 0, 0, 0],
        7,
        "Unique-Local",
        "RFC 4193",
        REFUSE,
    ),
    v6(
        [0xfe80, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Link-Local Unicast",
        "RFC 4291",
        REFUSE,
    ),
    // Not in the special-purpose registry, but never a public unicast peer either.
    v6(
        [0, 0, 0, 0, 0xffff, 0, 0, 0],
        96,
        "IPv4-translated Address (SIIT)",
        "RFC 2765",
        LAST_32,
    ),
    v6(
        [0xfec0, 0, 0, 0, 0, 0, 0, 0],
        10,
        "Site-Local (deprecated)",
        "RFC 3879",
        REFUSE,
    ),
];

/// Global unicast space: IANA allocates public IPv6 addresses only from `2000::/3`. Multicast
/// (`ff00::/8`), the deprecated IPv4-compatible form (`::/96`) and every reserved block fall
/// outside it.
const GLOBAL_UNICAST_V6: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3);

/// True for addresses that are public unicast: what a hook target may be by default.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => special_v4(ip).is_none(),
        IpAddr::V6(ip) => match special_v6(ip).map(|row| row.rule) {
            Some(Rule::Refuse) => false,
            Some(Rule::ByEmbeddedIpv4(embedding)) => embedded_v4(ip, embedding)
                .into_iter()
                .all(|inner| is_public(IpAddr::V4(inner))),
            None => GLOBAL_UNICAST_V6.contains(&ip),
        },
    }
}

/// The registry entry that makes `ip` non-public, as `name (RFC …)`, for logs and messages.
pub fn special_range(ip: IpAddr) -> Option<String> {
    if is_public(ip) {
        return None;
    }
    let (name, reference) = match ip {
        IpAddr::V4(ip) => special_v4(ip).map(|row| (row.name, row.reference))?,
        IpAddr::V6(ip) => special_v6(ip)
            .map_or(("outside global unicast 2000::/3", "RFC 4291"), |row| {
                (row.name, row.reference)
            }),
    };
    Some(format!("{name} ({reference})"))
}

/// The registry row an IPv4 address falls in, if any.
pub(super) fn special_v4(ip: Ipv4Addr) -> Option<&'static SpecialV4> {
    SPECIAL_V4.iter().find(|row| row.net.contains(&ip))
}

/// The most specific registry row an IPv6 address falls in, if any.
pub(super) fn special_v6(ip: Ipv6Addr) -> Option<&'static SpecialV6> {
    SPECIAL_V6
        .iter()
        .filter(|row| row.net.contains(&ip))
        .max_by_key(|row| row.net.prefix_len())
}

/// The IPv4 addresses an IPv6 address of an embedding form routes to.
pub(super) fn embedded_v4(ip: Ipv6Addr, embedding: Embedding) -> Vec<Ipv4Addr> {
    let bits = ip.to_bits();
    match embedding {
        Embedding::Last32 => vec![Ipv4Addr::from_bits(bits as u32)],
        Embedding::After16 => vec![Ipv4Addr::from_bits((bits >> 80) as u32)],
        Embedding::Teredo => vec![
            Ipv4Addr::from_bits((bits >> 64) as u32),
            Ipv4Addr::from_bits(!(bits as u32)),
        ],
    }
}

#[cfg(test)]
#[path = "target_guard_registry_tests.rs"]
mod tests;
