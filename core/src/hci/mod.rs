//! Host Controller Interface on the wire: event views, command encoding, H4 framing, the
//! scan set-up state machine and the kernel management messages that let the kernel scan for
//! us. The transports that carry these bytes live in the binary.

pub mod command;
pub mod event;
pub mod h4;
pub mod mgmt;
pub mod scan;
