//! One logged-in AMI connection: banner, `Login` with the event classes ringhook reads, then
//! events in, actions out. Reconnecting is the connector's job.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::SessionError;
use super::ami_codec::{AmiCodec, AmiFrame, AmiMessage};
use super::socket_url::SocketUrl;

/// Event classes read: channels and bridges, queues, CDRs.
pub const EVENT_CLASSES: &str = "call,agent,cdr";

pub struct AmiSession {
    framed: Framed<TcpStream, AmiCodec>,
    next_action: u64,
}

impl AmiSession {
    /// Connects and logs in, each step bounded by `timeout`.
    pub async fn login(
        url: &SocketUrl,
        username: &str,
        secret: &str,
        timeout: Duration,
    ) -> Result<AmiSession, SessionError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(url.address()))
            .await
            .map_err(|_| SessionError::Timeout("connecting"))??;
        let mut session = AmiSession {
            framed: Framed::new(stream, AmiCodec::default()),
            next_action: 0,
        };
        match tokio::time::timeout(timeout, session.framed.next()).await {
            Ok(Some(Ok(AmiFrame::Banner(_)))) => {}
            Ok(Some(Ok(AmiFrame::Message(_)))) => {
                return Err(SessionError::Protocol("no AMI banner".into()));
            }
            Ok(Some(Err(e))) => return Err(SessionError::Protocol(e.to_string())),
            Ok(None) => return Err(SessionError::Closed),
            Err(_) => return Err(SessionError::Timeout("waiting for the AMI banner")),
        }
        let login = session
            .action("Login")
            .with("Username", username)
            .with("Secret", secret)
            .with("Events", EVENT_CLASSES);
        let reply = session.request(login, timeout).await?;
        if reply.get("Response") != Some("Success") {
            let message = reply.get("Message").unwrap_or("login refused").to_owned();
            return Err(SessionError::Refused(message));
        }
        Ok(session)
    }

    /// A new action with a fresh `ActionID`.
    pub fn action(&mut self, name: &str) -> AmiMessage {
        self.next_action += 1;
        AmiMessage::action(name, &format!("rh-{}", self.next_action))
    }

    pub async fn send(&mut self, action: &AmiMessage) -> Result<(), SessionError> {
        self.framed
            .send(action)
            .await
            .map_err(|e| SessionError::Protocol(e.to_string()))
    }

    /// Sends `action` and waits for its response, dropping events that arrive meanwhile
    /// (used only before events flow: login).
    async fn request(
        &mut self,
        action: AmiMessage,
        timeout: Duration,
    ) -> Result<AmiMessage, SessionError> {
        let id = action.get("ActionID").unwrap_or_default().to_owned();
        self.send(&action).await?;
        let wait = async {
            loop {
                match self.next().await? {
                    Some(m) if m.get("ActionID") == Some(&id) && m.event().is_none() => {
                        return Ok(m);
                    }
                    Some(_) => continue,
                    None => return Err(SessionError::Closed),
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| SessionError::Timeout("waiting for the AMI response"))?
    }

    /// The next message (event or response); `None` when the PBX closed the connection.
    pub async fn next(&mut self) -> Result<Option<AmiMessage>, SessionError> {
        loop {
            match self.framed.next().await {
                Some(Ok(AmiFrame::Message(m))) => return Ok(Some(m)),
                Some(Ok(AmiFrame::Banner(_))) => continue,
                Some(Err(e)) => return Err(SessionError::Protocol(e.to_string())),
                None => return Ok(None),
            }
        }
    }
}
