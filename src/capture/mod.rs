//! Capture files: replay (btsnoop, pcapng, `hcidump -R` text, hex text) and btsnoop recording.

pub mod btsnoop;
pub mod pcapng;
pub mod reader;

pub use reader::{open, CaptureError, Kind, Packet, Reader, ACCEPTED};
