//! Command-line grammar of the day-two commands: see, change, disable and delete what was
//! created. Parsing only: `tenant_ops.rs`, `user_ops.rs` and `source_ops.rs` do the work.

use clap::Args;

/// A record named by its id.
#[derive(Debug, Args)]
pub struct IdRef {
    /// The record's id (`ten_…`, `usr_…`, `src_…`).
    #[arg(long)]
    pub id: String,
}

/// A deletion: without `--yes` it only says what would go, and fails.
#[derive(Debug, Args)]
pub struct DeleteRef {
    /// The record's id (`ten_…`, `usr_…`, `src_…`).
    #[arg(long)]
    pub id: String,
    /// Really delete. Without it the command lists what would be deleted and exits non-zero.
    #[arg(long)]
    pub yes: bool,
}

/// A tenant's records.
#[derive(Debug, Args)]
pub struct TenantRef {
    /// The tenant (`ten_…`).
    #[arg(long)]
    pub tenant: String,
}

#[derive(Debug, Args)]
pub struct TenantUpdate {
    /// The tenant (`ten_…`).
    #[arg(long)]
    pub id: String,
    /// The tenant's new name.
    #[arg(long)]
    pub name: Option<String>,
    /// ISO 3166 country whose numbering plan reads national numbers.
    #[arg(long)]
    pub default_country: Option<String>,
}

#[derive(Debug, Args)]
pub struct UserUpdate {
    /// The user (`usr_…`).
    #[arg(long)]
    pub id: String,
    /// New sign-in email, unique in the tenant.
    #[arg(long)]
    pub email: Option<String>,
    /// New display name (shown in call summaries).
    #[arg(long)]
    pub name: Option<String>,
    /// New extension, unique in the tenant.
    #[arg(long, conflicts_with = "no_extension")]
    pub extension: Option<String>,
    /// Remove the user's extension.
    #[arg(long)]
    pub no_extension: bool,
    /// New phone number; national numbers use the tenant's default country.
    #[arg(long, conflicts_with = "no_number")]
    pub number: Option<String>,
    /// Remove the user's phone number.
    #[arg(long)]
    pub no_number: bool,
    /// Make the user a tenant admin (`true`) or not (`false`).
    #[arg(long, value_name = "true|false")]
    pub admin: Option<bool>,
}

#[derive(Debug, Args)]
pub struct UserLinkArgs {
    /// The user (`usr_…`).
    #[arg(long)]
    pub id: String,
    /// How a source names this user: `SOURCE_ID:EXTERNAL_USER_ID`.
    #[arg(long, value_name = "SOURCE_ID:EXTERNAL_USER_ID")]
    pub link: String,
}

#[derive(Debug, Args)]
pub struct SourceUpdate {
    /// The source (`src_…`).
    #[arg(long)]
    pub id: String,
    /// The PBX's own account id (Kazoo account id), needed to place calls.
    #[arg(long, conflicts_with = "no_account_id")]
    pub account_id: Option<String>,
    /// Forget the PBX account id.
    #[arg(long)]
    pub no_account_id: bool,
    /// Base URL of the PBX's API, for click-to-call (requires --api-key).
    #[arg(long, requires = "api_key", conflicts_with = "no_api")]
    pub api_url: Option<String>,
    /// Credential for the PBX's API (requires --api-url).
    #[arg(long, requires = "api_url")]
    pub api_key: Option<String>,
    /// Forget the PBX API settings (click-to-call stops for this source).
    #[arg(long)]
    pub no_api: bool,
}

#[derive(Debug, Args)]
pub struct SourceRotate {
    /// The source (`src_…`).
    #[arg(long)]
    pub id: String,
    /// The new secret. Required for zoom (the new Secret Token of your Zoom app); generated
    /// otherwise.
    #[arg(long)]
    pub secret: Option<String>,
}

#[derive(Debug, Args)]
pub struct ClientUpdate {
    /// The client (`cli_…`).
    #[arg(long)]
    pub id: String,
    /// The client's new name (shown on the consent page).
    #[arg(long)]
    pub name: Option<String>,
    /// Replaces every redirect URI with those given (repeatable).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AuditList {
    /// Only this tenant's entries.
    #[arg(long)]
    pub tenant: Option<String>,
    /// How many entries, newest first.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}
