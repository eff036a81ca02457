//! Bluetooth device addresses and the maps keyed by them.

use core::fmt;

/// A Bluetooth device address in display order (most significant byte first),
/// i.e. reversed from the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Addr(pub [u8; 6]);

impl core::hash::Hash for Addr {
    /// One `write_u64`, so [`AddrHasher`] hashes an address in a handful of instructions.
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        let a = self.0;
        state.write_u64(u64::from_le_bytes([
            a[0], a[1], a[2], a[3], a[4], a[5], 0, 0,
        ]));
    }
}

/// Hasher for address-keyed maps: a keyed folded multiply (as in foldhash/ahash's fallback).
/// SipHash cost more than the rest of a report's decoding; the per-process random key keeps
/// crafted address sets (anyone nearby can send them) from forcing collisions cheaply.
#[derive(Clone, Copy, Default)]
pub struct AddrHasher {
    state: u64,
    key: u64,
}

impl core::hash::Hasher for AddrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        let m = ((x ^ self.key ^ self.state) as u128)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15_u128 | (self.key as u128) << 64);
        self.state = (m as u64) ^ ((m >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.state
    }
}

/// The key of maps whose addresses do not come from the air (the key store), and the default
/// of the tables' keys in tests and fuzzing.
pub const FIXED_HASH_KEY: u64 = 0x5eed_0fa1_1b1e_5eed;

/// Builds [`AddrHasher`]s with one key. The core draws no entropy: a table that holds
/// addresses from the air (the device table) gets its key from the binary
/// ([`crate::pipeline::Options::hash_key`]), drawn from the OS once per process.
#[derive(Clone, Copy)]
pub struct AddrHashBuilder {
    key: u64,
}

impl AddrHashBuilder {
    pub const fn with_key(key: u64) -> Self {
        // An odd key keeps the multiply from losing its low bits.
        AddrHashBuilder { key: key | 1 }
    }
}

impl Default for AddrHashBuilder {
    /// A fixed key: for maps whose addresses come from the user (the key store) and tests.
    fn default() -> Self {
        AddrHashBuilder::with_key(FIXED_HASH_KEY)
    }
}

impl core::hash::BuildHasher for AddrHashBuilder {
    type Hasher = AddrHasher;
    fn build_hasher(&self) -> AddrHasher {
        AddrHasher {
            state: 0,
            key: self.key,
        }
    }
}

/// A map keyed by device address.
pub type AddrMap<V> = std::collections::HashMap<Addr, V, AddrHashBuilder>;

impl Addr {
    /// From the little-endian wire order used in HCI.
    ///
    /// One bounds check and six byte moves (an index loop compiles to a check per byte).
    #[inline]
    pub fn from_le(b: &[u8]) -> Addr {
        let b: &[u8; 6] = b[..6].try_into().unwrap_or(&[0; 6]);
        Addr([b[5], b[4], b[3], b[2], b[1], b[0]])
    }
    /// Like [`Addr::from_le`], given the 6 address bytes followed by 2 more bytes of the same
    /// buffer: one 8-byte load and a byte swap instead of six byte moves (a legacy report
    /// always has its data length and RSSI after the address).
    #[inline]
    pub fn from_le_padded(b: &[u8; 8]) -> Addr {
        let be = u64::from_le_bytes(*b).to_be_bytes();
        Addr([be[2], be[3], be[4], be[5], be[6], be[7]])
    }
    /// Little-endian (wire) order, as MiBeacon's nonce uses it.
    ///
    /// Spelled out: `reverse()` compiled to a swap loop (MiBeacon builds a nonce per frame).
    #[inline]
    pub fn to_le(self) -> [u8; 6] {
        let a = self.0;
        [a[5], a[4], a[3], a[2], a[1], a[0]]
    }
    /// Parses `AA:BB:CC:DD:EE:FF`, `AA-BB-…` or 12 bare hex digits.
    pub fn parse(s: &str) -> Option<Addr> {
        let hex: Vec<u8> = s.bytes().filter(|b| *b != b':' && *b != b'-').collect();
        if hex.len() != 12 || (s.len() != 12 && s.len() != 17) {
            return None;
        }
        let mut a = [0u8; 6];
        for i in 0..6 {
            let hi = (hex[2 * i] as char).to_digit(16)?;
            let lo = (hex[2 * i + 1] as char).to_digit(16)?;
            a[i] = (hi * 16 + lo) as u8;
        }
        Some(Addr(a))
    }
    /// 12 lower-case hex digits, as MQTT topics and discovery ids use it.
    pub fn hex12(&self) -> [u8; 12] {
        const H: &[u8; 16] = b"0123456789abcdef";
        let mut o = [0u8; 12];
        for (i, b) in self.0.iter().enumerate() {
            o[2 * i] = H[(b >> 4) as usize];
            o[2 * i + 1] = H[(b & 15) as usize];
        }
        o
    }
    /// `AA:BB:CC:DD:EE:FF` into a stack buffer.
    pub fn colon(&self) -> [u8; 17] {
        const H: &[u8; 16] = b"0123456789ABCDEF";
        let mut o = [b':'; 17];
        for (i, b) in self.0.iter().enumerate() {
            o[3 * i] = H[(b >> 4) as usize];
            o[3 * i + 1] = H[(b & 15) as usize];
        }
        o
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.colon();
        // colon() only produces ASCII.
        f.write_str(core::str::from_utf8(&c).unwrap_or("??:??:??:??:??:??"))
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
