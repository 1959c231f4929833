//! Statements that need no answer, sent in as few round trips as the backend allows: the one
//! way a batch writes many rows (multi-row `VALUES` statements, chunked below the bound
//! parameter limits).
//!
//! Round trips, not rows, are what a batch costs: on SQLite each statement is a hop to the
//! connection's worker thread and back, on PostgreSQL a network trip. SQLite runs a whole
//! bundle as one multi-statement call. PostgreSQL's extended protocol takes one statement per
//! call, so its statements go as the sub-statements of one `WITH` statement; they then see one
//! snapshot and not each other's rows, so a statement that reads what an earlier one wrote (or
//! changes a row an earlier one may change) comes after a [`Bundle::fence`], which begins the
//! next `WITH` statement.

use super::StoreError;
use super::store::{Tx, on_tx};
use chrono::{DateTime, Utc};

/// At most this many bound parameters per statement (SQLite allows 32,766, PostgreSQL 65,535).
pub(super) const MAX_PARAMS: usize = 4_000;

/// `rows` copies of `shape`, comma-separated, with `{0}`…`{9}` numbered as `$n` parameters
/// `cols` per row: `values(2, "({0}, {1}, 'x')", 2)` is `($1, $2, 'x'), ($3, $4, 'x')`.
pub(super) fn values(rows: usize, shape: &str, cols: usize) -> String {
    use std::fmt::Write;
    // The shape split at its `{n}` markers: literal text, then the column it names.
    let mut parts: Vec<(&str, Option<usize>)> = Vec::new();
    let mut rest = shape;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        parts.push((&rest[..open], rest[open + 1..close].parse().ok()));
        rest = rest.get(close + 1..).unwrap_or("");
    }
    parts.push((rest, None));
    let mut out = String::with_capacity(rows * (shape.len() + 8));
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        for (text, col) in &parts {
            out.push_str(text);
            if let Some(col) = col {
                let _ = write!(out, "${}", row * cols + col + 1);
            }
        }
    }
    out
}

/// Whether a statement text built for a batch is worth a slot in the connection's statement
/// cache: a small one (a batch of one request, as under steady load) comes back with the same
/// text batch after batch, and preparing it again each time was the largest single cost of a
/// raw event (SQLite's parser, a fifth of the instructions). Large texts rarely repeat, and a
/// prepared statement grows with its rows, so they are prepared for one use.
pub(super) fn worth_caching(params: usize) -> bool {
    params <= CACHED_PARAMS
}

/// Most bound parameters of a batch statement kept prepared (see [`worth_caching`]).
const CACHED_PARAMS: usize = 64;

/// How many rows of `cols` parameters fit in one statement.
pub(super) fn rows_per_statement(cols: usize) -> usize {
    (MAX_PARAMS / cols.max(1)).max(1)
}

/// A bound value of a bundled statement.
pub(super) enum Arg {
    Text(String),
    MaybeText(Option<String>),
    Int(i64),
    MaybeInt(Option<i64>),
    Bool(bool),
    Time(DateTime<Utc>),
    MaybeTime(Option<DateTime<Utc>>),
}

/// Statements that need no answer, run in as few calls as the backend allows, in the order
/// pushed. Each statement numbers its parameters from `$1`.
#[derive(Default)]
pub(super) struct Bundle {
    statements: Vec<Statement>,
    /// A fence was set: the next statement pushed begins a new run.
    fenced: bool,
}

struct Statement {
    sql: String,
    args: Vec<Arg>,
    /// Begins a run: it reads or changes rows the statements before it wrote.
    after_previous: bool,
}

impl Bundle {
    pub fn push(&mut self, sql: String, args: Vec<Arg>) {
        let after_previous = std::mem::take(&mut self.fenced);
        self.statements.push(Statement {
            sql,
            args,
            after_previous,
        });
    }

    /// The statements pushed from here on see the rows of those pushed before (they join on
    /// them, or may change a row those change).
    pub fn fence(&mut self) {
        self.fenced = !self.statements.is_empty();
    }

    /// SQLite's calls: the statements joined into multi-statement texts of at most
    /// [`MAX_PARAMS`] each, parameters renumbered (SQLite binds `$n` across the text and runs
    /// its statements in turn).
    fn joined(self) -> Vec<(String, Vec<Arg>)> {
        let mut out: Vec<(String, Vec<Arg>)> = Vec::new();
        for Statement { sql, args, .. } in self.statements {
            match out.last_mut() {
                Some((text, all)) if all.len() + args.len() <= MAX_PARAMS => {
                    text.push_str(";\n");
                    text.push_str(&renumber(&sql, all.len()));
                    all.extend(args);
                }
                _ => out.push((sql, args)),
            }
        }
        out
    }

    /// PostgreSQL's calls: runs of independent statements as the sub-statements of one `WITH`
    /// statement each (`WITH s0 AS (…), s1 AS (…) SELECT 1`), a [`Bundle::fence`] ending a
    /// run; a run of one statement goes as it is.
    fn with_statements(self) -> Vec<(String, Vec<Arg>)> {
        let mut runs: Vec<Vec<Statement>> = Vec::new();
        for statement in self.statements {
            let params = |run: &Vec<Statement>| run.iter().map(|s| s.args.len()).sum::<usize>();
            match runs.last_mut() {
                Some(run)
                    if !statement.after_previous
                        && params(run) + statement.args.len() <= MAX_PARAMS =>
                {
                    run.push(statement)
                }
                _ => runs.push(vec![statement]),
            }
        }
        runs.into_iter()
            .map(|mut run| {
                if run.len() == 1 {
                    let only = run.remove(0);
                    return (only.sql, only.args);
                }
                let mut text = String::from("WITH ");
                let mut all = Vec::new();
                for (n, Statement { sql, args, .. }) in run.into_iter().enumerate() {
                    if n > 0 {
                        text.push_str(",\n");
                    }
                    text.push_str(&format!("s{n} AS ({})", renumber(&sql, all.len())));
                    all.extend(args);
                }
                text.push_str("\nSELECT 1");
                (text, all)
            })
            .collect()
    }
}

/// `sql` with every `$n` parameter moved up by `offset`.
fn renumber(sql: &str, offset: usize) -> String {
    use std::fmt::Write;
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => {
                let _ = write!(out, "{}", n + offset);
            }
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// Runs the bundle inside `tx`.
pub(super) async fn run(tx: &mut Tx<'_>, bundle: Bundle) -> Result<(), StoreError> {
    let statements = match tx {
        Tx::Sqlite(..) => bundle.joined(),
        Tx::Postgres(_) => bundle.with_statements(),
    };
    for (sql, args) in statements {
        on_tx!(&mut *tx, |conn| {
            let mut query = sqlx::query(&sql).persistent(worth_caching(args.len()));
            for arg in args {
                query = match arg {
                    Arg::Text(v) => query.bind(v),
                    Arg::MaybeText(v) => query.bind(v),
                    Arg::Int(v) => query.bind(v),
                    Arg::MaybeInt(v) => query.bind(v),
                    Arg::Bool(v) => query.bind(v),
                    Arg::Time(v) => query.bind(v),
                    Arg::MaybeTime(v) => query.bind(v),
                };
            }
            query
                .execute(&mut *conn)
                .await
                .map(|done| done.rows_affected())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_numbered_in_order() {
        assert_eq!(
            values(2, "({0}, {1}, 'x')", 2),
            "($1, $2, 'x'), ($3, $4, 'x')"
        );
    }

    #[test]
    fn joined_statements_number_their_parameters_after_the_ones_before() {
        let mut bundle = Bundle::default();
        bundle.push("A $1, $2".into(), vec![Arg::Int(1), Arg::Int(2)]);
        bundle.push("B $1 $10 $2".into(), (0..10).map(Arg::Int).collect());
        let joined = bundle.joined();
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].0, "A $1, $2;\nB $3 $12 $4");
        assert_eq!(joined[0].1.len(), 12);
    }

    #[test]
    fn statements_between_fences_become_one_with_statement() {
        let mut bundle = Bundle::default();
        bundle.push("INSERT A $1".into(), vec![Arg::Int(1)]);
        bundle.push("INSERT B $1, $2".into(), vec![Arg::Int(2), Arg::Int(3)]);
        bundle.fence();
        bundle.push("INSERT C $1".into(), vec![Arg::Int(4)]);
        bundle.push("INSERT D $1".into(), vec![Arg::Int(5)]);
        bundle.fence();
        bundle.fence();
        bundle.push("UPDATE E $1".into(), vec![Arg::Int(6)]);
        let texts: Vec<(String, usize)> = bundle
            .with_statements()
            .into_iter()
            .map(|(sql, args)| (sql, args.len()))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "WITH s0 AS (INSERT A $1),\ns1 AS (INSERT B $2, $3)\nSELECT 1".into(),
                    3
                ),
                (
                    "WITH s0 AS (INSERT C $1),\ns1 AS (INSERT D $2)\nSELECT 1".into(),
                    2
                ),
                ("UPDATE E $1".into(), 1),
            ]
        );
    }

    #[test]
    fn a_bundle_splits_where_the_parameters_would_overflow() {
        // Three statements of half the bound each: two fit in one call, the third does not.
        let three_halves = || {
            let mut bundle = Bundle::default();
            for _ in 0..3 {
                bundle.push(
                    "X $1".into(),
                    (0..MAX_PARAMS / 2).map(|_| Arg::Bool(true)).collect(),
                );
            }
            bundle
        };
        assert_eq!(three_halves().joined().len(), 2);
        assert_eq!(three_halves().with_statements().len(), 2);
    }
}
