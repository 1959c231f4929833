//! Where a PBX's event socket listens: `tcp://HOST:PORT`, parsed once when the source is
//! created so the connector never meets a malformed address.

use std::fmt;

/// A `tcp://host:port` address (the port defaults to the protocol's own).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketUrl {
    host: String,
    port: u16,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a tcp://HOST:PORT address")]
pub struct BadSocketUrl(String);

impl SocketUrl {
    /// Parses `tcp://host[:port]`; `default_port` is 5038 for AMI, 8021 for ESL.
    pub fn parse(raw: &str, default_port: u16) -> Result<Self, BadSocketUrl> {
        let bad = || BadSocketUrl(raw.to_owned());
        let url = url::Url::parse(raw.trim()).map_err(|_| bad())?;
        let plain = url.path().is_empty() || url.path() == "/";
        if url.scheme() != "tcp" || !plain || url.query().is_some() || !url.username().is_empty() {
            return Err(bad());
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        Ok(SocketUrl {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: url.port().unwrap_or(default_port),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` for `TcpStream::connect` (IPv6 hosts in brackets).
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for SocketUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tcp://{}", self.address())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tcp_url_gives_host_and_port_with_the_default_port_when_absent() {
        let url = SocketUrl::parse("tcp://pbx.example.net:5039", 5038).unwrap();
        assert_eq!((url.host(), url.port()), ("pbx.example.net", 5039));
        let url = SocketUrl::parse("tcp://10.0.0.5", 8021).unwrap();
        assert_eq!(url.to_string(), "tcp://10.0.0.5:8021");
        let url = SocketUrl::parse("tcp://[::1]:5038", 5038).unwrap();
        assert_eq!(url.address(), "[::1]:5038");
    }

    #[test]
    fn other_schemes_paths_and_credentials_are_refused() {
        for raw in [
            "http://pbx:5038",
            "tcp://pbx:5038/manager",
            "tcp://admin:pw@pbx:5038",
            "pbx:5038",
            "tcp://",
        ] {
            assert!(SocketUrl::parse(raw, 5038).is_err(), "{raw}");
        }
    }
}
