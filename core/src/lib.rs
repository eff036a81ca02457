//! hci2mqtt's core: bytes and time in, readings and publish actions out. No sockets, clocks,
//! threads or OS entropy: the binary crate's event loop moves bytes and `Instant`s into it.
//!
//! The data path, one module per stage:
//! * [`hci`]: HCI wire views (events, advertising reports, commands), the H4 deframer and the
//!   scan set-up state machine.
//! * [`addr`]: device addresses and the maps keyed by them.
//! * [`adv`]: AD structures inside a report.
//! * [`decode`]: sensor formats, one file each, behind one table; keys.
//! * [`devices`]: bounded per-device state (duplicates, replay protection).
//! * [`pipeline`]: ties them together: events in, one outcome per report out to a [`Sink`].
//! * [`publish`]: what to publish over MQTT (state merge, discovery, outbox).
//! * [`output`]: JSON lines.

pub mod addr;
pub mod adv;
pub mod decode;
pub mod devices;
pub mod hci;
pub mod names;
pub mod output;
pub mod pipeline;
pub mod publish;

pub use decode::Reading;
pub use pipeline::{Outcome, Pipeline, Seen, Sink, Stats};
