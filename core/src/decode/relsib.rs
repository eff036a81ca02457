//! Relsib EClerk Eco, WH52 and WT51 (16-bit service data), as ble_monitor's `relsib.py` reads
//! them. `d` = service data after the UUID.
//!
//! * EClerk Eco (name `ECo`, UUIDs 0xAA20/0xAA21/0xAA22, 22 bytes): temperature u16 LE /100 °C,
//!   humidity u16 LE /100 %, CO2 u16 LE ppm at `d[4..10]` (0xAA20) or `d[0..6]` (the others);
//!   0x8000 means "not ready" and is not published. 0xAA20 only: `d[13]` battery %, bit 7 set =
//!   on the power adapter (published as 100 %).
//! * WH52 (UUID 0x1809 with 2 bytes, beside 0x181A with 2 bytes): temperature and humidity
//!   big-endian, both through the SHT formula `x / 65535 * 175 - 45`, rounded to 0.01.
//!   Applying the temperature formula to humidity is what ble_monitor does and its test
//!   expects (76.2 %); we have no other description of the device.
//! * WT51 (UUID 0x1809 with 6 bytes): the temperature as ASCII text (`+023.5`).
//!
//! `firmware` is `Relsib`, as ble_monitor writes it; bleparser 3.7.3 wrote
//! `Relsib (EClerk Eco v9a)` (see the deviations in `tests/vectors.rs`).

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "relsib",
    variants: &[],
    manufacturer: "Relsib",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(
        adv::ad_type::SERVICE_DATA16,
        &[0x1809, 0xAA20, 0xAA21, 0xAA22],
        claim,
    ),
    decode,
};

const ECO: u8 = 0;
const WH52: u8 = 1;
const WT51: u8 = 2;

/// The 2-byte 0x181A service data a WH52 sends beside its 0x1809 one (its humidity).
fn wh52_humidity(data: &[u8]) -> Option<[u8; 2]> {
    adv::structures(data)
        .valid()
        .find_map(|s| match s.service_data16() {
            Some((0x181A, &[a, b])) => Some([a, b]),
            _ => None,
        })
}

/// A WT51's ASCII temperature (any other 0x1809 service data of 6 bytes, and a value that is
/// not finite, is not claimed). ble_monitor reads it with Python's `float()`, which would also
/// take `1_2.5`; the sensor sends a plain decimal.
fn wt51_temperature(d: &[u8]) -> Option<f64> {
    core::str::from_utf8(d)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (uuid, d) = s.service_data16()?;
    let variant = match (uuid, d.len()) {
        (0xAA20..=0xAA22, 22) if adv.hints.name == b"ECo" => ECO,
        (0x1809, 2) if wh52_humidity(adv.data).is_some() => WH52,
        (0x1809, 6) if wt51_temperature(d).is_some() => WT51,
        _ => return None,
    };
    Some(Claim {
        payload: s.payload,
        variant,
    })
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let (uuid, d) = match claim.payload {
        [lo, hi, d @ ..] => (u16::from_le_bytes([*lo, *hi]), d),
        _ => return Err(DecodeError::Truncated),
    };
    out.firmware = "Relsib";
    match claim.variant {
        ECO => {
            let x = if uuid == 0xAA20 { 4 } else { 0 };
            let v = d.get(x..x + 6).ok_or(DecodeError::Truncated)?;
            let w = |o: usize| u16::from_le_bytes([v[o], v[o + 1]]);
            out.model = "EClerk Eco";
            if w(0) != 0x8000 {
                out.float(&field::TEMPERATURE, w(0) as f64 / 100.0);
            }
            if w(2) != 0x8000 {
                out.float(&field::HUMIDITY, w(2) as f64 / 100.0);
            }
            if w(4) != 0x8000 {
                out.int(&field::CO2, w(4) as i64);
            }
            if uuid == 0xAA20 {
                let b = *d.get(13).ok_or(DecodeError::Truncated)?;
                out.int(
                    &field::BATTERY,
                    if b & 0x80 != 0 {
                        100
                    } else {
                        (b & 0x7F) as i64
                    },
                );
            }
        }
        WH52 => {
            let t = d.get(..2).ok_or(DecodeError::Truncated)?;
            let h = wh52_humidity(adv.data).ok_or(DecodeError::Truncated)?;
            let sht =
                |b: [u8; 2]| py_round(u16::from_be_bytes(b) as f64 / 65535.0 * 175.0 - 45.0, 2);
            out.model = "WH52";
            out.float(&field::TEMPERATURE, sht([t[0], t[1]]));
            out.float(&field::HUMIDITY, sht(h));
        }
        WT51 => {
            let t = wt51_temperature(d)
                .ok_or(DecodeError::Malformed("WT51 temperature is not a number"))?;
            out.model = "WT51";
            out.float(&field::TEMPERATURE, t);
        }
        _ => return Err(DecodeError::Malformed("not a Relsib frame")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::wt51_temperature;

    /// The WT51's text: a decimal, padded; nothing else (Python's `1_2.5` neither).
    #[test]
    fn wt51_text_is_a_decimal() {
        for (text, t) in [
            (b"+023.5", 23.5),
            (b"\t-4.5\n", -4.5),
            (b"+1e1  ", 10.0),
            (b".5    ", 0.5),
        ] {
            assert_eq!(wt51_temperature(text), Some(t));
        }
        for text in [b"1_2.5 ", b"_12.5 ", b"nan   ", b" inf  ", b"abcdef"] {
            assert_eq!(wt51_temperature(text), None);
        }
    }
}
