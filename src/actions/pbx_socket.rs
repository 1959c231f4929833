//! Asterisk and FreeSWITCH place calls over the event socket ringhook already holds (AMI
//! `Originate`, ESL `bgapi originate`), not over an HTTP API, and the socket may be held by
//! another `serve` process (the one holding the source's lease). So the API hands the dial
//! over through the database (`storage::socket_dials`) and waits: the connector holding the
//! socket takes it within a poll interval, sends it and records the PBX's answer
//! (`pbx::dials`). A dial no connector takes in time is taken back, so it is never sent late.

use chrono::Utc;
use std::time::{Duration, Instant};

use super::{DialCall, DialError, Dialer, PbxRequest, Placed};
use crate::storage::{DialState, RequestStatus, SocketDial, Source, Storage};

/// How often the waiting API looks at the hand-over row.
const POLL: Duration = Duration::from_millis(100);

pub struct PbxSocketDialer;

impl Dialer for PbxSocketDialer {
    /// A socket source can always dial: the link id names the user's endpoint and the
    /// context has a per-kind default.
    fn can_dial(&self, _source: &Source) -> bool {
        true
    }

    fn request(&self, _call: &DialCall<'_>) -> Result<PbxRequest, DialError> {
        Err(DialError::Misconfigured(
            "calls on socket sources are placed by their connector".into(),
        ))
    }

    fn read_answer(&self, status: u16, _body: &[u8]) -> Result<Placed, DialError> {
        Err(DialError::Refused {
            status,
            reason: "socket sources answer on their event socket".into(),
        })
    }
}

/// How long the API waits for each step of a socket dial.
#[derive(Clone, Copy, Debug)]
pub struct SocketWaits {
    /// For a connector to take the dial: none connected means the PBX is unreachable.
    pub claim: Duration,
    /// For the PBX's answer once sent.
    pub answer: Duration,
}

/// Hands `call` (already stored as a request) to the source's connector and waits for the
/// PBX's answer to the originate command.
pub async fn place(
    store: &dyn Storage,
    call: &DialCall<'_>,
    waits: SocketWaits,
) -> Result<Placed, DialError> {
    let unexpected = |e: crate::storage::StoreError| DialError::Unreachable(e.to_string());
    let dial = SocketDial {
        request_id: call.request_id.as_str().to_owned(),
        tenant_id: call.source.tenant_id.as_str().to_owned(),
        source_id: call.source.id.as_str().to_owned(),
        endpoint: call.external_user_id.to_owned(),
        to_number: call.to.as_str().to_owned(),
        caller_id: call.caller_id.map(|n| n.as_str().to_owned()),
        caller_name: call.caller_name.to_owned(),
        ring_seconds: i64::try_from(call.ring_seconds).unwrap_or(i64::MAX),
    };
    store
        .hand_over_dial(&dial, Utc::now().timestamp_millis())
        .await
        .map_err(unexpected)?;
    let tenant = &call.source.tenant_id;
    let started = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let state = store
            .dial_state(tenant, call.request_id)
            .await
            .map_err(unexpected)?;
        match state {
            Some(DialState::Accepted) => {
                return Ok(Placed {
                    status: RequestStatus::Requested,
                    pbx_call_id: None,
                });
            }
            Some(DialState::Refused) => {
                let request = store
                    .call_request(tenant, call.request_id)
                    .await
                    .map_err(unexpected)?;
                let reason = request
                    .and_then(|r| r.reason)
                    .unwrap_or_else(|| "the PBX refused the call".into());
                return Err(DialError::Refused {
                    status: 502,
                    reason,
                });
            }
            Some(DialState::Waiting) if started.elapsed() >= waits.claim => {
                if store
                    .abandon_dial(call.request_id)
                    .await
                    .map_err(unexpected)?
                {
                    return Err(DialError::Unreachable(format!(
                        "no ringhook process is connected to the {} source's event socket",
                        call.source.kind
                    )));
                }
            }
            Some(DialState::Sent) if started.elapsed() >= waits.answer => {
                return Err(DialError::NoAnswer);
            }
            Some(DialState::Abandoned) | None => {
                return Err(DialError::Unreachable("the dial was taken back".into()));
            }
            Some(_) => {}
        }
    }
}
