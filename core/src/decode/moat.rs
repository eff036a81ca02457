//! Moat S2 hygrometers (manufacturer data 0x1000, 20 bytes), as ble_monitor's `moat.py` reads
//! them: from payload byte 12, little-endian, temperature `−46.85 + 175.72 × t / 65536` °C,
//! humidity `−6 + 125 × h / 65536` % (both rounded to 0.001) and battery voltage in mV, with
//! ble_monitor's battery curve (one decimal).

use super::ruuvi::round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "moat",
    variants: &[],
    manufacturer: "Moat",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x1000], claim),
    decode,
};

const LEN: usize = 20;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.manufacturer()?.0 == 0x1000 && s.payload.len() == LEN).then(|| Claim::of(s.payload))
}

/// ble_monitor's battery estimate (%) from the voltage (mV).
fn battery(mv: u16) -> f64 {
    let v = mv as f64;
    let b = match mv {
        3000.. => 100.0,
        2900.. => 42.0 + (v - 2900.0) * 0.58,
        2740.. => 18.0 + (v - 2740.0) * 0.15,
        2440.. => 6.0 + (v - 2440.0) * 0.04,
        2100.. => (v - 2100.0) * (6.0 / 340.0),
        _ => 0.0,
    };
    round(b, 1)
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
    let u = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
    out.model = "Moat S2";
    out.firmware = "Moat";
    let (t, h, mv) = (u(12) as f64, u(14) as f64, u(16));
    out.float(&field::TEMPERATURE, round(-46.85 + 175.72 * t / 65536.0, 3));
    out.float(&field::HUMIDITY, round(-6.0 + 125.0 * h / 65536.0, 3));
    out.float(&field::VOLTAGE, mv as f64 / 1000.0);
    out.float(&field::BATTERY, battery(mv));
    Ok(())
}
