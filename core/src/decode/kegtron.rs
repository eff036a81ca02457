//! Kegtron KT-100 / KT-200 keg monitors (manufacturer data 0xFFFF, 29 bytes), as ble_monitor's
//! `kegtron.py` reads them. From payload byte 2, big-endian: `keg size u16 mL | volume start
//! u16 mL | volume dispensed u16 mL | port byte | port name (20 bytes, NUL-padded UTF-8)`. Port
//! byte: bit 0 configured, bit 4 second port, bit 6 dual-port device (the KT-200).
//!
//! 0xFFFF is the "no company" id many devices use, so besides the length the claim requires the
//! port name to be NUL-padded UTF-8. Deviations (see `tests/vectors.rs`): the port name is not
//! published (a reading holds static text only, and it is the user's label, not a
//! measurement); a keg size outside ble_monitor's table is `Other` (ble_monitor appends the
//! size in litres to the text).

use super::{Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "kegtron",
    variants: &[],
    manufacturer: "Kegtron",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xFFFF], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    KEG_SIZE = "keg size", "", "", "", Text, false;
    // The keg's content when tapped: stored volume; what flowed out since: a total.
    VOLUME_START = "volume start", "L", "volume_storage", "measurement", Sensor, false;
    PORT_STATE = "port state", "", "", "", Text, true;
    PORT_INDEX = "port index", "", "", "", Sensor, true;
    PORT_COUNT = "port count", "", "", "", Text, true;
    VOLUME_DISPENSED_PORT_1 = "volume dispensed port 1", "L", "volume", "total", Sensor, false;
    VOLUME_DISPENSED_PORT_2 = "volume dispensed port 2", "L", "volume", "total", Sensor, false;
}

const LEN: usize = 29;

/// ble_monitor's keg sizes (mL → name).
fn keg_size(ml: u16) -> &'static str {
    match ml {
        9464 => "Half Corny (2.5 gal)",
        18927 => "Corny (5.0 gal)",
        19711 | 19550 => "1/6 Barrel (5.167 gal)",
        20000 => "20L (5.283 gal)",
        20457 => "Pin (5.404 gal)",
        29337 => "1/4 Barrel (7.75 gal)",
        40915 => "Firkin (10.809 gal)",
        50000 => "50L (13.209 gal)",
        58674 => "1/2 Barrel (15.5 gal)",
        _ => "Other",
    }
}

/// The port name field: UTF-8, then only NUL padding.
fn name_ok(n: &[u8]) -> bool {
    let end = n.iter().position(|&b| b == 0).unwrap_or(n.len());
    n[end..].iter().all(|&b| b == 0) && core::str::from_utf8(&n[..end]).is_ok()
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
    let p: &[u8; LEN] = claim
        .payload
        .try_into()
        .map_err(|_| DecodeError::Truncated)?;
    let u = |o: usize| u16::from_be_bytes([p[o], p[o + 1]]);
    let port = p[8];
    let dual = port & 0x40 != 0;
    out.model = if dual {
        "Kegtron KT-200"
    } else {
        "Kegtron KT-100"
    };
    out.firmware = "Kegtron";
    out.push(&KEG_SIZE, Value::Text(keg_size(u(2))));
    out.float(&VOLUME_START, u(4) as f64 / 1000.0);
    out.push(
        &PORT_STATE,
        Value::Text(if port & 1 != 0 {
            "configured"
        } else {
            "unconfigured (new device)"
        }),
    );
    let second = port & 0x10 != 0;
    out.int(&PORT_INDEX, if second { 2 } else { 1 });
    out.push(
        &PORT_COUNT,
        Value::Text(if dual {
            "Dual port device"
        } else {
            "Single port device"
        }),
    );
    let dispensed = if second {
        &VOLUME_DISPENSED_PORT_2
    } else {
        &VOLUME_DISPENSED_PORT_1
    };
    out.float(dispensed, u(6) as f64 / 1000.0);
    Ok(())
}
