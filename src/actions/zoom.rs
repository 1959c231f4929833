//! Zoom Phone: its REST API has no endpoint that places a call (none in the Phone API
//! OpenAPI), so a server cannot originate one. Click-to-call is client-side only: the
//! `zoomphonecall://{number}?callerid={number}` link starts the signed-in Zoom client, and
//! `tel:` works wherever a dialer is registered. The dialer refuses with both links so a client
//! that can open them still gets the user dialing.

use super::{DialCall, DialError, Dialer, PbxRequest, Placed};
use crate::storage::Source;

pub struct ZoomDialer;

impl Dialer for ZoomDialer {
    fn can_dial(&self, _source: &Source) -> bool {
        true
    }

    fn request(&self, call: &DialCall<'_>) -> Result<PbxRequest, DialError> {
        let to = call.to.as_str();
        let launch_url = match call.caller_id {
            Some(caller_id) => format!("zoomphonecall://{to}?callerid={caller_id}"),
            None => format!("zoomphonecall://{to}"),
        };
        Err(DialError::NotSupported {
            launch_url,
            tel_url: format!("tel:{to}"),
        })
    }

    fn read_answer(&self, status: u16, _body: &[u8]) -> Result<Placed, DialError> {
        Err(DialError::Refused {
            status,
            reason: "Zoom Phone cannot place calls from a server".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CallRequestId, CountryCode, E164Number, SourceId, SourceKind, TenantId};
    use secrecy::SecretString;

    #[test]
    fn zoom_refuses_with_links_the_users_device_can_open() {
        let source = Source {
            id: SourceId::generate(),
            tenant_id: TenantId::generate(),
            kind: SourceKind::Zoom,
            secret: SecretString::from("zoom-secret"),
            account_id: None,
            api: None,
            created_at: chrono::Utc::now(),
            disabled_at: None,
            previous_secret: None,
        };
        let to = E164Number::parse("+12125550199", CountryCode::default()).unwrap();
        let err = ZoomDialer
            .request(&DialCall {
                request_id: &CallRequestId::generate(),
                source: &source,
                external_user_id: "u8Kd3fQ9R2eX1tLm6ZpW4A",
                to: &to,
                caller_id: None,
                caller_name: "Acme Dental",
                ring_seconds: 20,
            })
            .unwrap_err();
        assert_eq!(
            err,
            DialError::NotSupported {
                launch_url: "zoomphonecall://+12125550199".into(),
                tel_url: "tel:+12125550199".into()
            }
        );
        assert!(err.to_string().contains("no server-side API"));
    }
}
