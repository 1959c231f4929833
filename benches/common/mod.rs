//! What the benches share: the real `ringhook` binary started as a separate process on a free
//! port with its own database, the admin CLI, and a closed-loop HTTP load generator.

#![allow(dead_code)]

use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub const BIN: &str = env!("CARGO_BIN_EXE_ringhook");

pub fn fixtures(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(path)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database for one bench run: a SQLite file in a temp folder, or a fresh PostgreSQL
/// database on the server named by `TEST_DATABASE_URL`.
pub struct BenchDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl BenchDb {
    pub fn sqlite() -> BenchDb {
        let dir = tempfile::tempdir().unwrap();
        BenchDb {
            url: format!("sqlite://{}/bench.db", dir.path().display()),
            _dir: Some(dir),
            pg: None,
        }
    }

    pub fn postgres() -> Option<BenchDb> {
        let admin = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("ringhook_bench_{}", std::process::id());
        psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        Some(BenchDb {
            url: url.to_string(),
            _dir: None,
            pg: Some((admin, name)),
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            psql(
                admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(url: &str, sql: &str) {
    let status = Command::new("psql")
        .args([url, "-qc", sql])
        .status()
        .unwrap();
    assert!(status.success(), "psql {sql}");
}

/// Runs an admin command against `db` and returns the JSON it printed.
pub fn admin(db: &BenchDb, args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .args(args)
        .env("RINGHOOK_DATABASE_URL", &db.url)
        .env("RINGHOOK_LOG_FILTER", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `ringhook serve` as a child process, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(db: &BenchDb, env: &[(&str, &str)]) -> Server {
        Server::start_under(db, env, &[]).await
    }

    /// `ringhook serve` run by `wrapper` (a program and its arguments, such as valgrind), or
    /// directly when `wrapper` is empty.
    pub async fn start_under(db: &BenchDb, env: &[(&str, &str)], wrapper: &[&str]) -> Server {
        let port = free_port();
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(BIN);
                command
            }
            None => Command::new(BIN),
        };
        command
            .arg("serve")
            .env("RINGHOOK_DATABASE_URL", &db.url)
            .env("RINGHOOK_LISTEN", format!("127.0.0.1:{port}"))
            .env("RINGHOOK_LOG_FILTER", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let server = Server {
            child: command.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
        };
        // Under valgrind the start takes far longer.
        let deadline =
            Instant::now() + Duration::from_secs(if wrapper.is_empty() { 30 } else { 300 });
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Server {
    /// The server process's CPU time so far (user + system), read from `/proc/<pid>/stat`.
    /// Differences of two readings over a measured phase, divided by the work done in it,
    /// give a cost per event that depends far less on the machine's load than a rate does.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn cpu_time(&self) -> Duration {
        process_cpu_time(self.child.id())
    }

    /// The server's resident memory now, from `VmRSS` in `/proc/<pid>/status`.
    pub fn rss_bytes(&self) -> u64 {
        process_rss_bytes(self.child.id())
    }
}

/// Resident set size of process `pid` in bytes (`VmRSS` is given in kB).
pub fn process_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// User + system CPU time of process `pid` (fields 14 and 15 of `/proc/<pid>/stat`, in clock
/// ticks; the command name in field 2 may hold spaces, so fields are counted after its `)`).
pub fn process_cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU time per unit of work, in microseconds.
pub fn micros_per(cpu: Duration, units: usize) -> f64 {
    cpu.as_secs_f64() * 1e6 / units.max(1) as f64
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A receiving HTTP server in the bench process (one worker, on a free loopback port) whose
/// every request goes to `handler` with `state` as app data; returns its base URL.
pub fn start_receiver<T, H, Args>(state: Arc<T>, handler: H) -> String
where
    T: Send + Sync + 'static,
    H: actix_web::Handler<Args> + Clone + Send + 'static,
    Args: actix_web::FromRequest + 'static,
    H::Output: actix_web::Responder + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let data = actix_web::web::Data::from(state);
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .default_service(actix_web::web::to(handler.clone()))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    address
}

/// One request of a load run.
#[derive(Clone)]
pub struct Req {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

pub struct Stats {
    pub requests: usize,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub failures: usize,
}

impl Stats {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        sorted[((sorted.len() - 1) as f64 * p).round() as usize]
    }

    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<44} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} failed)",
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1e3,
            self.percentile(0.99).as_secs_f64() * 1e3,
            self.requests,
            self.failures
        )
    }
}

/// Sends `requests` in order with `concurrency` workers, each waiting for its answer before
/// sending the next (closed loop). Requests of one ordered group go to one worker so they
/// arrive in order.
pub async fn run_load(groups: Vec<Vec<Req>>, concurrency: usize) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let queue = Arc::new(Mutex::new(groups.into_iter()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let queue = queue.clone();
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            loop {
                let Some(group) = queue.lock().await.next() else {
                    break;
                };
                for req in group {
                    let mut call = match &req.body {
                        Some(body) => client.post(&req.url).body(body.clone()),
                        None => client.get(&req.url),
                    };
                    for (k, v) in &req.headers {
                        call = call.header(k, v);
                    }
                    let sent = Instant::now();
                    match call.send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                        }
                        _ => failures += 1,
                    }
                    latencies.push(sent.elapsed());
                }
            }
            (latencies, failures)
        }));
    }
    let mut stats = Stats {
        requests: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        failures: 0,
    };
    for task in tasks {
        let (latencies, failures) = task.await.unwrap();
        stats.requests += latencies.len();
        stats.latencies.extend(latencies);
        stats.failures += failures;
    }
    stats.elapsed = started.elapsed();
    stats
}

/// `BENCH_RUNS`: how many times in a row a bench repeats its measured phase (default 1), so
/// that a tail that comes and goes shows in the worst of several runs.
pub fn bench_runs() -> usize {
    std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(1)
}

/// `requests` closed-loop `GET /healthz` over `concurrency` connections: what the machine
/// gives a handler that does nothing, at this moment, to set the other figures beside.
pub async fn trivial_rate(server: &Server, requests: usize, concurrency: usize) -> Stats {
    let trivial: Vec<Vec<Req>> = (0..requests)
        .map(|_| {
            vec![Req {
                url: format!("{}/healthz", server.base),
                headers: vec![],
                body: None,
            }]
        })
        .collect();
    run_load(trivial, concurrency).await
}
