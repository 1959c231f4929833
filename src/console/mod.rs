//! The web console at `/console`: server-rendered pages (askama templates under
//! `templates/console/`, a stylesheet and a small script embedded in the binary) for tenant
//! admins (overview, calls, hooks, users, sources, queue names, connected apps, audit log) and a smaller
//! set for every user (their hooks, their apps, their password). Signed in with the consent
//! page's account and session cookie; every form carries the CSRF token; every page forbids
//! framing and loads nothing from elsewhere (`viewer.rs`). It reads through the storage
//! traits and changes things through the admin operations of the CLI and the admin API.

mod account;
mod apps;
mod assets;
mod audit;
mod calls;
mod hooks;
mod overview;
mod queues;
mod sign_in;
mod sources;
mod users;
mod viewer;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(assets::stylesheet)
        .service(assets::script)
        .service(sign_in::show)
        .service(sign_in::submit)
        .service(sign_in::sign_out)
        .service(overview::overview)
        .service(calls::list)
        .service(calls::show)
        .service(hooks::list)
        .service(hooks::show)
        .service(hooks::resend)
        .service(hooks::delete)
        .service(hooks::enable)
        .service(users::list)
        .service(users::act)
        .service(sources::list)
        .service(sources::rotate)
        .service(queues::list)
        .service(queues::act)
        .service(apps::list)
        .service(apps::revoke)
        .service(audit::list)
        .service(account::show)
        .service(account::change_password);
}
