//! The Zoom Server-to-Server OAuth app of `source create --kind zoom`: the flags read into a
//! [`ZoomApp`], all of it or none, before anything is written.

use super::AdminError;
use super::cli::SourceCreate;
use crate::domain::{SourceKind, WebUrl};
use crate::storage::ZoomApp;
use secrecy::SecretString;
use std::io::BufRead;

fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

/// The app named by the `--zoom-*` flags, the client secret read from the first line of
/// `stdin`; `None` when no such flag was given. Refused on any kind but zoom.
pub fn zoom_app(
    args: &SourceCreate,
    stdin: &mut dyn BufRead,
) -> Result<Option<ZoomApp>, AdminError> {
    let Some(account_id) = &args.zoom_account_id else {
        return Ok(None);
    };
    if args.kind != SourceKind::Zoom {
        return Err(invalid(format!(
            "{} sources take no --zoom-* flags: they name a Zoom app",
            args.kind
        )));
    }
    let account_id = required("--zoom-account-id", Some(account_id))?;
    let client_id = required("--zoom-client-id", args.zoom_client_id.as_ref())?;
    if !args.zoom_client_secret_stdin {
        return Err(invalid(
            "the Zoom app's client secret is required: pass it on stdin with --zoom-client-secret-stdin",
        ));
    }
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(|e| {
        invalid(format!(
            "cannot read the Zoom client secret from stdin: {e}"
        ))
    })?;
    let secret = line.trim_end_matches(['\r', '\n']).trim();
    if secret.is_empty() {
        return Err(invalid(
            "the Zoom client secret read from stdin is empty (--zoom-client-secret-stdin)",
        ));
    }
    let oauth_url = args.zoom_oauth_url.as_deref().unwrap_or(ZoomApp::OAUTH_URL);
    let oauth_url =
        WebUrl::parse(oauth_url).map_err(|e| invalid(format!("--zoom-oauth-url: {e}")))?;
    Ok(Some(ZoomApp {
        account_id,
        client_id,
        client_secret: SecretString::from(secret.to_owned()),
        oauth_url,
    }))
}

fn required(flag: &str, value: Option<&String>) -> Result<String, AdminError> {
    match value.map(|v| v.trim()) {
        Some(v) if !v.is_empty() && !v.contains(char::is_whitespace) => Ok(v.to_owned()),
        _ => Err(invalid(format!(
            "{flag} must be a non-empty id without spaces"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::cli::{Cli, Command, SourceCommand};
    use clap::Parser;

    fn args(flags: &[&str]) -> SourceCreate {
        let mut argv = vec!["ringhook", "source", "create", "--tenant", "ten_x"];
        argv.extend_from_slice(flags);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Source(SourceCommand::Create(args)),
                ..
            }) => args,
            other => panic!("unexpected parse: {other:?}"),
        }
    }

    const ALL: [&str; 7] = [
        "--kind",
        "zoom",
        "--zoom-account-id",
        "acc1",
        "--zoom-client-id",
        "cli1",
        "--zoom-client-secret-stdin",
    ];

    #[test]
    fn the_flags_and_the_stdin_line_make_the_app() {
        let app = zoom_app(&args(&ALL), &mut "s3cr3t\n".as_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(app.account_id, "acc1");
        assert_eq!(app.client_id, "cli1");
        assert_eq!(app.oauth_url.as_str(), "https://zoom.us/");
        assert!(!format!("{app:?}").contains("s3cr3t"));
    }

    #[test]
    fn no_zoom_flag_means_no_app() {
        let none = zoom_app(&args(&["--kind", "zoom"]), &mut "".as_bytes()).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn an_empty_secret_is_refused() {
        let err = zoom_app(&args(&ALL), &mut "\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn another_kind_is_refused() {
        let mut flags = ALL;
        flags[1] = "kazoo";
        let err = zoom_app(&args(&flags), &mut "s\n".as_bytes()).unwrap_err();
        assert!(err.to_string().contains("--zoom-*"), "{err}");
    }
}
