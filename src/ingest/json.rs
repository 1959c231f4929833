//! Lenient readers for vendor JSON: sources send numbers as strings and strings as numbers.
//! Lenient about shape, never about range: a number that cannot be a time is an error (see
//! [`super::bounds`] for what is plausible), and no reader panics on any value.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use super::IngestError;

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

/// An integer field sent as a number or a numeric string. Fractions are cut off and values
/// beyond `i64` saturate, so that the bounds check sees (and refuses) them.
pub fn int(v: &Value, key: &str) -> Option<i64> {
    let float = match v.get(key)? {
        Value::Number(n) => return n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => return Some(i),
            Err(_) => s.trim().parse::<f64>().ok()?,
        },
        _ => return None,
    };
    (!float.is_nan()).then_some(float as i64)
}

/// A Kazoo Gregorian-seconds timestamp field (number or string). `Ok(None)` when absent or not
/// a number; an error when it is a number no calendar date has.
pub fn gregorian(v: &Value, key: &str) -> Result<Option<DateTime<Utc>>, IngestError> {
    let Some(seconds) = int(v, key) else {
        return Ok(None);
    };
    seconds
        .checked_sub(GREGORIAN_UNIX_OFFSET)
        .and_then(|unix| Utc.timestamp_opt(unix, 0).single())
        .map(Some)
        .ok_or_else(|| out_of_range(key))
}

/// An RFC 3339 / ISO-8601 UTC time field.
pub fn rfc3339(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    let raw = text(v, key)?;
    DateTime::parse_from_rfc3339(&raw)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A Unix epoch time in milliseconds (Zoom `event_ts`). `Ok(None)` when absent or not a
/// number; an error when it is a number no calendar date has.
pub fn epoch_millis(v: &Value, key: &str) -> Result<Option<DateTime<Utc>>, IngestError> {
    let Some(millis) = int(v, key) else {
        return Ok(None);
    };
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(Some)
        .ok_or_else(|| out_of_range(key))
}

fn out_of_range(key: &str) -> IngestError {
    IngestError::Malformed(format!("{key} is not a time that can exist"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gregorian_seconds_are_converted_from_numbers_and_strings() {
        let want = "2024-06-03T14:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            gregorian(&json!({"t": 63884642400u64}), "t"),
            Ok(Some(want))
        );
        assert_eq!(gregorian(&json!({"t": "63884642400"}), "t"), Ok(Some(want)));
    }

    #[test]
    fn times_no_calendar_has_are_errors_not_panics() {
        for raw in [
            json!(i64::MIN),
            json!(i64::MAX),
            json!(-1e300),
            json!("1e300"),
        ] {
            let v = json!({ "t": raw });
            assert!(gregorian(&v, "t").is_err(), "{v}");
            assert!(epoch_millis(&v, "t").is_err(), "{v}");
        }
    }

    #[test]
    fn absent_or_non_numeric_times_are_none() {
        assert_eq!(gregorian(&json!({}), "t"), Ok(None));
        assert_eq!(epoch_millis(&json!({"t": "soon"}), "t"), Ok(None));
    }

    #[test]
    fn integers_saturate_instead_of_wrapping() {
        assert_eq!(int(&json!({"n": 1e300}), "n"), Some(i64::MAX));
        assert_eq!(int(&json!({"n": "-1e300"}), "n"), Some(i64::MIN));
        assert_eq!(int(&json!({"n": "NaN"}), "n"), None);
        assert_eq!(int(&json!({"n": " 42 "}), "n"), Some(42));
    }

    #[test]
    fn text_reads_numbers_and_skips_blank_strings() {
        let v = json!({"slot": 101, "blank": " ", "s": "x"});
        assert_eq!(text(&v, "slot").as_deref(), Some("101"));
        assert_eq!(text(&v, "blank"), None);
        assert_eq!(text(&v, "s").as_deref(), Some("x"));
    }
}
