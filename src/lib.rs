//! hci2mqtt: Bluetooth LE sensor advertisements → MQTT.
//!
//! Stages, each a module named after what it is:
//! * [`hci`]: HCI wire views (events, reports), commands, transports.
//! * [`adv`]: AD structures inside a report.
//! * [`decode`]: sensor formats, one file each, behind one table.
//! * [`pipeline`]: the sans-IO core tying them together (bytes in → readings out).
//! * [`devices`]: bounded per-device state.
//! * [`output`]: JSON lines.
//! * [`capture`]: btsnoop / hcidump / hex-text replay and btsnoop recording.
//! * [`config`]: the TOML config file.

pub mod adv;
pub mod capture;
pub mod cli;
pub mod config;
pub mod decode;
pub mod devices;
pub mod hci;
pub mod mqtt;
pub mod output;
pub mod pipeline;
pub mod service;

pub use decode::Reading;
pub use pipeline::{Pipeline, Sink, Stats};
pub mod event_loop;
