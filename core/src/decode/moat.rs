//! Moat S2 hygrometers, two framings of the same measurement:
//!
//! * [`FORMAT`]: manufacturer data 0x1000, 20 bytes, as ble_monitor's `moat.py` reads them;
//! * [`FORMAT_S2`]: 16-bit service data 0x1000, 16 bytes or more (the devices send 18), from a
//!   device whose local name contains `moat_s2` (any case), as moat-ble (Home Assistant's
//!   library) reads them.
//!
//! Both from byte 10 after the id, little-endian: temperature `−46.85 + 175.72 × t / 65536` °C,
//! humidity `−6 + 125 × h / 65536` % (both rounded to 0.001) and battery voltage in mV, with
//! the libraries' battery curve (one decimal).

use super::bytes::py_round;
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

/// Service data 0x1000 from a Moat S2 (the name is the check: 0x1000 is no registered UUID).
pub static FORMAT_S2: Format = Format {
    name: "moat",
    variants: &[],
    manufacturer: "Moat",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0x1000], claim_s2),
    decode,
};

const LEN: usize = 20;
/// The UUID + the 16 bytes moat-ble reads (it ignores what follows).
const S2_MIN: usize = 18;

/// `moat_s2` in `name`, ASCII case ignored.
fn named_s2(name: &[u8]) -> bool {
    name.windows(7).any(|w| w.eq_ignore_ascii_case(b"moat_s2"))
}

fn claim_s2<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.ad_type == adv::ad_type::SERVICE_DATA16
        && s.payload.len() >= S2_MIN
        && s.payload[..2] == [0x00, 0x10]
        && named_s2(adv.hints.name))
    .then(|| Claim::of(s.payload))
}

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
    py_round(b, 1)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload.get(..S2_MIN).ok_or(DecodeError::Truncated)?;
    let u = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
    out.model = "Moat S2";
    out.firmware = "Moat";
    let (t, h, mv) = (u(12) as f64, u(14) as f64, u(16));
    out.float(
        &field::TEMPERATURE,
        py_round(-46.85 + 175.72 * t / 65536.0, 3),
    );
    out.float(&field::HUMIDITY, py_round(-6.0 + 125.0 * h / 65536.0, 3));
    out.float(&field::VOLTAGE, mv as f64 / 1000.0);
    out.float(&field::BATTERY, battery(mv));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s2_name() {
        assert!(named_s2(b"Moat_S2"));
        assert!(named_s2(b"xMOAT_S2y"));
        assert!(!named_s2(b"Moat S2"));
        assert!(!named_s2(b""));
    }
}
