//! UNI-T UT363BT anemometers (manufacturer data 0xBBAA, 19 bytes), as ble_monitor's `uni_t.py`
//! reads them (its commit ab787018): payload bytes 3..14 are ASCII, `<speed>M/S<unit code>`
//! (`  2.75M/S50`), the code giving the displayed unit (40 m/s, 50 km/h, 60 ft/min, 70 kt,
//! 80 mph, 90 ft/s; others taken as m/s), converted to m/s and rounded to 0.01; then the
//! temperature u16 LE /10 °C. Text that does not parse is not claimed, as ble_monitor drops it.
//!
//! Strings as ble_monitor writes them (`type` "UNI‑T" with a non-breaking hyphen, `firmware`
//! "UT363BT"). Deviation: ble_monitor's `packet` is payload byte 1, the company id's high byte
//! (always 0xBB), which would make every frame after the first a duplicate; none is published.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "uni-t",
    variants: &[],
    manufacturer: "UNI-T",
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xBBAA], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    WIND_SPEED = "wind_speed", "m/s", "wind_speed", "measurement", Sensor, false;
}

const LEN: usize = 19;

/// The wind speed in m/s from the display text.
fn speed(txt: &[u8]) -> Option<f64> {
    let txt = core::str::from_utf8(txt).ok()?;
    let (value, code) = txt.split_once("M/S")?;
    let factor = match code.trim().parse::<u32>().ok()? {
        50 => 1.0 / 3.6,
        60 => 0.00508,
        70 => 0.514444,
        80 => 0.44704,
        90 => 0.3048,
        _ => 1.0,
    };
    let v = value.trim().parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some(py_round(v * factor, 2))
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0xBBAA && p.len() == LEN && speed(&p[3..14]).is_some())
        .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let v = speed(&p[3..14]).ok_or(DecodeError::Malformed("UNI-T speed text"))?;
    out.model = "UNI‑T";
    out.firmware = "UT363BT";
    out.float(&WIND_SPEED, v);
    out.float(
        &field::TEMPERATURE,
        u16::from_le_bytes([p[14], p[15]]) as f64 / 10.0,
    );
    Ok(())
}
