//! `ringhook reconcile --source SRC --from T --to T [--dry-run]`: backfills or repairs a
//! window of a source's calls from its history by hand. Each event emitted (or, on a dry run,
//! that would be) is printed on stdout as one JSON line as its page is applied, progress goes
//! to stderr after each page, and the last stdout line is the totals: a backfill of any length
//! holds one page in memory.

use anyhow::Context;
use chrono::Utc;
use serde_json::{Value, json};
use std::io::Write;

use super::cli::ReconcileArgs;
use crate::config::Settings;
use crate::domain::SourceId;
use crate::reconcile::run::{Progress, Reconciler};
use crate::source_api::SourceApi;
use crate::storage::Storage;
use std::sync::Arc;

/// Runs the window; the returned object (the totals) is the command's last line.
pub async fn reconcile(
    store: &dyn Storage,
    args: &ReconcileArgs,
    settings: &Settings,
) -> anyhow::Result<Value> {
    let id = SourceId::parse(&args.source)
        .with_context(|| format!("{:?} is not a source id (src_…)", args.source))?;
    let source = store
        .source(&id)
        .await?
        .with_context(|| format!("no source {id}"))?;
    if args.to <= args.from {
        anyhow::bail!("--to must be after --from");
    }
    let api = Arc::new(SourceApi::new(
        settings.target_policy(),
        crate::source_api::ApiTimeouts::within(settings.source_api_limit()),
    )?);
    let config = settings.normalizer();
    let reconciler = Reconciler {
        store,
        api,
        config: &config,
        status: None,
        dry_run: args.dry_run,
    };
    let verb = if args.dry_run {
        "would_emit"
    } else {
        "emitted"
    };
    let mut on_page = |p: Progress<'_>| {
        let mut out = std::io::stdout().lock();
        for event in &p.page.events {
            let line = json!({ verb: event });
            let _ = writeln!(out, "{line}");
        }
        let _ = out.flush();
        let t = p.totals;
        eprintln!(
            "page {}: {} calls read, {} recovered, {} closed early, {} already ended, {} events",
            t.pages, t.records, t.recovered, t.closed_early, t.already_ended, t.events
        );
    };
    let totals = reconciler
        .window(&source, args.from, args.to, Utc::now(), &mut on_page)
        .await?;
    Ok(json!({
        "source": id.as_str(),
        "from": args.from,
        "to": args.to,
        "dry_run": args.dry_run,
        "totals": totals,
    }))
}
