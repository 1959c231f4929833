//! SQLite's write-ahead log under steady writes: the background checkpoint makes it start
//! again from its beginning once it is long, so it stays near that length and no commit has
//! to checkpoint it (a commit doing so held the writer, and every request queued behind it,
//! for 50–140 ms).

use crate::support::TestDatabase;
use crate::support::tenant::acme;
use ringhook::storage::call_writes::{CallWrites, Receipt};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// 4 KiB pages and their 24-byte frame headers.
const FRAME_BYTES: u64 = 4096 + 24;

#[tokio::test]
async fn the_write_ahead_log_starts_again_under_steady_writes() {
    let db = TestDatabase::sqlite().await;
    let acme = acme(db.store.as_ref()).await;
    let source = acme.kazoo.id.as_str().to_owned();
    let wal = format!("{}-wal", db.url.expose().trim_start_matches("sqlite://"));

    let stop = CancellationToken::new();
    let checkpoints = tokio::spawn(ringhook::maintenance::checkpoints(
        db.store.clone(),
        Duration::from_millis(20),
        stop.clone(),
    ));
    // About 12,000 frames in all, written one transaction after the other: past the
    // 10,000 at which a commit would checkpoint the log itself.
    let mut longest = 0;
    for batch in 0..500 {
        let receipts = (0..100)
            .map(|n| Receipt {
                source_id: source.clone(),
                dedupe_key: format!("{batch}-{n}-{}", "k".repeat(400)),
                received_at: chrono::Utc::now(),
            })
            .collect();
        let mut tx = db.store.begin_calls(&[&source]).await.unwrap();
        tx.write(&CallWrites {
            receipts,
            ..CallWrites::default()
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        longest = longest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    }
    stop.cancel();
    checkpoints.await.unwrap();

    let frames = longest / FRAME_BYTES;
    assert!(
        frames < 8_192,
        "the log grew to {frames} frames: it did not start again at 4,096"
    );
    assert!(
        frames > 1_000,
        "the test wrote too little to tell ({frames} frames)"
    );
}
