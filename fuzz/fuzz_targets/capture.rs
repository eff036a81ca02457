//! Any file content into the capture readers (format detection included).
#![no_main]
use hci2mqtt::capture::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = Reader::new(data) {
        while let Some(p) = r.next_packet() {
            if p.is_err() {
                break;
            }
        }
    }
});
