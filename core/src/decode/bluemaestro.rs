//! BlueMaestro sensors (manufacturer data 0x0133), as bluemaestro-ble (Home Assistant's
//! library) reads them, and the Pebble as ble_monitor's `bluemaestro.py` does. `d` = payload
//! after the company id, `d[0]` the device id, `d[1]` battery %; bluemaestro-ble needs at
//! least one byte after the last field it reads (the rest are statistics) and so do we:
//!
//! * 0x08 Temperature Sensor v8, 0x0D Tempo Disc T (8 bytes or more): big-endian temperature
//!   i16 /10 °C at `d[6..8]`.
//! * 0x16/0x17 Tempo Disc THD, 0x1B THPD (12 bytes or more): big-endian `battery % | interval |
//!   log count | temperature i16 /10 °C | humidity u16 /10 % | dew point i16 /10 °C (THPD:
//!   pressure u16 /10 hPa)`. The log count is the `packet`.
//! * 0x29 Tempo Disc Maxi T, 0x2A Maxi THD, 0x2B Maxi THPD (17, 19, 23 bytes or more):
//!   little-endian from `d[15]`: temperature i16 /100 °C, humidity i16 /100 %, pressure i32
//!   /100 hPa; the dew point is computed from temperature and humidity (Magnus formula, as
//!   bluemaestro-ble: none for a humidity outside (0, 100] %).
//! * 0x01 Pebble (18 bytes, ble_monitor only): little-endian temperatures i16 /10 (the second
//!   is the one published), humidity u8 %, pressure u16 hPa.
//!
//! Values are rounded to 0.01 as bluemaestro-ble does.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "bluemaestro",
    variants: &[],
    manufacturer: "BlueMaestro",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0133], claim),
    decode,
};

/// Model and the data length (device id included) a device id needs.
fn device(id: u8) -> Option<(&'static str, usize)> {
    Some(match id {
        0x08 => ("BlueMaestro Temperature Sensor v8", 8),
        0x0D => ("Tempo Disc T", 8),
        0x16 | 0x17 => ("Tempo Disc THD", 12),
        0x1B => ("Tempo Disc THPD", 12),
        0x29 => ("Tempo Disc Maxi T", 17),
        0x2A => ("Tempo Disc Maxi THD", 19),
        0x2B => ("Tempo Disc Maxi THPD", 23),
        _ => return None,
    })
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0x0133, d)
            if matches!(d.first(), Some(&id) if device(id).is_some_and(|(_, n)| d.len() >= n))
                || (d.len() == 18 && d[0] == 0x01) =>
        {
            Some(Claim::of(d))
        }
        _ => None,
    }
}

/// bluemaestro-ble's dew point (°C, to 0.01) for the Maxi models, which do not send one.
fn dew_point(t: f64, h: f64) -> Option<f64> {
    if !(h > 0.0 && h <= 100.0) || t == -243.5 {
        return None;
    }
    let alpha = (h / 100.0).ln() + 17.67 * t / (t + 243.5);
    let dp = (243.5 * alpha / (17.67 - alpha) * 100.0 + 0.5).floor() / 100.0;
    dp.is_finite().then(|| py_round(dp, 2))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    out.firmware = "BlueMaestro";
    let id = *d.first().ok_or(DecodeError::Truncated)?;
    if id == 0x01 && d.len() == 18 {
        out.model = "Pebble";
        out.float(
            &field::TEMPERATURE,
            i16::from_le_bytes([d[3], d[4]]) as f64 / 10.0,
        );
        out.int(&field::HUMIDITY, d[7] as i64);
        out.int(&field::PRESSURE, u16::from_le_bytes([d[8], d[9]]) as i64);
        return Ok(());
    }
    let (model, need) = device(id).ok_or(DecodeError::Malformed("unknown BlueMaestro device"))?;
    if d.len() < need {
        return Err(DecodeError::Truncated);
    }
    out.model = model;
    out.int(&field::BATTERY, d[1] as i64);
    let be = |o: usize| u16::from_be_bytes([d[o], d[o + 1]]);
    let le = |o: usize| i16::from_le_bytes([d[o], d[o + 1]]) as f64;
    match id {
        0x08 | 0x0D | 0x16 | 0x17 | 0x1B => {
            out.float(&field::TEMPERATURE, py_round(be(6) as i16 as f64 / 10.0, 2));
            if id == 0x08 || id == 0x0D {
                return Ok(());
            }
            out.packet = Some(be(4) as u32);
            out.float(&field::HUMIDITY, py_round(be(8) as f64 / 10.0, 2));
            if id == 0x1B {
                out.float(&field::PRESSURE, py_round(be(10) as f64 / 10.0, 2));
            } else {
                out.float(&field::DEWPOINT, py_round(be(10) as i16 as f64 / 10.0, 2));
            }
        }
        _ => {
            let t = py_round(le(15) / 100.0, 2);
            out.float(&field::TEMPERATURE, t);
            if id == 0x29 {
                return Ok(());
            }
            let h = py_round(le(17) / 100.0, 2);
            out.float(&field::HUMIDITY, h);
            if id == 0x2B {
                let p = i32::from_le_bytes([d[19], d[20], d[21], d[22]]);
                out.float(&field::PRESSURE, py_round(p as f64 / 100.0, 2));
            }
            if let Some(dp) = dew_point(le(15) / 100.0, le(17) / 100.0) {
                out.float(&field::DEWPOINT, dp);
            }
        }
    }
    Ok(())
}
