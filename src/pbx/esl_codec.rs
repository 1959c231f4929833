//! Framing of the FreeSWITCH Event Socket (inbound mode): each message is a block of
//! `Key: Value` header lines closed by an empty line, followed by exactly `Content-Length`
//! bytes of body when that header is present (`auth/request`, `command/reply`,
//! `api/response`, `text/event-json`, `text/disconnect-notice`). Commands go the other way as
//! one line closed by an empty line.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The largest message accepted (headers plus body); a channel event in JSON is a few KiB,
/// `show channels as json` on a busy box can reach a few MiB.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// One message from FreeSWITCH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EslMessage {
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl EslMessage {
    /// The first value of header `key`, matched case-insensitively.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.header("Content-Type")
    }

    /// `Reply-Text` of a `command/reply`: `+OK …` or `-ERR …`.
    pub fn reply_text(&self) -> Option<&str> {
        self.header("Reply-Text")
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EslCodecError {
    #[error("event socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("event socket message longer than {MAX_MESSAGE_BYTES} bytes")]
    TooLong,
    #[error("event socket Content-Length {0:?} is not a number")]
    BadLength(String),
    #[error("event socket connection closed in the middle of a message")]
    Truncated,
    #[error("event socket command holds a line break")]
    LineBreakInCommand,
}

/// Decodes ESL messages and encodes commands.
#[derive(Debug, Default)]
pub struct EslCodec {
    /// Headers already read whose body is still arriving.
    pending: Option<(Vec<(String, String)>, usize)>,
}

/// Index just past the empty line that closes the header block, if it has arrived.
fn headers_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    loop {
        let at = start + buf.get(start..)?.iter().position(|b| *b == b'\n')?;
        let line = &buf[start..at];
        if line.is_empty() || line == b"\r" {
            return Some(at + 1);
        }
        start = at + 1;
    }
}

fn parse_headers(block: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(block)
        .lines()
        .filter_map(|line| {
            let (k, v) = line.trim_end_matches('\r').split_once(':')?;
            Some((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn content_length(headers: &[(String, String)]) -> Result<usize, EslCodecError> {
    match headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
    {
        None => Ok(0),
        Some((_, v)) => {
            let n: usize = v.parse().map_err(|_| EslCodecError::BadLength(v.clone()))?;
            if n > MAX_MESSAGE_BYTES {
                return Err(EslCodecError::TooLong);
            }
            Ok(n)
        }
    }
}

impl Decoder for EslCodec {
    type Item = EslMessage;
    type Error = EslCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<EslMessage>, EslCodecError> {
        if self.pending.is_none() {
            // Stray empty lines between messages carry nothing.
            while buf.first() == Some(&b'\n') || buf.starts_with(b"\r\n") {
                let width = if buf[0] == b'\n' { 1 } else { 2 };
                buf.advance(width);
            }
            let Some(end) = headers_end(buf) else {
                return if buf.len() > MAX_MESSAGE_BYTES {
                    Err(EslCodecError::TooLong)
                } else {
                    Ok(None)
                };
            };
            let headers = parse_headers(&buf.split_to(end));
            let length = content_length(&headers)?;
            self.pending = Some((headers, length));
        }
        let Some((_, length)) = &self.pending else {
            return Ok(None);
        };
        if buf.len() < *length {
            buf.reserve(*length - buf.len());
            return Ok(None);
        }
        let body = buf.split_to(*length).freeze();
        let (headers, _) = self.pending.take().unwrap_or_default();
        Ok(Some(EslMessage { headers, body }))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<EslMessage>, EslCodecError> {
        match self.decode(buf)? {
            Some(message) => Ok(Some(message)),
            None if self.pending.is_none() && buf.iter().all(u8::is_ascii_whitespace) => Ok(None),
            None => Err(EslCodecError::Truncated),
        }
    }
}

/// A command line such as `auth …`, `event json …` or `bgapi originate …`.
impl Encoder<&str> for EslCodec {
    type Error = EslCodecError;

    fn encode(&mut self, command: &str, dst: &mut BytesMut) -> Result<(), EslCodecError> {
        if command.contains(['\r', '\n']) {
            return Err(EslCodecError::LineBreakInCommand);
        }
        dst.put_slice(command.as_bytes());
        dst.put_slice(b"\n\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> Vec<u8> {
        format!(
            "Content-Length: {}\nContent-Type: text/event-json\n\n{json}",
            json.len()
        )
        .into_bytes()
    }

    fn decode_all(codec: &mut EslCodec, buf: &mut BytesMut) -> Vec<EslMessage> {
        std::iter::from_fn(|| codec.decode(buf).unwrap()).collect()
    }

    #[test]
    fn a_header_only_message_needs_no_body() {
        let mut buf = BytesMut::from(&b"Content-Type: auth/request\n\n"[..]);
        let m = EslCodec::default().decode(&mut buf).unwrap().unwrap();
        assert_eq!(m.content_type(), Some("auth/request"));
        assert!(m.body.is_empty());
    }

    #[test]
    fn a_body_is_read_to_its_content_length_even_across_reads() {
        let raw = event(r#"{"Event-Name":"CHANNEL_CREATE"}"#);
        let mut codec = EslCodec::default();
        let mut buf = BytesMut::new();
        for (i, byte) in raw.iter().enumerate() {
            buf.put_u8(*byte);
            let got = codec.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i == raw.len() - 1, "byte {i}");
            if let Some(m) = got {
                assert_eq!(m.body_text(), r#"{"Event-Name":"CHANNEL_CREATE"}"#);
            }
        }
    }

    #[test]
    fn several_messages_in_one_read_come_out_in_order() {
        let reply = b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n".to_vec();
        let raw = [event("{\"n\":1}"), reply, event("{\"n\":2}")].concat();
        let mut buf = BytesMut::from(raw.as_slice());
        let all = decode_all(&mut EslCodec::default(), &mut buf);
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].reply_text(), Some("+OK accepted"));
        assert_eq!(all[2].body_text(), "{\"n\":2}");
    }

    #[test]
    fn a_connection_dropped_mid_body_is_an_error_not_a_message() {
        let raw = event(r#"{"Event-Name":"CHANNEL_ANSWER"}"#);
        let mut codec = EslCodec::default();
        let mut buf = BytesMut::from(&raw[..raw.len() - 5]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(EslCodecError::Truncated)
        ));
    }

    #[test]
    fn a_connection_dropped_mid_headers_is_an_error() {
        let mut codec = EslCodec::default();
        let mut buf = BytesMut::from(&b"Content-Type: text/ev"[..]);
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(EslCodecError::Truncated)
        ));
    }

    #[test]
    fn an_absurd_content_length_is_refused() {
        let mut buf = BytesMut::from(&b"Content-Length: 99999999999\n\n"[..]);
        assert!(EslCodec::default().decode(&mut buf).is_err());
        let mut buf = BytesMut::from(&b"Content-Length: twelve\n\n"[..]);
        assert!(matches!(
            EslCodec::default().decode(&mut buf),
            Err(EslCodecError::BadLength(_))
        ));
    }

    #[test]
    fn commands_end_with_an_empty_line_and_refuse_line_breaks() {
        let mut out = BytesMut::new();
        EslCodec::default()
            .encode("auth ClueCon", &mut out)
            .unwrap();
        assert_eq!(&out[..], b"auth ClueCon\n\n");
        assert!(
            EslCodec::default()
                .encode("auth x\n\napi shutdown", &mut BytesMut::new())
                .is_err()
        );
    }
}
