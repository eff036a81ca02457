//! Capture files: replay (btsnoop, `hcidump -R` text, hex text) and btsnoop recording.

pub mod btsnoop;
