//! Kazoo quickcall (crossbar `quickcall.md`, `cb_quickcall.erl`):
//! `POST /v2/accounts/{account}/users/{owner_id}/quickcall/{number}` with `X-Auth-Token`.
//!
//! The POST blocks until the user's device rings (202) or the origination fails (500 with
//! `error_message`, e.g. `DESTINATION_OUT_OF_ORDER`). Every query-string key becomes a custom
//! application variable on the resulting channel events; the request id is sent under
//! [`REQUEST_ID_VAR`], one of the names the Kazoo ingest adapter reads back. `cid-name` and
//! `cid-number` set what the user's phone shows while it rings; `auto_answer=false` lets the
//! user pick up rather than having their desk phone answer on speaker.

use super::{DialCall, DialError, Dialer, PbxRequest, Placed, first_text};
use crate::storage::{RequestStatus, Source};
use reqwest::Method;
use reqwest::header::HeaderName;

/// The query key (hence custom application variable) that carries our request id.
pub const REQUEST_ID_VAR: &str = "zap_request_id";

pub struct KazooDialer;

impl Dialer for KazooDialer {
    fn can_dial(&self, source: &Source) -> bool {
        source.api.is_some() && source.account_id.as_deref().is_some_and(|a| !a.is_empty())
    }

    fn request(&self, call: &DialCall<'_>) -> Result<PbxRequest, DialError> {
        let misconfigured =
            |what: &str| DialError::Misconfigured(format!("the source has no {what}"));
        let api = call
            .source
            .api
            .as_ref()
            .ok_or_else(|| misconfigured("API settings"))?;
        let account = call
            .source
            .account_id
            .as_deref()
            .ok_or_else(|| misconfigured("Kazoo account id"))?;
        let mut url =
            url::Url::parse(api.url.as_str()).map_err(|_| misconfigured("valid API URL"))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| misconfigured("valid API URL"))?;
            path.pop_if_empty();
            // Accept an API URL given with or without the `/v2` version prefix.
            if !api.url.as_str().trim_end_matches('/').ends_with("/v2") {
                path.push("v2");
            }
            path.extend([
                "accounts",
                account,
                "users",
                call.external_user_id,
                "quickcall",
            ]);
            path.push(call.to.as_str());
        }
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("auto_answer", "false");
            query.append_pair("cid-name", call.caller_name);
            if let Some(caller_id) = call.caller_id {
                query.append_pair("cid-number", caller_id.as_str());
            }
            query.append_pair("timeout", &call.ring_seconds.to_string());
            query.append_pair(REQUEST_ID_VAR, call.request_id.as_str());
        }
        Ok(PbxRequest {
            method: Method::POST,
            url,
            auth: (HeaderName::from_static("x-auth-token"), api.key.clone()),
            json: None,
        })
    }

    fn read_answer(&self, status: u16, body: &[u8]) -> Result<Placed, DialError> {
        if (200..300).contains(&status) {
            return Ok(Placed {
                // 202: the POST waited for the user's device to ring.
                status: if status == 202 {
                    RequestStatus::Ringing
                } else {
                    RequestStatus::Requested
                },
                pbx_call_id: first_text(body, &[&["data", "call_id"], &["data", "Call-ID"]]),
            });
        }
        let reason = first_text(
            body,
            &[
                &["data", "error_message"],
                &["error_message"],
                &["data", "message"],
                &["message"],
            ],
        )
        .unwrap_or_else(|| format!("Kazoo answered HTTP {status}"));
        Err(DialError::Refused { status, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        CallRequestId, CountryCode, E164Number, SourceId, SourceKind, TenantId, WebUrl,
    };
    use crate::ingest::kazoo::REQUEST_ID_VARS;
    use crate::storage::PbxApi;
    use secrecy::{ExposeSecret, SecretString};

    fn source(api_url: &str) -> Source {
        Source {
            id: SourceId::generate(),
            tenant_id: TenantId::generate(),
            kind: SourceKind::Kazoo,
            secret: SecretString::from("hook-token"),
            account_id: Some("4c122831efef10ac68b5223dccd6f614".into()),
            api: Some(PbxApi {
                url: WebUrl::parse(api_url).unwrap(),
                key: SecretString::from("kazoo-api-key-123"),
            }),
            created_at: chrono::Utc::now(),
            disabled_at: None,
            previous_secret: None,
        }
    }

    fn number(raw: &str) -> E164Number {
        E164Number::parse(raw, CountryCode::default()).unwrap()
    }

    fn build(api_url: &str) -> PbxRequest {
        let source = source(api_url);
        let id = CallRequestId::parse("c2c_01HZX9Q3T4M5N6P7R8S9").unwrap();
        let (to, cid) = (number("+12125550199"), number("+16285550100"));
        KazooDialer
            .request(&DialCall {
                request_id: &id,
                source: &source,
                external_user_id: "6384e2b2184bcbf58eccf10ca7a6563c",
                to: &to,
                caller_id: Some(&cid),
                caller_name: "Acme Dental",
                ring_seconds: 20,
            })
            .unwrap()
    }

    #[test]
    fn the_request_is_the_fixtures_quickcall() {
        let request = build("https://pbx.example.net:8443");
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.url.path(),
            "/v2/accounts/4c122831efef10ac68b5223dccd6f614/users/6384e2b2184bcbf58eccf10ca7a6563c/quickcall/+12125550199"
        );
        let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        let expected = [
            ("auto_answer", "false"),
            ("cid-name", "Acme Dental"),
            ("cid-number", "+16285550100"),
            ("timeout", "20"),
            ("zap_request_id", "c2c_01HZX9Q3T4M5N6P7R8S9"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(query, expected);
        assert_eq!(request.auth.0.as_str(), "x-auth-token");
        assert_eq!(request.auth.1.expose_secret(), "kazoo-api-key-123");
        assert!(request.json.is_none());
    }

    #[test]
    fn an_api_url_with_a_path_or_the_version_keeps_one_v2() {
        for base in [
            "https://pbx.example.net/kazoo/v2/",
            "https://pbx.example.net/kazoo",
        ] {
            assert!(
                build(base).url.path().starts_with("/kazoo/v2/accounts/"),
                "{base}"
            );
        }
    }

    #[test]
    fn the_request_id_goes_under_a_name_the_ingest_adapter_reads_back() {
        assert!(REQUEST_ID_VARS.contains(&REQUEST_ID_VAR));
    }

    #[test]
    fn the_api_key_never_prints() {
        let request = build("https://pbx.example.net");
        assert!(!format!("{request:?}").contains("kazoo-api-key-123"));
    }

    #[test]
    fn a_202_means_the_users_phone_rings() {
        let placed = KazooDialer
            .read_answer(
                202,
                br#"{"data": {"call_id": "abc-quickcall"}, "status": "success"}"#,
            )
            .unwrap();
        assert_eq!(placed.status, RequestStatus::Ringing);
        assert_eq!(placed.pbx_call_id.as_deref(), Some("abc-quickcall"));
        assert_eq!(
            KazooDialer.read_answer(200, b"").unwrap().status,
            RequestStatus::Requested
        );
    }

    #[test]
    fn a_500_carries_kazoos_error_message() {
        let body = br#"{"data": {"error_message": "DESTINATION_OUT_OF_ORDER"}, "error": "500", "message": "quickcall initiation failed", "status": "error"}"#;
        assert_eq!(
            KazooDialer.read_answer(500, body),
            Err(DialError::Refused {
                status: 500,
                reason: "DESTINATION_OUT_OF_ORDER".into()
            })
        );
        assert_eq!(
            KazooDialer.read_answer(401, b"").unwrap_err().reason(),
            "Kazoo answered HTTP 401"
        );
    }
}
