//! The transports that carry HCI bytes to and from the core: the kernel's raw HCI socket (and
//! its management socket, which lets the kernel scan for us), H4 over serial and TCP, and the
//! `--adapter` spec that picks one.

pub mod adapter;
pub mod h4;
pub mod mgmt;
pub mod raw_socket;
