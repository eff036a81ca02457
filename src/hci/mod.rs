//! Host Controller Interface: wire views over events, command encoding, transports.

pub mod adapter;
pub mod command;
pub mod event;
pub mod h4;
pub mod scan;
pub mod socket;
