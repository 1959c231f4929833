//! The `ringhook` binary: settings, telemetry, then one command (`admin::run`).

use clap::Parser;
use ringhook::admin::{self, Cli};
use ringhook::config::Settings;
use ringhook::telemetry;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: a raw event's path allocates and frees thousands
/// of small strings and maps, and glibc's malloc and free were a sixth of its instructions.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    match admin::run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
