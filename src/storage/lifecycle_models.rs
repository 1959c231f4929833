//! What the day-two operations on tenants, users and sources take and return: partial
//! changes (a field left `None` keeps its value) and the footprint a deletion takes with it.

use super::PbxApi;
use crate::domain::{CountryCode, E164Number, EmailAddress};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub default_country: Option<CountryCode>,
}

/// `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub email: Option<EmailAddress>,
    pub name: Option<String>,
    pub extension: Option<Option<String>>,
    pub number: Option<Option<E164Number>>,
    pub is_admin: Option<bool>,
}

/// `Some(None)` clears an optional field.
#[derive(Clone, Debug, Default)]
pub struct SourceChanges {
    pub account_id: Option<Option<String>>,
    pub api: Option<Option<PbxApi>>,
}

/// How many rows of each kind go with a deleted record (or would go, before `--yes`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Footprint(pub BTreeMap<String, i64>);

impl Footprint {
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|count| *count == 0)
    }
}
