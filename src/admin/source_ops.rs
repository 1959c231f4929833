//! Day-two operations on a tenant's sources: list, show (the ingest URL, never the secret),
//! update the PBX settings, rotate the secret (the only time a secret is shown again), disable,
//! enable, delete. Scoped by the tenant given, like `user_ops`.

use super::error::{AdminError, invalid, needs_confirmation, not_found, source_id};
use super::operator::Operator;
use crate::domain::{SourceId, SourceKind, TenantId, WebUrl, new_token};
use crate::storage::{PbxApi, Source, SourceChanges};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// A change to a source's PBX settings as typed: `Some(None)` clears.
#[derive(Debug, Default)]
pub struct SourcePatch {
    pub account_id: Option<Option<String>>,
    /// `(url, key)`.
    pub api: Option<Option<(String, String)>>,
}

/// Where the source posts its events; Kazoo's URL also needs `?token=` and the secret,
/// which only `create` and `rotate-secret` show.
fn ingest_url(source: &Source, public_base: &str) -> Option<String> {
    (!source.kind.is_socket()).then(|| format!("{public_base}/ingest/{}", source.id))
}

pub(super) fn source_view(source: &Source, public_base: &str) -> Value {
    let grace_until = source
        .previous_secret_at(chrono::Utc::now())
        .and(source.previous_secret.as_ref())
        .map(|p| p.until);
    json!({
        "id": source.id, "tenant_id": source.tenant_id, "kind": source.kind,
        "ingest_url": ingest_url(source, public_base),
        "token_in_url": source.kind == SourceKind::Kazoo,
        "account_id": source.account_id,
        "api_url": source.api.as_ref().map(|a| a.url.as_str()),
        "disabled": source.disabled_at.is_some(), "disabled_at": source.disabled_at,
        "previous_secret_valid_until": grace_until, "created_at": source.created_at,
    })
}

/// The tenant of a source named by id alone (the command line).
pub async fn tenant_of(
    op: &Operator<'_>,
    raw_id: &str,
) -> Result<(TenantId, SourceId), AdminError> {
    let id = source_id(raw_id)?;
    let source = op
        .store
        .source(&id)
        .await?
        .ok_or_else(|| not_found(format!("no source {id}")))?;
    Ok((source.tenant_id, id))
}

fn no_source(tenant: &TenantId, id: &SourceId) -> AdminError {
    not_found(format!("tenant {tenant} has no source {id}"))
}

pub async fn list_sources(op: &Operator<'_>, tenant: &TenantId) -> Result<Value, AdminError> {
    if op.store.tenant(tenant).await?.is_none() {
        return Err(not_found(format!("no tenant {tenant}")));
    }
    let sources: Vec<Value> = op
        .store
        .sources(tenant)
        .await?
        .iter()
        .map(|s| source_view(s, &op.public_base))
        .collect();
    Ok(json!({ "sources": sources }))
}

pub async fn show_source(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &SourceId,
) -> Result<Value, AdminError> {
    match op.store.source(id).await? {
        Some(source) if &source.tenant_id == tenant => Ok(source_view(&source, &op.public_base)),
        _ => Err(no_source(tenant, id)),
    }
}

pub async fn update_source(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &SourceId,
    patch: &SourcePatch,
) -> Result<Value, AdminError> {
    let api = match &patch.api {
        Some(Some((url, key))) => Some(Some(PbxApi {
            url: WebUrl::parse(url).map_err(|e| invalid(format!("--api-url: {e}")))?,
            key: SecretString::from(key.clone()),
        })),
        Some(None) => Some(None),
        None => None,
    };
    if patch.account_id.is_none() && api.is_none() {
        return Err(invalid(
            "nothing to change: give the account id or the API settings",
        ));
    }
    let changes = SourceChanges {
        account_id: patch.account_id.clone(),
        api,
    };
    let details = json!({
        "account_id": changes.account_id,
        "api_url": changes.api.as_ref().map(|a| a.as_ref().map(|a| a.url.as_str().to_owned())),
    });
    let audit = op.audit(Some(tenant), "source.update", id.as_str(), details);
    let source = op
        .store
        .update_source(tenant, id, &changes, &audit)
        .await?
        .ok_or_else(|| no_source(tenant, id))?;
    Ok(source_view(&source, &op.public_base))
}

/// Issues a new secret (or takes Zoom's); the previous one verifies until the grace period
/// ends. The answer is the one place the new secret is shown.
pub async fn rotate_secret(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &SourceId,
    given: Option<&str>,
) -> Result<Value, AdminError> {
    let source = match op.store.source(id).await? {
        Some(source) if &source.tenant_id == tenant => source,
        _ => return Err(no_source(tenant, id)),
    };
    let secret = match (given.map(str::trim), source.kind) {
        (_, kind) if kind.is_socket() => {
            return Err(invalid(format!(
                "a {kind} source's secret is the PBX's own password: change it there, then \
                 delete and re-create the source"
            )));
        }
        (Some(s), _) if s.len() >= 16 => s.to_owned(),
        (Some(_), _) => return Err(invalid("--secret must be at least 16 characters")),
        (None, SourceKind::Zoom) => {
            return Err(invalid(
                "--secret is required for zoom: use the new Secret Token of your Zoom app",
            ));
        }
        (None, _) => new_token(32),
    };
    let grace_until = chrono::Utc::now() + op.secret_grace;
    let details = json!({"previous_secret_valid_until": grace_until});
    let audit = op.audit(Some(tenant), "source.rotate_secret", id.as_str(), details);
    let secret = SecretString::from(secret);
    let source = op
        .store
        .rotate_source_secret(tenant, id, &secret, grace_until, &audit)
        .await?
        .ok_or_else(|| no_source(tenant, id))?;
    let mut view = source_view(&source, &op.public_base);
    let exposed = secret.expose_secret();
    if source.kind == SourceKind::Kazoo {
        view["ingest_url"] = json!(format!(
            "{}/ingest/{}?token={exposed}",
            op.public_base, source.id
        ));
    }
    view["secret"] = json!(exposed);
    Ok(view)
}

pub async fn set_disabled(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &SourceId,
    disabled: bool,
) -> Result<Value, AdminError> {
    let action = if disabled {
        "source.disable"
    } else {
        "source.enable"
    };
    let audit = op.audit(Some(tenant), action, id.as_str(), json!({}));
    let at = disabled.then(chrono::Utc::now);
    let source = op
        .store
        .set_source_disabled(tenant, id, at, &audit)
        .await?
        .ok_or_else(|| no_source(tenant, id))?;
    Ok(source_view(&source, &op.public_base))
}

/// Without `confirmed` nothing is deleted: the error lists what would go.
pub async fn delete_source(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &SourceId,
    confirmed: bool,
) -> Result<Value, AdminError> {
    if !confirmed {
        let footprint = op
            .store
            .source_footprint(tenant, id)
            .await?
            .ok_or_else(|| no_source(tenant, id))?;
        return Err(needs_confirmation(&format!("source {id}"), &footprint));
    }
    let audit = op.audit(Some(tenant), "source.delete", id.as_str(), json!({}));
    let footprint = op
        .store
        .delete_source(tenant, id, &audit)
        .await?
        .ok_or_else(|| no_source(tenant, id))?;
    Ok(json!({"id": id, "deleted": true, "with": footprint}))
}
