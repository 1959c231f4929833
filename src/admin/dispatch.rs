//! Runs one parsed command: `serve` until a shutdown signal, `openapi` to stdout, and every
//! other command against a migrated store, printing its one JSON object on stdout.

use secrecy::SecretString;
use serde_json::Value;

use crate::config::Settings;
use crate::startup::Application;
use crate::storage::{self, Storage};

use super::cli::{AuditCommand, ClientCommand, Command, GrantCommand, TenantCommand};
use super::commands;
use super::lifecycle_dispatch;
use super::operator::Operator;
use anyhow::Context;

/// Runs `command` with `settings`; the error is what the binary prints before exiting non-zero.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Openapi => {
            print!("{}", crate::openapi::to_json());
            Ok(())
        }
        command => {
            let database = &settings.database_url;
            let may_create = matches!(
                command,
                Command::Migrate
                    | Command::Tenant(TenantCommand::Create(_))
                    | Command::Client(ClientCommand::Create(_))
            );
            if !may_create {
                super::database_guard::refuse_missing_sqlite_file(database)?;
            }
            let store = storage::connect(database, 2)
                .await
                .with_context(|| format!("database {database}"))?;
            store.migrate().await?;
            let output = admin(store.as_ref(), command, &settings).await;
            store.close().await;
            let output = output.map_err(|error| {
                let database = super::database_guard::describe(database);
                anyhow::anyhow!("{error:#} (database: {database})")
            })?;
            println!("{output}");
            Ok(())
        }
    }
}

/// The API and the workers, until SIGINT or SIGTERM asks them to stop.
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    let token = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        token.cancel();
    });
    app.run_until_stopped().await
}

/// One admin command against the store; its result is the JSON object to print.
async fn admin(
    store: &dyn Storage,
    command: Command,
    settings: &Settings,
) -> anyhow::Result<Value> {
    let operator = Operator::new(store, Operator::cli_actor(), settings);
    let output = match command {
        Command::Serve | Command::Openapi => {
            anyhow::bail!("`serve` and `openapi` do not run as admin commands")
        }
        Command::Migrate => serde_json::json!({"migrated": true}),
        Command::Tenant(command) => lifecycle_dispatch::tenant(&operator, command).await?,
        Command::User(command) => {
            lifecycle_dispatch::user(&operator, command, read_password).await?
        }
        Command::Source(command) => lifecycle_dispatch::source(&operator, command).await?,
        Command::Client(ClientCommand::Update(args)) => {
            commands::update_client(&operator, &args).await?
        }
        Command::Audit(AuditCommand::List(args)) => commands::list_audit(store, &args).await?,
        Command::Client(ClientCommand::Create(args)) => {
            commands::create_client(store, &args).await?
        }
        Command::Client(ClientCommand::List) => commands::list_clients(store).await?,
        Command::Client(ClientCommand::RotateSecret(args)) => {
            commands::rotate_client_secret(store, &args).await?
        }
        Command::Client(ClientCommand::Delete(args)) => {
            commands::delete_client(store, &args).await?
        }
        Command::Grant(GrantCommand::List(args)) => commands::list_grants(store, &args).await?,
        Command::Grant(GrantCommand::Revoke(args)) => commands::revoke_grant(store, &args).await?,
        Command::Queue(command) => lifecycle_dispatch::queue(&operator, command).await?,
        Command::Events(args) => commands::list_events(store, &args).await?,
        Command::Reconcile(args) => super::reconcile::reconcile(store, &args, settings).await?,
        Command::Simulate(args) => {
            commands::simulate(store, &args, &settings.public_base()).await?
        }
    };
    Ok(output)
}

/// The password of `user create --password-stdin` and `user set-password`: one line, without its line ending.
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(SecretString::from(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// SIGINT (Ctrl-C) or SIGTERM (service managers, containers).
async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
