//! Day-two operations on a tenant's users: list, show, update, set a password, link and
//! unlink source ids, disable, enable, delete. Every operation is scoped by the tenant given,
//! so the admin API cannot reach another tenant's user; the command line finds the tenant
//! from the user id first.

use super::commands::{parse_extension, parse_link};
use super::error::{AdminError, invalid, needs_confirmation, non_blank, not_found};
use super::operator::Operator;
use crate::credentials;
use crate::domain::{E164Number, EmailAddress, TenantId, UserId};
use crate::storage::{User, UserChanges, UserLink};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// A change to a user as typed: `Some(None)` clears an optional field.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::admin::user_ops::clearable")]
    #[schema(value_type = Option<String>)]
    pub extension: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::admin::user_ops::clearable")]
    #[schema(value_type = Option<String>)]
    pub number: Option<Option<String>>,
    pub admin: Option<bool>,
}

/// A JSON field that may be absent (keep), `null` (clear) or a value (set).
pub fn clearable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

pub(super) fn user_view(user: &User, links: &[UserLink]) -> Value {
    let links: Vec<Value> = links
        .iter()
        .filter(|l| l.user_id == user.id)
        .map(|l| json!({"source_id": l.source_id, "external_id": l.external_id}))
        .collect();
    json!({
        "id": user.id, "tenant_id": user.tenant_id, "email": user.email, "name": user.name,
        "extension": user.extension, "number": user.number, "admin": user.is_admin,
        "disabled": user.disabled_at.is_some(), "disabled_at": user.disabled_at,
        "created_at": user.created_at, "links": links,
    })
}

/// The tenant of a user named by id alone (the command line).
pub async fn tenant_of(op: &Operator<'_>, raw_id: &str) -> Result<(TenantId, UserId), AdminError> {
    let id = parse_user_id(raw_id)?;
    let tenant = op
        .store
        .tenant_of_user(&id)
        .await?
        .ok_or_else(|| not_found(format!("no user {id}")))?;
    Ok((tenant, id))
}

pub fn parse_user_id(raw: &str) -> Result<UserId, AdminError> {
    UserId::parse(raw).ok_or_else(|| invalid(format!("{raw:?} is not a user id (usr_…)")))
}

fn no_user(tenant: &TenantId, id: &UserId) -> AdminError {
    not_found(format!("tenant {tenant} has no user {id}"))
}

pub async fn list_users(op: &Operator<'_>, tenant: &TenantId) -> Result<Value, AdminError> {
    if op.store.tenant(tenant).await?.is_none() {
        return Err(not_found(format!("no tenant {tenant}")));
    }
    let links = op.store.user_links(tenant).await?;
    let users: Vec<Value> = op
        .store
        .users(tenant)
        .await?
        .iter()
        .map(|u| user_view(u, &links))
        .collect();
    Ok(json!({ "users": users }))
}

pub async fn show_user(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
) -> Result<Value, AdminError> {
    let user = op
        .store
        .user(tenant, id)
        .await?
        .ok_or_else(|| no_user(tenant, id))?;
    let links = op.store.user_links(tenant).await?;
    Ok(user_view(&user, &links))
}

pub async fn update_user(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
    patch: &UserPatch,
) -> Result<Value, AdminError> {
    let country = op
        .store
        .tenant(tenant)
        .await?
        .ok_or_else(|| not_found(format!("no tenant {tenant}")))?
        .default_country;
    let changes = UserChanges {
        email: patch
            .email
            .as_deref()
            .map(|e| EmailAddress::parse(e).map_err(|e| invalid(e.to_string())))
            .transpose()?,
        name: patch
            .name
            .as_deref()
            .map(|n| non_blank("name", n))
            .transpose()?,
        extension: match &patch.extension {
            Some(Some(e)) => Some(Some(parse_extension(e)?)),
            Some(None) => Some(None),
            None => None,
        },
        number: match &patch.number {
            Some(Some(n)) => Some(Some(
                E164Number::parse(n, country).map_err(|e| invalid(format!("--number: {e}")))?,
            )),
            Some(None) => Some(None),
            None => None,
        },
        is_admin: patch.admin,
    };
    let nothing = changes.email.is_none()
        && changes.name.is_none()
        && changes.extension.is_none()
        && changes.number.is_none()
        && changes.is_admin.is_none();
    if nothing {
        return Err(invalid("nothing to change: give at least one field"));
    }
    let details = json!({
        "email": changes.email, "name": changes.name, "extension": changes.extension,
        "number": changes.number, "admin": changes.is_admin,
    });
    let audit = op.audit(Some(tenant), "user.update", id.as_str(), details);
    let user = op
        .store
        .update_user(tenant, id, &changes, &audit)
        .await?
        .ok_or_else(|| no_user(tenant, id))?;
    let links = op.store.user_links(tenant).await?;
    Ok(user_view(&user, &links))
}

/// Rejects an empty password; stores only its argon2 hash.
pub async fn set_password(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
    password: &SecretString,
) -> Result<Value, AdminError> {
    if password.expose_secret().is_empty() {
        return Err(invalid("the password is empty"));
    }
    let hash = credentials::hash_password(password)?;
    let audit = op.audit(Some(tenant), "user.set_password", id.as_str(), json!({}));
    if !op
        .store
        .set_user_password(tenant, id, &hash, &audit)
        .await?
    {
        return Err(no_user(tenant, id));
    }
    Ok(json!({"id": id, "password_set": true}))
}

/// `link` is `SOURCE_ID:EXTERNAL_USER_ID`; `add` links, otherwise unlinks.
pub async fn change_link(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
    link: &str,
    add: bool,
) -> Result<Value, AdminError> {
    let link = parse_link(link)?;
    let action = if add { "user.link" } else { "user.unlink" };
    let audit = op.audit(Some(tenant), action, id.as_str(), json!(link));
    if add {
        op.store.link_user(tenant, id, &link, &audit).await?;
    } else if !op.store.unlink_user(tenant, id, &link, &audit).await? {
        return Err(not_found(format!(
            "user {id} has no link {}:{}",
            link.source_id, link.external_id
        )));
    }
    show_user(op, tenant, id).await
}

pub async fn set_disabled(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
    disabled: bool,
) -> Result<Value, AdminError> {
    let now = chrono::Utc::now();
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    let audit = op.audit(Some(tenant), action, id.as_str(), json!({}));
    let at = disabled.then_some(now);
    if !op.store.set_user_disabled(tenant, id, at, &audit).await? {
        return Err(no_user(tenant, id));
    }
    show_user(op, tenant, id).await
}

/// Without `confirmed` nothing is deleted: the error lists what would go.
pub async fn delete_user(
    op: &Operator<'_>,
    tenant: &TenantId,
    id: &UserId,
    confirmed: bool,
) -> Result<Value, AdminError> {
    if !confirmed {
        let footprint = op
            .store
            .user_footprint(tenant, id)
            .await?
            .ok_or_else(|| no_user(tenant, id))?;
        return Err(needs_confirmation(&format!("user {id}"), &footprint));
    }
    let audit = op.audit(Some(tenant), "user.delete", id.as_str(), json!({}));
    let footprint = op
        .store
        .delete_user(tenant, id, &audit)
        .await?
        .ok_or_else(|| no_user(tenant, id))?;
    Ok(json!({"id": id, "deleted": true, "with": footprint}))
}
