//! Per-device encryption keys, with the AES key schedule expanded once at load time so no frame
//! pays for it.

use aes::cipher::KeyInit;
use aes::Aes128;
use ccm::aead::generic_array::GenericArray;
use ccm::aead::AeadInPlace;
use ccm::consts::{U11, U12, U13, U4};
use ccm::Ccm;

use crate::addr::{Addr, AddrMap};

/// Bytes MiBeacon v2/v3 legacy keys need inserted after byte 6 to make the 16-byte AES key.
/// bleparser takes 12-byte keys; xiaomi-ble prints the 16-byte form with these bytes in.
pub const LEGACY_KEY_FILLER: [u8; 4] = [0x8d, 0x3d, 0x3c, 0x97];

/// A configured key.
#[derive(Clone)]
pub struct DeviceKey {
    /// The 16-byte AES key (legacy 12-byte keys already expanded with the filler).
    pub key: [u8; 16],
    /// Length as configured: 12 (legacy MiBeacon) or 16.
    pub configured_len: u8,
    /// Expanded AES-128 schedule, cloned into a CCM instance per frame (a 176-byte copy,
    /// far cheaper than re-expanding).
    pub aes: Aes128,
    /// AES-CCM with a 4-byte MIC and 12-byte nonce (MiBeacon v4/v5), built once: `Ccm` owns its
    /// cipher, and cloning the schedule per frame cost more than the decryption itself.
    pub ccm12: Ccm<Aes128, U4, U12>,
    /// AES-CCM with a 4-byte MIC and 13-byte nonce (BTHome, pvvx).
    pub ccm13: Ccm<Aes128, U4, U13>,
}

impl core::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // Never print key material.
        write!(f, "DeviceKey({} bytes, redacted)", self.configured_len)
    }
}

/// Why a key string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The MAC part is not an address; holds the text only when it cannot be key material
    /// (see [`mac_for_message`]).
    BadMac(String),
    /// A `--key` argument without `=` (the whole argument may be a key, so it is not kept).
    NoSeparator,
    /// Not 32 hex digits (or 24 for a legacy MiBeacon key).
    BadKey {
        mac: String,
        len: usize,
    },
    NotHex {
        mac: String,
    },
}

impl core::fmt::Display for KeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyError::BadMac(m) => write!(f, "invalid MAC address {m} (expected AA:BB:CC:DD:EE:FF)"),
            KeyError::NoSeparator => f.write_str(
                "expected MAC=HEX, e.g. A4:C1:38:00:00:01=<32 hex digits> (the argument is not shown: it may hold a key)",
            ),
            KeyError::BadKey { mac, len } => write!(
                f,
                "key for {mac} has {len} hex digits; expected 32 (or 24 for a legacy MiBeacon v2/v3 key)"
            ),
            KeyError::NotHex { mac } => write!(f, "key for {mac} is not hexadecimal"),
        }
    }
}

impl std::error::Error for KeyError {}

/// How a MAC text that failed to parse is shown in an error: quoted when it is short and made of
/// hex digits and separators (a mistyped address), otherwise only its length, because users
/// paste keys into MAC fields and `MAC:KEY` / `MAC KEY` for `MAC=KEY`.
pub fn mac_for_message(text: &str) -> String {
    let t = text.trim();
    let mac_like = t.len() <= 17
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '-');
    if mac_like {
        format!("{t:?}")
    } else {
        format!(
            "({} characters, not shown: it may hold a key)",
            t.chars().count()
        )
    }
}

impl DeviceKey {
    /// AES-CCM with a 4-byte MIC (the `ccm` crate): verifies and decrypts `buf` in place;
    /// `nonce` is 11, 12 or 13 bytes. False on any mismatch. 12- and 13-byte nonces use the
    /// prebuilt instances: building one per frame copies the 176-byte AES schedule.
    pub fn ccm_open(&self, nonce: &[u8], aad: &[u8], buf: &mut [u8], mic: &[u8]) -> bool {
        if mic.len() != 4 {
            return false;
        }
        let t = GenericArray::from_slice(mic);
        match nonce.len() {
            11 => {
                let c: Ccm<Aes128, U4, U11> = Ccm::from(self.aes.clone());
                c.decrypt_in_place_detached(GenericArray::from_slice(nonce), aad, buf, t)
                    .is_ok()
            }
            12 => self
                .ccm12
                .decrypt_in_place_detached(GenericArray::from_slice(nonce), aad, buf, t)
                .is_ok(),
            13 => self
                .ccm13
                .decrypt_in_place_detached(GenericArray::from_slice(nonce), aad, buf, t)
                .is_ok(),
            _ => false,
        }
    }

    /// Parses 32 hex digits, or 24 for a legacy MiBeacon key (expanded with the filler).
    /// `mac` is only used in error messages.
    pub fn parse_hex(mac: &str, hex: &str) -> Result<DeviceKey, KeyError> {
        let hex = hex.trim();
        let n = hex.len();
        if n != 32 && n != 24 {
            return Err(KeyError::BadKey {
                mac: mac.to_string(),
                len: n,
            });
        }
        let mut raw = [0u8; 16];
        for (i, b) in raw.iter_mut().enumerate().take(n / 2) {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16).map_err(
                |_| KeyError::NotHex {
                    mac: mac.to_string(),
                },
            )?;
        }
        let key = if n == 24 {
            let mut k = [0u8; 16];
            k[..6].copy_from_slice(&raw[..6]);
            k[6..10].copy_from_slice(&LEGACY_KEY_FILLER);
            k[10..].copy_from_slice(&raw[6..12]);
            k
        } else {
            raw
        };
        let aes = Aes128::new(&key.into());
        Ok(DeviceKey {
            key,
            configured_len: (n / 2) as u8,
            ccm12: Ccm::from(aes.clone()),
            ccm13: Ccm::from(aes.clone()),
            aes,
        })
    }
}

/// Keys by device address.
#[derive(Default, Clone, Debug)]
pub struct KeyStore {
    map: AddrMap<DeviceKey>,
}

impl KeyStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `MAC=HEX` style input; errors name the offending part.
    pub fn insert_str(&mut self, mac: &str, hex: &str) -> Result<(), KeyError> {
        let addr = Addr::parse(mac.trim()).ok_or_else(|| KeyError::BadMac(mac_for_message(mac)))?;
        let k = DeviceKey::parse_hex(mac, hex)?;
        self.map.insert(addr, k);
        Ok(())
    }

    /// Parses a `--key MAC=HEX` argument.
    pub fn insert_arg(&mut self, arg: &str) -> Result<(), KeyError> {
        match arg.split_once('=') {
            Some((m, k)) => self.insert_str(m, k),
            None => Err(KeyError::NoSeparator),
        }
    }

    pub fn insert(&mut self, addr: Addr, key: DeviceKey) {
        self.map.insert(addr, key);
    }

    pub fn get(&self, addr: &Addr) -> Option<&DeviceKey> {
        self.map.get(addr)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn contains(&self, addr: &Addr) -> bool {
        self.map.contains_key(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_key_expands() {
        let k = DeviceKey::parse_hex("x", "b853075158487ca39a5b5ea9").unwrap();
        assert_eq!(k.configured_len, 12);
        assert_eq!(
            k.key,
            [
                0xb8, 0x53, 0x07, 0x51, 0x58, 0x48, 0x8d, 0x3d, 0x3c, 0x97, 0x7c, 0xa3, 0x9a, 0x5b,
                0x5e, 0xa9
            ]
        );
    }

    #[test]
    fn bad_keys_are_errors() {
        let mut s = KeyStore::new();
        assert!(matches!(
            s.insert_arg("A4:C1:38:00:00:01=abcd"),
            Err(KeyError::BadKey { len: 4, .. })
        ));
        assert!(matches!(
            s.insert_arg("A4:C1:38:00:00:01=zz3d3c97b853075158487ca39a5b5ea9"),
            Err(KeyError::NotHex { .. })
        ));
        assert!(matches!(
            s.insert_arg("A4:C1:38:00:00=e85feb8d3d3c97b853075158487ca39a"),
            Err(KeyError::BadMac(_))
        ));
        assert!(matches!(s.insert_arg("nokey"), Err(KeyError::NoSeparator)));
        assert!(s
            .insert_arg("A4:C1:38:00:00:01=e85feb8d3d3c97b853075158487ca39a")
            .is_ok());
        assert_eq!(s.len(), 1);
        // Debug never shows the key.
        let d = format!("{:?}", s);
        assert!(!d.contains("e85feb"));
    }
}
