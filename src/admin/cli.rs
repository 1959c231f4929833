//! Command-line grammar (clap). Parsing only: `commands.rs` does the work.

use super::lifecycle_cli::{
    AuditList, ClientUpdate, DeleteRef, IdRef, SourceRotate, SourceUpdate, TenantRef, TenantUpdate,
    UserLinkArgs, UserUpdate,
};
use crate::domain::SourceKind;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ringhook",
    version,
    about = "Phone-system call events as REST Hook triggers"
)]
pub struct Cli {
    /// TOML settings file; `RINGHOOK_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API and the background workers until SIGTERM or SIGINT.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants (customer accounts).
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage a tenant's users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients (Zapier and other integrations).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage sources (phone systems that push events).
    #[command(subcommand)]
    Source(SourceCommand),
    /// Name a source's queues, so queue triggers carry a readable name.
    #[command(subcommand)]
    Queue(QueueCommand),
    /// List a tenant's call events, newest first, as subscribers receive them.
    Events(EventsArgs),
    /// Replay a folder of raw fixtures against a running server, signed as the source signs.
    Simulate(SimulateArgs),
    /// Inspect and revoke users' OAuth grants (connected apps).
    #[command(subcommand)]
    Grant(GrantCommand),
    /// Read the audit log of admin actions (who, what, when), newest first.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Read a source's call history over a window and emit what live events missed.
    Reconcile(ReconcileArgs),
    /// Print the OpenAPI 3.1 description of the HTTP API (what `openapi/openapi.json` holds).
    Openapi,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// The tenant (`ten_…`).
    #[arg(long)]
    pub tenant: String,
    /// Only this type, e.g. `call.missed`.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The source whose history to read.
    #[arg(long)]
    pub source: String,
    /// Start of the window (RFC 3339, e.g. `2026-12-01T00:00:00Z`).
    #[arg(long)]
    pub from: chrono::DateTime<chrono::Utc>,
    /// End of the window (RFC 3339), after `--from`.
    #[arg(long)]
    pub to: chrono::DateTime<chrono::Utc>,
    /// Print what would be emitted, store and deliver nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The source to sign as (its kind decides the signature).
    #[arg(long)]
    pub source: String,
    /// Base URL of the running server; defaults to the public URL setting.
    #[arg(long)]
    pub url: Option<String>,
    /// Replay the scenario this many times as distinct calls (every call and leg id rewritten
    /// per copy; park slots and queues are shared), e.g. to load-test a deployment.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub copies: u32,
    /// A folder of raw events, e.g. `shared/fixtures/kazoo/inbound_answered`.
    pub scenario_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant. The first command of a new deployment: it may create the SQLite file.
    Create(TenantCreate),
    /// Every tenant.
    List,
    /// One tenant with its users and sources.
    Show(IdRef),
    /// Rename a tenant or change its default country.
    Update(TenantUpdate),
    /// Delete a tenant with its users, sources, hooks, grants and calls (needs --yes).
    Delete(DeleteRef),
}

#[derive(Debug, Args)]
pub struct TenantCreate {
    /// The customer's name.
    #[arg(long)]
    pub name: String,
    /// ISO 3166 country whose numbering plan reads national numbers.
    #[arg(long, default_value = "US")]
    pub default_country: String,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (give --password-stdin for one who signs in).
    Create(UserCreate),
    /// A tenant's users.
    List(TenantRef),
    /// One user with their links.
    Show(IdRef),
    /// Change a user's email, name, extension, number or admin flag.
    Update(UserUpdate),
    /// Set a user's password from the first line of standard input.
    SetPassword(IdRef),
    /// Add how a source names the user.
    Link(UserLinkArgs),
    /// Remove how a source names the user.
    Unlink(UserLinkArgs),
    /// Stop a user signing in and revoke their grants (their hooks stop).
    Disable(IdRef),
    /// Let a disabled user sign in again (revoked grants stay revoked).
    Enable(IdRef),
    /// Delete a user with their links, hooks and grants (needs --yes).
    Delete(DeleteRef),
}

#[derive(Debug, Args)]
pub struct UserCreate {
    /// The tenant (`ten_…`).
    #[arg(long)]
    pub tenant: String,
    /// Sign-in email, unique in the tenant.
    #[arg(long)]
    pub email: String,
    /// Display name (shown in call summaries).
    #[arg(long)]
    pub name: String,
    /// The user's extension, unique in the tenant.
    #[arg(long)]
    pub extension: Option<String>,
    /// The user's phone number; national numbers use the tenant's default country.
    #[arg(long)]
    pub number: Option<String>,
    /// Tenant admins may subscribe to every user's calls.
    #[arg(long)]
    pub admin: bool,
    /// How a source names this user: `SOURCE_ID:EXTERNAL_USER_ID` (repeatable).
    #[arg(long = "link", value_name = "SOURCE_ID:EXTERNAL_USER_ID")]
    pub links: Vec<String>,
    /// Read the user's password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; its secret is shown once.
    Create(ClientCreate),
    /// Rename a client or replace its redirect URIs.
    Update(ClientUpdate),
    /// Every registered client (secrets are never shown again).
    List,
    /// Issue a new secret; the old one stops working at once.
    RotateSecret(ClientRef),
    /// Delete the client with every grant and token issued to it.
    Delete(ClientRef),
}

#[derive(Debug, Args)]
pub struct ClientRef {
    /// The client (`cli_…`).
    #[arg(long)]
    pub id: String,
}

#[derive(Debug, Subcommand)]
pub enum GrantCommand {
    /// A user's grants, revoked ones included.
    List(GrantList),
    /// End a grant: its tokens stop working (other instances notice within the status cache time).
    Revoke(GrantRef),
}

#[derive(Debug, Args)]
pub struct GrantList {
    /// The user (`usr_…`).
    #[arg(long)]
    pub user: String,
}

#[derive(Debug, Args)]
pub struct GrantRef {
    /// The grant (`gnt_…`).
    #[arg(long)]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct ClientCreate {
    /// The client's name (shown on the consent page).
    #[arg(long)]
    pub name: String,
    /// Where the client may receive codes; compared by exact string (repeatable).
    #[arg(long = "redirect-uri", required = true, value_name = "URI")]
    pub redirect_uris: Vec<String>,
}

// Parsed once per command line: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Register a phone system; prints its ingest URL and secret.
    Create(SourceCreate),
    /// A tenant's sources with their ingest URLs (secrets are not shown).
    List(TenantRef),
    /// One source with its ingest URL (the secret is not shown).
    Show(IdRef),
    /// Change a source's PBX account id or API settings.
    Update(SourceUpdate),
    /// Issue a new secret; the old one still verifies for `source_secret_grace_hours`.
    RotateSecret(SourceRotate),
    /// Refuse the source's events until it is enabled again.
    Disable(IdRef),
    /// Accept a disabled source's events again.
    Enable(IdRef),
    /// Delete a source with its links, queue names and calls in progress (needs --yes).
    Delete(DeleteRef),
}

#[derive(Debug, Args)]
pub struct SourceCreate {
    /// The tenant (`ten_…`).
    #[arg(long)]
    pub tenant: String,
    /// What kind of phone system pushes (or serves) the events.
    #[arg(long, value_enum)]
    pub kind: SourceKind,
    /// The verification secret. Required for zoom (Zoom's "Secret Token"); generated otherwise.
    #[arg(long)]
    pub secret: Option<String>,
    /// The PBX's own account id (Kazoo account id), needed to place calls.
    #[arg(long)]
    pub account_id: Option<String>,
    /// Base URL of the PBX's API, for click-to-call (requires --api-key).
    #[arg(long, requires = "api_key")]
    pub api_url: Option<String>,
    /// Credential for the PBX's API (requires --api-url).
    #[arg(long, requires = "api_url")]
    pub api_key: Option<String>,
    /// Asterisk Manager Interface address, `tcp://HOST:5038` (kind asterisk).
    #[arg(long, value_name = "URL", conflicts_with = "esl_url")]
    pub ami_url: Option<String>,
    /// FreeSWITCH Event Socket address, `tcp://HOST:8021` (kind freeswitch).
    #[arg(long, value_name = "URL")]
    pub esl_url: Option<String>,
    /// The AMI manager account (manager.conf section name).
    #[arg(long)]
    pub username: Option<String>,
    /// Read the secret (AMI secret, ESL password) from the first line of stdin, so it never
    /// shows in the process list or the shell history.
    #[arg(long, conflicts_with = "secret")]
    pub secret_stdin: bool,
    /// Zoom Server-to-Server OAuth app: the Zoom account id (kind zoom). With the client id
    /// and secret, ringhook can download voicemail and recording audio.
    #[arg(long, requires_all = ["zoom_client_id", "zoom_client_secret_stdin"])]
    pub zoom_account_id: Option<String>,
    /// Zoom Server-to-Server OAuth app: the client id (requires --zoom-account-id).
    #[arg(long, requires = "zoom_account_id")]
    pub zoom_client_id: Option<String>,
    /// Read the Zoom app's client secret from the first line of stdin, so it never shows in
    /// the process list or the shell history (requires --zoom-account-id).
    #[arg(long, requires = "zoom_account_id", conflicts_with = "secret_stdin")]
    pub zoom_client_secret_stdin: bool,
    /// Where Zoom tokens are asked for; `https://zoom.us` unless set (a test double).
    #[arg(long, value_name = "URL", requires = "zoom_account_id")]
    pub zoom_oauth_url: Option<String>,
    /// Click-to-call on asterisk / freeswitch: the dialplan context in which the target is
    /// dialled once the user's phone answers (default `from-internal` for Asterisk,
    /// `default` for FreeSWITCH's XML dialplan).
    #[arg(long, value_name = "CONTEXT")]
    pub originate_context: Option<String>,
    /// Asterisk: where your web server offers `MixMonitor()`'s files, with `{file}` (the
    /// file's name) or `{path}` (Asterisk's whole path), e.g.
    /// `https://pbx.example.net/recordings/{file}`. Without it no recording is told.
    #[arg(long, value_name = "URL")]
    pub recording_url_template: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Give a queue its readable name (replacing an earlier one).
    Set(QueueSet),
    /// List a source's named queues.
    List(QueueList),
    /// Forget a queue's name.
    Delete(QueueRef),
}

#[derive(Debug, Args)]
pub struct QueueSet {
    /// The source (`src_…`).
    #[arg(long)]
    pub source: String,
    /// The id the source uses for the queue (Kazoo queue id).
    #[arg(long = "queue-id", value_name = "ID")]
    pub queue_id: String,
    /// The readable name, e.g. `Support`.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct QueueList {
    /// The source (`src_…`).
    #[arg(long)]
    pub source: String,
}

#[derive(Debug, Args)]
pub struct QueueRef {
    /// The source (`src_…`).
    #[arg(long)]
    pub source: String,
    /// The id the source uses for the queue.
    #[arg(long = "queue-id", value_name = "ID")]
    pub queue_id: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Admin actions, newest first.
    List(AuditList),
}
