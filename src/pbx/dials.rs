//! The connector's half of click-to-call on socket sources: take the dials the API handed
//! over for this source (`storage::socket_dials`), send each as the PBX's originate command on
//! the connection already open, and record what the PBX answers. The answer to the command
//! decides the request's status, as Kazoo's answer to its quickcall does; a later failure of
//! the user's leg (AMI `OriginateResponse: Failure`, ESL `BACKGROUND_JOB` `-ERR`) fails a
//! request that nothing else moved.

use chrono::Utc;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use super::SessionError;
use super::ami_codec::AmiMessage;
use super::ami_session::AmiSession;
use super::esl_session::EslSession;
use super::originate;
use crate::domain::{CallRequestId, SourceId, TenantId};
use crate::storage::{DialRecord, DialState, PbxSocket, RequestStatus, SocketDial, Storage};

/// The dials of one connection that were sent and not yet settled, by request id.
#[derive(Default)]
pub struct Dials {
    sent: HashMap<String, SocketDial>,
    /// ESL: requests whose `bgapi` reply has not come yet, in sending order.
    awaiting_reply: VecDeque<String>,
    /// ESL: the request of each background job.
    jobs: HashMap<String, String>,
}

/// The dials the API handed over for `source` within `window`, now this connection's.
async fn claim(store: &dyn Storage, source: &SourceId, window: Duration) -> Vec<SocketDial> {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let since = Utc::now().timestamp_millis().saturating_sub(window_ms);
    match store.claim_dials(source, since).await {
        Ok(dials) => dials,
        Err(error) => {
            tracing::warn!(source = %source, %error, "cannot read click-to-call dials");
            Vec::new()
        }
    }
}

/// Records the PBX's answer: the hand-over row for the waiting API, and the request.
async fn settle(store: &dyn Storage, dial: &SocketDial, outcome: Result<(), String>) {
    let (state, result) = match outcome {
        Ok(()) => (
            DialState::Accepted,
            DialRecord::Placed {
                status: RequestStatus::Requested,
                pbx_call_id: None,
            },
        ),
        Err(reason) => (DialState::Refused, DialRecord::Failed { reason }),
    };
    record(store, dial, &result).await;
    if let Err(error) = store.answer_dial(&dial.request_id, state).await {
        tracing::error!(call = %dial.request_id, %error, "cannot record the PBX's answer to a dial");
    }
}

async fn record(store: &dyn Storage, dial: &SocketDial, record: &DialRecord) {
    let (Some(tenant), Some(id)) = (
        TenantId::parse(&dial.tenant_id),
        CallRequestId::parse(&dial.request_id),
    ) else {
        return;
    };
    if let Err(error) = store.record_dial(&tenant, &id, record, Utc::now()).await {
        tracing::error!(call = %dial.request_id, %error, "cannot record a dial's result");
    }
}

impl Dials {
    /// Sends the waiting dials as AMI `Originate` actions.
    pub async fn send_ami(
        &mut self,
        store: &dyn Storage,
        socket: &PbxSocket,
        window: Duration,
        session: &mut AmiSession,
    ) -> Result<(), SessionError> {
        let context = socket
            .originate_context
            .as_deref()
            .unwrap_or(originate::AMI_DEFAULT_CONTEXT);
        for dial in claim(store, &socket.source_id, window).await {
            match originate::ami_originate(&dial, context) {
                Ok(action) => {
                    tracing::info!(call = %dial.request_id, "sending AMI Originate");
                    self.sent.insert(dial.request_id.clone(), dial);
                    session.send(&action).await?;
                }
                Err(error) => settle(store, &dial, Err(error.to_string())).await,
            }
        }
        Ok(())
    }

    /// Reads an AMI response or `OriginateResponse` event, if it answers one of our dials.
    pub async fn on_ami(&mut self, store: &dyn Storage, message: &AmiMessage) {
        let Some(request) = message
            .get("ActionID")
            .and_then(originate::request_of_action)
        else {
            return;
        };
        let success = message.get("Response") == Some("Success");
        match message.event() {
            None => {
                let Some(dial) = self.sent.get(request) else {
                    return;
                };
                let outcome = if success {
                    Ok(())
                } else {
                    let said = message.get("Message").unwrap_or("Originate refused");
                    Err(format!("Asterisk refused the Originate: {said}"))
                };
                if outcome.is_err() {
                    tracing::warn!(call = %request, "Asterisk refused the Originate");
                }
                settle(store, dial, outcome).await;
                if !success {
                    self.sent.remove(request);
                }
            }
            Some("OriginateResponse") => {
                let Some(dial) = self.sent.remove(request) else {
                    return;
                };
                if !success {
                    let reason = originate::ami_failure_reason(message.get("Reason"));
                    record(store, &dial, &DialRecord::Failed { reason }).await;
                }
            }
            Some(_) => {}
        }
    }

    /// Sends the waiting dials as ESL `bgapi originate` commands.
    pub async fn send_esl(
        &mut self,
        store: &dyn Storage,
        socket: &PbxSocket,
        window: Duration,
        session: &mut EslSession,
    ) -> Result<(), SessionError> {
        let context = socket
            .originate_context
            .as_deref()
            .unwrap_or(originate::ESL_DEFAULT_CONTEXT);
        for dial in claim(store, &socket.source_id, window).await {
            match originate::esl_originate(&dial, context) {
                Ok(command) => {
                    tracing::info!(call = %dial.request_id, "sending ESL bgapi originate");
                    self.awaiting_reply.push_back(dial.request_id.clone());
                    self.sent.insert(dial.request_id.clone(), dial);
                    session.send(&command).await?;
                }
                Err(error) => settle(store, &dial, Err(error.to_string())).await,
            }
        }
        Ok(())
    }

    /// Reads a `command/reply` (after login, only `bgapi` commands get one, in order).
    pub async fn on_esl_reply(&mut self, store: &dyn Storage, reply_text: &str) {
        let Some(request) = self.awaiting_reply.pop_front() else {
            return;
        };
        let Some(dial) = self.sent.get(&request) else {
            return;
        };
        match originate::esl_job_uuid(reply_text) {
            Some(job) => {
                self.jobs.insert(job.to_owned(), request.clone());
                settle(store, dial, Ok(())).await;
            }
            None => {
                tracing::warn!(call = %request, "FreeSWITCH refused the originate");
                let reason = format!("FreeSWITCH refused the originate: {}", reply_text.trim());
                settle(store, dial, Err(reason)).await;
                self.sent.remove(&request);
            }
        }
    }

    /// Reads a `BACKGROUND_JOB` event: the end of an originate job.
    pub async fn on_esl_job(&mut self, store: &dyn Storage, job: &str, body: &str) {
        let Some(request) = self.jobs.remove(job) else {
            return;
        };
        let Some(dial) = self.sent.remove(&request) else {
            return;
        };
        if let Some(reason) = originate::esl_job_failure(body) {
            record(store, &dial, &DialRecord::Failed { reason }).await;
        }
    }
}
