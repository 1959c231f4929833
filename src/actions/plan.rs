//! Checks a click-to-call request against the tenant before anything is stored or dialed:
//! who places the call (and whether the caller may place it for them), the numbers in E.164
//! form, and which of the tenant's sources dials it.

use super::dialer_for;
use crate::domain::{E164Number, SourceKind, UserId};
use crate::error::{ApiError, ProblemCode};
use crate::oauth::Authenticated;
use crate::storage::{Source, Storage, Tenant, User};
use actix_web::http::StatusCode;
use serde::Deserialize;

/// `POST /v1/calls` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"to": "+14155550123"})))]
pub struct PlaceCallBody {
    /// The number to call: E.164, or national in the tenant's default country.
    pub to: String,
    /// Whose phone places the call; the caller's own by default.
    #[serde(default)]
    pub from_user_id: Option<String>,
    /// The number the called party sees; the user's own number by default.
    #[serde(default)]
    pub caller_id: Option<String>,
}

/// A checked request, ready to dial.
pub struct Plan {
    pub tenant: Tenant,
    pub user: User,
    pub to: E164Number,
    pub caller_id: Option<E164Number>,
    pub source: Source,
    /// How `source` names `user`.
    pub external_user_id: String,
}

pub async fn prepare(
    auth: &Authenticated,
    store: &dyn Storage,
    body: PlaceCallBody,
) -> Result<Plan, ApiError> {
    let user = calling_user(auth, store, body.from_user_id.as_deref()).await?;
    let tenant = store
        .tenant(&auth.tenant_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the token's tenant is gone")))?;
    let country = tenant.default_country;
    let to = E164Number::parse(&body.to, country).map_err(|e| {
        ApiError::unprocessable(
            ProblemCode::InvalidNumber,
            format!(
                "to: {e}; give an E.164 number such as +14155550123 or a national number of {}",
                country.as_str()
            ),
        )
    })?;
    let caller_id = match body.caller_id.as_deref() {
        Some(raw) => Some(E164Number::parse(raw, country).map_err(|e| {
            ApiError::unprocessable(ProblemCode::InvalidCallerId, format!("caller_id: {e}"))
        })?),
        None => user.number.clone(),
    };
    let (source, external_user_id) = dialing_source(store, &tenant, &user).await?;
    Ok(Plan {
        tenant,
        user,
        to,
        caller_id,
        source,
        external_user_id,
    })
}

/// The user whose phone places the call. Only a tenant admin may name someone else.
async fn calling_user(
    auth: &Authenticated,
    store: &dyn Storage,
    from: Option<&str>,
) -> Result<User, ApiError> {
    let id = match from {
        None => auth.user_id.clone(),
        Some(raw) if raw == auth.user_id.as_str() => auth.user_id.clone(),
        Some(raw) => {
            if !auth.is_admin {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    ProblemCode::Forbidden,
                    "only a tenant admin may place a call from another user's phone",
                ));
            }
            UserId::parse(raw).ok_or_else(|| unknown_user(raw))?
        }
    };
    store
        .user(&auth.tenant_id, &id)
        .await?
        .ok_or_else(|| unknown_user(id.as_str()))
}

fn unknown_user(raw: &str) -> ApiError {
    ApiError::unprocessable(
        ProblemCode::UnknownUser,
        format!("from_user_id: there is no user {raw:?} in this tenant"),
    )
}

/// The tenant's source that dials for `user`: one that links the user and can place calls
/// from a server (Kazoo, Zorio with API settings, Asterisk, FreeSWITCH), else a linked Zoom source (whose dialer
/// answers with a launch URL). Among equals the oldest source wins, so the choice is stable.
async fn dialing_source(
    store: &dyn Storage,
    tenant: &Tenant,
    user: &User,
) -> Result<(Source, String), ApiError> {
    let links = store.user_links(&tenant.id).await?;
    let mut sources = store.sources(&tenant.id).await?;
    sources.sort_by(|a, b| {
        let key = |s: &Source| (s.kind == SourceKind::Zoom, s.created_at);
        key(a).cmp(&key(b)).then_with(|| a.id.cmp(&b.id))
    });
    let linked = sources.into_iter().find_map(|source| {
        let link = links
            .iter()
            .find(|l| l.user_id == user.id && l.source_id == source.id)?;
        let dialer = dialer_for(source.kind);
        dialer
            .can_dial(&source)
            .then(|| (source, link.external_id.clone()))
    });
    linked.ok_or_else(|| {
        ApiError::unprocessable(
            ProblemCode::NotLinked,
            format!(
                "{} is not linked to a phone system that can place calls (a Kazoo or Zorio source \
                 with API settings, an Asterisk or FreeSWITCH source); link them with \
                 `ringhook user create --link`",
                user.name
            ),
        )
    })
}
