//! Why an admin command refused or failed, and the small parsers every command shares to
//! build those refusals; the CLI prints them on stderr and the admin API maps them to problems.

use crate::credentials::CredentialError;
use crate::domain::{SourceId, TenantId};
use crate::storage::{Footprint, StoreError};

/// Why an admin command refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A deletion asked without `--yes`: the message says what would go.
    #[error("{0}")]
    NeedsConfirmation(String),
}

pub(super) fn not_found(message: impl Into<String>) -> AdminError {
    AdminError::Store(StoreError::NotFound(message.into()))
}

pub(super) fn invalid(message: impl Into<String>) -> AdminError {
    AdminError::Invalid(message.into())
}

pub(super) fn tenant_id(raw: &str) -> Result<TenantId, AdminError> {
    TenantId::parse(raw).ok_or_else(|| invalid(format!("{raw:?} is not a tenant id (ten_…)")))
}

pub(super) fn source_id(raw: &str) -> Result<SourceId, AdminError> {
    SourceId::parse(raw).ok_or_else(|| invalid(format!("{raw:?} is not a source id (src_…)")))
}

pub(super) fn non_blank(field: &str, value: &str) -> Result<String, AdminError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.len() > 200 {
        return Err(invalid(format!("--{field} must be 1 to 200 characters")));
    }
    Ok(trimmed.to_owned())
}

/// The refusal of a deletion asked without `--yes`, naming what would go with the record.
pub(super) fn needs_confirmation(what: &str, footprint: &Footprint) -> AdminError {
    let with = footprint
        .0
        .iter()
        .map(|(kind, count)| format!("{count} {kind}"))
        .collect::<Vec<_>>()
        .join(", ");
    AdminError::NeedsConfirmation(format!(
        "deleting {what} also deletes {with}; nothing was deleted: run again with --yes"
    ))
}
