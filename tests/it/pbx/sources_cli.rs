//! `ringhook source create --kind asterisk|freeswitch` through the real binary.

use crate::support::workdir::{Workdir, source_create};
use ringhook::domain::SourceId;
use secrecy::ExposeSecret;
use serde_json::Value;

#[tokio::test]
async fn an_asterisk_source_keeps_its_address_login_and_the_secret_from_stdin_without_printing_it()
{
    let work = Workdir::new();
    let tenant = work.tenant();
    let args = source_create(
        &tenant,
        "asterisk",
        &[
            "--ami-url",
            "tcp://pbx.example.net",
            "--username",
            "ringhook",
            "--secret-stdin",
        ],
    );
    let output = work.run_with_stdin(&args, "amp111-secret\n");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(!printed.contains("amp111-secret"), "{printed}");
    let out: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(out["kind"], "asterisk");
    assert_eq!(out["ami_url"], "tcp://pbx.example.net:5038");
    assert_eq!(out["username"], "ringhook");
    assert!(out.get("ingest_url").is_none() && out.get("secret").is_none());

    let store = work.store().await;
    let id = SourceId::parse(out["id"].as_str().unwrap()).unwrap();
    let sockets = store.pbx_sockets().await.unwrap();
    let (source, socket) = sockets.iter().find(|(s, _)| s.id == id).unwrap();
    assert_eq!(source.secret.expose_secret(), "amp111-secret");
    assert_eq!(socket.url, "tcp://pbx.example.net:5038");
    assert_eq!(socket.username.as_deref(), Some("ringhook"));
    store.close().await;
}

#[test]
fn a_freeswitch_source_needs_its_esl_url_and_a_password_and_takes_no_username() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let with = |extra: &[&str], stdin: &str| {
        work.run_with_stdin(&source_create(&tenant, "freeswitch", extra), stdin)
    };
    let refused = [
        (with(&["--secret-stdin"], "ClueCon\n"), "--esl-url"),
        (
            with(
                &["--esl-url", "http://fs:8021", "--secret-stdin"],
                "ClueCon\n",
            ),
            "--esl-url",
        ),
        (
            with(&["--esl-url", "tcp://fs", "--secret-stdin"], "\n"),
            "secret",
        ),
        (
            with(
                &["--esl-url", "tcp://fs", "--username", "x", "--secret-stdin"],
                "ClueCon\n",
            ),
            "--username",
        ),
        (
            with(&["--ami-url", "tcp://fs", "--secret-stdin"], "ClueCon\n"),
            "--esl-url",
        ),
    ];
    for (output, names) in refused {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(names),
            "{stderr}"
        );
    }
    let out = work.ok_with_stdin(
        &source_create(
            &tenant,
            "freeswitch",
            &["--esl-url", "tcp://fs.example.net", "--secret-stdin"],
        ),
        "ClueCon
",
    );
    assert_eq!(out["esl_url"], "tcp://fs.example.net:8021");
}

#[test]
fn webhook_sources_refuse_socket_settings() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let output = work.run(&source_create(&tenant, "kazoo", &["--ami-url", "tcp://x"]));
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ami-url"));
}

#[tokio::test]
async fn an_originate_context_is_kept_when_plain_and_refused_otherwise() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let args = |context: &'static str| {
        source_create(
            &tenant,
            "asterisk",
            &[
                "--ami-url",
                "tcp://pbx.example.net",
                "--username",
                "ringhook",
                "--secret-stdin",
                "--originate-context",
                context,
            ],
        )
    };
    let output = work.run_with_stdin(&args("from-internal,evil"), "s\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("--originate-context"),
        "{stderr}"
    );
    let out = work.ok_with_stdin(&args("ringhook-dial"), "s\n");
    assert_eq!(out["originate_context"], "ringhook-dial");

    let store = work.store().await;
    let sockets = store.pbx_sockets().await.unwrap();
    assert_eq!(sockets.len(), 1, "the refused source was not stored");
    assert_eq!(
        sockets[0].1.originate_context.as_deref(),
        Some("ringhook-dial")
    );
    store.close().await;

    let kazoo = work.run(&source_create(
        &tenant,
        "kazoo",
        &["--originate-context", "x"],
    ));
    assert!(!kazoo.status.success());
}
