//! Kazoo's default `form-data` hook format: `application/x-www-form-urlencoded` with nested
//! objects flattened as `custom_channel_vars[Bridge-ID]=…` (kz_http_util:json_to_querystring).
//! Turned back into the JSON shape of `format: json` hooks so one parser serves both.
//!
//! Keys are read without recursion and their nesting is bounded: a key such as `a[b][b]…` with
//! thousands of levels would otherwise build a value whose every later walk (including its drop)
//! recurses that deep and overflows the stack.

use serde_json::{Map, Value};

/// Deepest key nesting accepted (`a[b][c]` is 3). Kazoo's own payloads nest two or three
/// levels; the limit leaves room and stays far below what recursive walks of a value can bear.
pub const MAX_KEY_DEPTH: usize = 32;

/// Why a form body cannot be read as a Kazoo payload.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("form key nested more than {MAX_KEY_DEPTH} levels deep")]
    TooDeep,
}

/// Rebuilds the JSON object a form body was flattened from. Values stay strings; the JSON
/// readers accept numbers and booleans sent as strings.
pub fn form_to_json(body: &[u8]) -> Result<Value, FormError> {
    let mut root = Map::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        let path = key_path(&key)?;
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    Ok(Value::Object(root))
}

/// `a[b][c]` → `["a", "b", "c"]`; refuses keys deeper than [`MAX_KEY_DEPTH`].
fn key_path(key: &str) -> Result<Vec<&str>, FormError> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut parts = vec![head];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            break;
        };
        if parts.len() == MAX_KEY_DEPTH {
            return Err(FormError::TooDeep);
        }
        parts.push(&inner[..end]);
        rest = &inner[end + 1..];
    }
    Ok(parts)
}

/// Sets `value` at `path`, creating (or replacing non-objects with) objects on the way down.
/// A loop over the path, not recursion.
fn insert(root: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = root;
    for name in parents {
        let child = map
            .entry((*name).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        let Value::Object(inner) = child else {
            return;
        };
        map = inner;
    }
    map.insert((*last).to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_form_keys_become_nested_objects() {
        let body = b"call_id=abc%40host&custom_channel_vars%5BBridge-ID%5D=abc&custom_channel_vars[Call-Interaction-ID]=6388-1&timestamp=63884642400";
        assert_eq!(
            form_to_json(body),
            Ok(json!({
                "call_id": "abc@host",
                "custom_channel_vars": {"Bridge-ID": "abc", "Call-Interaction-ID": "6388-1"},
                "timestamp": "63884642400"
            }))
        );
    }

    #[test]
    fn a_later_nested_key_replaces_a_plain_value_of_the_same_name() {
        assert_eq!(form_to_json(b"a=1&a[b]=2"), Ok(json!({"a": {"b": "2"}})));
    }

    #[test]
    fn keys_at_the_depth_limit_are_read() {
        let key = format!("a{}", "[b]".repeat(MAX_KEY_DEPTH - 1));
        let value = form_to_json(format!("{key}=1").as_bytes()).unwrap();
        let mut walk = &value["a"];
        for _ in 0..MAX_KEY_DEPTH - 2 {
            walk = &walk["b"];
        }
        assert_eq!(walk["b"], "1");
    }

    #[test]
    fn keys_deeper_than_the_limit_are_refused() {
        let key = format!("a{}", "[b]".repeat(MAX_KEY_DEPTH));
        assert_eq!(
            form_to_json(format!("{key}=1").as_bytes()),
            Err(FormError::TooDeep)
        );
    }

    #[test]
    fn thousands_of_levels_are_refused_without_exhausting_the_stack() {
        let key = format!("a{}", "[b]".repeat(10_000));
        assert_eq!(
            form_to_json(format!("hook_event=channel_create&{key}=1").as_bytes()),
            Err(FormError::TooDeep)
        );
    }
}
