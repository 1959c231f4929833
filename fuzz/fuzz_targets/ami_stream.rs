//! The Asterisk Manager Interface stream as the connector reads it: arbitrary bytes, delivered
//! in reads of a size the input chooses, decoded into frames, translated into raw call events
//! and fed to the normalizer. Nothing may panic and no trigger may go out twice.
#![no_main]

use chrono::TimeDelta;
use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::asterisk::AmiTranslator;
use ringhook::pbx::ami_codec::{AmiCodec, AmiFrame};
use tokio_util::bytes::BytesMut;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&read_size, stream)) = data.split_first() else {
        return;
    };
    let now = ringhook_fuzz::base_time();
    let mut codec = AmiCodec::default();
    let mut translator = AmiTranslator::new();
    let mut calls = ringhook_fuzz::Calls::new(SourceKind::Asterisk);
    let mut buf = BytesMut::new();
    let mut feed = |frame: AmiFrame, calls: &mut ringhook_fuzz::Calls| {
        if let AmiFrame::Message(message) = frame {
            for event in translator.translate(&message) {
                calls.apply(&event, now);
            }
        }
    };
    for chunk in stream.chunks(usize::from(read_size.max(1))) {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => feed(frame, &mut calls),
                Ok(None) => break,
                // The connector drops the connection on a framing error.
                Err(_) => return,
            }
        }
    }
    while let Ok(Some(frame)) = codec.decode_eof(&mut buf) {
        feed(frame, &mut calls);
    }
    calls.settle_all(now + TimeDelta::days(1));
});
