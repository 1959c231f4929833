//! Kazoo webhook bodies in its default form encoding (`custom_channel_vars[Key]=…`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::Headers;

fuzz_target!(|body: &[u8]| {
    let headers = Headers::new([("content-type", "application/x-www-form-urlencoded")]);
    ringhook_fuzz::parse_and_normalize(SourceKind::Kazoo, &headers, body);
});
