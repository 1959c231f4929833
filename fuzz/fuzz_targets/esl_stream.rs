//! The FreeSWITCH event socket stream as the connector reads it: arbitrary bytes, delivered in
//! reads of a size the input chooses, decoded into messages; `text/event-json` bodies are
//! translated into raw call events and fed to the normalizer. Nothing may panic and no trigger
//! may go out twice.
#![no_main]

use chrono::TimeDelta;
use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::freeswitch;
use ringhook::pbx::esl_codec::{EslCodec, EslMessage};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;

fn feed(message: &EslMessage, calls: &mut ringhook_fuzz::Calls) {
    if message.content_type() != Some("text/event-json") {
        return;
    }
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&message.body) else {
        return;
    };
    for raw in freeswitch::translate(&event) {
        calls.apply(&raw, ringhook_fuzz::base_time());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&read_size, stream)) = data.split_first() else {
        return;
    };
    let mut codec = EslCodec::default();
    let mut calls = ringhook_fuzz::Calls::new(SourceKind::Freeswitch);
    let mut buf = BytesMut::new();
    for chunk in stream.chunks(usize::from(read_size.max(1))) {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(message)) => feed(&message, &mut calls),
                Ok(None) => break,
                // The connector drops the connection on a framing error.
                Err(_) => return,
            }
        }
    }
    while let Ok(Some(message)) = codec.decode_eof(&mut buf) {
        feed(&message, &mut calls);
    }
    calls.settle_all(ringhook_fuzz::base_time() + TimeDelta::days(1));
});
