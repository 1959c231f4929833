//! Request parameters of the OAuth endpoints. RFC 6749 §3.1/§3.2: a parameter sent more than
//! once makes the request invalid; empty values count as absent. The token endpoint also
//! accepts a flat JSON object (Zapier may send JSON).

use std::collections::HashMap;

/// Parameters by name, with the names that were repeated.
#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` (a query string or a form body).
    pub fn from_form(raw: &[u8]) -> Params {
        let mut params = Params::default();
        for (name, value) in url::form_urlencoded::parse(raw) {
            params.insert(name.into_owned(), value.into_owned());
        }
        params
    }

    /// Parses a flat JSON object; strings and numbers become values, anything else is refused.
    pub fn from_json(raw: &[u8]) -> Result<Params, String> {
        let object: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(raw).map_err(|_| "the body is not a JSON object".to_owned())?;
        let mut params = Params::default();
        for (name, value) in object {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Null => continue,
                _ => return Err(format!("parameter {name} must be a string")),
            };
            params.insert(name, value);
        }
        Ok(params)
    }

    fn insert(&mut self, name: String, value: String) {
        if value.is_empty() {
            return;
        }
        match self.values.entry(name) {
            std::collections::hash_map::Entry::Occupied(seen) => {
                self.repeated.push(seen.key().clone())
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(value);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.iter().any(|r| r == name)
    }

    /// The first repeated parameter, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.repeated.first().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_reported_and_empty_ones_ignored() {
        let p = Params::from_form(b"a=1&b=&a=2&c=x%20y");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some("x y"));
        assert_eq!(p.first_repeated(), Some("a"));
    }

    #[test]
    fn json_objects_of_strings_are_accepted() {
        let p = Params::from_json(br#"{"grant_type":"refresh_token","n":5,"x":null}"#).unwrap();
        assert_eq!(p.get("grant_type"), Some("refresh_token"));
        assert_eq!(p.get("n"), Some("5"));
        assert!(Params::from_json(br#"{"a":[1]}"#).is_err());
        assert!(Params::from_json(b"[]").is_err());
    }
}
