//! Capture files: replay (btsnoop, `hcidump -R` text, hex text) and btsnoop recording.

pub mod btsnoop;
pub mod reader;

pub use reader::{open, CaptureError, Kind, Packet, Reader, ACCEPTED};
