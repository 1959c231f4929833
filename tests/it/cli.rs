//! The real `ringhook` binary: serve with no configuration, bad settings, admin commands.

use crate::support::workdir::{BIN, Workdir, source_create, stderr};
use serde_json::Value;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_until_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(response) = reqwest::get(url).await
            && response.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered 200");
}

#[tokio::test]
async fn serve_with_no_configuration_creates_the_sqlite_file_and_stops_cleanly_on_sigterm() {
    let work = Workdir::new();
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(work.dir.path())
        .env_remove("RINGHOOK_DATABASE_URL")
        .env("RINGHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_healthy(&format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(work.dir.path().join("ringhook.db").exists());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn a_bad_setting_stops_the_start_with_a_message_that_names_it() {
    let work = Workdir::new();
    let output = work
        .command(&["serve"])
        .env("RINGHOOK_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("RINGHOOK_LISTEN"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_missing_config_file_is_reported() {
    let work = Workdir::new();
    let output = work.run(&["--config", "nowhere.toml", "migrate"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("nowhere.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn settings_come_from_the_config_file_and_env_overrides_it() {
    let work = Workdir::new();
    let file = work.dir.path().join("ringhook.toml");
    std::fs::write(&file, "public_url = \"https://from-file.example\"\n").unwrap();
    let from_file = work
        .command(&[
            "--config",
            "ringhook.toml",
            "source",
            "create",
            "--tenant",
            &work.tenant(),
            "--kind",
            "zorio",
        ])
        .env_remove("RINGHOOK_PUBLIC_URL")
        .output()
        .unwrap();
    let from_file: Value = serde_json::from_slice(&from_file.stdout).unwrap();
    assert!(
        from_file["ingest_url"]
            .as_str()
            .unwrap()
            .starts_with("https://from-file.example/ingest/src_")
    );

    let overridden = work.ok(&[
        "--config",
        "ringhook.toml",
        "source",
        "create",
        "--tenant",
        &work.tenant(),
        "--kind",
        "zorio",
    ]);
    assert!(
        overridden["ingest_url"]
            .as_str()
            .unwrap()
            .starts_with("https://hooks.example.net/ingest/")
    );
}

#[test]
fn a_config_file_with_an_unknown_key_is_refused() {
    let work = Workdir::new();
    std::fs::write(
        work.dir.path().join("bad.toml"),
        "listne = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let output = work.run(&["--config", "bad.toml", "migrate"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("listne"), "{}", stderr(&output));
}

#[test]
fn migrate_prints_one_json_object() {
    let work = Workdir::new();
    assert_eq!(work.ok(&["migrate"])["migrated"], true);
}

#[test]
fn tenant_create_prints_the_new_id() {
    let work = Workdir::new();
    let out = work.ok(&[
        "tenant",
        "create",
        "--name",
        "Acme Dental",
        "--default-country",
        "gb",
    ]);
    assert!(out["id"].as_str().unwrap().starts_with("ten_"));
    assert_eq!(out["default_country"], "GB");
}

#[test]
fn tenant_create_refuses_an_unknown_country() {
    let work = Workdir::new();
    let output = work.run(&["tenant", "create", "--name", "X", "--default-country", "ZZ"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("ZZ"));
}

#[tokio::test]
async fn user_create_links_the_user_and_hashes_the_password_from_stdin() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let source = work.ok(&source_create(&tenant, "kazoo", &[]));
    let link = format!(
        "{}:6384e2b2184bcbf58eccf10ca7a6563c",
        source["id"].as_str().unwrap()
    );
    let output = work.run_with_stdin(
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "Alice@Acme.example",
            "--name",
            "Alice Nguyen",
            "--extension",
            "1001",
            "--number",
            "(628) 555-0100",
            "--admin",
            "--link",
            &link,
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(out["id"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(out["email"], "alice@acme.example");
    assert_eq!(out["number"], "+16285550100");
    assert_eq!(out["admin"], true);
    assert!(!String::from_utf8_lossy(&output.stdout).contains("correct horse"));

    let store = work.store().await;
    let found = store
        .users_by_email(&ringhook::domain::EmailAddress::parse("alice@acme.example").unwrap())
        .await
        .unwrap();
    let hash = found[0].password_hash.as_ref().unwrap();
    assert!(ringhook::credentials::verify_password(
        &secrecy::SecretString::from("correct horse battery".to_owned()),
        hash
    ));
}

#[tokio::test]
async fn a_duplicate_email_fails_with_a_clear_message_and_writes_nothing() {
    let work = Workdir::new();
    let tenant = work.tenant();
    work.ok(&[
        "user",
        "create",
        "--tenant",
        &tenant,
        "--email",
        "a@acme.example",
        "--name",
        "A",
    ]);
    let output = work.run(&[
        "user",
        "create",
        "--tenant",
        &tenant,
        "--email",
        "A@acme.example",
        "--name",
        "B",
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("already has a user"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
    assert_eq!(work.user_count(&tenant).await, 1);
}

#[test]
fn an_unknown_tenant_id_fails_with_a_clear_message() {
    let work = Workdir::new();
    work.ok(&["migrate"]);
    for tenant in ["ten_01doesnotexist", "not-an-id"] {
        let output = work.run(&[
            "user",
            "create",
            "--tenant",
            tenant,
            "--email",
            "a@b.example",
            "--name",
            "A",
        ]);
        assert!(!output.status.success());
        assert!(stderr(&output).contains(tenant), "{}", stderr(&output));
    }
}

#[tokio::test]
async fn malformed_numbers_emails_extensions_and_links_write_nothing() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let base = ["user", "create", "--tenant", tenant.as_str(), "--name", "A"];
    let cases: [&[&str]; 5] = [
        &["--email", "a@acme.example", "--number", "12"],
        &["--email", "not-an-email"],
        &["--email", "a@acme.example", "--extension", "ten"],
        &["--email", "a@acme.example", "--link", "src_missing"],
        &["--email", "a@acme.example", "--link", "src_01unknown:owner"],
    ];
    for extra in cases {
        let args: Vec<&str> = base.iter().chain(extra.iter()).copied().collect();
        let output = work.run(&args);
        assert!(!output.status.success(), "{extra:?} was accepted");
        assert!(!stderr(&output).is_empty());
    }
    assert_eq!(work.user_count(&tenant).await, 0);
}

#[test]
fn a_short_password_is_refused() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let output = work.run_with_stdin(
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "a@acme.example",
            "--name",
            "A",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("8 to 1024"), "{}", stderr(&output));
}

#[test]
fn client_create_shows_the_secret_once_and_refuses_bad_redirect_uris() {
    let work = Workdir::new();
    let out = work.ok(&[
        "client",
        "create",
        "--name",
        "Zapier",
        "--redirect-uri",
        "https://zapier.com/dashboard/auth/oauth/return/App123CLIAPI/",
    ]);
    assert!(out["client_id"].as_str().unwrap().starts_with("cli_"));
    assert_eq!(out["client_secret"].as_str().unwrap().len(), 43);

    let bad = work.run(&[
        "client",
        "create",
        "--name",
        "X",
        "--redirect-uri",
        "https://a.example/cb#frag",
    ]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("fragment"), "{}", stderr(&bad));
}

#[test]
fn source_create_gives_kazoo_a_token_url_and_requires_zooms_secret() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let kazoo = work.ok(&source_create(&tenant, "kazoo", &["--account-id", "4c12"]));
    let secret = kazoo["secret"].as_str().unwrap();
    assert_eq!(
        kazoo["ingest_url"].as_str().unwrap(),
        format!(
            "https://hooks.example.net/ingest/{}?token={secret}",
            kazoo["id"].as_str().unwrap()
        )
    );

    let zoom = work.run(&source_create(&tenant, "zoom", &[]));
    assert!(!zoom.status.success());
    assert!(stderr(&zoom).contains("Secret Token"), "{}", stderr(&zoom));

    let zoom = work.ok(&source_create(
        &tenant,
        "zoom",
        &["--secret", "zm_test_secret_token_0123456789"],
    ));
    assert_eq!(zoom["secret"], "zm_test_secret_token_0123456789");
    assert!(!zoom["ingest_url"].as_str().unwrap().contains("token="));
}

#[test]
fn source_create_takes_a_zoom_apps_secret_from_stdin_and_never_prints_it() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let flags = [
        "--secret",
        "zm_test_secret_token_0123456789",
        "--zoom-account-id",
        "zoomAcct42",
        "--zoom-client-id",
        "zoomClient7",
        "--zoom-client-secret-stdin",
    ];
    let output = work.run_with_stdin(&source_create(&tenant, "zoom", &flags), "s3cr3t-zoom-app\n");
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(!printed.contains("s3cr3t-zoom-app"), "{printed}");
    let zoom: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(zoom["zoom_app"]["account_id"], "zoomAcct42");
    assert_eq!(zoom["zoom_app"]["client_id"], "zoomClient7");

    let empty = work.run_with_stdin(&source_create(&tenant, "zoom", &flags), "\n");
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("empty"), "{}", stderr(&empty));
    let mut kazoo_flags = flags.to_vec();
    kazoo_flags.drain(..2);
    let kazoo = work.run_with_stdin(&source_create(&tenant, "kazoo", &kazoo_flags), "x\n");
    assert!(!kazoo.status.success());
    assert!(stderr(&kazoo).contains("--zoom-*"), "{}", stderr(&kazoo));
}

#[test]
fn source_create_refuses_api_settings_that_are_incomplete_or_malformed() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let half = work.run(&source_create(
        &tenant,
        "kazoo",
        &["--api-url", "https://pbx.example.net"],
    ));
    assert!(!half.status.success());
    let bad = work.run(&source_create(
        &tenant,
        "kazoo",
        &["--api-url", "pbx", "--api-key", "k"],
    ));
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("--api-url"), "{}", stderr(&bad));
}

#[test]
fn unknown_source_kinds_are_refused() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let output = work.run(&source_create(&tenant, "asterisk9", &[]));
    assert!(!output.status.success());
}

#[tokio::test]
async fn simulate_replays_copies_of_a_scenario_that_events_then_lists() {
    let app = crate::support::spawn_stepped_app(ringhook::config::Backend::Sqlite, |s| {
        s.call_settle_seconds = 0
    })
    .await
    .unwrap();
    let acme = crate::support::tenant::acme(app.db.store.as_ref()).await;
    let fixtures = crate::support::scenario::fixtures("kazoo/inbound_answered");
    let env = |command: &mut Command| {
        command
            .env("RINGHOOK_DATABASE_URL", app.db.url.expose())
            .env_remove("RINGHOOK_PUBLIC_URL");
    };

    let mut simulate = Command::new(BIN);
    simulate.args([
        "simulate",
        "--source",
        acme.kazoo.id.as_str(),
        "--url",
        &app.address,
        "--copies",
        "3",
        fixtures.to_str().unwrap(),
    ]);
    env(&mut simulate);
    // Off the test's runtime: the app's writes must not wait for this thread to run again
    // (the store hands its connections back on the runtime that used them last).
    let output = tokio::task::spawn_blocking(move || simulate.output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let requests = report["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 3 * 7);
    assert!(requests.iter().all(|r| r["status"] == 200));
    assert!(
        requests.iter().all(|r| r["response"]["duplicates"] == 0),
        "every copy is new: {requests:?}"
    );

    let stored = app.settle_and_list(&acme.tenant_id).await;
    let ended = stored
        .iter()
        .filter(|e| e.event_type.as_str() == "call.ended");
    assert_eq!(ended.count(), 3, "each copy is a call of its own");
    let mut events = Command::new(BIN);
    events.args([
        "events",
        "--tenant",
        acme.tenant_id.as_str(),
        "--type",
        "call.answered",
    ]);
    env(&mut events);
    let output = events.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let listed = listed["events"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "three copies, three calls");
    let mut calls: Vec<&str> = listed
        .iter()
        .map(|e| e["call"]["source_call_id"].as_str().unwrap())
        .collect();
    calls.sort();
    calls.dedup();
    assert_eq!(calls.len(), 3);
    assert!(
        listed
            .iter()
            .all(|e| e["call"]["user"]["name"] == "Alice Nguyen")
    );
}

#[test]
fn simulate_against_an_unreachable_server_never_prints_the_kazoo_token() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let kazoo = work.ok(&source_create(&tenant, "kazoo", &[]));
    let secret = kazoo["secret"].as_str().unwrap();
    let fixtures = crate::support::scenario::fixtures("kazoo/inbound_answered");
    let closed = format!("http://127.0.0.1:{}", free_port());
    let output = work.run(&[
        "simulate",
        "--source",
        kazoo["id"].as_str().unwrap(),
        "--url",
        &closed,
        fixtures.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    assert!(printed.contains("cannot reach"), "{printed}");
    assert!(!printed.contains(secret), "{printed}");
    assert!(!printed.contains("token="), "{printed}");
}

#[test]
fn events_refuses_an_unknown_type() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let output = work.run(&["events", "--tenant", &tenant, "--type", "call.exploded"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("call.exploded"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn queue_set_names_a_queue_list_shows_it_and_delete_forgets_it() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let source = work.ok(&source_create(&tenant, "kazoo", &[]))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queue = ["--source", source.as_str(), "--queue-id", "a9d1cbf7"];
    work.ok(&[&["queue", "set"][..], &queue, &["--name", "Sales"]].concat());
    work.ok(&[&["queue", "set"][..], &queue, &["--name", " Support "]].concat());
    let listed = work.ok(&["queue", "list", "--source", &source]);
    assert_eq!(
        listed,
        serde_json::json!([{"source_id": source, "external_id": "a9d1cbf7", "name": "Support"}])
    );

    let deleted = work.ok(&[&["queue", "delete"][..], &queue].concat());
    assert_eq!(deleted["deleted"], true);
    assert_eq!(
        work.ok(&["queue", "list", "--source", &source]),
        serde_json::json!([])
    );

    let unknown = work.run(&[
        "queue",
        "set",
        "--source",
        "src_nope",
        "--queue-id",
        "q",
        "--name",
        "Support",
    ]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no source"),
        "{}",
        stderr(&unknown)
    );
    let blank = work.run(&[&["queue", "set"][..], &queue, &["--name", "  "]].concat());
    assert!(!blank.status.success());
    assert!(stderr(&blank).contains("--name"), "{}", stderr(&blank));
}

#[tokio::test]
async fn request_logs_never_show_the_secret_in_a_kazoo_ingest_url() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let source = work.ok(&source_create(&tenant, "kazoo", &[]));
    let ingest_path = format!(
        "/ingest/{}?token={}",
        source["id"].as_str().unwrap(),
        source["secret"].as_str().unwrap()
    );
    let port = free_port();
    let log = work.dir.path().join("serve.log");
    let mut child = work
        .command(&["serve"])
        .env("RINGHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .env("RINGHOOK_LOG_FILTER", "info")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_healthy(&format!("{base}/healthz")).await;
    let answer = reqwest::Client::new()
        .post(format!("{base}{ingest_path}"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400, "the request was verified and refused");
    child.kill().unwrap();
    child.wait().unwrap();

    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("?token=…"),
        "the request is logged: {logged}"
    );
    assert!(
        !logged.contains(source["secret"].as_str().unwrap()),
        "the secret is in the logs: {logged}"
    );
}
mod lifecycle;
