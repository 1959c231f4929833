//! The SSRF guard: hook targets are chosen by subscribers, so ringhook must never be tricked into
//! calling its own network (loopback, RFC 1918, cloud metadata at 169.254.169.254, …).
//!
//! Three checks, all through one [`TargetPolicy`]:
//! - [`TargetUrl::parse`] at subscribe time: `https` only, no credentials, IP literals checked;
//! - [`check_resolves`] at subscribe time: every address the name resolves to must be allowed;
//! - [`GuardedResolver`] at delivery time: reqwest connects only to addresses that pass the policy,
//!   so a name that later resolves to a private address (DNS rebinding) cannot reach it.
//!
//! The deny list follows Svix's `is_allowed` (IANA special-purpose registries for IPv4 and IPv6),
//! and also looks inside IPv6 forms that embed an IPv4 address.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// Longest target URL accepted; longer ones are almost certainly abuse.
const MAX_URL_LEN: usize = 2048;
/// How long a subscribe-time lookup may take before the name counts as unresolvable.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(segments: [u16; 8], len: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
}

/// IPv4 ranges that are not public unicast (IANA IPv4 Special-Purpose Address Registry).
const FORBIDDEN_V4: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),  // "this network", includes 0.0.0.0 (reaches localhost on Linux)
    v4(10, 0, 0, 0, 8), // private, RFC 1918
    v4(100, 64, 0, 0, 10), // shared address space (CGNAT), RFC 6598
    v4(127, 0, 0, 0, 8), // loopback
    v4(169, 254, 0, 0, 16), // link-local, cloud metadata
    v4(172, 16, 0, 0, 12), // private, RFC 1918
    v4(192, 0, 0, 0, 24), // IETF protocol assignments
    v4(192, 0, 2, 0, 24), // documentation TEST-NET-1
    v4(192, 88, 99, 0, 24), // 6to4 relay anycast (deprecated)
    v4(192, 168, 0, 0, 16), // private, RFC 1918
    v4(198, 18, 0, 0, 15), // benchmarking, RFC 2544
    v4(198, 51, 100, 0, 24), // documentation TEST-NET-2
    v4(203, 0, 113, 0, 24), // documentation TEST-NET-3
    v4(224, 0, 0, 0, 4), // multicast
    v4(240, 0, 0, 0, 4), // reserved, includes broadcast 255.255.255.255
];

/// IPv6 ranges that are not public unicast (IANA IPv6 Special-Purpose Address Registry).
const FORBIDDEN_V6: [Ipv6Net; 12] = [
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128),         // unspecified
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128),         // loopback
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),  // local-use NAT64, RFC 8215: never public
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),      // discard-only, RFC 6666
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),     // benchmarking, RFC 5180
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),     // documentation, RFC 9637
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),     // SRv6 SIDs, RFC 9602
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),      // unique local
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),     // link-local
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),     // site-local (deprecated)
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),      // multicast
];

/// True for addresses that are public unicast: what a hook target may be by default.
/// IPv6 forms that carry an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo) are judged by
/// the IPv4 address they lead to, since that is where the packets end up.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => !FORBIDDEN_V4.iter().any(|net| net.contains(&ip)),
        IpAddr::V6(ip) => {
            !FORBIDDEN_V6.iter().any(|net| net.contains(&ip))
                && embedded_v4(ip)
                    .iter()
                    .all(|inner| is_public(IpAddr::V4(*inner)))
        }
    }
}

/// The IPv4 addresses an IPv6 address routes to, if it is one of the embedding forms.
fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = ip.to_bits();
    let low32 = Ipv4Addr::from_bits(bits as u32);
    let segments = ip.segments();
    match segments {
        // IPv4-mapped ::ffff:0:0/96 and IPv4-compatible ::/96 (deprecated, RFC 4291 §2.5.5).
        [0, 0, 0, 0, 0, 0xffff | 0, _, _] => vec![low32],
        // NAT64 well-known prefix 64:ff9b::/96, RFC 6052.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => vec![low32],
        // 6to4 2002::/16, RFC 3056: the IPv4 address follows the prefix.
        [0x2002, hi, lo, ..] => vec![Ipv4Addr::from_bits((u32::from(hi) << 16) | u32::from(lo))],
        // Teredo 2001::/32, RFC 4380: the server's address, then the client's, bit-inverted.
        [0x2001, 0, hi, lo, ..] => vec![
            Ipv4Addr::from_bits((u32::from(hi) << 16) | u32::from(lo)),
            Ipv4Addr::from_bits(!(bits as u32)),
        ],
        _ => Vec::new(),
    }
}

/// Which targets ringhook may call. Built from `RINGHOOK_ALLOW_PRIVATE_TARGETS` and an optional
/// CIDR allow-list that opens holes for on-premises receivers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Allow any address, and plain `http` (development, or receivers on the same network).
    pub allow_private: bool,
    /// Non-public ranges that are allowed anyway (a PBX-side receiver at `10.1.2.0/24`).
    pub allow_list: Vec<IpNet>,
}

impl TargetPolicy {
    /// True when a connection to `ip` is allowed.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private
            || is_public(ip)
            || self
                .allow_list
                .iter()
                .any(|net| net.contains(&ip) || net.contains(&ip.to_canonical()))
    }

    fn check(&self, ip: IpAddr) -> Result<(), TargetError> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(TargetError::ForbiddenAddress(ip))
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the target URL must use https")]
    NotHttps,
    #[error("the target URL is not an absolute URL with a host")]
    Malformed,
    #[error("the target URL must not carry a user name or password")]
    HasCredentials,
    #[error("the target address {0} is not public")]
    ForbiddenAddress(IpAddr),
    #[error("the target host does not resolve")]
    Unresolvable,
}

/// A subscriber's target URL that passed [`TargetUrl::parse`]. Private, so it cannot be built
/// around an unchecked string.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetUrl(Url);

impl TargetUrl {
    /// Checks the shape of a target URL, and the address when the host is an IP literal (WHATWG
    /// parsing turns `https://2130706433/` and `https://0x7f.1/` into `127.0.0.1` first).
    pub fn parse(raw: &str, policy: &TargetPolicy) -> Result<Self, TargetError> {
        if raw.len() > MAX_URL_LEN {
            return Err(TargetError::Malformed);
        }
        let url = Url::parse(raw.trim()).map_err(|_| TargetError::Malformed)?;
        match url.scheme() {
            "https" => {}
            "http" if policy.allow_private => {}
            "http" => return Err(TargetError::NotHttps),
            _ => return Err(TargetError::Malformed),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(TargetError::HasCredentials);
        }
        let target = TargetUrl(url);
        match target.host()? {
            Host::Ipv4(ip) => policy.check(IpAddr::V4(ip))?,
            Host::Ipv6(ip) => policy.check(IpAddr::V6(ip))?,
            Host::Domain(_) => {}
        }
        Ok(target)
    }

    fn host(&self) -> Result<Host<&str>, TargetError> {
        match self.0.host() {
            Some(Host::Domain("")) | None => Err(TargetError::Malformed),
            Some(host) => Ok(host),
        }
    }

    /// The address when the host is an IP literal. reqwest does not call a resolver for those,
    /// so the client checks it before every request.
    pub fn ip_literal(&self) -> Option<IpAddr> {
        match self.0.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for TargetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TargetUrl({:?})", self.0.as_str())
    }
}

/// At subscribe time: resolves the host and refuses the target unless **every** address is
/// allowed (Hook0's rule), so a subscriber learns at once that the URL will not work.
pub async fn check_resolves(url: &TargetUrl, policy: &TargetPolicy) -> Result<(), TargetError> {
    if let Some(ip) = url.ip_literal() {
        return policy.check(ip);
    }
    let Ok(Host::Domain(name)) = url.host() else {
        return Err(TargetError::Malformed);
    };
    for addr in lookup(name).await? {
        policy.check(addr.ip())?;
    }
    Ok(())
}

/// Resolves `name` with the system resolver, bounded by [`LOOKUP_TIMEOUT`].
async fn lookup(name: &str) -> Result<Vec<SocketAddr>, TargetError> {
    let lookup = tokio::net::lookup_host((name, 0));
    let addrs: Vec<SocketAddr> = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(addrs)) => addrs.collect(),
        Ok(Err(_)) | Err(_) => return Err(TargetError::Unresolvable),
    };
    if addrs.is_empty() {
        return Err(TargetError::Unresolvable);
    }
    Ok(addrs)
}

/// reqwest's resolver for deliveries: resolves with the system resolver, drops every address the
/// policy refuses and fails when none remain. The connection then goes only to an address that
/// was checked in the same lookup, which defeats DNS rebinding (Svix does the same at connect).
#[derive(Clone, Debug)]
pub struct GuardedResolver {
    policy: Arc<TargetPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<TargetPolicy>) -> Self {
        GuardedResolver { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        Box::pin(async move {
            let resolved = lookup(name.as_str()).await?;
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|addr| policy.permits(addr.ip()))
                .collect();
            match (allowed.is_empty(), resolved.first()) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(first)) => Err(TargetError::ForbiddenAddress(first.ip()).into()),
                (true, None) => Err(TargetError::Unresolvable.into()),
            }
        })
    }
}

#[cfg(test)]
#[path = "target_guard_tests.rs"]
mod tests;
