//! Devices no format decodes, reported raw so a user can ask for their format (ble_monitor's
//! `report_unknown`, Theengs' `publish_all`). Opt-in (`[mqtt] publish_unknown = true`, and
//! `hci2mqtt scan --raw` prints the same JSON): one line per device naming its address, its
//! address type, RSSI and every AD structure as hex.
//!
//! A flat full of phones must not flood the broker, so [`Limiter`] lets a device through at
//! most once per [`Limiter::PER_DEVICE`] and all devices together once per
//! [`Limiter::ANY`], remembering at most [`Limiter::MAX_DEVICES`] addresses; the messages
//! are never retained.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::addr::{Addr, AddrHashBuilder, AddrMap};
use crate::adv::{self, ad_type};

/// Whether the AD data carries anything a format could decode (service or manufacturer data):
/// an advert of flags and a name is nothing to ask a decoder for.
pub fn worth_reporting(data: &[u8]) -> bool {
    adv::structures(data).valid().any(|s| {
        matches!(
            s.ad_type,
            ad_type::MANUFACTURER | ad_type::SERVICE_DATA16 | 0x20 | 0x21
        )
    })
}

/// The JSON line of one undecodable advert: `{"mac", "address_type", "rssi", "ad": [{"type",
/// "data"}]}`, types and data in lower-case hex, structures in their order on the air.
pub fn json(addr: &Addr, addr_type: u8, rssi: Option<i8>, data: &[u8]) -> Vec<u8> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let ad: Vec<_> = adv::structures(data)
        .valid()
        .map(|s| json!({ "type": format!("{:02x}", s.ad_type), "data": hex(s.payload) }))
        .collect();
    let kind = match addr_type {
        0 => "public",
        1 => "random",
        2 => "public identity",
        3 => "random identity",
        _ => "other",
    };
    serde_json::to_vec(&json!({
        "mac": addr.to_string(),
        "address_type": kind,
        "rssi": rssi,
        "ad": ad,
    }))
    .unwrap_or_default()
}

/// Rate limit and bound for unknown-device reports (time passed in).
pub struct Limiter {
    last: AddrMap<Instant>,
    next_any: Option<Instant>,
    /// Reports refused by the limits.
    pub limited: u64,
}

impl Limiter {
    /// One report per device at most this often.
    pub const PER_DEVICE: Duration = Duration::from_secs(300);
    /// One report of any device at most this often.
    pub const ANY: Duration = Duration::from_secs(1);
    /// Addresses remembered; beyond it the table starts over (the per-device limit then
    /// lets a device through early, the global one still holds).
    pub const MAX_DEVICES: usize = 256;

    pub fn new(hash_key: u64) -> Limiter {
        Limiter {
            last: AddrMap::with_hasher(AddrHashBuilder::with_key(hash_key)),
            next_any: None,
            limited: 0,
        }
    }

    /// Whether `addr` may be reported now (and if so, counts it as reported).
    pub fn allow(&mut self, addr: &Addr, now: Instant) -> bool {
        let recent = self
            .last
            .get(addr)
            .is_some_and(|t| now.saturating_duration_since(*t) < Self::PER_DEVICE);
        if recent || self.next_any.is_some_and(|t| now < t) {
            self.limited += 1;
            return false;
        }
        if self.last.len() >= Self::MAX_DEVICES && !self.last.contains_key(addr) {
            self.last.clear();
        }
        self.last.insert(*addr, now);
        self.next_any = Some(now + Self::ANY);
        true
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_every_structure_as_hex() {
        let a = Addr([0x5A, 0x22, 0x33, 0x44, 0x55, 0x66]);
        let data = [0x02, 0x01, 0x06, 0x05, 0xFF, 0x34, 0x12, 0xAB, 0xCD];
        let j: serde_json::Value = serde_json::from_slice(&json(&a, 1, Some(-70), &data)).unwrap();
        assert_eq!(j["mac"], "5A:22:33:44:55:66");
        assert_eq!(j["address_type"], "random");
        assert_eq!(j["rssi"], -70);
        assert_eq!(j["ad"][0]["type"], "01");
        assert_eq!(j["ad"][1], json!({"type": "ff", "data": "3412abcd"}));
        assert!(worth_reporting(&data));
        assert!(!worth_reporting(&data[..3]), "flags alone");
    }

    #[test]
    fn limited_per_device_and_overall_and_bounded() {
        let t0 = Instant::now();
        let mut l = Limiter::new(1);
        let a = Addr([1; 6]);
        let b = Addr([2; 6]);
        assert!(l.allow(&a, t0));
        assert!(!l.allow(&b, t0), "one report a second overall");
        assert!(l.allow(&b, t0 + Duration::from_secs(1)));
        assert!(
            !l.allow(&a, t0 + Duration::from_secs(60)),
            "a again within 5 min"
        );
        assert!(l.allow(&a, t0 + Limiter::PER_DEVICE));
        let mut t = t0 + Duration::from_secs(1000);
        for i in 0..1000u32 {
            let b = i.to_be_bytes();
            assert!(l.allow(&Addr([9, 9, b[0], b[1], b[2], b[3]]), t));
            assert!(l.len() <= Limiter::MAX_DEVICES);
            t += Limiter::ANY;
        }
        assert_eq!(l.limited, 2);
    }
}
