//! Day-two operations on tenants: list, show, update, delete. Each validates its whole input
//! first, then makes one change that commits with its audit entry.

use super::error::{AdminError, invalid, needs_confirmation, non_blank, not_found, tenant_id};
use super::operator::Operator;
use super::source_ops::source_view;
use super::user_ops::user_view;
use crate::domain::{CountryCode, TenantId};
use crate::storage::{Tenant, TenantChanges};
use serde_json::{Value, json};

fn tenant_view(tenant: &Tenant) -> Value {
    json!({
        "id": tenant.id, "name": tenant.name,
        "default_country": tenant.default_country.as_str(), "created_at": tenant.created_at,
    })
}

pub async fn list_tenants(op: &Operator<'_>) -> Result<Value, AdminError> {
    let tenants: Vec<Value> = op.store.tenants().await?.iter().map(tenant_view).collect();
    Ok(json!({ "tenants": tenants }))
}

/// The tenant with its users and sources.
pub async fn show_tenant(op: &Operator<'_>, id: &TenantId) -> Result<Value, AdminError> {
    let tenant = op
        .store
        .tenant(id)
        .await?
        .ok_or_else(|| not_found(format!("no tenant {id}")))?;
    let links = op.store.user_links(id).await?;
    let users: Vec<Value> = op
        .store
        .users(id)
        .await?
        .iter()
        .map(|u| user_view(u, &links))
        .collect();
    let sources: Vec<Value> = op
        .store
        .sources(id)
        .await?
        .iter()
        .map(|s| source_view(s, &op.public_base))
        .collect();
    let mut view = tenant_view(&tenant);
    view["users"] = json!(users);
    view["sources"] = json!(sources);
    Ok(view)
}

pub async fn update_tenant(
    op: &Operator<'_>,
    id: &TenantId,
    name: Option<&str>,
    default_country: Option<&str>,
) -> Result<Value, AdminError> {
    let changes = TenantChanges {
        name: name.map(|n| non_blank("name", n)).transpose()?,
        default_country: default_country
            .map(|c| CountryCode::parse(c).map_err(|e| invalid(e.to_string())))
            .transpose()?,
    };
    if changes.name.is_none() && changes.default_country.is_none() {
        return Err(invalid(
            "nothing to change: give --name or --default-country",
        ));
    }
    let details = json!({
        "name": changes.name, "default_country": changes.default_country.map(|c| c.as_str().to_owned()),
    });
    let audit = op.audit(Some(id), "tenant.update", id.as_str(), details);
    let tenant = op
        .store
        .update_tenant(id, &changes, &audit)
        .await?
        .ok_or_else(|| not_found(format!("no tenant {id}")))?;
    Ok(tenant_view(&tenant))
}

/// Without `confirmed` nothing is deleted: the error lists what would go.
pub async fn delete_tenant(
    op: &Operator<'_>,
    raw_id: &str,
    confirmed: bool,
) -> Result<Value, AdminError> {
    let id = tenant_id(raw_id)?;
    if !confirmed {
        let footprint = op
            .store
            .tenant_footprint(&id)
            .await?
            .ok_or_else(|| not_found(format!("no tenant {id}")))?;
        return Err(needs_confirmation(&format!("tenant {id}"), &footprint));
    }
    let audit = op.audit(Some(&id), "tenant.delete", id.as_str(), json!({}));
    let footprint = op
        .store
        .delete_tenant(&id, &audit)
        .await?
        .ok_or_else(|| not_found(format!("no tenant {id}")))?;
    Ok(json!({"id": id, "deleted": true, "with": footprint}))
}
