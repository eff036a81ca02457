//! HolyIOT BLE trackers with a sensor (service data 0x5242), as ble_monitor's `holyiot.py`
//! reads them. `d` = the 13 bytes after the UUID: `d[1]` battery %, `d[2..8]` the sensor's MAC
//! (display order; a frame naming another address is refused), `d[10]` measurement type, `d[11..13]` its value:
//! 1 temperature (i8 whole degrees and u8 hundredths, the sign applying to both), 2 pressure
//! (80000 Pa + i16 BE), 3 humidity %, 4 vibration (the byte as sent, as ble_monitor publishes
//! it: 0 none, anything else vibration), 5 side (of a cube), 6 button (1 = toggle).
//!
//! Pressure: ble_monitor publishes the pascal value (101300) under its hPa `pressure` sensor;
//! we publish hPa (1013.0), what the unit says (a listed deviation in `tests/vectors.rs`).

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "holyiot",
    variants: &[],
    manufacturer: "HolyIOT",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0x5242], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    SIDE = "side", "", "", "", Sensor, false;
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0x5242, d) if d.len() == 13 && (1..=6).contains(&d[10]) => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d: &[u8; 13] = claim.array()?;
    if d[2..8] != adv.addr.0 {
        return Err(DecodeError::Malformed("frame MAC is not the advertiser's"));
    }
    out.model = "HolyIOT BLE tracker";
    out.firmware = "HolyIOT";
    let (a, b) = (d[11], d[12]);
    match d[10] {
        1 => {
            let whole = a as i8 as f64;
            let frac = b as f64 / 100.0;
            let t = if whole >= 0.0 {
                whole + frac
            } else {
                whole - frac
            };
            out.float(&field::TEMPERATURE, t);
        }
        2 => {
            let pa = 80000 + i16::from_be_bytes([a, b]) as i64;
            out.float(&field::PRESSURE, pa as f64 / 100.0);
        }
        3 => out.int(&field::HUMIDITY, a as i64),
        4 => out.int(&field::VIBRATION, a as i64),
        5 => out.int(&SIDE, a as i64),
        6 => out.push(
            &field::BUTTON,
            super::Value::Text(if a == 1 { "toggle" } else { "no press" }),
        ),
        _ => return Err(DecodeError::Malformed("unknown HolyIOT measurement type")),
    }
    out.int(&field::BATTERY, d[1] as i64);
    Ok(())
}
