//! The admin commands. Each validates all of its input before writing anything, writes in one
//! transaction, and returns the JSON object the CLI prints.

use super::cli::{
    ClientCreate, ClientRef, GrantList, GrantRef, SourceCreate, TenantCreate, UserCreate,
};
use super::error::{AdminError, invalid, non_blank, not_found, tenant_id};
use crate::credentials;
use crate::domain::{
    ClientId, CountryCode, E164Number, EmailAddress, GrantId, RedirectUri, SourceId, SourceKind,
    UserId, WebUrl, new_token,
};
use crate::normalizer::model::EventType;
use crate::storage::{
    EventQuery, NewOAuthClient, NewSource, NewTenant, NewUser, NewUserLink, PbxApi, Storage,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

pub async fn create_tenant(store: &dyn Storage, args: &TenantCreate) -> Result<Value, AdminError> {
    let new = NewTenant {
        name: non_blank("name", &args.name)?,
        default_country: CountryCode::parse(&args.default_country)
            .map_err(|e| invalid(e.to_string()))?,
    };
    let tenant = store.create_tenant(&new).await?;
    Ok(
        json!({"id": tenant.id, "name": tenant.name, "default_country": tenant.default_country.as_str()}),
    )
}

/// `password` is the first line of stdin when `--password-stdin` was given.
pub async fn create_user(
    store: &dyn Storage,
    args: &UserCreate,
    password: Option<SecretString>,
) -> Result<Value, AdminError> {
    let tenant_id = tenant_id(&args.tenant)?;
    let tenant = store
        .tenant(&tenant_id)
        .await?
        .ok_or_else(|| invalid(format!("no tenant {tenant_id}")))?;
    let email = EmailAddress::parse(&args.email).map_err(|e| invalid(e.to_string()))?;
    let extension = args.extension.as_deref().map(parse_extension).transpose()?;
    let number = args
        .number
        .as_deref()
        .map(|n| E164Number::parse(n, tenant.default_country))
        .transpose()
        .map_err(|e| invalid(format!("--number: {e}")))?;
    let links = args
        .links
        .iter()
        .map(|l| parse_link(l))
        .collect::<Result<Vec<_>, _>>()?;
    let password_hash = password
        .map(|p| credentials::hash_password(&p))
        .transpose()?;
    let new = NewUser {
        tenant_id,
        email,
        name: non_blank("name", &args.name)?,
        extension,
        number,
        is_admin: args.admin,
        password_hash,
        links,
    };
    let user = store.create_user(&new).await?;
    Ok(json!({
        "id": user.id, "tenant_id": user.tenant_id, "email": user.email, "name": user.name,
        "extension": user.extension, "number": user.number, "admin": user.is_admin,
        "links": new.links,
    }))
}

/// Extensions are dial strings: digits, `*` and `#`, at most 16.
pub(super) fn parse_extension(raw: &str) -> Result<String, AdminError> {
    let ok = !raw.is_empty()
        && raw.len() <= 16
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(invalid(format!(
            "--extension {raw:?} must be 1 to 16 digits"
        )))
    }
}

pub(super) fn parse_link(raw: &str) -> Result<NewUserLink, AdminError> {
    let bad = || invalid(format!("--link {raw:?} must be SOURCE_ID:EXTERNAL_USER_ID"));
    let (source, external) = raw.split_once(':').ok_or_else(bad)?;
    let source_id = SourceId::parse(source).ok_or_else(bad)?;
    let external_id = external.trim();
    if external_id.is_empty() || external_id.len() > 200 {
        return Err(bad());
    }
    Ok(NewUserLink {
        source_id,
        external_id: external_id.to_owned(),
    })
}

/// The secret is returned once; only its hash is stored.
pub async fn create_client(store: &dyn Storage, args: &ClientCreate) -> Result<Value, AdminError> {
    let redirect_uris = args
        .redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u).map_err(|e| invalid(format!("--redirect-uri: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let secret = new_token(32);
    let new = NewOAuthClient {
        name: non_blank("name", &args.name)?,
        secret_hash: credentials::hash_secret(&secret),
        redirect_uris,
    };
    let client = store.create_client(&new).await?;
    Ok(json!({"client_id": client.id, "client_secret": secret, "name": client.name}))
}

pub(super) fn client_id(raw: &str) -> Result<ClientId, AdminError> {
    ClientId::parse(raw).ok_or_else(|| invalid(format!("{raw:?} is not a client id (cli_…)")))
}

pub async fn list_clients(store: &dyn Storage) -> Result<Value, AdminError> {
    let clients: Vec<Value> = store
        .clients()
        .await?
        .into_iter()
        .map(|c| {
            let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
            json!({"client_id": c.id, "name": c.name, "redirect_uris": uris, "created_at": c.created_at})
        })
        .collect();
    Ok(json!({ "clients": clients }))
}

/// The new secret is returned once; the old one stops working at once.
pub async fn rotate_client_secret(
    store: &dyn Storage,
    args: &ClientRef,
) -> Result<Value, AdminError> {
    let id = client_id(&args.id)?;
    let secret = new_token(32);
    if !store
        .set_client_secret(&id, &credentials::hash_secret(&secret))
        .await?
    {
        return Err(invalid(format!("no client {id}")));
    }
    Ok(json!({"client_id": id, "client_secret": secret}))
}

pub async fn delete_client(store: &dyn Storage, args: &ClientRef) -> Result<Value, AdminError> {
    let id = client_id(&args.id)?;
    if !store.delete_client(&id).await? {
        return Err(invalid(format!("no client {id}")));
    }
    Ok(json!({"client_id": id, "deleted": true}))
}

pub async fn list_grants(store: &dyn Storage, args: &GrantList) -> Result<Value, AdminError> {
    let user = UserId::parse(&args.user)
        .ok_or_else(|| invalid(format!("{:?} is not a user id (usr_…)", args.user)))?;
    let grants = store.grants_of_user(&user).await?;
    Ok(json!({ "grants": grants }))
}

pub async fn revoke_grant(store: &dyn Storage, args: &GrantRef) -> Result<Value, AdminError> {
    let id = GrantId::parse(&args.id)
        .ok_or_else(|| invalid(format!("{:?} is not a grant id (gnt_…)", args.id)))?;
    if store.grant(&id).await?.is_none() {
        return Err(invalid(format!("no grant {id}")));
    }
    let newly = store.revoke_grant(&id, chrono::Utc::now()).await?;
    Ok(json!({"id": id, "revoked": true, "already_revoked": !newly}))
}

/// `public_base` builds the ingest URL the operator pastes into the PBX.
pub async fn create_source(
    store: &dyn Storage,
    args: &SourceCreate,
    public_base: &str,
) -> Result<Value, AdminError> {
    let zoom = super::zoom_source::zoom_app(args, &mut std::io::stdin().lock())?;
    if args.kind.is_socket() {
        let mut stdin = std::io::stdin().lock();
        return super::socket_source::create(store, args, &mut stdin).await;
    }
    if args.ami_url.is_some()
        || args.esl_url.is_some()
        || args.username.is_some()
        || args.secret_stdin
        || args.originate_context.is_some()
        || args.recording_url_template.is_some()
    {
        return Err(invalid(format!(
            "{} sources push webhooks: --ami-url, --esl-url, --username, --secret-stdin, \
             --originate-context and --recording-url-template do not apply",
            args.kind
        )));
    }
    let tenant_id = tenant_id(&args.tenant)?;
    let secret = match (&args.secret, args.kind) {
        (Some(s), _) if s.trim().len() >= 16 => s.trim().to_owned(),
        (Some(_), _) => return Err(invalid("--secret must be at least 16 characters")),
        (None, SourceKind::Zoom) => {
            return Err(invalid(
                "--secret is required for zoom: use the Secret Token of your Zoom app",
            ));
        }
        (None, _) => new_token(32),
    };
    let api = match (&args.api_url, &args.api_key) {
        (Some(url), Some(key)) => Some(PbxApi {
            url: WebUrl::parse(url).map_err(|e| invalid(format!("--api-url: {e}")))?,
            key: SecretString::from(key.clone()),
        }),
        _ => None,
    };
    let new = NewSource {
        tenant_id,
        kind: args.kind,
        secret: SecretString::from(secret),
        account_id: args.account_id.clone(),
        api,
        zoom,
    };
    let source = store.create_source(&new).await?;
    let secret = source.secret.expose_secret();
    let ingest_url = match source.kind {
        // Kazoo cannot sign its requests: the secret travels in the URL.
        SourceKind::Kazoo => format!("{public_base}/ingest/{}?token={secret}", source.id),
        _ => format!("{public_base}/ingest/{}", source.id),
    };
    Ok(json!({
        "id": source.id,
        "kind": source.kind,
        "ingest_url": ingest_url,
        "secret": secret,
        // Whether audio can be fetched with a Zoom app; its secret is never echoed.
        "zoom_app": source.zoom.as_ref().map(|z| json!({"account_id": z.account_id, "client_id": z.client_id})),
    }))
}

pub async fn list_events(
    store: &dyn Storage,
    args: &super::cli::EventsArgs,
) -> Result<Value, AdminError> {
    let tenant_id = tenant_id(&args.tenant)?;
    if store.tenant(&tenant_id).await?.is_none() {
        return Err(invalid(format!("no tenant {tenant_id}")));
    }
    let event_type = args
        .event_type
        .as_deref()
        .map(|t| {
            EventType::parse(t)
                .ok_or_else(|| invalid(format!("--type {t:?} is not a call event type")))
        })
        .transpose()?;
    let events = store
        .call_events(&EventQuery {
            tenant_id,
            participant: None,
            event_type,
            number: None,
            limit: args.limit,
        })
        .await?;
    Ok(json!({ "events": events }))
}

/// Posts each request of the scenario and reports every answer; fails if any was not 2xx.
pub async fn simulate(
    store: &dyn Storage,
    args: &super::cli::SimulateArgs,
    public_base: &str,
) -> Result<Value, AdminError> {
    let source_id = SourceId::parse(&args.source)
        .ok_or_else(|| invalid(format!("{:?} is not a source id (src_…)", args.source)))?;
    let source = store
        .source(&source_id)
        .await?
        .ok_or_else(|| invalid(format!("no source {source_id}")))?;
    let base = args
        .url
        .as_deref()
        .unwrap_or(public_base)
        .trim_end_matches('/');
    let secret = source.secret.expose_secret();
    let now = chrono::Utc::now();
    let template = super::simulate::load_scenario(&args.scenario_dir, source.kind, secret, now)
        .map_err(|e| invalid(e.to_string()))?;
    let copies = super::simulate::ScenarioCopies::new(template, source.kind, secret, now);
    let requests = (0..args.copies as usize).flat_map(|n| copies.copy(n));
    let client = reqwest::Client::new();
    let mut results = Vec::new();
    let mut all_ok = true;
    for request in requests {
        let file = request.file.clone();
        let answer = super::simulate::post(&client, base, source.id.as_str(), request)
            .await
            .map_err(|e| invalid(e.to_string()))?;
        all_ok &= answer.status.is_success();
        results
            .push(json!({"file": file, "status": answer.status.as_u16(), "response": answer.body}));
    }
    if !all_ok {
        return Err(invalid(format!(
            "some requests were refused: {}",
            serde_json::to_string(&results).unwrap_or_default()
        )));
    }
    Ok(json!({ "source": source.id, "requests": results }))
}

/// Renames a client or replaces its redirect URIs; its secret is untouched.
pub async fn update_client(
    op: &super::operator::Operator<'_>,
    args: &super::lifecycle_cli::ClientUpdate,
) -> Result<Value, AdminError> {
    let id = client_id(&args.id)?;
    let name = args
        .name
        .as_deref()
        .map(|n| non_blank("name", n))
        .transpose()?;
    let uris = args
        .redirect_uris
        .iter()
        .map(|u| RedirectUri::parse(u).map_err(|e| invalid(format!("--redirect-uri: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    if name.is_none() && uris.is_empty() {
        return Err(invalid("nothing to change: give --name or --redirect-uri"));
    }
    let shown: Vec<&str> = uris.iter().map(|u| u.as_str()).collect();
    let details = json!({"name": name, "redirect_uris": shown});
    let audit = op.audit(None, "client.update", id.as_str(), details);
    let uris = (!uris.is_empty()).then_some(uris.as_slice());
    let client = op
        .store
        .update_client(&id, name.as_deref(), uris, &audit)
        .await?
        .ok_or_else(|| not_found(format!("no client {id}")))?;
    let uris: Vec<&str> = client.redirect_uris.iter().map(|u| u.as_str()).collect();
    Ok(json!({"client_id": client.id, "name": client.name, "redirect_uris": uris}))
}

/// The audit log, newest first, of one tenant or of all.
pub async fn list_audit(
    store: &dyn Storage,
    args: &super::lifecycle_cli::AuditList,
) -> Result<Value, AdminError> {
    let tenant = args.tenant.as_deref().map(tenant_id).transpose()?;
    let entries = store.audit_log(tenant.as_ref(), args.limit).await?;
    Ok(json!({ "entries": entries }))
}
