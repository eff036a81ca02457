//! hci2mqtt, the binary's library: everything that touches the OS around the sans-IO
//! [`hci2mqtt_core`].
//!
//! * [`transport`]: the raw HCI socket, H4 over serial and TCP, adapter specs.
//! * [`sys`]: capabilities (report, drop) and the hash key drawn from OS entropy.
//! * [`event_loop`]: the single-threaded mio loop that moves bytes and time into the core.
//! * [`mqtt`]: the broker session carrying the core's publish actions.
//! * [`service`]: what the event loop drives besides the adapter (the MQTT session).
//! * [`capture`]: replay of btsnoop, pcapng, Android bug report zips, `hcidump -R` and hex
//!   text; btsnoop or pcapng recording.
//! * [`config`]: the TOML config file.
//! * [`cli`]: the `run`, `replay` and `scan` commands and the services `run` builds.

pub mod capture;
pub mod cli;
pub mod config;
pub mod event_loop;
pub mod mqtt;
pub mod service;
pub mod sys;
pub mod transport;
