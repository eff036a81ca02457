//! Host Controller Interface: wire views over events, command encoding, transports.

pub mod event;
pub mod command;
pub mod scan;
pub mod h4;
pub mod socket;
pub mod adapter;
