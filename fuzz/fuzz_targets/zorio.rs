//! Zorio webhook bodies, with the headers a delivery carries besides its signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringhook::domain::SourceKind;
use ringhook::ingest::Headers;

fuzz_target!(|body: &[u8]| {
    let headers = Headers::new([
        ("content-type", "application/json"),
        ("x-zorio-event", "pbx.call.hangup"),
        ("x-zorio-delivery", "dlv-fuzz-1"),
    ]);
    ringhook_fuzz::parse_and_normalize(SourceKind::Zorio, &headers, body);
});
