//! An admin command run from the wrong folder must not quietly create an empty SQLite file
//! and then answer "no tenant …". Only `serve`, `migrate`, `tenant create` and `client
//! create` (the first commands of a new deployment) may create the file; every other command
//! refuses, naming the path it looked for.

use crate::config::DatabaseUrl;
use std::path::PathBuf;

/// The file a `sqlite:` URL names; `None` for in-memory databases and other backends.
fn sqlite_file(url: &DatabaseUrl) -> Option<PathBuf> {
    let raw = url.expose();
    let rest = raw
        .strip_prefix("sqlite://")
        .or_else(|| raw.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || raw.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// The database as error messages name it: a SQLite file by its absolute path, any other
/// URL without its password.
pub fn describe(url: &DatabaseUrl) -> String {
    match sqlite_file(url) {
        Some(path) => {
            let shown = std::path::absolute(&path).unwrap_or(path);
            format!("sqlite file {}", shown.display())
        }
        None => url.to_string(),
    }
}

/// Refuses when the URL names a SQLite file that does not exist.
pub fn refuse_missing_sqlite_file(url: &DatabaseUrl) -> anyhow::Result<()> {
    match sqlite_file(url) {
        Some(path) if !path.exists() => {
            anyhow::bail!(
                "no such database: {} does not exist; set RINGHOOK_DATABASE_URL (or \
                 database_url in --config) to the right one, or run `ringhook migrate` to \
                 create it",
                describe(url)
            )
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file_and_memory_names_none() {
        let file = |u: &str| sqlite_file(&DatabaseUrl::new(u));
        assert_eq!(file("sqlite://data/r.db"), Some(PathBuf::from("data/r.db")));
        assert_eq!(file("sqlite:r.db?mode=rwc"), Some(PathBuf::from("r.db")));
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("postgres://u:p@h/db"), None);
    }
}
