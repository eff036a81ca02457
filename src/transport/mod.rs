//! The transports that carry HCI bytes to and from the core: the kernel's raw HCI socket, H4
//! over serial and TCP, and the `--adapter` spec that picks one.

pub mod adapter;
pub mod h4;
pub mod raw_socket;
