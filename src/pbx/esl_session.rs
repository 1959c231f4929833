//! One authenticated FreeSWITCH event socket connection (inbound mode): `auth`, then
//! `event json …`, then events in and commands out.

use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::SessionError;
use super::esl_codec::{EslCodec, EslMessage};
use super::socket_url::SocketUrl;

pub struct EslSession {
    framed: Framed<TcpStream, EslCodec>,
}

impl EslSession {
    /// Connects, authenticates and subscribes to `events`, each step bounded by `timeout`.
    pub async fn login(
        url: &SocketUrl,
        password: &str,
        events: &str,
        timeout: Duration,
    ) -> Result<EslSession, SessionError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(url.address()))
            .await
            .map_err(|_| SessionError::Timeout("connecting"))??;
        let mut session = EslSession {
            framed: Framed::new(stream, EslCodec::default()),
        };
        let greeting = session.expect_message(timeout).await?;
        if greeting.content_type() != Some("auth/request") {
            return Err(SessionError::Protocol(format!(
                "expected auth/request, got {:?}",
                greeting.content_type()
            )));
        }
        session
            .command(&format!("auth {password}"), timeout)
            .await?;
        session
            .command(&format!("event json {events}"), timeout)
            .await?;
        Ok(session)
    }

    async fn expect_message(&mut self, timeout: Duration) -> Result<EslMessage, SessionError> {
        match tokio::time::timeout(timeout, self.next()).await {
            Ok(Ok(Some(m))) => Ok(m),
            Ok(Ok(None)) => Err(SessionError::Closed),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SessionError::Timeout("waiting for the event socket")),
        }
    }

    /// Sends a command and waits for its `command/reply`; `-ERR …` is a refusal.
    pub async fn command(
        &mut self,
        command: &str,
        timeout: Duration,
    ) -> Result<String, SessionError> {
        self.send(command).await?;
        loop {
            let reply = self.expect_message(timeout).await?;
            match reply.content_type() {
                Some("command/reply") => {
                    let text = reply.reply_text().unwrap_or_default().to_owned();
                    return if text.starts_with("-ERR") {
                        Err(SessionError::Refused(text))
                    } else {
                        Ok(text)
                    };
                }
                Some("text/disconnect-notice") => return Err(SessionError::Closed),
                _ => continue,
            }
        }
    }

    pub async fn send(&mut self, command: &str) -> Result<(), SessionError> {
        self.framed
            .send(command)
            .await
            .map_err(|e| SessionError::Protocol(e.to_string()))
    }

    /// The next message; `None` when FreeSWITCH closed the connection.
    pub async fn next(&mut self) -> Result<Option<EslMessage>, SessionError> {
        match self.framed.next().await {
            Some(Ok(m)) => Ok(Some(m)),
            Some(Err(e)) => Err(SessionError::Protocol(e.to_string())),
            None => Ok(None),
        }
    }
}
