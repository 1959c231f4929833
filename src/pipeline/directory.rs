//! Sources and the directory (users, queue names) each sees, cached briefly: every raw event needs it, and users
//! change rarely (admin commands may run in another process, hence a time limit, not only
//! invalidation).

use crate::cache::TtlCache;
use crate::domain::SourceId;
use crate::normalizer::{DirectoryEntry, DirectoryUser, StaticDirectory};
use crate::storage::{Source, Storage, StoreError};
use std::sync::Arc;
use std::time::Duration;

pub struct DirectoryCache {
    directories: TtlCache<SourceId, StaticDirectory>,
    sources: TtlCache<SourceId, Source>,
}

impl DirectoryCache {
    pub fn new(ttl: Duration) -> Self {
        DirectoryCache {
            directories: TtlCache::new(ttl),
            sources: TtlCache::new(ttl),
        }
    }

    /// A source by id (its secret verifies every request of it).
    pub async fn source(
        &self,
        store: &dyn Storage,
        id: &SourceId,
    ) -> Result<Option<Arc<Source>>, StoreError> {
        if let Some(hit) = self.sources.get(id) {
            return Ok(Some(hit));
        }
        Ok(store
            .source(id)
            .await?
            .map(|source| self.sources.insert(id.clone(), source)))
    }

    /// The source as stored now, replacing the cached copy (after a failed verification,
    /// in case its secret was rotated in the meantime).
    pub async fn reload_source(
        &self,
        store: &dyn Storage,
        id: &SourceId,
    ) -> Result<Option<Arc<Source>>, StoreError> {
        Ok(store
            .source(id)
            .await?
            .map(|source| self.sources.insert(id.clone(), source)))
    }

    /// Forgets the cached directories of these sources: their tenant's users changed here,
    /// and the next call must see it at once rather than after the TTL.
    pub fn forget_directories<'a>(&self, sources: impl IntoIterator<Item = &'a SourceId>) {
        for id in sources {
            self.directories.remove(id);
        }
    }

    /// The directory of `source`'s tenant, with the external ids this source uses.
    pub async fn for_source(
        &self,
        store: &dyn Storage,
        source: &Source,
    ) -> Result<Arc<StaticDirectory>, StoreError> {
        if let Some(hit) = self.directories.get(&source.id) {
            return Ok(hit);
        }
        let directory = load(store, source).await?;
        Ok(self.directories.insert(source.id.clone(), directory))
    }
}

async fn load(store: &dyn Storage, source: &Source) -> Result<StaticDirectory, StoreError> {
    let tenant = store
        .tenant(&source.tenant_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no tenant {}", source.tenant_id)))?;
    let users = store.users(&source.tenant_id).await?;
    let links = store.user_links(&source.tenant_id).await?;
    let entries = users
        .into_iter()
        .map(|user| DirectoryEntry {
            external_ids: links
                .iter()
                .filter(|l| l.user_id == user.id && l.source_id == source.id)
                .map(|l| l.external_id.clone())
                .collect(),
            user: DirectoryUser {
                user_id: user.id,
                name: user.name,
                extension: user.extension,
                number: user.number,
            },
        })
        .collect();
    let queues = store
        .queues(&source.id)
        .await?
        .into_iter()
        .map(|queue| (queue.external_id, queue.name))
        .collect();
    Ok(StaticDirectory {
        default_country: tenant.default_country,
        entries,
        queues,
    })
}
