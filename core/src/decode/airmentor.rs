//! Air Mentor Pro 2 and 2S air quality monitors (manufacturer data), as ble_monitor's
//! `airmentor.py` reads them. The "company id" is data: its first byte is the message type
//! (0x12/0x22 climate, 0x11/0x21 particles), the second the model (0x21 Pro 2 with a 10-byte
//! payload, 0x51/0x61 2S with 14 bytes). `d` = payload after those two bytes, big-endian:
//!
//! * climate: TVOC u16 ppb (published in µg/m³: `ppb × 110 / 24.4`), temperature u16
//!   `(t − 4000) / 100` °C, a calibration offset u8 (×0.1 °C, `temperature calibrated` =
//!   temperature − offset), humidity u8 %, AQI u16 (and its category text `air quality`).
//!   The Pro 2 humidity is corrected to the calibrated temperature (Magnus formula), as
//!   ble_monitor does; the 2S humidity is published as sent.
//! * particles: CO2 u16 ppm, PM2.5 u16, PM10 u16 µg/m³; the 2S adds formaldehyde u16 ppb at
//!   `d[8..10]` (published in mg/m³: `ppb × 0.001 × 1.228`).
//!
//! Values rounded as ble_monitor rounds them (Python `round`).

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "air-mentor",
    variants: &[],
    manufacturer: "Air Mentor",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &IDS, claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    TEMPERATURE_CALIBRATED = "temperature calibrated", "°C", "temperature", "measurement", Sensor, false;
    AQI = "aqi", "", "aqi", "measurement", Sensor, false;
    AIR_QUALITY = "air quality", "", "", "", Text, false;
}

/// Pro 2 ids, then 2S ids (as little-endian company ids).
const IDS: [u16; 8] = [
    0x2111, 0x2112, 0x2121, 0x2122, 0x5112, 0x5122, 0x6111, 0x6121,
];

/// The claim's variant: the model.
const PRO2: u8 = 0;
const S2: u8 = 1;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, d) = s.manufacturer()?;
    let variant = match (cid, d.len()) {
        (0x2111 | 0x2112 | 0x2121 | 0x2122, 8) => PRO2,
        (0x5112 | 0x5122 | 0x6111 | 0x6121, 12) => S2,
        _ => return None,
    };
    Some(Claim {
        payload: s.payload,
        variant,
    })
}

/// ble_monitor's category of an AQI value.
fn air_quality(aqi: u16) -> &'static str {
    match aqi {
        0..=50 => "good",
        51..=100 => "moderate",
        101..=150 => "unhealthy for sensitive people",
        151..=200 => "unhealthy",
        201..=250 => "very unhealthy",
        _ => "hazardous",
    }
}

/// Magnus-formula saturation term ble_monitor uses for the humidity correction.
fn magnus(t: f64) -> f64 {
    (t * 17.62 / (t + 243.12)).exp()
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let need = if claim.variant == S2 { 14 } else { 10 };
    if p.len() < need {
        return Err(DecodeError::Truncated);
    }
    let d = &p[2..];
    let w = |o: usize| u16::from_be_bytes([d[o], d[o + 1]]);
    out.firmware = "Air Mentor";
    out.model = if claim.variant == S2 {
        "Air Mentor 2S"
    } else {
        "Air Mentor Pro 2"
    };
    match p[0] {
        0x12 | 0x22 => {
            let temperature = (w(2) as f64 - 4000.0) * 0.01;
            let calibrated = temperature - d[4] as f64 * 0.1;
            let humidity = if claim.variant == S2 {
                d[5] as f64
            } else {
                d[5] as f64 * magnus(temperature) / magnus(calibrated)
            };
            let aqi = w(6);
            out.float(&field::TVOC, py_round(w(0) as f64 * 110.0 / 24.4, 2));
            out.float(&field::TEMPERATURE, py_round(temperature, 2));
            out.float(&TEMPERATURE_CALIBRATED, py_round(calibrated, 2));
            out.float(&field::HUMIDITY, py_round(humidity, 2));
            out.int(&AQI, aqi as i64);
            out.push(&AIR_QUALITY, Value::Text(air_quality(aqi)));
        }
        0x11 | 0x21 => {
            out.int(&field::CO2, w(0) as i64);
            out.int(&field::PM25, w(2) as i64);
            out.int(&field::PM10, w(4) as i64);
            if claim.variant == S2 {
                out.float(
                    &field::FORMALDEHYDE,
                    py_round(w(8) as f64 * 0.001 * 1.228, 6),
                );
            }
        }
        _ => return Err(DecodeError::Malformed("unknown Air Mentor message type")),
    }
    Ok(())
}
