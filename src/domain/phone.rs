//! Telephone numbers in E.164 form, parsed with libphonenumber's rules (`phonenumber` crate).

use dashmap::DashMap;
use phonenumber::Mode;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// An ISO 3166-1 alpha-2 region whose numbering plan reads national numbers (`US`, `GB`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountryCode(phonenumber::country::Id);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        phonenumber::country::Id::from_str(&raw.trim().to_ascii_uppercase())
            .map(CountryCode)
            .map_err(|_| PhoneError::UnknownCountry(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for CountryCode {
    fn default() -> Self {
        CountryCode(phonenumber::country::Id::US)
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("{0:?} is not a phone number")]
    NotANumber(String),
    #[error("{0:?} is not a valid number in E.164 form or for the country")]
    Invalid(String),
    #[error("{0:?} is not an ISO 3166 country code such as US or GB")]
    UnknownCountry(String),
}

/// How many parse results [`PARSED`] keeps before it starts over.
const PARSED_CAPACITY: usize = 16_384;

/// Parse results by `country:raw`. Parsing is a pure function of both, so a remembered answer
/// is always right; the cache only bounds how often the regular expressions run.
static PARSED: LazyLock<DashMap<String, Result<E164Number, PhoneError>>> =
    LazyLock::new(DashMap::new);

/// A valid telephone number, kept in E.164 form (`+14155550123`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct E164Number(String);

impl E164Number {
    /// Parses an international (`+1 415 555 0123`) or national (`(415) 555-0123`) number;
    /// national numbers are read with `country`'s numbering plan.
    ///
    /// Results are remembered (see [`PARSED`]): libphonenumber's rules are regular expressions,
    /// and every raw event and every stored call state names the same few numbers again.
    pub fn parse(raw: &str, country: CountryCode) -> Result<Self, PhoneError> {
        let key = format!("{}:{raw}", country.as_str());
        if let Some(known) = PARSED.get(&key) {
            return known.clone();
        }
        let parsed = Self::parse_uncached(raw, country);
        if PARSED.len() >= PARSED_CAPACITY {
            // Crude but bounded: numbers seen since the last clear are few and come back fast.
            PARSED.clear();
        }
        PARSED.insert(key, parsed.clone());
        parsed
    }

    /// Loads libphonenumber's numbering plans and compiles the rules of the default country by
    /// parsing one number. The first parse in a process took 100–320 ms, which the raw event
    /// that happened to come first waited for (and every request queued behind its batch);
    /// `serve` pays it before it listens.
    pub fn load_numbering_plans() {
        let _ = Self::parse_uncached("+14155550123", CountryCode::default());
    }

    fn parse_uncached(raw: &str, country: CountryCode) -> Result<Self, PhoneError> {
        let number = phonenumber::parse(Some(country.0), raw)
            .map_err(|_| PhoneError::NotANumber(raw.to_owned()))?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid(raw.to_owned()));
        }
        Ok(E164Number(number.format().mode(Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for E164Number {
    type Error = PhoneError;

    /// Stored and serialized values are already E.164, which needs no country.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        E164Number::parse(&value, CountryCode::default())
    }
}

impl From<E164Number> for String {
    fn from(value: E164Number) -> Self {
        value.0
    }
}

impl fmt::Display for E164Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Its wire form: a plain string in E.164 form.
impl utoipa::PartialSchema for E164Number {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A phone number in E.164 form."))
            .pattern(Some(r"^\+[1-9][0-9]{1,14}$"))
            .examples([serde_json::Value::from("+14155550123")])
            .into()
    }
}

impl utoipa::ToSchema for E164Number {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("E164Number")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> CountryCode {
        CountryCode::parse("US").unwrap()
    }

    #[test]
    fn national_numbers_are_read_with_the_default_country() {
        let n = E164Number::parse("(415) 555-0123", us()).unwrap();
        assert_eq!(n.as_str(), "+14155550123");
    }

    #[test]
    fn international_numbers_keep_their_own_country() {
        let n = E164Number::parse("+44 20 7946 0958", us()).unwrap();
        assert_eq!(n.as_str(), "+442079460958");
    }

    #[test]
    fn text_and_too_short_numbers_are_refused() {
        assert!(E164Number::parse("not a number", us()).is_err());
        assert!(E164Number::parse("+1 555", us()).is_err());
    }

    #[test]
    fn a_remembered_result_is_the_same_as_a_fresh_one() {
        for raw in ["(415) 555-0123", "+1 555", "+44 20 7946 0958"] {
            let first = E164Number::parse(raw, us());
            assert_eq!(E164Number::parse(raw, us()), first);
            assert_eq!(E164Number::parse_uncached(raw, us()), first);
        }
        let gb = CountryCode::parse("GB").unwrap();
        assert_eq!(
            E164Number::parse("020 7946 0958", gb).unwrap().as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn unknown_countries_are_refused() {
        assert!(CountryCode::parse("XX").is_err());
        assert_eq!(CountryCode::parse("gb").unwrap().as_str(), "GB");
    }
}
