//! `ringhook source create --kind asterisk|freeswitch` through the real binary.

use ringhook::config::DatabaseUrl;
use ringhook::domain::SourceId;
use ringhook::storage;
use secrecy::ExposeSecret;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_ringhook");

struct Workdir(TempDir);

impl Workdir {
    fn new() -> Workdir {
        Workdir(tempfile::tempdir().unwrap())
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}/admin.db", self.0.path().display())
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(self.0.path())
            .env_remove("RUST_LOG")
            .env("RINGHOOK_DATABASE_URL", self.database_url())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str) -> Value {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn tenant(&self) -> String {
        self.ok(&["tenant", "create", "--name", "Acme Dental"], "")["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[tokio::test]
async fn an_asterisk_source_keeps_its_address_login_and_the_secret_from_stdin_without_printing_it()
{
    let work = Workdir::new();
    let tenant = work.tenant();
    let args = [
        "source",
        "create",
        "--tenant",
        &tenant,
        "--kind",
        "asterisk",
        "--ami-url",
        "tcp://pbx.example.net",
        "--username",
        "ringhook",
        "--secret-stdin",
    ];
    let output = work.run(&args, "amp111-secret\n");
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

    let store = storage::connect(&DatabaseUrl::new(work.database_url()), 1)
        .await
        .unwrap();
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
    let base = [
        "source",
        "create",
        "--tenant",
        &tenant,
        "--kind",
        "freeswitch",
    ];
    let with = |extra: &[&str], stdin: &str| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        work.run(&args, stdin)
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
    let out = work.ok(
        &[
            &base[..],
            &["--esl-url", "tcp://fs.example.net", "--secret-stdin"],
        ]
        .concat(),
        "ClueCon\n",
    );
    assert_eq!(out["esl_url"], "tcp://fs.example.net:8021");
}

#[test]
fn webhook_sources_refuse_socket_settings() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let output = work.run(
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "kazoo",
            "--ami-url",
            "tcp://x",
        ],
        "",
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--ami-url"));
}

#[tokio::test]
async fn an_originate_context_is_kept_when_plain_and_refused_otherwise() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let args = |context: &'static str| -> Vec<String> {
        [
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "asterisk",
            "--ami-url",
            "tcp://pbx.example.net",
            "--username",
            "ringhook",
            "--secret-stdin",
            "--originate-context",
            context,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let bad = args("from-internal,evil");
    let output = work.run(&bad.iter().map(String::as_str).collect::<Vec<_>>(), "s\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("--originate-context"),
        "{stderr}"
    );
    let good = args("ringhook-dial");
    let out = work.ok(&good.iter().map(String::as_str).collect::<Vec<_>>(), "s\n");
    assert_eq!(out["originate_context"], "ringhook-dial");

    let store = storage::connect(&DatabaseUrl::new(work.database_url()), 1)
        .await
        .unwrap();
    let sockets = store.pbx_sockets().await.unwrap();
    assert_eq!(sockets.len(), 1, "the refused source was not stored");
    assert_eq!(
        sockets[0].1.originate_context.as_deref(),
        Some("ringhook-dial")
    );
    store.close().await;

    let kazoo = work.run(
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "kazoo",
            "--originate-context",
            "x",
        ],
        "",
    );
    assert!(!kazoo.status.success());
}
