//! Mopeka Pro tank sensors (Pro Check, Pro-200, Pro H2O, Lippert BottleCheck, Pro Plus,
//! TD40/TD200, Pro Check Universal, Pro-200B), as `mopeka-iot-ble` (Home Assistant's `mopeka`
//! integration) reads them: manufacturer data 0x0059 (Nordic Semiconductor's company id) of
//! 10 bytes whose first byte is a known device type, with the 16-bit service UUID 0xFEE5 listed
//! in the same advert.
//!
//! `type | battery (/32 V) | button bit 7, temperature + 40 °C (bits 0–6) | tank level u14 LE,
//! reading quality (bits 14–15) | 3 bytes | accelerometer x | y`. Battery % is
//! `(V − 2.2) / 0.65 × 100` clamped to 0–100 (one decimal), reading quality also as
//! `py_round(q / 3 × 100)` %.
//!
//! The tank level depends on the medium (the integration's per-device setting, not in the
//! advert): `tank level` is the library's value for its default medium, propane
//! (`int(raw × (0.573045 − 0.002822 t − 0.00000535 t²))` mm, `t` the raw temperature byte),
//! published only when the reading quality is at least 1, as the library does.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "mopeka",
    variants: &[],
    manufacturer: "Mopeka IOT",
    // The sensors advertise every few seconds (faster when the tank changes).
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[COMPANY], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    TANK_LEVEL = "tank level", "mm", "distance", "measurement", Sensor, false;
    READING_QUALITY = "reading quality", "%", "", "measurement", Sensor, false;
    READING_QUALITY_RAW = "reading quality raw", "", "", "measurement", Sensor, true;
    BUTTON_PRESSED = "button pressed", "", "occupancy", "", Binary, false;
    ACCELEROMETER_X = "accelerometer x", "", "", "measurement", Sensor, true;
    ACCELEROMETER_Y = "accelerometer y", "", "", "measurement", Sensor, true;
}

const COMPANY: u16 = 0x0059;
const UUID: u16 = 0xFEE5;
/// Company id + 10 bytes.
const LEN: usize = 12;

/// Device type byte → model, as the library names them.
fn model(t: u8) -> Option<&'static str> {
    Some(match t {
        0x03 | 0x06 | 0x0C => "M1017",
        0x04 | 0x12 => "Pro-200",
        0x05 => "Pro H20",
        0x08 | 0x09 => "M1015",
        0x0A | 0x0B => "TD40/TD200",
        _ => return None,
    })
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == COMPANY
        && p.len() == LEN
        && model(p[2]).is_some()
        && adv.hints.has_uuid16(UUID))
    .then(|| Claim::of(p))
}

/// The library's propane coefficients.
const PROPANE: (f64, f64, f64) = (0.573045, -0.002822, -0.00000535);

/// Battery voltage from the battery byte.
fn voltage(b: u8) -> f64 {
    b as f64 / 32.0
}

/// Battery % from the battery byte, clamped and rounded like the library.
fn battery(b: u8) -> f64 {
    py_round(((voltage(b) - 2.2) / 0.65 * 100.0).clamp(0.0, 100.0), 1)
}

/// Tank level (mm) for propane from the 14-bit level and the raw temperature (°C + 40).
fn tank_level_propane(level: u16, t: u8) -> i64 {
    let (a, b, c) = PROPANE;
    let t = t as f64;
    // Python's int(): truncation toward zero.
    (level as f64 * (a + b * t + c * (t * t))) as i64
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let d = &p[2..];
    out.model = model(d[0]).ok_or(DecodeError::Malformed("unknown Mopeka device type"))?;
    out.firmware = "Mopeka";
    let t = d[2] & 0x7F;
    let level = u16::from_le_bytes([d[3], d[4]]) & 0x3FFF;
    let quality = d[4] >> 6;
    out.int(&field::TEMPERATURE, t as i64 - 40);
    out.float(&field::BATTERY, battery(d[1]));
    out.float(&field::VOLTAGE, voltage(d[1]));
    out.int(&BUTTON_PRESSED, (d[2] >> 7) as i64);
    if quality >= 1 {
        out.int(&TANK_LEVEL, tank_level_propane(level, t));
    }
    out.int(&ACCELEROMETER_X, d[8] as i64);
    out.int(&ACCELEROMETER_Y, d[9] as i64);
    out.int(&READING_QUALITY_RAW, quality as i64);
    out.int(
        &READING_QUALITY,
        py_round(quality as f64 / 3.0 * 100.0, 0) as i64,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bluetooth-Devices/mopeka-iot-ble@2ba8e71 tests/test_parser.py, the tests of helper
    /// functions (no advert, so no corpus vector): `test_battery_to_voltage` (every case),
    /// `test_battery_to_percentage`, and `test_parser_with_sample_data`'s battery asserts.
    #[test]
    fn library_helper_cases() {
        let volts = [
            2.78125, 2.8125, 2.84375, 2.875, 2.90625, 2.9375, 2.96875, 3.0, 3.03125, 3.0625,
            3.09375, 3.125,
        ];
        for (raw, v) in (89u8..).zip(volts) {
            assert_eq!(voltage(raw), v);
        }
        assert_eq!(battery(89), 89.4);
        assert_eq!(battery(0), 0.0);
        assert_eq!(battery(255), 100.0);
    }
}
