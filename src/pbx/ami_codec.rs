//! Framing of the Asterisk Manager Interface (AMI v2): a one-line banner on connect, then
//! messages of `Key: Value` lines each closed by an empty line, in both directions.
//!
//! Keys may repeat (`ChanVariable`, `Variable`), so a message keeps its lines in order. The
//! decoder never waits for more than [`MAX_MESSAGE_BYTES`]: a peer that sends an endless message
//! is cut off rather than allowed to grow the buffer without bound.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// The largest message accepted; AMI events are a few hundred bytes, CoreShowChannels rows too.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// One AMI message: an event, a response, or an action being sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AmiMessage {
    fields: Vec<(String, String)>,
}

impl AmiMessage {
    /// An action with its `Action` and `ActionID` lines first, as Asterisk expects.
    pub fn action(name: &str, action_id: &str) -> Self {
        AmiMessage::default()
            .with("Action", name)
            .with("ActionID", action_id)
    }

    /// Appends a line (keys may repeat).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.fields.push((key.to_owned(), value.to_owned()));
        self
    }

    /// The first value of `key`, matched case-insensitively (Asterisk is inconsistent about
    /// `ActionID`/`ActionId`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated key, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The event name, for events.
    pub fn event(&self) -> Option<&str> {
        self.get("Event")
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The message as a JSON object (first value of each key), the shape of the recorded
    /// fixtures and of the raw events ringhook stores.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.fields {
            map.entry(k.clone())
                .or_insert_with(|| serde_json::Value::String(v.clone()));
        }
        serde_json::Value::Object(map)
    }

    /// Reads a `{key: value}` JSON object (a recorded fixture) back into a message.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let fields = value
            .as_object()?
            .iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), text)
            })
            .collect();
        Some(AmiMessage { fields })
    }
}

/// What the decoder yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiFrame {
    /// `Asterisk Call Manager/9.0.0`, sent once on connect.
    Banner(String),
    Message(AmiMessage),
}

#[derive(Debug, thiserror::Error)]
pub enum AmiCodecError {
    #[error("AMI connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("AMI message longer than {MAX_MESSAGE_BYTES} bytes")]
    TooLong,
    #[error("AMI connection closed in the middle of a message")]
    Truncated,
    #[error("AMI field {0:?} holds a line break")]
    LineBreakInField(String),
}

/// Decodes AMI frames and encodes actions.
#[derive(Debug)]
pub struct AmiCodec {
    banner_pending: bool,
}

impl Default for AmiCodec {
    fn default() -> Self {
        AmiCodec {
            banner_pending: true,
        }
    }
}

impl AmiCodec {
    /// A codec for a stream whose banner was already read (or that has none).
    pub fn without_banner() -> Self {
        AmiCodec {
            banner_pending: false,
        }
    }
}

/// Position and length of the first line ending (`\r\n` or a bare `\n`) at or after `from`.
fn line_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let at = from + buf.get(from..)?.iter().position(|b| *b == b'\n')?;
    if at > 0 && buf[at - 1] == b'\r' {
        Some((at - 1, 2))
    } else {
        Some((at, 1))
    }
}

/// End of the message starting at 0: the index just past its closing empty line.
fn message_end(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    loop {
        let (end, width) = line_end(buf, start)?;
        if end == start {
            return Some(end + width);
        }
        start = end + width;
    }
}

fn parse_message(block: &[u8]) -> AmiMessage {
    let text = String::from_utf8_lossy(block);
    let fields = text
        .lines()
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty())
        .map(|line| match line.split_once(':') {
            Some((k, v)) => (k.trim().to_owned(), v.trim_start().to_owned()),
            None => (line.trim().to_owned(), String::new()),
        })
        .collect();
    AmiMessage { fields }
}

impl Decoder for AmiCodec {
    type Item = AmiFrame;
    type Error = AmiCodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<AmiFrame>, AmiCodecError> {
        if self.banner_pending {
            let Some((end, width)) = line_end(buf, 0) else {
                return too_long_or_wait(buf);
            };
            let line = String::from_utf8_lossy(&buf[..end]).trim().to_owned();
            buf.advance(end + width);
            self.banner_pending = false;
            return Ok(Some(AmiFrame::Banner(line)));
        }
        // Stray empty lines between messages carry nothing.
        while buf.first() == Some(&b'\n') || buf.starts_with(b"\r\n") {
            let width = if buf[0] == b'\n' { 1 } else { 2 };
            buf.advance(width);
        }
        let Some(end) = message_end(buf) else {
            return too_long_or_wait(buf);
        };
        let block = buf.split_to(end);
        Ok(Some(AmiFrame::Message(parse_message(&block))))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<AmiFrame>, AmiCodecError> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.iter().all(u8::is_ascii_whitespace) => Ok(None),
            None => Err(AmiCodecError::Truncated),
        }
    }
}

fn too_long_or_wait<T>(buf: &BytesMut) -> Result<Option<T>, AmiCodecError> {
    if buf.len() > MAX_MESSAGE_BYTES {
        Err(AmiCodecError::TooLong)
    } else {
        Ok(None)
    }
}

impl Encoder<&AmiMessage> for AmiCodec {
    type Error = AmiCodecError;

    fn encode(&mut self, message: &AmiMessage, dst: &mut BytesMut) -> Result<(), AmiCodecError> {
        for (key, value) in &message.fields {
            if [key, value].iter().any(|s| s.contains(['\r', '\n'])) {
                return Err(AmiCodecError::LineBreakInField(key.clone()));
            }
            dst.put_slice(key.as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(value.as_bytes());
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANNER: &[u8] = b"Asterisk Call Manager/9.0.0\r\n";
    const EVENT: &[u8] = b"Event: Newchannel\r\nChannel: PJSIP/1001-00000001\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n";

    fn decode_all(codec: &mut AmiCodec, buf: &mut BytesMut) -> Vec<AmiFrame> {
        std::iter::from_fn(|| codec.decode(buf).unwrap()).collect()
    }

    #[test]
    fn the_banner_comes_first_then_messages() {
        let mut codec = AmiCodec::default();
        let mut buf = BytesMut::from([BANNER, EVENT].concat().as_slice());
        let frames = decode_all(&mut codec, &mut buf);
        assert_eq!(
            frames[0],
            AmiFrame::Banner("Asterisk Call Manager/9.0.0".into())
        );
        let AmiFrame::Message(m) = &frames[1] else {
            panic!("{frames:?}")
        };
        assert_eq!(m.event(), Some("Newchannel"));
        assert_eq!(m.get("linkedid"), Some("1.1"));
        assert!(buf.is_empty());
    }

    #[test]
    fn a_message_split_across_reads_is_decoded_once_complete() {
        let mut codec = AmiCodec::without_banner();
        let mut buf = BytesMut::new();
        for (i, byte) in EVENT.iter().enumerate() {
            buf.put_u8(*byte);
            let frame = codec.decode(&mut buf).unwrap();
            assert_eq!(frame.is_some(), i == EVENT.len() - 1, "byte {i}");
        }
    }

    #[test]
    fn several_messages_in_one_read_come_out_in_order() {
        let mut codec = AmiCodec::without_banner();
        let second = b"Response: Success\r\nActionID: a1\r\nPing: Pong\r\n\r\n";
        let mut buf = BytesMut::from([EVENT, second, EVENT].concat().as_slice());
        let frames = decode_all(&mut codec, &mut buf);
        assert_eq!(frames.len(), 3);
        let AmiFrame::Message(m) = &frames[1] else {
            panic!()
        };
        assert_eq!(m.get("ActionId"), Some("a1"));
    }

    #[test]
    fn a_connection_dropped_mid_message_is_an_error_not_a_message() {
        let mut codec = AmiCodec::without_banner();
        let mut buf = BytesMut::from(&EVENT[..30]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        assert!(matches!(
            codec.decode_eof(&mut buf),
            Err(AmiCodecError::Truncated)
        ));
    }

    #[test]
    fn a_clean_close_between_messages_ends_the_stream() {
        let mut codec = AmiCodec::without_banner();
        let mut buf = BytesMut::from(EVENT);
        assert!(codec.decode_eof(&mut buf).unwrap().is_some());
        assert!(codec.decode_eof(&mut buf).unwrap().is_none());
    }

    #[test]
    fn bare_newlines_and_repeated_keys_are_read() {
        let mut codec = AmiCodec::without_banner();
        let raw =
            b"Event: Hangup\nChanVariable: A=1\nChanVariable: B=2\nCause-txt: Normal Clearing\n\n";
        let mut buf = BytesMut::from(&raw[..]);
        let Some(AmiFrame::Message(m)) = codec.decode(&mut buf).unwrap() else {
            panic!()
        };
        assert_eq!(m.all("ChanVariable").collect::<Vec<_>>(), ["A=1", "B=2"]);
        assert_eq!(m.get("Cause-txt"), Some("Normal Clearing"));
    }

    #[test]
    fn an_endless_message_is_refused() {
        let mut codec = AmiCodec::without_banner();
        let mut buf = BytesMut::from(vec![b'x'; MAX_MESSAGE_BYTES + 1].as_slice());
        assert!(matches!(
            codec.decode(&mut buf),
            Err(AmiCodecError::TooLong)
        ));
    }

    #[test]
    fn actions_are_encoded_as_crlf_lines_and_refuse_line_breaks() {
        let mut codec = AmiCodec::default();
        let mut out = BytesMut::new();
        let login = AmiMessage::action("Login", "1")
            .with("Username", "ringhook")
            .with("Secret", "s3cret");
        codec.encode(&login, &mut out).unwrap();
        assert_eq!(
            &out[..],
            b"Action: Login\r\nActionID: 1\r\nUsername: ringhook\r\nSecret: s3cret\r\n\r\n"
        );
        let sneaky = AmiMessage::action("Ping", "2").with("X", "a\r\nAction: Logoff");
        assert!(codec.encode(&sneaky, &mut BytesMut::new()).is_err());
    }
}
