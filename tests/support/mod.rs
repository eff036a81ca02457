//! What the integration tests share, one of each: the hex parser, the AD-structure and
//! advertising-report builders (reports go through [`hci2mqtt_core::hci::event::Report::emit`],
//! beside the parser's field offsets), the corpus vector schema and how a vector runs through
//! the pipeline, the value comparison, the counting allocator and the seeded PRNG.
//!
//! A test file takes it with `mod support;`; not every file uses every part.
#![allow(dead_code)]

pub mod ad;
pub mod alloc;
pub mod compare;
pub mod hex;
pub mod rng;
pub mod vectors;
