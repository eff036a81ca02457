//! Amazfit Smart Scale and Mi Band 4/5 (Huami), as ble_monitor's `amazfit.py` reads them. Two
//! table entries:
//!
//! * [`FORMAT`], the scale: service data 0xFEE0 with 20 bytes after the UUID, little-endian
//!   from byte 5: `impedance u16 /10 Ω | weight u16 /200 kg | u8 | u16 | pulse u8`; the two
//!   middle fields both 0 mean "not stabilised yet" (then only the weight so far).
//! * [`FORMAT_BAND`], the band: manufacturer data 0x0157 with 26 bytes, heart rate at byte 5
//!   (0xFF: none); a 4-byte 0xFEE0 service data in the same advert is the step count (u32 LE).

use super::bthome::BTHOME_WEIGHT_UNIT;
use super::mibeacon::fields::HEART_RATE;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "amazfit",
    variants: &[],
    manufacturer: "Amazfit",
    // Heard only while someone stands on it.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[HUAMI], claim),
    decode,
};

/// The Mi Band's manufacturer data; see the module doc.
pub static FORMAT_BAND: Format = Format {
    name: "mi-band",
    variants: &[],
    manufacturer: "Xiaomi",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[BAND_ID], claim_band),
    decode: decode_band,
};

crate::decode::field::fields! {
    FIELDS;
    PULSE = "pulse", "bpm", "", "measurement", Sensor, false;
}

const HUAMI: u16 = 0xFEE0;
const BAND_ID: u16 = 0x0157;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (HUAMI, d) if d.len() == 20 => Some(Claim::of(d)),
        _ => None,
    }
}

fn claim_band<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.manufacturer()?.0 == BAND_ID && s.payload.len() == 26).then(|| Claim::of(s.payload))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d: &[u8; 20] = claim.array()?;
    let u = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]);
    out.model = "Amazfit Smart Scale";
    out.firmware = "Amazfit";
    let kg = u(7) as f64 / 200.0;
    let stable = d[9] != 0 || u(10) != 0;
    out.float(&field::NON_STABILIZED_WEIGHT, kg);
    out.int(&field::STABILIZED, stable as i64);
    out.push(&BTHOME_WEIGHT_UNIT, Value::Text("kg"));
    if stable {
        out.float(&field::WEIGHT, kg);
        out.float(&field::IMPEDANCE, u(5) as f64 / 10.0);
        out.int(&PULSE, d[12] as i64);
    }
    Ok(())
}

fn decode_band(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let hr = *claim.payload.get(5).ok_or(DecodeError::Truncated)?;
    out.model = "Mi Band";
    out.firmware = "Mi Band";
    if hr != 0xFF {
        out.int(&HEART_RATE, hr as i64);
    }
    let steps = adv::structures(adv.data)
        .valid()
        .find_map(|s| match s.service_data16() {
            Some((HUAMI, &[a, b, c, d])) => Some(u32::from_le_bytes([a, b, c, d])),
            _ => None,
        });
    if let Some(n) = steps {
        out.int(&field::STEPS, n as i64);
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}
