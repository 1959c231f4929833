//! Lenient readers for vendor JSON: sources send numbers as strings and strings as numbers.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

/// Seconds between 0000-01-01 (Erlang's Gregorian epoch, used by Kazoo) and 1970-01-01.
pub const GREGORIAN_UNIX_OFFSET: i64 = 62_167_219_200;

/// A non-empty string field, also accepting numbers and booleans (`"101"` or `101`).
pub fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An integer field sent as a number or a numeric string.
pub fn int(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A Kazoo Gregorian-seconds timestamp field (number or string).
pub fn gregorian(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    int(v, key).and_then(|g| Utc.timestamp_opt(g - GREGORIAN_UNIX_OFFSET, 0).single())
}

/// An RFC 3339 / ISO-8601 UTC time field.
pub fn rfc3339(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let raw = text(v, key)?;
    DateTime::parse_from_rfc3339(&raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A Unix epoch time in milliseconds (Zoom `event_ts`).
pub fn epoch_millis(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    int(v, key).and_then(|ms| Utc.timestamp_millis_opt(ms).single())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gregorian_seconds_are_converted_from_numbers_and_strings() {
        let want = "2024-06-03T14:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(gregorian(&json!({"t": 63884642400u64}), "t"), Some(want));
        assert_eq!(gregorian(&json!({"t": "63884642400"}), "t"), Some(want));
    }

    #[test]
    fn text_reads_numbers_and_skips_blank_strings() {
        let v = json!({"slot": 101, "blank": " ", "s": "x"});
        assert_eq!(text(&v, "slot").as_deref(), Some("101"));
        assert_eq!(text(&v, "blank"), None);
        assert_eq!(text(&v, "s").as_deref(), Some("x"));
    }
}
