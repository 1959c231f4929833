//! Zorio click-to-call (docs.zorio.vn, PBX API): `POST /api/pbx/calls/click-to-call` with
//! `Authorization: Bearer {key}` and `{from_extension, to_phone, caller_id?}`. Zorio answers
//! 202 with the `call_uuid` its webhooks will carry: the A-leg then rings the agent, the B-leg
//! the customer. Zorio has no custom variables, so the stored `call_uuid` is what ties the
//! call's events back to the request.

use super::{DialCall, DialError, Dialer, PbxRequest, Placed, first_text};
use crate::storage::{RequestStatus, Source};
use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use secrecy::{ExposeSecret, SecretString};

pub struct ZorioDialer;

impl Dialer for ZorioDialer {
    fn can_dial(&self, source: &Source) -> bool {
        source.api.is_some()
    }

    fn request(&self, call: &DialCall<'_>) -> Result<PbxRequest, DialError> {
        let api = call
            .source
            .api
            .as_ref()
            .ok_or_else(|| DialError::Misconfigured("the source has no API settings".into()))?;
        let base = api.url.as_str().trim_end_matches('/');
        let url = url::Url::parse(&format!("{base}/api/pbx/calls/click-to-call"))
            .map_err(|_| DialError::Misconfigured("the source has no valid API URL".into()))?;
        let mut body = serde_json::json!({
            "from_extension": call.external_user_id,
            "to_phone": call.to.as_str(),
        });
        if let Some(caller_id) = call.caller_id {
            body["caller_id"] = caller_id.as_str().into();
        }
        let bearer = SecretString::from(format!("Bearer {}", api.key.expose_secret()));
        Ok(PbxRequest {
            method: Method::POST,
            url,
            auth: (AUTHORIZATION, bearer),
            json: Some(body),
        })
    }

    fn read_answer(&self, status: u16, body: &[u8]) -> Result<Placed, DialError> {
        if (200..300).contains(&status) {
            return Ok(Placed {
                status: RequestStatus::Requested,
                pbx_call_id: first_text(body, &[&["call_uuid"], &["data", "call_uuid"]]),
            });
        }
        let reason = first_text(
            body,
            &[&["message"], &["error", "message"], &["error"], &["detail"]],
        )
        .unwrap_or_else(|| format!("Zorio answered HTTP {status}"));
        Err(DialError::Refused { status, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        CallRequestId, CountryCode, E164Number, SourceId, SourceKind, TenantId, WebUrl,
    };
    use crate::storage::PbxApi;

    #[test]
    fn the_request_is_the_fixtures_click_to_call() {
        let source = Source {
            id: SourceId::generate(),
            tenant_id: TenantId::generate(),
            kind: SourceKind::Zorio,
            secret: SecretString::from("webhook-secret"),
            account_id: None,
            api: Some(PbxApi {
                url: WebUrl::parse("https://acme.zorio.example/").unwrap(),
                key: SecretString::from("zorio-key"),
            }),
            created_at: chrono::Utc::now(),
            disabled_at: None,
            previous_secret: None,
        };
        let us = CountryCode::default();
        let to = E164Number::parse("+12125550199", us).unwrap();
        let cid = E164Number::parse("+16285550100", us).unwrap();
        let request = ZorioDialer
            .request(&DialCall {
                request_id: &CallRequestId::generate(),
                source: &source,
                external_user_id: "1001",
                to: &to,
                caller_id: Some(&cid),
                caller_name: "Acme Dental",
                ring_seconds: 20,
            })
            .unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(
            request.url.as_str(),
            "https://acme.zorio.example/api/pbx/calls/click-to-call"
        );
        assert_eq!(request.auth.1.expose_secret(), "Bearer zorio-key");
        assert_eq!(
            request.json,
            Some(serde_json::json!({
                "from_extension": "1001",
                "to_phone": "+12125550199",
                "caller_id": "+16285550100"
            }))
        );
    }

    #[test]
    fn a_202_keeps_the_call_uuid() {
        let placed = ZorioDialer
            .read_answer(
                202,
                br#"{"call_uuid": "7f1c2a9e-1111-4c3b-9d55-0a1b2c3d4e5f"}"#,
            )
            .unwrap();
        assert_eq!(placed.status, RequestStatus::Requested);
        assert_eq!(
            placed.pbx_call_id.as_deref(),
            Some("7f1c2a9e-1111-4c3b-9d55-0a1b2c3d4e5f")
        );
    }

    #[test]
    fn an_error_answer_keeps_zorios_message() {
        let err = ZorioDialer
            .read_answer(422, br#"{"message": "extension 1001 is offline"}"#)
            .unwrap_err();
        assert_eq!(err.reason(), "extension 1001 is offline");
    }
}
