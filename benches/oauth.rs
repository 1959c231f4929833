//! Load benchmark of the OAuth hot paths against the real `ringhook` binary, run as a separate
//! process on a temporary SQLite database: refresh grants per second and authenticated
//! `GET /v1/me` calls per second, with p50/p99 latency.
//!
//! `cargo bench --bench oauth` (release build). Knobs: `BENCH_SECONDS` (default 5) and
//! `BENCH_CONCURRENCY` (default 64).

// Test and bench code states its expectations with unwrap/expect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ringhook");
const REDIRECT_URI: &str = "https://zapier.com/dashboard/auth/oauth/return/App1CLIAPI/";
const PASSWORD: &str = "bench password 1";

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn admin(
    dir: &std::path::Path,
    db: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<serde_json::Value, Error> {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RINGHOOK_DATABASE_URL", db)
        .env("RINGHOOK_LOG_FILTER", "warn")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    if !output.status.success() {
        return Err(format!("ringhook {args:?} failed").into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

struct Setup {
    server: Server,
    client_id: String,
    client_secret: String,
}

async fn start() -> Result<Setup, Error> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}/bench.db", dir.path().display());
    let tenant = admin(
        dir.path(),
        &db,
        &["tenant", "create", "--name", "Bench"],
        None,
    )?;
    let tenant = tenant["id"].as_str().ok_or("tenant id")?.to_owned();
    admin(
        dir.path(),
        &db,
        &[
            "user",
            "create",
            "--tenant",
            &tenant,
            "--email",
            "bench@example.com",
            "--name",
            "Bench User",
            "--extension",
            "100",
            "--admin",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    )?;
    let client = admin(
        dir.path(),
        &db,
        &[
            "client",
            "create",
            "--name",
            "Bench",
            "--redirect-uri",
            REDIRECT_URI,
        ],
        None,
    )?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(BIN)
        .arg("serve")
        .env("RINGHOOK_DATABASE_URL", &db)
        .env("RINGHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .env("RINGHOOK_LOG_FILTER", "warn")
        .env("RINGHOOK_DATABASE_MAX_CONNECTIONS", "8")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let probe = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while probe
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            return Err("the server did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Setup {
        server,
        client_id: client["client_id"].as_str().ok_or("client id")?.to_owned(),
        client_secret: client["client_secret"]
            .as_str()
            .ok_or("client secret")?
            .to_owned(),
    })
}

fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.split(';')
                .next()?
                .strip_prefix(&format!("{name}="))
                .map(|v| format!("{name}={v}"))
        })
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

/// One grant through the real consent flow; the first call signs in, later ones reuse the
/// browser session (no argon2).
async fn grant(
    http: &reqwest::Client,
    s: &Setup,
    cookies: &mut Vec<String>,
) -> Result<serde_json::Value, Error> {
    use base64::Engine;
    use sha2::Digest;
    let verifier = format!("{:0>64}", rand_suffix());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    let pairs = [
        ("response_type", "code"),
        ("client_id", s.client_id.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("scope", "calls:read calls:write"),
        ("state", "bench"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let url = url::Url::parse_with_params(&format!("{}/oauth/authorize", s.server.base), &pairs)?;
    let page = http
        .get(url)
        .header("cookie", cookies.join("; "))
        .send()
        .await?;
    if let Some(c) = cookie(&page, "ringhook_csrf") {
        cookies.push(c);
    }
    let html = page.text().await?;
    let csrf = hidden(&html, "csrf_token").ok_or("no csrf token")?;
    let mut form: Vec<(&str, &str)> = pairs.to_vec();
    form.extend([("csrf_token", csrf.as_str()), ("decision", "allow")]);
    if html.contains("name=\"password\"") {
        form.extend([("email", "bench@example.com"), ("password", PASSWORD)]);
    }
    let posted = http
        .post(format!("{}/oauth/authorize", s.server.base))
        .header("cookie", cookies.join("; "))
        .form(&form)
        .send()
        .await?;
    if let Some(c) = cookie(&posted, "ringhook_session") {
        cookies.push(c);
    }
    let location = posted
        .headers()
        .get("location")
        .ok_or("no redirect")?
        .to_str()?
        .to_owned();
    let code = url::Url::parse(&location)?
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("no code")?;
    let tokens = http
        .post(format!("{}/oauth/token", s.server.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier.as_str()),
            ("client_id", s.client_id.as_str()),
            ("client_secret", s.client_secret.as_str()),
        ])
        .send()
        .await?;
    Ok(tokens.json().await?)
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

struct Report {
    count: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Report {
    fn print(&mut self, what: &str) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p) as usize)
                .min(self.latencies.len().saturating_sub(1));
            self.latencies.get(i).copied().unwrap_or_default()
        };
        println!(
            "{what:<28} {:>9.0} /s   ({} ok, {} errors in {:.1} s)   p50 {:>7.2} ms   p99 {:>7.2} ms",
            self.count as f64 / self.elapsed.as_secs_f64(),
            self.count,
            self.errors,
            self.elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
        );
    }
}

/// Runs `workers` loops of `step` for `seconds`; each worker owns its state.
async fn drive<S, F, Fut>(states: Vec<S>, seconds: u64, step: F) -> Report
where
    S: Send + 'static,
    F: Fn(S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (S, bool)> + Send,
{
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut set = tokio::task::JoinSet::new();
    for state in states {
        let step = step.clone();
        set.spawn(async move {
            let (mut state, mut ok, mut errors, mut latencies) =
                (state, 0usize, 0usize, Vec::new());
            while Instant::now() < until {
                let t = Instant::now();
                let (next, success) = step(state).await;
                state = next;
                if success {
                    ok += 1;
                    latencies.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (ok, errors, latencies)
        });
    }
    let mut report = Report {
        count: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    while let Some(Ok((ok, errors, latencies))) = set.join_next().await {
        report.count += ok;
        report.errors += errors;
        report.latencies.extend(latencies);
    }
    report.elapsed = started.elapsed();
    report
}

fn main() -> Result<(), Error> {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let concurrency: usize = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let setup = start().await?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(concurrency)
            .build()?;
        let mut cookies = Vec::new();
        let mut grants = Vec::new();
        for _ in 0..concurrency {
            grants.push(grant(&http, &setup, &mut cookies).await?);
        }
        println!("ringhook OAuth bench: {concurrency} concurrent clients, {seconds} s per phase, SQLite, release build");

        let token_url = format!("{}/oauth/token", setup.server.base);
        let (id, secret) = (setup.client_id.clone(), setup.client_secret.clone());
        let chains: Vec<String> = grants.iter().filter_map(|g| g["refresh_token"].as_str().map(str::to_owned)).collect();
        let client = http.clone();
        let mut refresh = drive(chains, seconds, move |token: String| {
            let (client, url, id, secret) = (client.clone(), token_url.clone(), id.clone(), secret.clone());
            async move {
                let sent = client
                    .post(&url)
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str()), ("client_id", id.as_str()), ("client_secret", secret.as_str())])
                    .send()
                    .await;
                let body: Option<serde_json::Value> = match sent {
                    Ok(r) if r.status().is_success() => r.json().await.ok(),
                    _ => None,
                };
                match body.as_ref().and_then(|b| b["refresh_token"].as_str()) {
                    Some(next) => (next.to_owned(), true),
                    None => (token, false),
                }
            }
        })
        .await;
        refresh.print("refresh_token grants");

        // Fresh access tokens (the refresh phase rotated the first ones' chains).
        let mut access = Vec::new();
        for _ in 0..8 {
            let g = grant(&http, &setup, &mut cookies).await?;
            access.push(g["access_token"].as_str().ok_or("no access token")?.to_owned());
        }
        let me_url = format!("{}/v1/me", setup.server.base);
        let states: Vec<String> = (0..concurrency).map(|i| access[i % access.len()].clone()).collect();
        let client = http.clone();
        let mut me = drive(states, seconds, move |token: String| {
            let (client, url) = (client.clone(), me_url.clone());
            async move {
                let ok = match client.get(&url).bearer_auth(&token).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                (token, ok)
            }
        })
        .await;
        me.print("authenticated GET /v1/me");
        drop(setup);
        Ok(())
    })
}
