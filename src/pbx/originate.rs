//! Click-to-call as the PBX's own command: AMI `Originate` and ESL `bgapi originate`. Both
//! ring the user's phone first and, once it answers, dial the target in the source's
//! context, carrying the request id so that the call's events come back with
//! `correlation.request_id`. Pure: the connector sends what is built here.
//!
//! Everything put on the wire comes from ringhook's own checked values (E.164 numbers, the
//! request id) or is checked here (the endpoint and the context take a plain charset, the
//! caller name loses the characters that would end its field), so a link id or a tenant name
//! cannot smuggle another command or channel into the dial string.

use super::ami_codec::AmiMessage;
use crate::ingest::asterisk::{CLICK_TO_CALL_PREFIX, REQUEST_ID_VAR as AMI_REQUEST_ID_VAR};
use crate::ingest::freeswitch::REQUEST_ID_VAR as ESL_REQUEST_ID_VAR;
use crate::storage::SocketDial;

/// `ActionID` of the Originate for a request: this, then the request id.
const ACTION_PREFIX: &str = "dial-";

/// The context when the source names none: FreePBX's for internal phones, FreeSWITCH's
/// default XML dialplan context.
pub const AMI_DEFAULT_CONTEXT: &str = "from-internal";
pub const ESL_DEFAULT_CONTEXT: &str = "default";

/// Why a dial cannot be written as a PBX command (an operator's link or context is wrong).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OriginateError {
    #[error("the user's link {0:?} is not a dialable endpoint such as PJSIP/1001 or user/1001")]
    Endpoint(String),
    #[error("the source's originate context {0:?} is not a plain dialplan context name")]
    Context(String),
}

/// Whether `raw` is a plain name: letters, digits and `-_.`, plus `extra`.
fn plain(raw: &str, extra: &[char]) -> bool {
    !raw.is_empty()
        && raw.len() <= 128
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c) || extra.contains(&c))
}

/// Checks an originate context given by an operator.
pub fn check_context(raw: &str) -> Result<(), OriginateError> {
    if plain(raw, &[]) {
        Ok(())
    } else {
        Err(OriginateError::Context(raw.to_owned()))
    }
}

fn checked<'a>(
    dial: &'a SocketDial,
    context: &'a str,
) -> Result<(&'a str, &'a str), OriginateError> {
    check_context(context)?;
    let endpoint = dial.endpoint.as_str();
    if !plain(endpoint, &['/', '@', ':', '+']) || !endpoint.contains('/') {
        return Err(OriginateError::Endpoint(endpoint.to_owned()));
    }
    Ok((endpoint, context))
}

/// The caller name without the characters that end a quoted field in either protocol.
fn shown_name(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_control() && !"\"'<>\\,{}=".contains(*c))
        .take(40)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The AMI `Originate`: asynchronous (the answer says "queued"; `OriginateResponse` follows
/// when the user's phone answered or not), with the channel's Uniqueid set to
/// `ringhook-<request id>` so every event of the call names the request even where
/// `channelvars` does not list [`AMI_REQUEST_ID_VAR`].
pub fn ami_originate(dial: &SocketDial, context: &str) -> Result<AmiMessage, OriginateError> {
    let (endpoint, context) = checked(dial, context)?;
    let name = shown_name(&dial.caller_name);
    let number = dial.caller_id.as_deref().unwrap_or_default();
    let timeout_ms = dial.ring_seconds.max(1).saturating_mul(1000);
    Ok(
        AmiMessage::action("Originate", &format!("{ACTION_PREFIX}{}", dial.request_id))
            .with("Channel", endpoint)
            .with("Context", context)
            .with("Exten", &dial.to_number)
            .with("Priority", "1")
            .with("Timeout", &timeout_ms.to_string())
            .with("CallerID", &format!("\"{name}\" <{number}>"))
            .with(
                "Variable",
                &format!("__{AMI_REQUEST_ID_VAR}={}", dial.request_id),
            )
            .with(
                "ChannelId",
                &format!("{CLICK_TO_CALL_PREFIX}{}", dial.request_id),
            )
            .with("Async", "true"),
    )
}

/// The request an AMI response or `OriginateResponse` answers, by its `ActionID`.
pub fn request_of_action(action_id: &str) -> Option<&str> {
    action_id
        .strip_prefix(ACTION_PREFIX)
        .filter(|r| !r.is_empty())
}

/// What an `OriginateResponse: Failure` `Reason` (an Asterisk control frame number) means.
pub fn ami_failure_reason(reason: Option<&str>) -> String {
    let text = match reason {
        Some("1") => "the user's phone hung up",
        Some("3") => "the user's phone did not answer",
        Some("5") => "the user's phone is busy",
        Some("8") => "the PBX found no route to the user's phone (congestion)",
        _ => "the PBX could not ring the user's phone",
    };
    text.to_owned()
}

/// The ESL command: `bgapi originate {vars}<endpoint> <target> XML <context>`; FreeSWITCH
/// answers `+OK Job-UUID: …` at once and the `BACKGROUND_JOB` event later says whether the
/// user's leg answered.
pub fn esl_originate(dial: &SocketDial, context: &str) -> Result<String, OriginateError> {
    let (endpoint, context) = checked(dial, context)?;
    let mut vars = vec![
        format!(
            "origination_caller_id_name='{}'",
            shown_name(&dial.caller_name)
        ),
        format!("originate_timeout={}", dial.ring_seconds.max(1)),
        format!("{ESL_REQUEST_ID_VAR}={}", dial.request_id),
    ];
    if let Some(number) = &dial.caller_id {
        vars.insert(1, format!("origination_caller_id_number={number}"));
    }
    Ok(format!(
        "bgapi originate {{{}}}{endpoint} {} XML {context}",
        vars.join(","),
        dial.to_number
    ))
}

/// The Job-UUID in a `bgapi` reply (`+OK Job-UUID: 1b2c…`).
pub fn esl_job_uuid(reply_text: &str) -> Option<&str> {
    reply_text
        .strip_prefix("+OK Job-UUID:")
        .map(str::trim)
        .filter(|j| !j.is_empty())
}

/// The failure a `BACKGROUND_JOB` body reports (`-ERR NO_ANSWER`), or `None` for `+OK …`.
pub fn esl_job_failure(body: &str) -> Option<String> {
    let cause = body.trim().strip_prefix("-ERR")?.trim();
    Some(match cause {
        "" => "FreeSWITCH could not ring the user's phone".to_owned(),
        cause => format!("FreeSWITCH could not ring the user's phone: {cause}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(endpoint: &str) -> SocketDial {
        SocketDial {
            request_id: "c2c_01hzx9q3t4m5n6p7r8s9".into(),
            tenant_id: "ten_1".into(),
            source_id: "src_1".into(),
            endpoint: endpoint.into(),
            to_number: "+12125550199".into(),
            caller_id: Some("+16285550100".into()),
            caller_name: "Acme \"Dental\", Inc.".into(),
            ring_seconds: 20,
        }
    }

    #[test]
    fn the_ami_originate_rings_the_user_then_dials_the_target_in_the_context() {
        let action = ami_originate(&dial("PJSIP/1001"), "from-internal").unwrap();
        let lines: Vec<(&str, &str)> = action
            .fields()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("Action", "Originate"),
                ("ActionID", "dial-c2c_01hzx9q3t4m5n6p7r8s9"),
                ("Channel", "PJSIP/1001"),
                ("Context", "from-internal"),
                ("Exten", "+12125550199"),
                ("Priority", "1"),
                ("Timeout", "20000"),
                ("CallerID", "\"Acme Dental Inc.\" <+16285550100>"),
                ("Variable", "__RINGHOOK_REQUEST_ID=c2c_01hzx9q3t4m5n6p7r8s9"),
                ("ChannelId", "ringhook-c2c_01hzx9q3t4m5n6p7r8s9"),
                ("Async", "true"),
            ]
        );
        assert_eq!(
            request_of_action("dial-c2c_01hzx9q3t4m5n6p7r8s9"),
            Some("c2c_01hzx9q3t4m5n6p7r8s9")
        );
        assert_eq!(request_of_action("rh-4"), None);
    }

    #[test]
    fn the_esl_originate_carries_the_request_id_as_a_channel_variable() {
        let command = esl_originate(&dial("user/1001"), "default").unwrap();
        assert_eq!(
            command,
            "bgapi originate {origination_caller_id_name='Acme Dental Inc.',\
             origination_caller_id_number=+16285550100,originate_timeout=20,\
             ringhook_request_id=c2c_01hzx9q3t4m5n6p7r8s9}user/1001 +12125550199 XML default"
        );
    }

    #[test]
    fn an_endpoint_or_context_that_could_carry_another_command_is_refused() {
        for endpoint in [
            "PJSIP/1001&PJSIP/1002",
            "user/1001 &park()",
            "1001",
            "PJSIP/1001\r\nAction: Logoff",
            "user/1001,user/1002",
        ] {
            assert_eq!(
                ami_originate(&dial(endpoint), "from-internal"),
                Err(OriginateError::Endpoint(endpoint.into())),
                "{endpoint}"
            );
            assert!(esl_originate(&dial(endpoint), "default").is_err());
        }
        assert!(matches!(
            esl_originate(&dial("user/1001"), "default XML evil"),
            Err(OriginateError::Context(_))
        ));
        assert!(check_context("from-internal").is_ok());
    }

    #[test]
    fn answers_name_the_job_and_the_failure() {
        assert_eq!(esl_job_uuid("+OK Job-UUID: 1b2c-3d"), Some("1b2c-3d"));
        assert_eq!(esl_job_uuid("-ERR no reply"), None);
        assert_eq!(esl_job_failure("+OK 7c1e2d3f\n"), None);
        assert_eq!(
            esl_job_failure("-ERR NO_ANSWER\n").as_deref(),
            Some("FreeSWITCH could not ring the user's phone: NO_ANSWER")
        );
        assert_eq!(ami_failure_reason(Some("5")), "the user's phone is busy");
        assert_eq!(
            ami_failure_reason(Some("0")),
            "the PBX could not ring the user's phone"
        );
    }
}
