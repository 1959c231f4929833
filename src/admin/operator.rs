//! Who performs a day-two operation and what it needs besides its input: the store, the
//! actor the audit log names, the public URL ingest URLs are built on, and the grace period
//! of a rotated source secret. The CLI and the admin API build one each and call the same
//! operations (`tenant_ops`, `user_ops`, `source_ops`).

use crate::config::Settings;
use crate::domain::TenantId;
use crate::storage::{AuditEntry, Storage};
use serde_json::Value;

pub struct Operator<'a> {
    pub store: &'a dyn Storage,
    /// `cli:<login>` or the acting user's id.
    pub actor: String,
    pub public_base: String,
    pub secret_grace: chrono::Duration,
}

impl<'a> Operator<'a> {
    pub fn new(store: &'a dyn Storage, actor: String, settings: &Settings) -> Self {
        let hours = i64::try_from(settings.source_secret_grace_hours).unwrap_or(i64::MAX);
        Operator {
            store,
            actor,
            public_base: settings.public_base(),
            secret_grace: chrono::Duration::try_hours(hours).unwrap_or(chrono::Duration::MAX),
        }
    }

    /// The command line's actor: `cli:` and the operating-system login, when known.
    pub fn cli_actor() -> String {
        match std::env::var("USER").or_else(|_| std::env::var("LOGNAME")) {
            Ok(login) if !login.is_empty() => format!("cli:{login}"),
            _ => "cli".to_owned(),
        }
    }

    /// The audit entry of an action taken now.
    pub fn audit(
        &self,
        tenant: Option<&TenantId>,
        action: &str,
        target: &str,
        details: Value,
    ) -> AuditEntry {
        AuditEntry {
            tenant_id: tenant.cloned(),
            actor: self.actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            details,
            at: chrono::Utc::now(),
        }
    }
}
