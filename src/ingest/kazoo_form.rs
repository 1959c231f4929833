//! Kazoo's default `form-data` hook format: `application/x-www-form-urlencoded` with nested
//! objects flattened as `custom_channel_vars[Bridge-ID]=…` (kz_http_util:json_to_querystring).
//! Turned back into the JSON shape of `format: json` hooks so one parser serves both.

use serde_json::{Map, Value};

/// Rebuilds the JSON object a form body was flattened from. Values stay strings; the JSON
/// readers accept numbers and booleans sent as strings.
pub fn form_to_json(body: &[u8]) -> Value {
    let mut root = Map::new();
    for (key, value) in url::form_urlencoded::parse(body) {
        let path = key_path(&key);
        insert(&mut root, &path, Value::String(value.into_owned()));
    }
    Value::Object(root)
}

/// `a[b][c]` → `["a", "b", "c"]`.
fn key_path(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    parts.push(head.to_owned());
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            break;
        };
        parts.push(inner[..end].to_owned());
        rest = &inner[end + 1..];
    }
    parts
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = map
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Value::Object(inner) = child {
                insert(inner, rest, value);
            }
        }
    }
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
            json!({
                "call_id": "abc@host",
                "custom_channel_vars": {"Bridge-ID": "abc", "Call-Interaction-ID": "6388-1"},
                "timestamp": "63884642400"
            })
        );
    }
}
