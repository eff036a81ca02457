//! Capture files: replay (btsnoop, hcidump -R, hex text) and btsnoop recording.
