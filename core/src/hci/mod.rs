//! Host Controller Interface on the wire: event views, command encoding, H4 framing and the
//! scan set-up state machine. The transports that carry these bytes live in the binary.

pub mod command;
pub mod event;
pub mod h4;
pub mod scan;
