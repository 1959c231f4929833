//! URLs that ringhook calls or sends browsers to.

use serde::{Deserialize, Serialize};
use std::fmt;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("{0:?} is not an absolute URL")]
    Malformed(String),
    #[error("{0:?} must use http or https")]
    Scheme(String),
    #[error("{0:?} must not carry a fragment (RFC 6749 §3.1.2)")]
    Fragment(String),
}

/// An absolute `http(s)` URL, such as a PBX API base URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebUrl(String);

impl WebUrl {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let url = Url::parse(raw.trim()).map_err(|_| UrlError::Malformed(raw.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(UrlError::Scheme(raw.to_owned()));
        }
        Ok(WebUrl(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client's registered redirect URI. Compared by exact string (RFC 9700 §2.1), so it is kept
/// exactly as registered, not re-serialized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let url = Url::parse(raw).map_err(|_| UrlError::Malformed(raw.to_owned()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(UrlError::Scheme(raw.to_owned()));
        }
        if url.fragment().is_some() {
            return Err(UrlError::Fragment(raw.to_owned()));
        }
        Ok(RedirectUri(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_must_be_absolute_http() {
        assert!(WebUrl::parse("https://pbx.example.net:8000/v2").is_ok());
        assert!(WebUrl::parse("ftp://pbx.example.net").is_err());
        assert!(WebUrl::parse("pbx.example.net").is_err());
    }

    #[test]
    fn redirect_uris_are_kept_verbatim_and_refuse_fragments() {
        let raw = "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/";
        assert_eq!(RedirectUri::parse(raw).unwrap().as_str(), raw);
        assert!(RedirectUri::parse("https://a.example/cb#x").is_err());
        assert!(RedirectUri::parse("not a url").is_err());
    }
}
