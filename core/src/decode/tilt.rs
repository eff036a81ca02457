//! Tilt hydrometers: an Apple iBeacon (25-byte payload; tilt-ble ignores bytes after it, and
//! so do we) whose UUID is one of Tilt's eight
//! colours (`A495BBx0-C5B1-4B44-B512-1370F02D74DE`, x = 1…8), as tilt-ble (Home Assistant's
//! library) reads it: major = temperature in °F (published in °C), minor = specific gravity ×
//! 1000; a minor of 5000 or more is a Tilt Pro, whose major is 0.1 °F and minor gravity ×
//! 10000 (model `Tilt Pro <colour>`). The iBeacon's major, minor and measured power are not
//! published beside them: they are these values raw. Goes before the iBeacon format in the
//! table.

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
            lens: Prefilter::lens_from(LEN),
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

/// Company id + the 23 bytes tilt-ble reads (it ignores what follows).
const LEN: usize = 25;
/// Models by the colour nibble of UUID byte 3 (the Tilt, then the Tilt Pro).
const COLOURS: [[&str; 8]; 2] = [
    [
        "Tilt Red",
        "Tilt Green",
        "Tilt Black",
        "Tilt Purple",
        "Tilt Orange",
        "Tilt Blue",
        "Tilt Yellow",
        "Tilt Pink",
    ],
    [
        "Tilt Pro Red",
        "Tilt Pro Green",
        "Tilt Pro Black",
        "Tilt Pro Purple",
        "Tilt Pro Orange",
        "Tilt Pro Blue",
        "Tilt Pro Yellow",
        "Tilt Pro Pink",
    ],
];

/// Apple's company id, the iBeacon prefix, then the UUID with the colour byte at index 7.
const HEAD: [u8; 20] = [
    0x4C, 0x00, 0x02, 0x15, 0xA4, 0x95, 0xBB, 0x00, 0xC5, 0xB1, 0x4B, 0x44, 0xB5, 0x12, 0x13, 0x70,
    0xF0, 0x2D, 0x74, 0xDE,
];

/// The colour index (0 = red … 7 = pink) of a Tilt UUID.
fn colour(p: &[u8]) -> Option<usize> {
    let c = *p.get(7)?;
    if c & 0x0F != 0 || p.get(..7)? != &HEAD[..7] || p.get(8..20)? != &HEAD[8..] {
        return None;
    }
    let i = (c >> 4).checked_sub(1)? as usize;
    (i < 8).then_some(i)
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.ad_type == adv::ad_type::MANUFACTURER && p.len() >= LEN && colour(p).is_some())
        .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let c = colour(p).ok_or(DecodeError::Malformed("not a Tilt UUID"))?;
    let Some(&[a, b, c2, d, _power]) = p.get(20..25) else {
        return Err(DecodeError::Truncated);
    };
    out.firmware = "Tilt";
    let major = i16::from_be_bytes([a, b]) as f64;
    let minor = i16::from_be_bytes([c2, d]);
    let pro = minor >= 5000;
    out.model = COLOURS[pro as usize][c];
    let (t_scale, g_scale) = if pro { (10.0, 10000.0) } else { (1.0, 1000.0) };
    out.float(&field::TEMPERATURE, (major / t_scale - 32.0) * 5.0 / 9.0);
    out.float(&GRAVITY, minor as f64 / g_scale);
    Ok(())
}
