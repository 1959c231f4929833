//! Day-two operations on queue names (the readable name queue triggers carry, keyed by the
//! id the source uses for the queue): list, add, rename, delete. Shared by `ringhook queue …`
//! and the console's queues page; scoped by the tenant given, and written with an audit entry.

use super::error::{AdminError, non_blank, not_found, source_id};
use super::operator::Operator;
use crate::domain::TenantId;
use crate::storage::{NamedQueue, QueueNaming};
use serde_json::{Value, json};

/// Whether a name change may add a queue that had no name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// Add it or replace its name (`ringhook queue set`, the console's add form).
    Set,
    /// Only replace an existing name.
    Rename,
}

/// The tenant's named queues, or one source's (which must be the tenant's).
pub async fn list_queues(
    op: &Operator<'_>,
    tenant: &TenantId,
    source: Option<&str>,
) -> Result<Vec<NamedQueue>, AdminError> {
    let queues = op.store.tenant_queues(tenant).await?;
    let Some(raw) = source else {
        return Ok(queues);
    };
    let id = source_id(raw)?;
    match op.store.source(&id).await? {
        Some(s) if s.tenant_id == *tenant => {}
        _ => return Err(not_found(format!("tenant {tenant} has no source {id}"))),
    }
    Ok(queues.into_iter().filter(|q| q.source_id == id).collect())
}

pub async fn name_queue(
    op: &Operator<'_>,
    tenant: &TenantId,
    source: &str,
    queue_id: &str,
    name: &str,
    naming: Naming,
) -> Result<Value, AdminError> {
    let queue = NamedQueue {
        source_id: source_id(source)?,
        external_id: non_blank("queue-id", queue_id)?,
        name: non_blank("name", name)?,
    };
    let action = match naming {
        Naming::Set => "queue.set",
        Naming::Rename => "queue.rename",
    };
    let audit = op.audit(
        Some(tenant),
        action,
        &format!("{}:{}", queue.source_id, queue.external_id),
        json!({"name": queue.name}),
    );
    let done = op
        .store
        .name_tenant_queue(tenant, &queue, naming == Naming::Rename, &audit)
        .await?;
    let mut view = json!(queue);
    view["renamed"] = json!(done == QueueNaming::Renamed);
    Ok(view)
}

pub async fn delete_queue(
    op: &Operator<'_>,
    tenant: &TenantId,
    source: &str,
    queue_id: &str,
) -> Result<Value, AdminError> {
    let id = source_id(source)?;
    let audit = op.audit(
        Some(tenant),
        "queue.delete",
        &format!("{id}:{queue_id}"),
        json!({}),
    );
    let deleted = op
        .store
        .forget_tenant_queue(tenant, &id, queue_id, &audit)
        .await?;
    Ok(json!({"source_id": id, "external_id": queue_id, "deleted": deleted}))
}
