//! Which file a media id names, and whether a user may fetch it. The source's location stays in
//! the call's normalizer state (`media`); an event that points at the id decides who may see it,
//! under the same rule as `GET /v1/events`: the users taking part, or a tenant admin.

use super::StoreError;
use super::error::corrupt_json;
use super::store::{Store, on_pool};
use crate::domain::{SourceId, TenantId, UserId};
use crate::ingest::RawMedia;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A file a subscriber may fetch: where its source keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFile {
    pub source_id: SourceId,
    pub media: RawMedia,
}

/// The one part of a call's state this store reads.
#[derive(Deserialize)]
struct MediaOfCall {
    #[serde(default)]
    media: BTreeMap<String, RawMedia>,
}

#[async_trait::async_trait]
pub trait MediaStore {
    /// The file behind `media_id` if an event of `tenant` points at it and `viewer` takes part
    /// in that event's call (`None`: any event of the tenant, for a tenant admin).
    /// `media_id` must already be checked to be a well-formed id (`med_` and base32).
    async fn media_file(
        &self,
        tenant: &TenantId,
        media_id: &str,
        viewer: Option<&UserId>,
    ) -> Result<Option<MediaFile>, StoreError>;
}

#[async_trait::async_trait]
impl MediaStore for Store {
    async fn media_file(
        &self,
        tenant: &TenantId,
        media_id: &str,
        viewer: Option<&UserId>,
    ) -> Result<Option<MediaFile>, StoreError> {
        let mut sql = String::from(
            "SELECT c.source_id, c.state FROM call_events e JOIN calls c ON c.id = e.call_id \
             WHERE e.tenant_id = $1 AND c.tenant_id = $1 \
             AND e.event_type IN ('call.voicemail', 'call.recording_ready') \
             AND e.payload LIKE $2",
        );
        if viewer.is_some() {
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM event_participants p \
                 WHERE p.event_seq = e.seq AND p.user_id = $3)",
            );
        }
        sql.push_str(" LIMIT 1");
        // The id closes the URL's path inside a JSON string, so the pattern names it exactly.
        let pattern = format!("%/v1/media/{media_id}\"%");
        let row: Option<(String, String)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql)
                .bind(tenant.as_str())
                .bind(pattern.as_str());
            if let Some(user) = viewer {
                q = q.bind(user.as_str());
            }
            q.fetch_optional(pool).await
        })?;
        let Some((source_id, state)) = row else {
            return Ok(None);
        };
        let call: MediaOfCall = serde_json::from_str(&state).map_err(corrupt_json)?;
        let Some(media) = call.media.get(media_id).cloned() else {
            return Ok(None);
        };
        let source_id = SourceId::parse(&source_id)
            .ok_or_else(|| super::error::corrupt("source id", &source_id))?;
        Ok(Some(MediaFile { source_id, media }))
    }
}
