//! Ingest throughput: signed Kazoo and Zoom scenarios pushed through the real
//! `POST /ingest/{source}` of a `ringhook serve` process, from this separate load process, on
//! SQLite and (with `TEST_DATABASE_URL`) PostgreSQL, next to the same load against a trivial
//! handler (`GET /healthz`) of the same server: the machine's limit.
//!
//! Run: `cargo bench --bench ingest` (`BENCH_CALLS`, `BENCH_CONCURRENCY` to change the load).

mod common;

use common::*;
use ringhook::admin::simulate::load_scenario;
use ringhook::domain::SourceKind;

/// Unique copies of a scenario: every id that names the call or a leg gets the call's number.
fn calls(
    kind: SourceKind,
    scenario: &str,
    secret: &str,
    base: &str,
    source: &str,
    count: usize,
) -> Vec<Vec<Req>> {
    let template = load_scenario(&fixtures(scenario), kind, secret, chrono::Utc::now()).unwrap();
    (0..count)
        .map(|n| {
            template
                .iter()
                .map(|request| {
                    let body = String::from_utf8(request.body.clone()).unwrap();
                    let body = match kind {
                        SourceKind::Kazoo => body
                            .replace(
                                "0c7f9a51-3e2b-4d8a-9f61-2b7c5e4d1a90",
                                &format!("0c7f9a51-3e2b-4d8a-9f61-{n:012x}"),
                            )
                            .replace("138e29bed3bd3c8040682524f0b9194d", &format!("{n:032x}"))
                            .replace("63884642400-3f2a1b9c", &format!("63884642400-{n:08x}")),
                        _ => body.replace(
                            "7376154829301746182",
                            &(7376154829301746182u64 + n as u64).to_string(),
                        ),
                    };
                    let signed = resign(kind, secret, body.into_bytes(), &request.headers);
                    let mut url = format!("{base}/ingest/{source}");
                    if let Some(token) = &request.query_token {
                        url.push_str(&format!("?token={token}"));
                    }
                    Req {
                        url,
                        headers: signed.0,
                        body: Some(signed.1),
                    }
                })
                .collect()
        })
        .collect()
}

/// Signs a rewritten body again, as the source would.
fn resign(
    kind: SourceKind,
    secret: &str,
    body: Vec<u8>,
    headers: &[(String, String)],
) -> (Vec<(String, String)>, Vec<u8>) {
    use ringhook::ingest::signature::hmac_sha256_hex;
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| !k.contains("signature"))
        .cloned()
        .collect();
    if kind == SourceKind::Zoom {
        let ts = headers
            .iter()
            .find(|(k, _)| k == "x-zm-request-timestamp")
            .map(|(_, v)| v.clone())
            .unwrap();
        let sig = hmac_sha256_hex(
            secret.as_bytes(),
            &[b"v0:", ts.as_bytes(), b":", &body].concat(),
        )
        .unwrap();
        headers.push(("x-zm-signature".into(), format!("v0={sig}")));
    }
    (headers, body)
}

async fn bench(label: &str, db: BenchDb, calls_per_kind: usize, concurrency: usize) {
    let server = Server::start(&db, &[]).await;
    let tenant = admin(&db, &["tenant", "create", "--name", "Bench"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let kazoo = admin(
        &db,
        &["source", "create", "--tenant", &tenant, "--kind", "kazoo"],
    );
    let zoom_secret = "zm_bench_secret_token_0123456789";
    let zoom = admin(
        &db,
        &[
            "source",
            "create",
            "--tenant",
            &tenant,
            "--kind",
            "zoom",
            "--secret",
            zoom_secret,
        ],
    );
    admin(
        &db,
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "alice@bench.example",
            "--name",
            "Alice",
            "--extension",
            "1001",
            "--link",
            &format!(
                "{}:6384e2b2184bcbf58eccf10ca7a6563c",
                kazoo["id"].as_str().unwrap()
            ),
            "--link",
            &format!("{}:u8Kd3fQ9R2eX1tLm6ZpW4A", zoom["id"].as_str().unwrap()),
        ],
    );

    let trivial: Vec<Vec<Req>> = (0..calls_per_kind * 7)
        .map(|_| {
            vec![Req {
                url: format!("{}/healthz", server.base),
                headers: vec![],
                body: None,
            }]
        })
        .collect();
    let limit = run_load(trivial, concurrency).await;

    let mut groups = calls(
        SourceKind::Kazoo,
        "kazoo/inbound_answered",
        kazoo["secret"].as_str().unwrap(),
        &server.base,
        kazoo["id"].as_str().unwrap(),
        calls_per_kind,
    );
    groups.extend(calls(
        SourceKind::Zoom,
        "zoom/inbound_answered",
        zoom_secret,
        &server.base,
        zoom["id"].as_str().unwrap(),
        calls_per_kind,
    ));
    let events: usize = groups.iter().map(Vec::len).sum();
    let ingest = run_load(groups, concurrency).await;
    assert_eq!(ingest.requests, events);

    println!(
        "{}",
        limit.line(&format!("{label}: trivial handler (GET /healthz)"))
    );
    println!(
        "{}",
        ingest.line(&format!("{label}: raw events through POST /ingest"))
    );
    println!(
        "{label}: ingest reaches {:.0}% of the trivial-handler rate\n",
        100.0 * ingest.per_second() / limit.per_second()
    );
}

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    println!(
        "ingest bench: {calls} Kazoo + {calls} Zoom calls (7 and 4 raw events each), {concurrency} connections\n"
    );
    bench("sqlite", BenchDb::sqlite(), calls, concurrency).await;
    match BenchDb::postgres() {
        Some(db) => bench("postgres", db, calls, concurrency).await,
        None => println!("postgres: skipped (set TEST_DATABASE_URL)"),
    }
}
