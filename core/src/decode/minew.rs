//! Minew E9 sensor beacons, temperature frame (service data 0xFFE1, 11 bytes after the UUID:
//! frame type 0xA1, version 0x13), as ble_monitor's `minew.py` reads it (its commit d50207c8;
//! layout from reelyActive's advlib-ble-services): `0xA1 | 0x13 | battery % | temperature i16
//! BE /256 °C (rounded to 0.01) | MAC[6]`. Minew's other frames under 0xA1 (info,
//! acceleration, TVOC…) are not claimed, as ble_monitor ignores them.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "minew",
    variants: &[],
    manufacturer: "Minew",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0xFFE1], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0xFFE1, d @ [0xA1, 0x13, ..]) if d.len() == 11 => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let Some(&[battery, t0, t1]) = claim.payload.get(2..5) else {
        return Err(DecodeError::Truncated);
    };
    out.model = "E9";
    out.firmware = "Minew";
    out.float(
        &field::TEMPERATURE,
        py_round(i16::from_be_bytes([t0, t1]) as f64 / 256.0, 2),
    );
    out.int(&field::BATTERY, battery as i64);
    Ok(())
}
