//! Runs the day-two commands of the command line: each names its record by id, so the
//! record's tenant is looked up first and the shared operations (`tenant_ops`, `user_ops`,
//! `source_ops`) then run scoped to it.

use super::cli::{QueueCommand, SourceCommand, TenantCommand, UserCommand};
use super::error::{AdminError, tenant_id};
use super::operator::Operator;
use super::queue_ops::{self, Naming};
use super::user_ops::UserPatch;
use super::{source_ops, tenant_ops, user_ops};
use secrecy::SecretString;
use serde_json::Value;

pub async fn tenant(op: &Operator<'_>, command: TenantCommand) -> Result<Value, AdminError> {
    match command {
        TenantCommand::Create(args) => super::commands::create_tenant(op.store, &args).await,
        TenantCommand::List => tenant_ops::list_tenants(op).await,
        TenantCommand::Show(args) => tenant_ops::show_tenant(op, &tenant_id(&args.id)?).await,
        TenantCommand::Update(args) => {
            let id = tenant_id(&args.id)?;
            tenant_ops::update_tenant(
                op,
                &id,
                args.name.as_deref(),
                args.default_country.as_deref(),
            )
            .await
        }
        TenantCommand::Delete(args) => tenant_ops::delete_tenant(op, &args.id, args.yes).await,
    }
}

/// `password` is read from stdin only by `set-password`.
pub async fn user(
    op: &Operator<'_>,
    command: UserCommand,
    read_password: impl FnOnce() -> anyhow::Result<SecretString>,
) -> anyhow::Result<Value> {
    let output = match command {
        UserCommand::Create(args) => {
            let password = if args.password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            super::commands::create_user(op.store, &args, password).await?
        }
        UserCommand::List(args) => user_ops::list_users(op, &tenant_id(&args.tenant)?).await?,
        UserCommand::Show(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::show_user(op, &tenant, &id).await?
        }
        UserCommand::Update(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            let patch = UserPatch {
                email: args.email,
                name: args.name,
                extension: clearable(args.extension, args.no_extension),
                number: clearable(args.number, args.no_number),
                admin: args.admin,
            };
            user_ops::update_user(op, &tenant, &id, &patch).await?
        }
        UserCommand::SetPassword(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            let password = read_password()?;
            user_ops::set_password(op, &tenant, &id, &password).await?
        }
        UserCommand::Link(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::change_link(op, &tenant, &id, &args.link, true).await?
        }
        UserCommand::Unlink(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::change_link(op, &tenant, &id, &args.link, false).await?
        }
        UserCommand::Disable(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::set_disabled(op, &tenant, &id, true).await?
        }
        UserCommand::Enable(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::set_disabled(op, &tenant, &id, false).await?
        }
        UserCommand::Delete(args) => {
            let (tenant, id) = user_ops::tenant_of(op, &args.id).await?;
            user_ops::delete_user(op, &tenant, &id, args.yes).await?
        }
    };
    Ok(output)
}

pub async fn source(op: &Operator<'_>, command: SourceCommand) -> Result<Value, AdminError> {
    match command {
        SourceCommand::Create(args) => {
            super::commands::create_source(op.store, &args, &op.public_base).await
        }
        SourceCommand::List(args) => source_ops::list_sources(op, &tenant_id(&args.tenant)?).await,
        SourceCommand::Show(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            source_ops::show_source(op, &tenant, &id).await
        }
        SourceCommand::Update(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            let api = match (args.api_url, args.api_key) {
                (Some(url), Some(key)) => Some(Some((url, key))),
                _ if args.no_api => Some(None),
                _ => None,
            };
            let patch = source_ops::SourcePatch {
                account_id: clearable(args.account_id, args.no_account_id),
                api,
            };
            source_ops::update_source(op, &tenant, &id, &patch).await
        }
        SourceCommand::RotateSecret(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            source_ops::rotate_secret(op, &tenant, &id, args.secret.as_deref()).await
        }
        SourceCommand::Disable(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            source_ops::set_disabled(op, &tenant, &id, true).await
        }
        SourceCommand::Enable(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            source_ops::set_disabled(op, &tenant, &id, false).await
        }
        SourceCommand::Delete(args) => {
            let (tenant, id) = source_ops::tenant_of(op, &args.id).await?;
            source_ops::delete_source(op, &tenant, &id, args.yes).await
        }
    }
}

/// A value to set, `--no-…` to clear, or neither to keep.
fn clearable(value: Option<String>, clear: bool) -> Option<Option<String>> {
    match (value, clear) {
        (Some(v), _) => Some(Some(v)),
        (None, true) => Some(None),
        (None, false) => None,
    }
}

/// `queue set|list|delete`: the source's tenant is looked up, then the shared queue
/// operations run (audited like the console's queues page).
pub async fn queue(op: &Operator<'_>, command: QueueCommand) -> Result<Value, AdminError> {
    match command {
        QueueCommand::Set(args) => {
            let (tenant, _) = source_ops::tenant_of(op, &args.source).await?;
            queue_ops::name_queue(
                op,
                &tenant,
                &args.source,
                &args.queue_id,
                &args.name,
                Naming::Set,
            )
            .await
        }
        QueueCommand::List(args) => {
            let (tenant, _) = source_ops::tenant_of(op, &args.source).await?;
            let queues = queue_ops::list_queues(op, &tenant, Some(&args.source)).await?;
            Ok(serde_json::json!(queues))
        }
        QueueCommand::Delete(args) => {
            let (tenant, _) = source_ops::tenant_of(op, &args.source).await?;
            queue_ops::delete_queue(op, &tenant, &args.source, &args.queue_id).await
        }
    }
}
