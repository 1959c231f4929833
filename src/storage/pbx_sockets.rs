//! Socket sources' connection settings and the lease that lets exactly one `serve` process
//! hold each source's connection when several share a database.

use async_trait::async_trait;

use super::lease::LeaseTable;
use super::store::on_pool;
use super::{Source, SourceStore, Store, StoreError};
use crate::domain::SourceId;

/// How ringhook reaches a socket source; its password is the source's secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbxSocket {
    pub source_id: SourceId,
    /// `tcp://host:port`, checked when the source was created.
    pub url: String,
    /// The AMI manager account (FreeSWITCH's event socket has only a password).
    pub username: Option<String>,
    /// The dialplan context (FreeSWITCH: of the XML dialplan) in which a click-to-call's
    /// target is dialled once the user's phone answers; a per-kind default when unset.
    pub originate_context: Option<String>,
    /// Asterisk: where `MixMonitor()`'s files are served (`…/{file}`), so recordings can be
    /// told and fetched; checked when the source was created.
    pub recording_url_template: Option<String>,
}

#[async_trait]
pub trait PbxSocketStore {
    /// Records (or replaces) where a socket source is reached.
    async fn save_pbx_socket(&self, socket: &PbxSocket) -> Result<(), StoreError>;
    /// Every socket source with its settings, for the connectors.
    async fn pbx_sockets(&self) -> Result<Vec<(Source, PbxSocket)>, StoreError>;
    /// Takes or renews `source`'s lease for `holder` until `until_ms` (Unix ms) when it is
    /// free, expired at `now_ms`, or already `holder`'s. True when `holder` now holds it.
    async fn take_pbx_lease(
        &self,
        source: &SourceId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up at once (clean shutdown), so another process need not wait it out.
    async fn release_pbx_lease(&self, source: &SourceId, holder: &str) -> Result<(), StoreError>;
    /// The call keys (`call:…`) of `source`'s calls that have not ended, to check against
    /// the PBX's live channels after a reconnect.
    async fn open_call_keys(&self, source: &SourceId) -> Result<Vec<String>, StoreError>;
}

#[async_trait]
impl PbxSocketStore for Store {
    async fn save_pbx_socket(&self, socket: &PbxSocket) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO pbx_sockets \
             (source_id, url, username, originate_context, recording_url_template) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source_id) \
             DO UPDATE SET url = $2, username = $3, originate_context = $4, \
             recording_url_template = $5",
        )
        .bind(socket.source_id.as_str())
        .bind(&socket.url)
        .bind(&socket.username)
        .bind(&socket.originate_context)
        .bind(&socket.recording_url_template)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        Ok(())
    }

    async fn pbx_sockets(&self) -> Result<Vec<(Source, PbxSocket)>, StoreError> {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT source_id, url, username, originate_context, recording_url_template \
             FROM pbx_sockets ORDER BY source_id",
        )
        .fetch_all(pool)
        .await)?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, url, username, originate_context, recording_url_template) in rows {
            let Some(source_id) = SourceId::parse(&id) else {
                continue;
            };
            let Some(source) = self.source(&source_id).await? else {
                continue;
            };
            let socket = PbxSocket {
                source_id,
                url,
                username,
                originate_context,
                recording_url_template,
            };
            out.push((source, socket));
        }
        Ok(out)
    }

    async fn take_pbx_lease(
        &self,
        source: &SourceId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let _writer = self.write_lock().await;
        self.take_lease(LeaseTable::PbxSockets, source, holder, now_ms, until_ms)
            .await
    }

    async fn release_pbx_lease(&self, source: &SourceId, holder: &str) -> Result<(), StoreError> {
        let _writer = self.write_lock().await;
        self.release_lease(LeaseTable::PbxSockets, source, holder)
            .await
    }

    async fn open_call_keys(&self, source: &SourceId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = on_pool!(self, |pool| sqlx::query_as(
            "SELECT k.key FROM call_keys k JOIN calls c ON c.id = k.call_id \
             WHERE k.source_id = $1 AND c.source_id = $1 AND c.ended = FALSE \
             AND k.key LIKE 'call:%' ORDER BY k.key",
        )
        .bind(source.as_str())
        .fetch_all(pool)
        .await)?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }
}
