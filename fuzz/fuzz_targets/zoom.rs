//! Zoom Phone webhook bodies (call events, history, voicemail, transfers, url_validation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::Headers;

fuzz_target!(|body: &[u8]| {
    let headers = Headers::new([("content-type", "application/json")]);
    ringhook_fuzz::parse_and_normalize(SourceKind::Zoom, &headers, body);
});
