//! The real `ringhook` binary run as an administrator runs it: admin commands in a temporary
//! working folder whose SQLite database they share.

use ringhook::config::DatabaseUrl;
use ringhook::domain::TenantId;
use ringhook::storage::{self, Storage};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use tempfile::TempDir;

/// The binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_ringhook");

/// A temporary working folder whose SQLite database the admin commands share.
pub struct Workdir {
    pub dir: TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn database_url(&self) -> String {
        format!("sqlite://{}/admin.db", self.dir.path().display())
    }

    /// The binary with `args`, in the folder, on its database, with a public URL set.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("RINGHOOK_DATABASE_URL", self.database_url())
            .env("RINGHOOK_PUBLIC_URL", "https://hooks.example.net");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs with `stdin` written to the command's standard input (secrets are read there).
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
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

    /// Runs a command that must succeed and returns the JSON object it printed.
    pub fn ok(&self, args: &[&str]) -> Value {
        self.ok_with_stdin(args, "")
    }

    /// As [`Workdir::ok`], with `stdin` on the command's standard input.
    pub fn ok_with_stdin(&self, args: &[&str], stdin: &str) -> Value {
        let output = self.run_with_stdin(args, stdin);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            stderr(&output)
        );
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
    }

    /// Creates the "Acme Dental" tenant; returns its id.
    pub fn tenant(&self) -> String {
        self.ok(&["tenant", "create", "--name", "Acme Dental"])["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The folder's database, opened beside the commands (close it when done).
    pub async fn store(&self) -> Arc<dyn Storage> {
        storage::connect(&DatabaseUrl::new(self.database_url()), 1)
            .await
            .unwrap()
    }

    pub async fn user_count(&self, tenant: &str) -> usize {
        let store = self.store().await;
        let users = store
            .users(&TenantId::parse(tenant).unwrap())
            .await
            .unwrap();
        store.close().await;
        users.len()
    }
}

/// What the command wrote to standard error, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The arguments of `source create` for a source of `kind` in `tenant`, then `extra`.
pub fn source_create<'a>(tenant: &'a str, kind: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["source", "create", "--tenant", tenant, "--kind", kind];
    args.extend_from_slice(extra);
    args
}
