//! The SSRF guard: hook targets are chosen by subscribers, so ringhook must never be tricked into
//! calling its own network (loopback, RFC 1918, cloud metadata at 169.254.169.254, …).
//!
//! Three checks, all through one [`TargetPolicy`]:
//! - [`TargetUrl::parse`] at subscribe time: `https` only, no credentials, IP literals checked;
//! - [`check_resolves`] at subscribe time: every address the name resolves to must be allowed;
//! - [`GuardedResolver`] at delivery time: reqwest connects only to addresses that pass the policy,
//!   so a name that later resolves to a private address (DNS rebinding) cannot reach it.
//!
//! Which addresses are public is decided by the tables in [`registry`]: the complete
//! IANA special-purpose registries for IPv4 and IPv6, and the IPv6 forms that carry an IPv4
//! address, which are judged by that address.

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

#[path = "target_guard_registry.rs"]
mod registry;
pub use registry::{is_public, special_range};

/// Longest target URL accepted; longer ones are almost certainly abuse.
const MAX_URL_LEN: usize = 2048;
/// How long a subscribe-time lookup may take before the name counts as unresolvable.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Which targets ringhook may call. Built from `RINGHOOK_ALLOW_PRIVATE_TARGETS`,
/// `RINGHOOK_ALLOW_HTTP_TARGETS` and an optional CIDR allow-list that opens holes for
/// on-premises receivers. The two switches are independent: a private receiver can be required
/// to speak https, and allowing http never opens private addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Allow any address (development, or receivers on the same network).
    pub allow_private: bool,
    /// Allow plain `http` targets, whatever their address (development, local receivers).
    pub allow_http: bool,
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
            return Ok(());
        }
        let range = special_range(ip).unwrap_or_default();
        tracing::info!(%ip, range, "hook target address refused");
        Err(TargetError::ForbiddenAddress(ip))
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
            "http" if policy.allow_http => {}
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
