//! Any file content into the capture readers (format detection included), and into the bug
//! report zip reader when it starts like a zip.
#![no_main]
use hci2mqtt::capture::{zip, Reader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.starts_with(zip::MAGIC) {
        if let Ok(log) = zip::btsnoop_log(&mut std::io::Cursor::new(data)) {
            if let Ok(mut r) = Reader::new(&log[..]) {
                while let Some(Ok(_)) = r.next_packet() {}
            }
        }
        return;
    }
    if let Ok(mut r) = Reader::new(data) {
        while let Some(p) = r.next_packet() {
            if p.is_err() {
                break;
            }
        }
    }
});
