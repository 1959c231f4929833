//! Asterisk and FreeSWITCH place calls over the same event socket ringhook reads (AMI
//! `Originate`, ESL `bgapi originate`), not over an HTTP API. Until the connector sends those,
//! these sources are not offered for click-to-call: a user linked only to one is `not_linked`.

use super::{DialCall, DialError, Dialer, PbxRequest, Placed};
use crate::storage::Source;

pub struct PbxSocketDialer;

impl Dialer for PbxSocketDialer {
    fn can_dial(&self, _source: &Source) -> bool {
        false
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
