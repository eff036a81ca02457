//! Tilt hydrometers: an Apple iBeacon (25-byte payload) whose UUID is one of Tilt's eight
//! colours (`A495BBx0-C5B1-4B44-B512-1370F02D74DE`, x = 1…8), as ble_monitor's `tilt.py`
//! reads it: major = temperature in °F (published in °C), minor = specific gravity × 1000.
//! The tracker values (major, minor, measured power) are published too, as for any iBeacon.
//! Goes before the iBeacon format in the table.

use super::ibeacon::{MAJOR, MEASURED_POWER, MINOR};
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "tilt",
    variants: &[],
    manufacturer: "Tilt",
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[LEN]),
            apple: true,
            needs: Needs::Nothing,
        },
        claim,
    ),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    GRAVITY = "gravity", "SG", "", "measurement", Sensor, false;
}

const LEN: usize = 25;
/// Models by the colour nibble of UUID byte 3.
const COLOURS: [&str; 8] = [
    "Tilt Red",
    "Tilt Green",
    "Tilt Black",
    "Tilt Purple",
    "Tilt Orange",
    "Tilt Blue",
    "Tilt Yellow",
    "Tilt Pink",
];

/// Apple's company id, the iBeacon prefix, then the UUID with the colour byte at index 7.
const HEAD: [u8; 20] = [
    0x4C, 0x00, 0x02, 0x15, 0xA4, 0x95, 0xBB, 0x00, 0xC5, 0xB1, 0x4B, 0x44, 0xB5, 0x12, 0x13, 0x70,
    0xF0, 0x2D, 0x74, 0xDE,
];

fn colour(p: &[u8]) -> Option<&'static str> {
    let c = *p.get(7)?;
    if c & 0x0F != 0 || p.get(..7)? != &HEAD[..7] || p.get(8..20)? != &HEAD[8..] {
        return None;
    }
    COLOURS.get((c >> 4).checked_sub(1)? as usize).copied()
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.ad_type == adv::ad_type::MANUFACTURER && p.len() == LEN && colour(p).is_some())
        .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    out.model = colour(p).ok_or(DecodeError::Malformed("not a Tilt UUID"))?;
    let Some(&[a, b, c, d, power]) = p.get(20..25) else {
        return Err(DecodeError::Truncated);
    };
    out.firmware = "Tilt";
    let major = i16::from_be_bytes([a, b]);
    let minor = i16::from_be_bytes([c, d]);
    out.float(&field::TEMPERATURE, (major as f64 - 32.0) * 5.0 / 9.0);
    out.float(&GRAVITY, minor as f64 / 1000.0);
    out.int(&MAJOR, major as i64);
    out.int(&MINOR, minor as i64);
    out.int(&MEASURED_POWER, power as i8 as i64);
    Ok(())
}
