//! `ringhook serve` as a real child process, for tests that kill it or run several instances.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct ServerProcess {
    child: Child,
    pub base: String,
    db_url: String,
    env: Vec<(String, String)>,
    port: u16,
}

impl ServerProcess {
    pub async fn start(db_url: &str, env: &[(&str, &str)]) -> ServerProcess {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::spawn(db_url.to_owned(), env, port).await
    }

    async fn spawn(db_url: String, env: Vec<(String, String)>, port: u16) -> ServerProcess {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ringhook"));
        command
            .arg("serve")
            .env("RINGHOOK_DATABASE_URL", &db_url)
            .env("RINGHOOK_LISTEN", format!("127.0.0.1:{port}"))
            .env("RINGHOOK_LOG_FILTER", "warn")
            .stdout(Stdio::null())
            .stderr(if std::env::var("TEST_LOG").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        for (k, v) in &env {
            command.env(k, v);
        }
        let server = ServerProcess {
            child: command.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}"),
            db_url,
            env,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{}/healthz", server.base)).await
                && r.status() == 200
            {
                return server;
            }
            assert!(Instant::now() < deadline, "ringhook serve did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no draining, in-flight work is simply cut.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Starts the same server again on the same port and database.
    pub async fn restart(mut self) -> ServerProcess {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (db_url, env, port) = (self.db_url.clone(), self.env.clone(), self.port);
        Self::spawn(db_url, env, port).await
    }

    pub async fn metric(&self, needle: &str) -> f64 {
        let text = reqwest::get(format!("{}/metrics", self.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find(|l| l.starts_with(needle))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
