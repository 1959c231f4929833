//! Settings: defaults, then an optional TOML file (`--config`), then `RINGHOOK_*` environment
//! variables. A bad value stops the start with a message that names the setting.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use url::Url;

/// Every setting, with its default. Field names are the TOML keys; the env names are
/// `RINGHOOK_` + the upper-cased key (`database_url` → `RINGHOOK_DATABASE_URL`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `sqlite://PATH` (embedded, the default) or `postgres://…` (several instances).
    pub database_url: DatabaseUrl,
    /// Most connections one process opens to the database.
    pub database_max_connections: u32,
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// The URL clients and PBXs reach ringhook at (OAuth issuer, ingest URLs).
    /// Defaults to `http://{listen}`.
    pub public_url: Option<Url>,
    /// Allow hook targets on loopback and private networks (off: SSRF guard). Says nothing
    /// about the scheme: see `allow_http_targets`.
    pub allow_private_targets: bool,
    /// Allow plain `http` hook targets (off: targets must be `https`). For development and
    /// receivers on the same network; says nothing about addresses.
    pub allow_http_targets: bool,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// `text` (human-readable) or `json` (one object per line).
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info` or `ringhook=debug,sqlx=warn`.
    pub log_filter: String,
    /// How long shutdown waits for in-flight requests and workers before giving up.
    pub shutdown_grace_seconds: u64,
    /// How long a call must look finished before `call.ended` goes out, so late leg events
    /// amend it rather than contradict it.
    pub call_settle_seconds: u64,
    /// A call silent this long is closed with what is known (lost hang-ups).
    pub call_stale_minutes: u64,
    /// Networks hook targets may be on even though they are private (CIDR list).
    pub allowed_target_networks: Vec<ipnet::IpNet>,
    /// Per-attempt timeout of a delivery (Zapier and most receivers answer well within it).
    pub delivery_timeout_seconds: u64,
    /// Deliveries in flight at once per process.
    pub delivery_concurrency: usize,
    /// Most requests per second to one target URL.
    pub delivery_rate_per_second: u32,
    /// Most attempts in flight at once to one target URL that has not shown it answers
    /// quickly (or has an attempt overdue), so that receivers that answer slowly or never hold
    /// at most this many of the `delivery_concurrency` slots; a quick one may use half of them.
    pub delivery_target_concurrency: usize,
    /// Delays between attempts, in seconds; the default spans about two days.
    pub delivery_retry_schedule_seconds: Option<Vec<u64>>,
    /// A hook whose deliveries fail continuously this long is disabled.
    pub hook_disable_after_hours: u64,
    /// Delivery attempts and event payloads older than this are deleted.
    pub retention_days: u64,
    /// How long a source's raw-event receipts are kept, and with them what a re-sent request
    /// is recognised by (a Zorio body's digest among them): a request repeated within this
    /// time is a duplicate. Longer than any source's retries, and than a captured request is
    /// worth replaying for.
    pub ingest_dedupe_days: u64,
    /// Lifetime of an OAuth access token (`expires_in`).
    pub oauth_access_token_seconds: u64,
    /// Lifetime of an authorization code; RFC 6749 §4.1.2 recommends at most 10 minutes.
    pub oauth_code_seconds: u64,
    /// How long a rotated refresh token still yields its successor, so that parallel
    /// refreshes (Zapier) all succeed; after it, presenting it revokes the grant.
    pub oauth_refresh_grace_seconds: u64,
    /// How long one instance trusts its cached view of a grant; revocation on another instance
    /// sharing the database takes effect here within this delay (on this instance at once).
    pub oauth_status_cache_seconds: u64,
    /// How often expired codes and revoked-token records are pruned.
    pub oauth_prune_interval_seconds: u64,
    /// SQLite: how often `serve` checkpoints the write-ahead log in the background, so that
    /// commits never do it themselves (0: leave it to SQLite, inside commits).
    pub sqlite_checkpoint_millis: u64,
    /// Click-to-call: TCP/TLS connect timeout towards a PBX API. Only a connect failure (the
    /// request never left) is retried, once.
    pub click_to_call_connect_timeout_seconds: u64,
    /// Click-to-call: the whole PBX request. Kazoo's quickcall POST blocks until the user's
    /// phone starts ringing, so this must exceed `click_to_call_ring_seconds`. A request that
    /// times out is never re-sent (the call may have been placed).
    pub click_to_call_timeout_seconds: u64,
    /// Click-to-call: how long the user's phone rings (Kazoo quickcall `timeout`, more than 3 s).
    pub click_to_call_ring_seconds: u64,
    /// Click-to-call: calls one user may place per minute (bursts up to this many), against abuse.
    pub click_to_call_per_minute: u32,
    /// Reconciliation: how often each source's call history is read (seconds; 0 turns the
    /// sweeper off). Each sweep overlaps the previous one, so nothing between two is missed.
    pub reconcile_interval_seconds: u64,
    /// Reconciliation: how far behind now a sweep's window ends (seconds), so live events had
    /// their chance (and the PBX its time to write the record) before history is trusted.
    pub reconcile_lag_seconds: u64,
    /// `GET /v1/media/{id}`: how long the source may take to answer (and to get a token), and
    /// the longest silence while the file streams. A stalled download is cut, not waited on.
    pub media_timeout_seconds: u64,
    /// `GET /v1/media/{id}`: the largest file passed through, in bytes. A larger
    /// `Content-Length` is refused up front; a body that runs past the cap is cut.
    pub media_max_bytes: u64,
    /// After `source rotate-secret`, how long the previous secret still verifies, so the PBX
    /// can be switched to the new one without losing events (0: it stops at once).
    pub source_secret_grace_hours: u64,
    /// The operator's product name, shown on the consent page instead of "ringhook".
    pub product_name: String,
    /// An https URL of the operator's logo, shown on the consent page.
    pub product_logo_url: Option<Url>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DatabaseUrl("sqlite://ringhook.db".into()),
            database_max_connections: 10,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            allow_private_targets: false,
            allow_http_targets: false,
            max_body_bytes: 1024 * 1024,
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            shutdown_grace_seconds: 30,
            call_settle_seconds: 5,
            call_stale_minutes: 240,
            allowed_target_networks: Vec::new(),
            delivery_timeout_seconds: 15,
            delivery_concurrency: 64,
            delivery_rate_per_second: 25,
            delivery_target_concurrency: 4,
            delivery_retry_schedule_seconds: None,
            hook_disable_after_hours: 120,
            retention_days: 30,
            source_secret_grace_hours: 24,
            product_name: "ringhook".into(),
            product_logo_url: None,
            ingest_dedupe_days: 7,
            oauth_access_token_seconds: 3600,
            oauth_code_seconds: 60,
            oauth_refresh_grace_seconds: 60,
            oauth_status_cache_seconds: 5,
            oauth_prune_interval_seconds: 300,
            sqlite_checkpoint_millis: 250,
            click_to_call_connect_timeout_seconds: 5,
            click_to_call_timeout_seconds: 35,
            click_to_call_ring_seconds: 20,
            click_to_call_per_minute: 10,
            reconcile_interval_seconds: 15 * 60,
            reconcile_lag_seconds: 10 * 60,
            media_timeout_seconds: 30,
            media_max_bytes: 200 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(String),
    #[error("bad setting: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads defaults, then `file` (when given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.display().to_string()));
            }
            figment = figment.merge(Toml::file(path));
        }
        Self::extract(figment.merge(known_env()))
    }

    fn extract(figment: Figment) -> Result<Settings, ConfigError> {
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe_figment_error(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.database_url.backend()?;
        if self.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }
        if self.call_stale_minutes == 0 || self.call_settle_seconds > 3600 {
            return Err(invalid(
                "call_settle_seconds",
                "settle must be at most 3600 s and call_stale_minutes at least 1",
            ));
        }
        if self.delivery_concurrency == 0 || self.delivery_rate_per_second == 0 {
            return Err(invalid(
                "delivery_concurrency",
                "delivery_concurrency and delivery_rate_per_second must be at least 1",
            ));
        }
        if self.delivery_target_concurrency == 0 {
            return Err(invalid(
                "delivery_target_concurrency",
                "delivery_target_concurrency must be at least 1",
            ));
        }
        if self.ingest_dedupe_days == 0 {
            return Err(invalid("ingest_dedupe_days", "must be at least 1"));
        }
        if self.delivery_timeout_seconds == 0 || self.retention_days == 0 {
            return Err(invalid(
                "delivery_timeout_seconds",
                "delivery_timeout_seconds and retention_days must be at least 1",
            ));
        }
        if self
            .delivery_retry_schedule_seconds
            .as_ref()
            .is_some_and(|s| s.is_empty())
        {
            return Err(invalid(
                "delivery_retry_schedule_seconds",
                "needs at least one delay",
            ));
        }
        self.validate_time_ranges()?;
        if self.max_body_bytes < 1024 {
            return Err(invalid("max_body_bytes", "must be at least 1024"));
        }
        if let Some(url) = &self.public_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return Err(invalid("public_url", "must be an http or https URL"));
        }
        if self.oauth_access_token_seconds == 0 || self.oauth_access_token_seconds > 86_400 {
            return Err(invalid("oauth_access_token_seconds", "must be 1 to 86400"));
        }
        if self.oauth_code_seconds == 0 || self.oauth_code_seconds > 600 {
            return Err(invalid(
                "oauth_code_seconds",
                "must be 1 to 600 (RFC 6749 §4.1.2)",
            ));
        }
        if self.oauth_refresh_grace_seconds > 3600 {
            return Err(invalid(
                "oauth_refresh_grace_seconds",
                "must be at most 3600",
            ));
        }
        if self.oauth_status_cache_seconds > 300 {
            return Err(invalid("oauth_status_cache_seconds", "must be at most 300"));
        }
        if self.oauth_prune_interval_seconds == 0 {
            return Err(invalid(
                "oauth_prune_interval_seconds",
                "must be at least 1",
            ));
        }
        self.validate_click_to_call()?;
        if !(1..=3600).contains(&self.media_timeout_seconds) {
            return Err(invalid("media_timeout_seconds", "must be 1 to 3600"));
        }
        if self.media_max_bytes == 0 {
            return Err(invalid("media_max_bytes", "must be at least 1"));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_filter)
            .map_err(|e| invalid("log_filter", &e.to_string()))?;
        Ok(())
    }

    /// Upper bounds on durations that become `chrono` deltas or deadlines, whose arithmetic
    /// panics on overflow: far above any sensible value, far below the overflow.
    fn validate_time_ranges(&self) -> Result<(), ConfigError> {
        let limits: [(&str, u64, u64); 6] = [
            (
                "source_secret_grace_hours",
                self.source_secret_grace_hours,
                8_784,
            ),
            ("call_stale_minutes", self.call_stale_minutes, 527_040),
            (
                "hook_disable_after_hours",
                self.hook_disable_after_hours,
                87_840,
            ),
            ("retention_days", self.retention_days, 36_600),
            (
                "delivery_timeout_seconds",
                self.delivery_timeout_seconds,
                3600,
            ),
            (
                "shutdown_grace_seconds",
                self.shutdown_grace_seconds,
                86_400,
            ),
        ];
        for (key, value, max) in limits {
            if value > max {
                return Err(invalid(key, &format!("must be at most {max}")));
            }
        }
        let longest_delay = self
            .delivery_retry_schedule_seconds
            .iter()
            .flatten()
            .max()
            .copied()
            .unwrap_or(0);
        if longest_delay > 31_622_400 {
            return Err(invalid(
                "delivery_retry_schedule_seconds",
                "each delay must be at most 31622400 (366 days)",
            ));
        }
        Ok(())
    }

    fn validate_click_to_call(&self) -> Result<(), ConfigError> {
        if self.click_to_call_connect_timeout_seconds == 0 {
            return Err(invalid(
                "click_to_call_connect_timeout_seconds",
                "must be at least 1",
            ));
        }
        if !(4..=300).contains(&self.click_to_call_ring_seconds) {
            return Err(invalid(
                "click_to_call_ring_seconds",
                "must be 4 to 300 (Kazoo needs more than 3)",
            ));
        }
        if self.click_to_call_timeout_seconds <= self.click_to_call_ring_seconds {
            return Err(invalid(
                "click_to_call_timeout_seconds",
                "must exceed click_to_call_ring_seconds: Kazoo answers only once the phone rings",
            ));
        }
        if self.click_to_call_per_minute == 0 {
            return Err(invalid("click_to_call_per_minute", "must be at least 1"));
        }
        Ok(())
    }

    /// The public base URL without a trailing slash.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_seconds)
    }

    pub fn normalizer(&self) -> crate::normalizer::NormalizerConfig {
        crate::normalizer::NormalizerConfig {
            settle: chrono::TimeDelta::seconds(self.call_settle_seconds as i64),
            stale_after: chrono::TimeDelta::minutes(self.call_stale_minutes as i64),
            public_base: self.public_base(),
        }
    }
}

/// `RINGHOOK_*` variables that name a setting. Others are ignored with a warning rather than
/// refused: tools beside ringhook (the Zapier app's `RINGHOOK_BASE_URL`) share the prefix.
fn known_env() -> Env {
    let known: Vec<String> = match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    for (name, _) in std::env::vars() {
        if let Some(key) = name.strip_prefix("RINGHOOK_")
            && !known.contains(&key.to_lowercase())
        {
            eprintln!("warning: {name} is not a ringhook setting; ignored");
        }
    }
    Env::prefixed("RINGHOOK_").filter(move |key| known.iter().any(|k| key == k.as_str()))
}

fn invalid(key: &str, why: &str) -> ConfigError {
    ConfigError::Invalid(format!("{key} (RINGHOOK_{}): {why}", key.to_uppercase()))
}

/// figment names the key in its message; add the env variable a user would set.
fn describe_figment_error(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                e.to_string()
            } else {
                format!("{key} (RINGHOOK_{}): {}", key.to_uppercase(), e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Which database engine a URL selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL. Its password never prints: `Display` and `Debug` show a redacted form.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseUrl(url.into())
    }

    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let scheme = self.0.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err(invalid(
                "database_url",
                &format!("unsupported scheme {scheme:?}: use sqlite://PATH or postgres://..."),
            )),
        }
    }

    /// The URL with its secret, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                f.write_str(url.as_str())
            }
            _ => f.write_str(&self.0),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl Settings {
    /// Which hook targets may be called (the SSRF guard).
    pub fn target_policy(&self) -> crate::delivery::TargetPolicy {
        crate::delivery::TargetPolicy {
            allow_private: self.allow_private_targets,
            allow_http: self.allow_http_targets,
            allow_list: self.allowed_target_networks.clone(),
        }
    }

    /// The longest a call into a source's API (a media download) may take at each step.
    pub fn source_api_limit(&self) -> Duration {
        Duration::from_secs(self.media_timeout_seconds)
    }

    pub fn retry_policy(&self) -> crate::delivery::RetryPolicy {
        match &self.delivery_retry_schedule_seconds {
            Some(delays) => crate::delivery::RetryPolicy::new(
                delays.iter().map(|s| Duration::from_secs(*s)).collect(),
            ),
            None => crate::delivery::RetryPolicy::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(toml: &str) -> Result<Settings, ConfigError> {
        Settings::extract(
            Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml)),
        )
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = from_toml("").unwrap();
        assert_eq!(s.database_url.expose(), "sqlite://ringhook.db");
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_base(), "http://127.0.0.1:8080");
        assert_eq!(s.max_body_bytes, 1_048_576);
    }

    #[test]
    fn a_bad_listen_address_names_the_setting() {
        let err = from_toml("listen = \"nowhere\"").err().unwrap().to_string();
        assert!(err.contains("listen"), "{err}");
        assert!(err.contains("RINGHOOK_LISTEN"), "{err}");
    }

    #[test]
    fn an_unknown_database_scheme_is_refused() {
        let err = from_toml("database_url = \"mysql://x\"")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("database_url"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_so_typos_do_not_pass_silently() {
        let err = from_toml("listne = \"127.0.0.1:1\"")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("listne"), "{err}");
    }

    #[test]
    fn a_bad_log_filter_is_refused() {
        let err = from_toml("log_filter = \"=[\"").err().unwrap().to_string();
        assert!(err.contains("log_filter"), "{err}");
    }

    #[test]
    fn a_click_to_call_timeout_shorter_than_the_ring_time_is_refused() {
        let err = from_toml("click_to_call_timeout_seconds = 10\nclick_to_call_ring_seconds = 20")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("RINGHOOK_CLICK_TO_CALL_TIMEOUT_SECONDS"),
            "{err}"
        );
    }

    #[test]
    fn private_targets_and_http_targets_are_separate_settings() {
        let private = from_toml("allow_private_targets = true").unwrap();
        assert!(private.target_policy().allow_private);
        assert!(!private.target_policy().allow_http);
        let http = from_toml("allow_http_targets = true").unwrap();
        assert!(http.target_policy().allow_http);
        assert!(!http.target_policy().allow_private);
    }

    #[test]
    fn durations_that_would_overflow_date_arithmetic_are_refused() {
        for toml in [
            "call_stale_minutes = 9223372036854775807",
            "hook_disable_after_hours = 9223372036854775807",
            "retention_days = 9223372036854775807",
            "delivery_timeout_seconds = 9223372036854775807",
            "delivery_retry_schedule_seconds = [1, 9223372036854775807]",
        ] {
            let err = from_toml(toml).err().map(|e| e.to_string());
            let key = toml.split(' ').next().unwrap();
            assert!(
                err.as_deref().is_some_and(|e| e.contains(key)),
                "{toml}: {err:?}"
            );
        }
    }

    #[test]
    fn database_passwords_never_print() {
        let url = DatabaseUrl::new("postgres://app:hunter2@db.example/ringhook");
        assert!(!format!("{url}").contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.backend().unwrap(), Backend::Postgres);
    }
}
