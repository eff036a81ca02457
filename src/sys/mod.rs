//! The operating system beyond the transports: process capabilities, entropy.

pub mod caps;

/// A key for the core's address-hashed tables, drawn from the OS once per call
/// (std's `RandomState` seeds itself from getrandom).
pub fn hash_key() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0x5eed_u64)
}
