//! Aranet4, Aranet2, Aranet Radiation and Aranet Radon (SAF Tehnika, manufacturer data
//! 0x0702), as the `aranet4` library (`Aranet4Advertisement`, used by Home Assistant's
//! `aranet` integration) reads them. Readings only come with "Smart Home integration" on.
//!
//! The data starts with a device type byte (0 Aranet4, 1 Aranet2, 2 Radiation, 3 Radon), except
//! the Aranet4's, which has none: the library takes the data as an Aranet4's when the name
//! starts with `Aranet4`, or, with no Aranet name, when the data is 7 or 22 bytes long. With
//! the type byte in front: flags (bit 5: integrations on), firmware patch, minor, major, then
//! little-endian from offset 8 (Aranet4: 9):
//!
//! * Aranet4: CO₂ ppm u16 | temperature u16 × 0.05 °C | pressure u16 × 0.1 hPa | humidity u8 %
//!   | battery % | status colour | interval s u16 | age s u16;
//! * Aranet2: u16 | temperature | u16 | humidity u16 × 0.1 % | u8 | battery | status bits
//!   (humidity 0–1, temperature 2–3) | interval | age | counter;
//! * Radiation (from offset 6): total dose nSv u32 | duration s u32 | dose rate nSv/h u16 | u8
//!   | battery | u8 | interval | age | counter;
//! * Radon: radon Bq/m³ u16 | temperature | pressure | humidity × 0.1 | u8 | battery | status
//!   colour | interval | age | counter.
//!
//! A value with its "invalid" flag (CO₂, pressure, humidity × 0.1: bit 15; temperature: bit
//! 14; radon: from 0x1F00) is not published, nor a Radon's temperature or humidity of 0 (the
//! library's `-1`, which Home Assistant skips). Scaled values are rounded to one decimal like
//! the library; the radiation values are published in Home Assistant's units (µSv/h, mSv).

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "aranet",
    variants: &[],
    manufacturer: "SAF Tehnika",
    // Each device measures every 1, 2, 5 or 10 minutes (its interval setting) and advertises
    // the latest values every few seconds.
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[COMPANY], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    UPDATE_INTERVAL = "update interval", "s", "duration", "measurement", Sensor, true;
    CO2_STATUS = "co2 status", "", "", "", Text, false;
    RADON_STATUS = "radon status", "", "", "", Text, false;
    TEMPERATURE_STATUS = "temperature status", "", "", "", Text, false;
    HUMIDITY_STATUS = "humidity status", "", "", "", Text, false;
    RADIATION_RATE = "radiation dose rate", "μSv/h", "", "measurement", Sensor, false;
    RADIATION_TOTAL = "radiation total dose", "mSv", "", "measurement", Sensor, false;
    RADIATION_DURATION = "radiation dose duration", "s", "duration", "measurement", Sensor, false;
    RADON = "radon", "Bq/m³", "", "measurement", Sensor, false;
}

const COMPANY: u16 = 0x0702;

/// The library needs at least the four basic-info bytes after the type byte.
const MIN_DATA: usize = 5;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (COMPANY, d) if d.len() >= MIN_DATA => Some(Claim::of(d)),
        _ => None,
    }
}

/// The colour of the CO₂ / radon indicator (the library's `Color`).
fn colour(b: u8) -> Option<&'static str> {
    ["ERROR", "GREEN", "YELLOW", "RED"].get(b as usize).copied()
}

/// A threshold state of the Aranet2 (the library's `Status`).
fn status(b: u8) -> &'static str {
    ["OFF", "UNDER", "OVER", "DASH"][(b & 3) as usize]
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    let name = adv.hints.name;
    let prefixes: [&[u8]; 4] = [
        b"Aranet4",
        b"Aranet2",
        "Aranet\u{2622}".as_bytes(),
        b"AranetRn",
    ];
    let aranet_name = prefixes.iter().any(|p| name.starts_with(p));
    let aranet4 = if aranet_name {
        name.starts_with(b"Aranet4")
    } else {
        data.len() == 7 || data.len() == 22
    };
    // The data with the type byte in front (the Aranet4's is 0, implied).
    let mut raw = [0u8; 24];
    let skip = aranet4 as usize;
    let n = data.len().min(raw.len() - skip);
    raw[skip..skip + n].copy_from_slice(&data[..n]);
    let have = n + skip;
    if raw[1] & 0x20 == 0 {
        // Smart Home integration off: basic info (flags, version) only.
        return Err(DecodeError::NoData);
    }
    let (model, need) = match raw[0] {
        0 => ("Aranet4", 22),
        1 => ("Aranet2", 24),
        2 => ("Aranet Radiation", 24),
        3 => ("Aranet Radon", 24),
        _ => return Err(DecodeError::Malformed("unknown Aranet device type")),
    };
    if have < need {
        return Err(DecodeError::Truncated);
    }
    out.model = model;
    out.firmware = "Aranet";
    let u = |o: usize| u16::from_le_bytes([raw[o], raw[o + 1]]);
    let u32le = |o: usize| u32::from_le_bytes([raw[o], raw[o + 1], raw[o + 2], raw[o + 3]]);
    let temperature = |v: u16| (v >> 14 & 1 == 0).then(|| py_round(v as f64 * 0.05, 1));
    let tenths = |v: u16| (v >> 15 == 0).then(|| py_round(v as f64 * 0.1, 1));
    match raw[0] {
        0 => {
            let co2 = u(9);
            if co2 >> 15 == 0 {
                out.int(&field::CO2, co2 as i64);
            }
            if let Some(t) = temperature(u(11)) {
                out.float(&field::TEMPERATURE, t);
            }
            if let Some(p) = tenths(u(13)) {
                out.float(&field::PRESSURE, p);
            }
            out.int(&field::HUMIDITY, raw[15] as i64);
            out.int(&field::BATTERY, raw[16] as i64);
            if let Some(c) = colour(raw[17]) {
                out.push(&CO2_STATUS, Value::Text(c));
            }
            out.int(&UPDATE_INTERVAL, u(18) as i64);
        }
        1 => {
            if let Some(t) = temperature(u(10)) {
                out.float(&field::TEMPERATURE, t);
            }
            if let Some(h) = tenths(u(14)) {
                out.float(&field::HUMIDITY, h);
            }
            out.int(&field::BATTERY, raw[17] as i64);
            out.push(&TEMPERATURE_STATUS, Value::Text(status(raw[18] >> 2)));
            out.push(&HUMIDITY_STATUS, Value::Text(status(raw[18])));
            out.int(&UPDATE_INTERVAL, u(19) as i64);
        }
        2 => {
            out.float(&RADIATION_TOTAL, py_round(u32le(6) as f64 / 1e6, 6));
            out.int(&RADIATION_DURATION, u32le(10) as i64);
            out.float(&RADIATION_RATE, py_round(u(14) as f64 / 1e3, 3));
            out.int(&field::BATTERY, raw[17] as i64);
            out.int(&UPDATE_INTERVAL, u(19) as i64);
        }
        _ => {
            let radon = u(8);
            if radon < 0x1F00 {
                out.int(&RADON, radon as i64);
            }
            // The Radon One has no temperature/humidity sensor and sends 0.
            let rn1 = name.starts_with(b"AranetRn1");
            if let Some(t) = temperature(u(10)).filter(|t| *t != 0.0 && !rn1) {
                out.float(&field::TEMPERATURE, t);
            }
            if let Some(p) = tenths(u(12)) {
                out.float(&field::PRESSURE, p);
            }
            if let Some(h) = tenths(u(14)).filter(|h| *h != 0.0 && !rn1) {
                out.float(&field::HUMIDITY, h);
            }
            out.int(&field::BATTERY, raw[17] as i64);
            if let Some(c) = colour(raw[18]) {
                out.push(&RADON_STATUS, Value::Text(c));
            }
            out.int(&UPDATE_INTERVAL, u(19) as i64);
        }
    }
    Ok(())
}
