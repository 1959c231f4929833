//! The connectors inside `ringhook serve`: one supervisor takes the lease of every socket
//! source it can (so that of several processes on one database exactly one connects to each
//! PBX), and runs a connection per held source: log in, read events, keep the link alive,
//! reconnect with capped jittered backoff. Events go through the same ingest writer as
//! webhooks (stored, deduplicated, normalized and fanned out in one transaction).

use actix_web::web;
use chrono::Utc;
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::SessionError;
use super::ami_codec::AmiMessage;
use super::ami_session::AmiSession;
use super::backoff;
use super::dials::Dials;
use super::esl_session::EslSession;
use super::reconcile::LiveCalls;
use super::socket_url::SocketUrl;
use crate::domain::{SourceId, SourceKind};
use crate::http::AppState;
use crate::ingest::asterisk::AmiTranslator;
use crate::ingest::{RawCallEvent, bounds, freeswitch};
use crate::pbx::recording_url::RecordingUrlTemplate;
use crate::pipeline::{IngestJob, Received};
use crate::storage::{PbxSocket, Source};

/// Timing of the connectors.
#[derive(Clone, Copy, Debug)]
pub struct ConnectorSettings {
    /// How long a lease lasts unless renewed; another process takes over after it.
    pub lease: Duration,
    /// How often leases are renewed and new sources picked up.
    pub renew: Duration,
    /// How often a quiet link is checked (AMI `Ping`, ESL `api status`).
    pub keepalive: Duration,
    /// Silence after which the link is taken for dead and reopened.
    pub idle_timeout: Duration,
    /// Bound on connecting and each login step.
    pub login_timeout: Duration,
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How often a connected source looks for click-to-call dials the API handed over (the
    /// API process may be another `serve` process, so the hand-over is the database).
    pub dial_poll: Duration,
    /// Dials older than this are never sent: the API that stored them gave up long ago.
    pub dial_window: Duration,
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        ConnectorSettings {
            lease: Duration::from_secs(10),
            renew: Duration::from_secs(2),
            keepalive: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            login_timeout: Duration::from_secs(5),
            first_retry: backoff::FIRST,
            max_retry: backoff::CAP,
            dial_poll: Duration::from_millis(250),
            dial_window: Duration::from_secs(60),
        }
    }
}

struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// Runs until `shutdown`: keeps the leases of the sources this process holds and a connection
/// for each; on shutdown closes them and gives the leases up.
pub async fn run(
    state: web::Data<AppState>,
    settings: ConnectorSettings,
    shutdown: CancellationToken,
) {
    let holder = format!("{}-{}", std::process::id(), ulid::Ulid::generate());
    let mut running: HashMap<SourceId, Running> = HashMap::new();
    loop {
        supervise(&state, &settings, &holder, &mut running, &shutdown).await;
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(settings.renew) => {}
        }
    }
    for (id, r) in running.drain() {
        r.cancel.cancel();
        let _ = r.task.await;
        if let Err(error) = state.storage.release_pbx_lease(&id, &holder).await {
            tracing::warn!(source = %id, %error, "cannot give the connection lease up");
        }
        state.pbx.forget(&id);
    }
}

/// One round: renew or take leases, start connections for newly held sources, stop those
/// whose lease was lost or whose source is gone.
async fn supervise(
    state: &web::Data<AppState>,
    settings: &ConnectorSettings,
    holder: &str,
    running: &mut HashMap<SourceId, Running>,
    shutdown: &CancellationToken,
) {
    let sockets = match state.storage.pbx_sockets().await {
        Ok(s) => s,
        Err(error) => {
            tracing::warn!(%error, "cannot list socket sources");
            Vec::new()
        }
    };
    let now = Utc::now().timestamp_millis();
    let until = now + i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
    let mut held = Vec::new();
    for (source, socket) in sockets {
        match state
            .storage
            .take_pbx_lease(&source.id, holder, now, until)
            .await
        {
            Ok(true) => held.push((source, socket)),
            Ok(false) => {}
            Err(error) => tracing::warn!(source = %source.id, %error, "cannot renew the lease"),
        }
    }
    running.retain(|id, r| {
        let keep = held.iter().any(|(s, _)| &s.id == id) && !r.task.is_finished();
        if !keep {
            tracing::info!(source = %id, "connection lease not held: disconnecting");
            r.cancel.cancel();
            state.pbx.forget(id);
        }
        keep
    });
    for (source, socket) in held {
        if running.contains_key(&source.id) {
            continue;
        }
        tracing::info!(source = %source.id, kind = %source.kind, url = %socket.url, "connection lease taken");
        let cancel = shutdown.child_token();
        let task = tokio::spawn(connection(
            state.clone(),
            *settings,
            Arc::new(source.clone()),
            socket,
            cancel.clone(),
        ));
        running.insert(source.id, Running { cancel, task });
    }
}

/// Keeps one source connected until `cancel`.
async fn connection(
    state: web::Data<AppState>,
    settings: ConnectorSettings,
    source: Arc<Source>,
    socket: PbxSocket,
    cancel: CancellationToken,
) {
    let mut attempt = 0u32;
    loop {
        let outcome = match SocketUrl::parse(&socket.url, 0) {
            Ok(url) => match source.kind {
                SourceKind::Asterisk => {
                    read_ami(
                        &state,
                        &settings,
                        &source,
                        &socket,
                        &url,
                        &mut attempt,
                        &cancel,
                    )
                    .await
                }
                _ => {
                    read_esl(
                        &state,
                        &settings,
                        &source,
                        &socket,
                        &url,
                        &mut attempt,
                        &cancel,
                    )
                    .await
                }
            },
            Err(e) => Err(SessionError::Protocol(e.to_string())),
        };
        if cancel.is_cancelled() {
            return;
        }
        let reason = match outcome {
            Ok(()) => "the PBX closed the connection".to_owned(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(source = %source.id, kind = %source.kind, error = %reason, attempt, "PBX connection lost or refused; retrying");
        state.pbx.disconnected(&source.id, source.kind, reason);
        let jitter = rand::random::<f64>() * 2.0 - 1.0;
        let wait = backoff::delay(attempt, jitter, settings.first_retry, settings.max_retry);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Hands one event's raw events to the ingest writer and waits for their commit.
/// `received` is the socket event the raw events came from, kept with their calls.
async fn ingest(
    state: &AppState,
    source: &Arc<Source>,
    mut events: Vec<RawCallEvent>,
    received: Option<Received>,
) {
    // The same bounds as webhook events: no time or duration that no call has.
    events.retain(|event| match bounds::check(event) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(source = %source.id, event = %event.source_event, %error, "PBX event out of bounds; skipped");
            false
        }
    });
    if events.is_empty() {
        return;
    }
    let directory = match state
        .directories
        .for_source(state.storage.as_ref(), source)
        .await
    {
        Ok(d) => d,
        Err(error) => {
            tracing::error!(source = %source.id, %error, "cannot load the directory; events dropped");
            return;
        }
    };
    let job = IngestJob {
        source: source.clone(),
        directory,
        events,
        now: Utc::now(),
        received: received.map(Arc::new),
    };
    match state.ingest.submit(job).await {
        Ok(summary) if summary.deliveries > 0 => state.deliveries_queued.notify_one(),
        Ok(_) => {}
        Err(error) => {
            tracing::error!(source = %source.id, %error, "cannot store PBX events; dropped")
        }
    }
}

async fn read_ami(
    state: &AppState,
    settings: &ConnectorSettings,
    source: &Arc<Source>,
    socket: &PbxSocket,
    url: &SocketUrl,
    attempt: &mut u32,
    cancel: &CancellationToken,
) -> Result<(), SessionError> {
    let username = socket.username.as_deref().unwrap_or_default();
    let secret = source.secret.expose_secret();
    let mut session = tokio::select! {
        () = cancel.cancelled() => return Ok(()),
        s = AmiSession::login(url, username, secret, settings.login_timeout) => s?,
    };
    *attempt = 0;
    state.pbx.connected(&source.id, source.kind);
    tracing::info!(source = %source.id, url = %url, "logged in to the Asterisk Manager Interface");
    // Checked when the source was created; a template edited by hand into something
    // unusable only turns recordings off.
    let recording_urls = socket
        .recording_url_template
        .as_deref()
        .and_then(|raw| RecordingUrlTemplate::parse(raw).ok());
    let mut translator = AmiTranslator::with_recording_urls(recording_urls);
    let mut dials = Dials::default();
    // What the PBX has now: calls that ended while ringhook was away are closed.
    let list = session.action("CoreShowChannels");
    let action_id = list.get("ActionID").unwrap_or_default();
    let mut live_calls = Some(LiveCalls::new(SourceKind::Asterisk, action_id));
    session.send(&list).await?;
    let mut keepalive = tokio::time::interval(settings.keepalive);
    keepalive.tick().await;
    let mut dial_poll = tokio::time::interval(settings.dial_poll);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            _ = keepalive.tick() => {
                if last_heard.elapsed() > settings.idle_timeout {
                    return Err(SessionError::Timeout("no answer to Ping"));
                }
                let ping = session.action("Ping");
                session.send(&ping).await?;
            }
            _ = dial_poll.tick() => {
                let store = state.storage.as_ref();
                dials.send_ami(store, socket, settings.dial_window, &mut session).await?;
            }
            message = session.next() => {
                let Some(message) = message? else { return Ok(()) };
                last_heard = Instant::now();
                dials.on_ami(state.storage.as_ref(), &message).await;
                if live_calls.as_mut().is_some_and(|l| l.observe(&message))
                    && let Some(live) = live_calls.take()
                {
                    close_gone_calls(state, source, &live).await;
                }
                if message.event().is_some() {
                    state.pbx.heard(&source.id, source.kind, Utc::now());
                    let events = translator.translate(&message);
                    if !events.is_empty() {
                        ingest(state, source, events, Some(ami_text(&message))).await;
                    }
                }
            }
        }
    }
}

async fn read_esl(
    state: &AppState,
    settings: &ConnectorSettings,
    source: &Arc<Source>,
    socket: &PbxSocket,
    url: &SocketUrl,
    attempt: &mut u32,
    cancel: &CancellationToken,
) -> Result<(), SessionError> {
    let password = source.secret.expose_secret();
    let events = freeswitch::SUBSCRIBED_EVENTS;
    let mut session = tokio::select! {
        () = cancel.cancelled() => return Ok(()),
        s = EslSession::login(url, password, events, settings.login_timeout) => s?,
    };
    *attempt = 0;
    state.pbx.connected(&source.id, source.kind);
    tracing::info!(source = %source.id, url = %url, "authenticated on the FreeSWITCH event socket");
    let mut dials = Dials::default();
    // What FreeSWITCH has now: calls that ended while ringhook was away are closed.
    let mut live_calls = Some(LiveCalls::new(SourceKind::Freeswitch, ""));
    session.send("api show channels as json").await?;
    let mut keepalive = tokio::time::interval(settings.keepalive);
    keepalive.tick().await;
    let mut dial_poll = tokio::time::interval(settings.dial_poll);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => return Ok(()),
            _ = dial_poll.tick() => {
                let store = state.storage.as_ref();
                dials.send_esl(store, socket, settings.dial_window, &mut session).await?;
            }
            _ = keepalive.tick() => {
                if last_heard.elapsed() > settings.idle_timeout {
                    return Err(SessionError::Timeout("no heartbeat from FreeSWITCH"));
                }
                if last_heard.elapsed() >= settings.keepalive {
                    session.send("api status").await?;
                }
            }
            message = session.next() => {
                let Some(message) = message? else { return Ok(()) };
                last_heard = Instant::now();
                match message.content_type() {
                    Some("text/event-json") => {
                        state.pbx.heard(&source.id, source.kind, Utc::now());
                        match serde_json::from_slice::<serde_json::Value>(&message.body) {
                            Ok(event) => {
                                if let Some(live) = live_calls.as_mut() {
                                    live.note_esl_event(&event);
                                }
                                background_job(state, &mut dials, &event).await;
                                let events = freeswitch::translate(&event);
                                if !events.is_empty() {
                                    let received = Received::new("application/json", &message.body);
                                    ingest(state, source, events, Some(received)).await
                                }
                            }
                            Err(error) => tracing::warn!(source = %source.id, %error, "unreadable ESL event skipped"),
                        }
                    }
                    Some("api/response") => {
                        if live_calls.as_mut().is_some_and(|l| l.observe_esl_list(&message.body))
                            && let Some(live) = live_calls.take()
                        {
                            close_gone_calls(state, source, &live).await;
                        }
                    }
                    Some("command/reply") => {
                        let text = message.reply_text().unwrap_or_default();
                        dials.on_esl_reply(state.storage.as_ref(), text).await;
                    }
                    Some("text/disconnect-notice") => return Err(SessionError::Closed),
                    _ => {}
                }
            }
        }
    }
}

/// Hands a `BACKGROUND_JOB` event (the end of a `bgapi` job) to the dials.
async fn background_job(state: &AppState, dials: &mut Dials, event: &serde_json::Value) {
    let text = |key: &str| event.get(key).and_then(serde_json::Value::as_str);
    if text("Event-Name") != Some("BACKGROUND_JOB") {
        return;
    }
    if let Some(job) = text("Job-UUID") {
        let body = text("_body").unwrap_or_default();
        dials.on_esl_job(state.storage.as_ref(), job, body).await;
    }
}

/// An AMI event as Asterisk sent it: its `Key: Value` lines in order.
fn ami_text(message: &AmiMessage) -> Received {
    let mut text = String::new();
    for (key, value) in message.fields() {
        text.push_str(key);
        text.push_str(": ");
        text.push_str(value);
        text.push('\n');
    }
    Received {
        content_type: "text/plain".to_owned(),
        body: text,
    }
}

/// Closes the source's open calls that the PBX's live channel list no longer has.
async fn close_gone_calls(state: &AppState, source: &Arc<Source>, live: &LiveCalls) {
    match state.storage.open_call_keys(&source.id).await {
        Ok(open) => {
            let gone = live.closing(&open, Utc::now());
            if !gone.is_empty() {
                tracing::info!(source = %source.id, calls = gone.len(), "closing calls that ended while disconnected");
            }
            ingest(state, source, gone, None).await;
        }
        Err(error) => tracing::warn!(source = %source.id, %error, "cannot list open calls"),
    }
}
