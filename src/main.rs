//! The `ringhook` binary: settings, telemetry, then one command.

use clap::Parser;
use ringhook::admin::cli::{
    ClientCommand, GrantCommand, QueueCommand, SourceCommand, TenantCommand, UserCommand,
};
use ringhook::admin::{Cli, Command, commands};
use ringhook::config::Settings;
use ringhook::startup::Application;
use ringhook::{storage, telemetry};
use secrecy::SecretString;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format, &settings.log_filter);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    if let Command::Serve = command {
        let app = Application::build(settings).await?;
        let token = app.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            token.cancel();
        });
        return app.run_until_stopped().await;
    }
    if let Command::Openapi = command {
        print!("{}", ringhook::openapi::to_json());
        return Ok(());
    }
    let store = storage::connect(&settings.database_url, 2).await?;
    store.migrate().await?;
    let output = match command {
        Command::Serve | Command::Openapi => unreachable!("handled above"),
        Command::Migrate => serde_json::json!({"migrated": true}),
        Command::Tenant(TenantCommand::Create(args)) => {
            commands::create_tenant(store.as_ref(), &args).await?
        }
        Command::User(UserCommand::Create(args)) => {
            let password = if args.password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            commands::create_user(store.as_ref(), &args, password).await?
        }
        Command::Client(ClientCommand::Create(args)) => {
            commands::create_client(store.as_ref(), &args).await?
        }
        Command::Client(ClientCommand::List) => commands::list_clients(store.as_ref()).await?,
        Command::Client(ClientCommand::RotateSecret(args)) => {
            commands::rotate_client_secret(store.as_ref(), &args).await?
        }
        Command::Client(ClientCommand::Delete(args)) => {
            commands::delete_client(store.as_ref(), &args).await?
        }
        Command::Grant(GrantCommand::List(args)) => {
            commands::list_grants(store.as_ref(), &args).await?
        }
        Command::Grant(GrantCommand::Revoke(args)) => {
            commands::revoke_grant(store.as_ref(), &args).await?
        }
        Command::Source(SourceCommand::Create(args)) => {
            commands::create_source(store.as_ref(), &args, &settings.public_base()).await?
        }
        Command::Queue(QueueCommand::Set(args)) => {
            commands::set_queue(store.as_ref(), &args).await?
        }
        Command::Queue(QueueCommand::List(args)) => {
            commands::list_queues(store.as_ref(), &args).await?
        }
        Command::Queue(QueueCommand::Delete(args)) => {
            commands::delete_queue(store.as_ref(), &args).await?
        }
        Command::Events(args) => commands::list_events(store.as_ref(), &args).await?,
        Command::Simulate(args) => {
            commands::simulate(store.as_ref(), &args, &settings.public_base()).await?
        }
    };
    store.close().await;
    println!("{output}");
    Ok(())
}

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
