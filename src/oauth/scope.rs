//! OAuth scopes (RFC 6749 §3.3): what a client may do on a user's behalf, as a closed set.

use std::fmt;

/// One permission a client can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read the user's own call events and subscribe hooks to them.
    CallsRead,
    /// Place calls (click-to-call) as the user.
    CallsWrite,
    /// Every user's call events in the tenant; only ever granted to tenant admins.
    TenantAdmin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::CallsRead, Scope::CallsWrite, Scope::TenantAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CallsRead => "calls:read",
            Scope::CallsWrite => "calls:write",
            Scope::TenantAdmin => "tenant:admin",
        }
    }

    /// How the consent page describes the scope to the user.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::CallsRead => "See your calls as they ring, are answered and end",
            Scope::CallsWrite => "Place calls from your phone",
            Scope::TenantAdmin => "See the calls of everyone in your organisation",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes. Parsed from and printed as RFC 6749's space-delimited list, in a fixed
/// order so that equal sets print equally.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

/// The request named a scope ringhook does not know (`invalid_scope`, RFC 6749 §4.1.2.1).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl ScopeSet {
    pub fn empty() -> ScopeSet {
        ScopeSet(0)
    }

    /// What a client gets when it asks for nothing in particular: the user's own calls.
    pub fn default_request() -> ScopeSet {
        ScopeSet::empty().with(Scope::CallsRead)
    }

    /// Parses a space-delimited list; repeated scopes collapse, any unknown one refuses all.
    pub fn parse(raw: &str) -> Result<ScopeSet, UnknownScope> {
        raw.split(' ')
            .filter(|s| !s.is_empty())
            .try_fold(ScopeSet::empty(), |set, word| {
                Scope::parse(word)
                    .map(|s| set.with(s))
                    .ok_or_else(|| UnknownScope(word.to_owned()))
            })
    }

    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | scope.bit())
    }

    pub fn without(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 & !scope.bit())
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every scope of `self` is also in `other` (refresh may only narrow, §6).
    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The scopes a user may hold: `tenant:admin` only for tenant admins.
    pub fn allowed_for(self, is_admin: bool) -> ScopeSet {
        if is_admin {
            self
        } else {
            self.without(Scope::TenantAdmin)
        }
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&words.join(" "))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({self})")
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Scope::as_str))
    }
}

/// Its wire form: an array of scope names, taken from [`Scope::ALL`] so that it cannot drift.
impl utoipa::PartialSchema for ScopeSet {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(names)),
            )
            .unique_items(true)
            .description(Some("The scopes the access token carries."))
            .into()
    }
}

impl utoipa::ToSchema for ScopeSet {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Scopes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_delimited_list_parses_and_prints_in_a_fixed_order() {
        let set = ScopeSet::parse("tenant:admin  calls:read calls:read").unwrap();
        assert!(set.contains(Scope::CallsRead) && set.contains(Scope::TenantAdmin));
        assert!(!set.contains(Scope::CallsWrite));
        assert_eq!(set.to_string(), "calls:read tenant:admin");
    }

    #[test]
    fn one_unknown_scope_refuses_the_whole_list() {
        assert_eq!(
            ScopeSet::parse("calls:read admin"),
            Err(UnknownScope("admin".into()))
        );
        assert!(ScopeSet::parse("CALLS:READ").is_err());
    }

    #[test]
    fn an_empty_list_is_an_empty_set() {
        assert!(ScopeSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn non_admins_never_hold_tenant_admin() {
        let all = ScopeSet::parse("calls:read calls:write tenant:admin").unwrap();
        assert_eq!(all.allowed_for(false).to_string(), "calls:read calls:write");
        assert_eq!(all.allowed_for(true), all);
    }

    #[test]
    fn subsets_are_detected() {
        let read = ScopeSet::parse("calls:read").unwrap();
        let both = ScopeSet::parse("calls:read calls:write").unwrap();
        assert!(read.is_subset_of(both));
        assert!(!both.is_subset_of(read));
        assert!(ScopeSet::empty().is_subset_of(read));
    }
}
