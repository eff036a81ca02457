//! Almendo bluSensor Mini air quality sensors (manufacturer data 0x06E8, at least 18 bytes,
//! protocol version 1, model 0x0A), as ble_monitor's `almendo.py` reads them: from payload
//! byte 8, little-endian, `u8 | temperature i16 /100 °C | humidity u16 /100 % | CO2 equivalent
//! u16 ppm | TVOC u16 | AQI u8`; bytes after those are ignored, as ble_monitor ignores them.
//! Other versions and models are not claimed.

use super::airmentor::AQI;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "almendo",
    variants: &[V1],
    manufacturer: "Almendo",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x06E8], claim),
    decode,
};

const V1: &str = "almendo-v1";
/// The shortest frame (company id included); longer ones are decoded from the same bytes.
const LEN: usize = 18;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0x06E8 && p.len() >= LEN && p[2] == 1 && p[4] == 0x0A)
        .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim
        .payload
        .get(..LEN)
        .and_then(|p| p.try_into().ok())
        .ok_or(DecodeError::Truncated)?;
    let u = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
    out.format = V1;
    out.model = "bluSensor Mini";
    out.firmware = "Almendo V1";
    out.float(&field::TEMPERATURE, u(9) as i16 as f64 / 100.0);
    out.float(&field::HUMIDITY, u(11) as f64 / 100.0);
    out.int(&field::CO2, u(13) as i64);
    out.int(&field::TVOC, u(15) as i64);
    out.int(&AQI, p[17] as i64);
    Ok(())
}
