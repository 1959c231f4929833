//! Waking delivery workers as soon as deliveries are queued: this process's worker at once,
//! and, on PostgreSQL, every other instance through `LISTEN`/`NOTIFY`. Polling stays the
//! fallback, so a lost notification only delays a delivery by the poll interval.

use crate::storage::Storage;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The channel instances notify each other on.
pub const CHANNEL: &str = "ringhook_deliveries";

#[derive(Default)]
pub struct DeliveryWakeup {
    /// This process's delivery worker waits on it.
    pub local: Notify,
    /// The relay to other instances waits on it.
    relay: Notify,
}

impl DeliveryWakeup {
    /// New deliveries were committed.
    pub fn notify_one(&self) {
        self.local.notify_one();
        self.relay.notify_one();
    }
}

/// Forwards local wake-ups to the other instances, and theirs to this process's worker, until
/// `shutdown`. On SQLite (one instance) there is nobody to tell and it returns at once.
pub async fn relay(
    store: Arc<dyn Storage>,
    wakeup: Arc<DeliveryWakeup>,
    shutdown: CancellationToken,
) {
    if !store.supports_notifications() {
        return;
    }
    let listening = {
        let (store, wakeup, shutdown) = (store.clone(), wakeup.clone(), shutdown.clone());
        tokio::spawn(async move {
            store
                .listen(
                    CHANNEL,
                    Box::new(move || wakeup.local.notify_one()),
                    shutdown,
                )
                .await
        })
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wakeup.relay.notified() => {
                if let Err(error) = store.notify(CHANNEL).await {
                    tracing::debug!(error = %error, "could not notify other instances; they will poll");
                }
            }
        }
    }
    let _ = listening.await;
}
