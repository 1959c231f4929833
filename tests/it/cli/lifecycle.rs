//! Day two on the command line: every record can be listed, shown, changed and deleted;
//! deletions need `--yes`; a source's secret rotates with a grace period; every change is in
//! the audit log; errors name the database.

use super::{Workdir, stderr};
use crate::support::scenario::requests;
use crate::support::tenant::{KAZOO_TOKEN, acme};
use crate::support::{TestApp, spawn_app};
use serde_json::Value;

impl Workdir {
    /// Runs a command that must fail and returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        stderr(&output)
    }

    fn id_of(&self, args: &[&str]) -> String {
        self.ok(args)["id"].as_str().unwrap().to_owned()
    }
}

#[test]
fn tenants_are_listed_shown_updated_and_deleted_only_with_yes() {
    let work = Workdir::new();
    let tenant = work.tenant();
    work.ok(&[
        "user",
        "create",
        "--tenant",
        &tenant,
        "--email",
        "a@acme.test",
        "--name",
        "Al",
    ]);

    let listed = work.ok(&["tenant", "list"]);
    assert_eq!(listed["tenants"][0]["id"], tenant.as_str());
    let updated = work.ok(&["tenant", "update", "--id", &tenant, "--name", "Acme Ortho"]);
    assert_eq!(updated["name"], "Acme Ortho");
    let shown = work.ok(&["tenant", "show", "--id", &tenant]);
    assert_eq!(shown["name"], "Acme Ortho");
    assert_eq!(shown["users"].as_array().unwrap().len(), 1);

    let refused = work.fails(&["tenant", "delete", "--id", &tenant]);
    assert!(
        refused.contains("--yes") && refused.contains("1 users"),
        "{refused}"
    );
    work.ok(&["tenant", "show", "--id", &tenant]);

    let deleted = work.ok(&["tenant", "delete", "--id", &tenant, "--yes"]);
    assert_eq!(deleted["with"]["users"], 1);
    let gone = work.fails(&["tenant", "show", "--id", &tenant]);
    assert!(
        gone.contains("no tenant") && gone.contains("admin.db"),
        "{gone}"
    );
}

#[test]
fn a_user_is_updated_given_a_password_linked_disabled_and_deleted() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let source = work.id_of(&["source", "create", "--tenant", &tenant, "--kind", "zorio"]);
    let user = work.id_of(&[
        "user",
        "create",
        "--tenant",
        &tenant,
        "--email",
        "bo@acme.test",
        "--name",
        "Bo",
        "--extension",
        "1001",
    ]);

    let updated = work.ok(&[
        "user",
        "update",
        "--id",
        &user,
        "--name",
        "Bo Chen",
        "--no-extension",
        "--admin",
        "true",
    ]);
    assert_eq!(updated["name"], "Bo Chen");
    assert_eq!(updated["extension"], Value::Null);
    assert_eq!(updated["admin"], true);
    let bad = work.fails(&["user", "update", "--id", &user, "--email", "not-an-email"]);
    assert!(bad.contains("email"), "{bad}");

    let set = work.run_with_stdin(&["user", "set-password", "--id", &user], "correct horse\n");
    assert!(set.status.success(), "{}", stderr(&set));
    let short = work.run_with_stdin(&["user", "set-password", "--id", &user], "short\n");
    assert!(!short.status.success());

    let link = format!("{source}:bo-ext");
    let linked = work.ok(&["user", "link", "--id", &user, "--link", &link]);
    assert_eq!(linked["links"][0]["external_id"], "bo-ext");
    let unlinked = work.ok(&["user", "unlink", "--id", &user, "--link", &link]);
    assert_eq!(unlinked["links"].as_array().unwrap().len(), 0);
    work.fails(&["user", "unlink", "--id", &user, "--link", &link]);

    assert_eq!(
        work.ok(&["user", "disable", "--id", &user])["disabled"],
        true
    );
    assert_eq!(
        work.ok(&["user", "enable", "--id", &user])["disabled"],
        false
    );
    let listed = work.ok(&["user", "list", "--tenant", &tenant]);
    assert_eq!(listed["users"][0]["id"], user.as_str());

    let refused = work.fails(&["user", "delete", "--id", &user]);
    assert!(refused.contains("--yes"), "{refused}");
    work.ok(&["user", "show", "--id", &user]);
    work.ok(&["user", "delete", "--id", &user, "--yes"]);
    let gone = work.fails(&["user", "show", "--id", &user]);
    assert!(
        gone.contains("no user") && gone.contains("admin.db"),
        "{gone}"
    );
}

#[test]
fn sources_are_shown_without_secret_updated_disabled_and_deleted_only_with_yes() {
    let work = Workdir::new();
    let tenant = work.tenant();
    let created = work.ok(&["source", "create", "--tenant", &tenant, "--kind", "kazoo"]);
    let source = created["id"].as_str().unwrap();
    let secret = created["secret"].as_str().unwrap();

    let shown = work.ok(&["source", "show", "--id", source]);
    assert_eq!(
        shown["ingest_url"],
        format!("https://hooks.example.net/ingest/{source}")
    );
    assert!(!shown.to_string().contains(secret));
    let listed = work.ok(&["source", "list", "--tenant", &tenant]);
    assert!(!listed.to_string().contains(secret));

    let updated = work.ok(&["source", "update", "--id", source, "--account-id", "acc-9"]);
    assert_eq!(updated["account_id"], "acc-9");
    assert_eq!(
        work.ok(&["source", "disable", "--id", source])["disabled"],
        true
    );
    assert_eq!(
        work.ok(&["source", "enable", "--id", source])["disabled"],
        false
    );

    let refused = work.fails(&["source", "delete", "--id", source]);
    assert!(refused.contains("--yes"), "{refused}");
    work.ok(&["source", "show", "--id", source]);
    work.ok(&["source", "delete", "--id", source, "--yes"]);
    work.fails(&["source", "show", "--id", source]);
}

#[test]
fn every_change_is_in_the_audit_log_and_failed_ones_are_not() {
    let work = Workdir::new();
    let tenant = work.tenant();
    work.ok(&["tenant", "update", "--id", &tenant, "--name", "Acme Ortho"]);
    work.fails(&["tenant", "delete", "--id", &tenant]);
    let log = work.ok(&["audit", "list", "--tenant", &tenant]);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["action"], "tenant.update");
    assert_eq!(entries[0]["target"], tenant.as_str());
    assert!(entries[0]["actor"].as_str().unwrap().starts_with("cli"));
}

#[test]
fn an_admin_command_refuses_a_missing_sqlite_file_and_names_it() {
    let work = Workdir::new();
    let refused = work.fails(&["tenant", "list"]);
    assert!(
        refused.contains("admin.db") && refused.contains("migrate"),
        "{refused}"
    );
    assert!(!work.dir.path().join("admin.db").exists());
    work.ok(&["migrate"]);
    assert_eq!(
        work.ok(&["tenant", "list"])["tenants"],
        serde_json::json!([])
    );
}

#[test]
fn client_update_renames_and_replaces_redirect_uris() {
    let work = Workdir::new();
    let created = work.ok(&[
        "client",
        "create",
        "--name",
        "Zapier",
        "--redirect-uri",
        "https://zapier.com/a",
    ]);
    let id = created["client_id"].as_str().unwrap();
    let updated = work.ok(&[
        "client",
        "update",
        "--id",
        id,
        "--name",
        "Zapier (new)",
        "--redirect-uri",
        "https://zapier.com/b",
    ]);
    assert_eq!(updated["name"], "Zapier (new)");
    assert_eq!(
        updated["redirect_uris"],
        serde_json::json!(["https://zapier.com/b"])
    );
    work.fails(&["client", "update", "--id", id]);
}

/// Posts the first Kazoo request of a scenario with `token`; returns the status.
async fn kazoo_with_token(app: &TestApp, source: &ringhook::storage::Source, token: &str) -> u16 {
    let mut request = requests(source, "kazoo/inbound_answered").remove(0);
    request.query_token = Some(token.to_owned());
    app.post_ingest(source, &request).await.status().as_u16()
}

fn rotate(app: &TestApp, source: &str, grace_hours: &str) -> String {
    let output = std::process::Command::new(super::BIN)
        .args(["source", "rotate-secret", "--id", source])
        .env_remove("RUST_LOG")
        .env("RINGHOOK_DATABASE_URL", app.db.url.expose())
        .env("RINGHOOK_SOURCE_SECRET_GRACE_HOURS", grace_hours)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(answer["ingest_url"].as_str().unwrap().contains("?token="));
    answer["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_rotated_source_secret_keeps_the_old_one_valid_for_the_grace_period_only() {
    let app = spawn_app().await;
    let acme = acme(app.db.store.as_ref()).await;
    let source = acme.kazoo.id.to_string();
    let first = KAZOO_TOKEN;

    let second = rotate(&app, &source, "24");
    assert_eq!(kazoo_with_token(&app, &acme.kazoo, &second).await, 200);
    assert_eq!(kazoo_with_token(&app, &acme.kazoo, first).await, 200);

    let third = rotate(&app, &source, "0");
    assert_eq!(kazoo_with_token(&app, &acme.kazoo, &third).await, 200);
    assert_eq!(kazoo_with_token(&app, &acme.kazoo, &second).await, 401);
    assert_eq!(kazoo_with_token(&app, &acme.kazoo, first).await, 401);
}

#[tokio::test]
async fn a_disabled_source_is_refused_at_ingest() {
    let app = spawn_app().await;
    let acme = acme(app.db.store.as_ref()).await;
    let output = std::process::Command::new(super::BIN)
        .args(["source", "disable", "--id", acme.kazoo.id.as_str()])
        .env_remove("RUST_LOG")
        .env("RINGHOOK_DATABASE_URL", app.db.url.expose())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let status = kazoo_with_token(&app, &acme.kazoo, KAZOO_TOKEN).await;
    assert_eq!(status, 403);
}
