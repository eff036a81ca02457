//! Kegtron KT-100 / KT-200 keg monitors (manufacturer data 0xFFFF, 29 bytes), as kegtron-ble
//! (Home Assistant's library) reads them. From payload byte 2, big-endian: `keg size u16 mL |
//! volume start u16 mL | volume dispensed u16 mL | port byte | port name (20 bytes, NUL-padded
//! UTF-8)`. Port byte: bit 0 configured, bit 4 second port, bit 6 dual-port device (the KT-200).
//!
//! Keys are kegtron-ble's: `port count`, `keg size` (L), `keg type` (the size's name),
//! `volume start`, `volume dispensed`, `port state`; a KT-200 reports each port as its own
//! device there, so here its keys end in ` port 1` / ` port 2` (`port count` excepted).
//!
//! 0xFFFF is the "no company" id many devices use, so besides the length the claim requires the
//! port name field to be UTF-8, as kegtron-ble decodes it (it raises on anything else). Deviations (see `tests/vectors.rs`): the port name is not
//! published (a reading holds static text only, and it is the user's label, not a
//! measurement); a keg size outside the table is `Other` (kegtron-ble appends the size in
//! litres to the text).

use super::{Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "kegtron",
    variants: &[],
    manufacturer: "Kegtron",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS, PORT_FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xFFFF], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    PORT_COUNT = "port count", "", "", "", Text, true;
}

crate::decode::field::repeated! {
    PORT_FIELDS;
    ["", " port 1", " port 2"];
    KEG_SIZE = "keg size", "L", "volume_storage", "measurement", Sensor, false;
    KEG_TYPE = "keg type", "", "", "", Text, false;
    // The keg's content when tapped: stored volume; what flowed out since: a total.
    VOLUME_START = "volume start", "L", "volume_storage", "measurement", Sensor, false;
    VOLUME_DISPENSED = "volume dispensed", "L", "volume", "total", Sensor, false;
    PORT_STATE = "port state", "", "", "", Text, true;
}

const LEN: usize = 29;

/// kegtron-ble's keg types by size (mL).
fn keg_type(ml: u16) -> &'static str {
    match ml {
        9464 => "Half Corny (2.5 gal)",
        18927 => "Corny (5.0 gal)",
        19711 | 19550 | 19558 => "1/6 Barrel (5.167 gal)",
        20000 => "20L (5.283 gal)",
        20457 => "Pin (5.404 gal)",
        29337 => "1/4 Barrel (7.75 gal)",
        40915 => "Firkin (10.809 gal)",
        50000 => "50L (13.209 gal)",
        58674 => "1/2 Barrel (15.5 gal)",
        _ => "Other",
    }
}

/// The port name field: UTF-8 (NUL padded; kegtron-ble decodes the whole field, so a NUL
/// inside the name is accepted too).
fn name_ok(n: &[u8]) -> bool {
    core::str::from_utf8(n).is_ok()
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0xFFFF && p.len() == LEN && name_ok(&p[9..])).then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let u = |o: usize| u16::from_be_bytes([p[o], p[o + 1]]);
    let port = p[8];
    let dual = port & 0x40 != 0;
    // Index into the repeated fields: "" (single port), " port 1", " port 2".
    let n = match (dual, port & 0x10 != 0) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 2,
    };
    out.model = if dual {
        "Kegtron KT-200"
    } else {
        "Kegtron KT-100"
    };
    out.firmware = "Kegtron";
    out.push(
        &PORT_COUNT,
        Value::Text(if dual {
            "Dual port device"
        } else {
            "Single port device"
        }),
    );
    out.float(&KEG_SIZE[n], u(2) as f64 / 1000.0);
    out.push(&KEG_TYPE[n], Value::Text(keg_type(u(2))));
    out.float(&VOLUME_START[n], u(4) as f64 / 1000.0);
    out.float(&VOLUME_DISPENSED[n], u(6) as f64 / 1000.0);
    out.push(
        &PORT_STATE[n],
        Value::Text(if port & 1 != 0 {
            "Configured"
        } else {
            "Unconfigured (new device)"
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::{DeviceMemory, KeyStore};

    /// An unconfigured first port of a KT-200 with a keg size outside the table (no vector
    /// has either).
    #[test]
    fn kt200_port_1_unconfigured() {
        let mut p = vec![0xFF, 0xFF, 0x27, 0x10, 0x13, 0x88, 0x00, 0x64, 0x40];
        p.extend_from_slice(b"Tap 1");
        p.resize(LEN, 0);
        let keys = KeyStore::default();
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let adv = Advert::new(Addr([1, 2, 3, 4, 5, 6]), 0, None, &[]);
        let mut r = Reading::default();
        assert!(claim(
            &AdStructure {
                ad_type: adv::ad_type::MANUFACTURER,
                payload: &p
            },
            &adv
        )
        .is_some());
        assert_eq!(decode(&mut ctx, &adv, Claim::of(&p), &mut r), Ok(()));
        assert_eq!(r.model, "Kegtron KT-200");
        assert_eq!(r.get("port count"), Some(Value::Text("Dual port device")));
        assert_eq!(r.get("keg size port 1"), Some(Value::Float(10.0)));
        assert_eq!(r.get("keg type port 1"), Some(Value::Text("Other")));
        assert_eq!(r.get("volume start port 1"), Some(Value::Float(5.0)));
        assert_eq!(r.get("volume dispensed port 1"), Some(Value::Float(0.1)));
        assert_eq!(
            r.get("port state port 1"),
            Some(Value::Text("Unconfigured (new device)"))
        );
        assert_eq!(r.get("keg size"), None);
    }
}
