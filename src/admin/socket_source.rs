//! `source create --kind asterisk|freeswitch`: a source ringhook connects to. Its address and
//! login are checked before anything is written; the secret is stored as every source secret
//! is and never printed back (it was typed by the operator, not generated).

use std::io::BufRead;

use secrecy::SecretString;
use serde_json::{Value, json};

use super::cli::SourceCreate;
use super::error::AdminError;
use crate::domain::{SourceKind, TenantId};
use crate::pbx::originate;
use crate::pbx::recording_url::RecordingUrlTemplate;
use crate::pbx::socket_url::SocketUrl;
use crate::storage::{NewSource, PbxSocket, Storage};

/// AMI's and ESL's well-known ports.
const AMI_PORT: u16 = 5038;
const ESL_PORT: u16 = 8021;

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

/// The address flag the kind needs, parsed; the other kind's flag is refused.
fn socket_url(args: &SourceCreate) -> Result<SocketUrl, AdminError> {
    let (wanted, flag, port, other) = match args.kind {
        SourceKind::Asterisk => (&args.ami_url, "--ami-url", AMI_PORT, &args.esl_url),
        _ => (&args.esl_url, "--esl-url", ESL_PORT, &args.ami_url),
    };
    if other.is_some() {
        return Err(invalid(format!(
            "{} sources take {flag}, not the other kind's address",
            args.kind
        )));
    }
    let raw = wanted.as_deref().ok_or_else(|| {
        invalid(format!(
            "{flag} tcp://HOST:PORT is required for {}",
            args.kind
        ))
    })?;
    SocketUrl::parse(raw, port).map_err(|e| invalid(format!("{flag}: {e}")))
}

fn username(args: &SourceCreate) -> Result<Option<String>, AdminError> {
    match (args.kind, args.username.as_deref().map(str::trim)) {
        (SourceKind::Asterisk, Some(u)) if !u.is_empty() && !u.contains(char::is_whitespace) => {
            Ok(Some(u.to_owned()))
        }
        (SourceKind::Asterisk, _) => Err(invalid(
            "--username is required for asterisk: the manager.conf account name",
        )),
        (_, None) => Ok(None),
        (_, Some(_)) => Err(invalid(
            "freeswitch sources take no --username: the event socket has only a password",
        )),
    }
}

/// `--originate-context`, a plain dialplan context name when given.
fn originate_context(args: &SourceCreate) -> Result<Option<String>, AdminError> {
    let Some(raw) = args.originate_context.as_deref() else {
        return Ok(None);
    };
    originate::check_context(raw).map_err(|e| invalid(format!("--originate-context: {e}")))?;
    Ok(Some(raw.to_owned()))
}

/// `--recording-url-template` (Asterisk only), a checked template when given.
fn recording_url_template(args: &SourceCreate) -> Result<Option<String>, AdminError> {
    let Some(raw) = args.recording_url_template.as_deref() else {
        return Ok(None);
    };
    if args.kind != SourceKind::Asterisk {
        return Err(invalid(
            "--recording-url-template applies to asterisk sources (MixMonitor recordings)",
        ));
    }
    let template = RecordingUrlTemplate::parse(raw)
        .map_err(|e| invalid(format!("--recording-url-template: {e}")))?;
    Ok(Some(template.as_str().to_owned()))
}

/// The secret from `--secret-stdin` (first line) or `--secret`.
fn secret(args: &SourceCreate, stdin: &mut dyn BufRead) -> Result<String, AdminError> {
    let raw = if args.secret_stdin {
        let mut line = String::new();
        stdin
            .read_line(&mut line)
            .map_err(|e| invalid(format!("cannot read the secret from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        args.secret.clone().unwrap_or_default()
    };
    if raw.is_empty() || raw.contains(['\r', '\n']) {
        return Err(invalid(
            "the PBX secret is required: pass it on stdin with --secret-stdin",
        ));
    }
    Ok(raw)
}

/// Creates the socket source; `stdin` supplies the secret for `--secret-stdin`.
pub async fn create(
    store: &dyn Storage,
    args: &SourceCreate,
    stdin: &mut dyn BufRead,
) -> Result<Value, AdminError> {
    let tenant_id = TenantId::parse(&args.tenant)
        .ok_or_else(|| invalid(format!("{:?} is not a tenant id (ten_…)", args.tenant)))?;
    if args.api_url.is_some() || args.account_id.is_some() {
        return Err(invalid(format!(
            "{} sources place calls over their event socket: --api-url and --account-id do not apply",
            args.kind
        )));
    }
    let url = socket_url(args)?;
    let username = username(args)?;
    let originate_context = originate_context(args)?;
    let recording_url_template = recording_url_template(args)?;
    let secret = secret(args, stdin)?;
    if store.tenant(&tenant_id).await?.is_none() {
        return Err(invalid(format!("no tenant {tenant_id}")));
    }
    let source = store
        .create_source(&NewSource {
            tenant_id,
            kind: args.kind,
            secret: SecretString::from(secret),
            account_id: None,
            api: None,
            zoom: None,
        })
        .await?;
    store
        .save_pbx_socket(&PbxSocket {
            source_id: source.id.clone(),
            url: url.to_string(),
            username: username.clone(),
            originate_context: originate_context.clone(),
            recording_url_template: recording_url_template.clone(),
        })
        .await?;
    let address = match source.kind {
        SourceKind::Asterisk => "ami_url",
        _ => "esl_url",
    };
    let mut out = json!({"id": source.id, "kind": source.kind, address: url.to_string()});
    if let Some(username) = username {
        out["username"] = json!(username);
    }
    if let Some(context) = originate_context {
        out["originate_context"] = json!(context);
    }
    if let Some(template) = recording_url_template {
        out["recording_url_template"] = json!(template);
    }
    Ok(out)
}
