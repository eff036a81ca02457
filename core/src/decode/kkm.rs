//! KKM K6 sensor beacons (Eddystone service data 0xFEAA, 15 bytes after the UUID, frame type
//! 0x21 version 1), as ble_monitor's `kkm.py` reads them: `0x21 | 0x01 | control | voltage
//! u16 BE mV | temperature i8 + u8/256 | humidity u8 + u8/256 | acceleration x, y, z i16 BE
//! (mG)`. The fraction is added to the signed whole part (so `FF C0` is −0.25 °C), as the
//! reference does. `battery` is ble_monitor's estimate from the voltage. Goes before the Ruuvi
//! Eddystone-URL format in the table (custom matchers are tried first anyway).

use super::bytes::py_round;
use super::ruuvi::ACCELERATION_MG;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "kkm",
    variants: &[],
    manufacturer: "KKM",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0xFEAA], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0xFEAA, d @ [0x21, 0x01, ..]) if d.len() == 15 => Some(Claim::of(d)),
        _ => None,
    }
}

/// ble_monitor's battery estimate (%) from the voltage, one decimal.
fn battery(v: f64) -> f64 {
    let b = if v >= 3.0 {
        100.0
    } else if v >= 2.6 {
        60.0 + (v - 2.6) * 100.0
    } else if v >= 2.5 {
        40.0 + (v - 2.5) * 200.0
    } else if v >= 2.45 {
        20.0 + (v - 2.45) * 400.0
    } else {
        0.0
    };
    py_round(b, 1)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d: &[u8; 15] = claim.array()?;
    let be = |o: usize| i16::from_be_bytes([d[o], d[o + 1]]);
    out.model = "K6 Sensor Beacon";
    out.firmware = "KKM";
    let volt = u16::from_be_bytes([d[3], d[4]]) as f64 / 1000.0;
    out.float(&field::TEMPERATURE, d[5] as i8 as f64 + d[6] as f64 / 256.0);
    out.float(&field::HUMIDITY, d[7] as f64 + d[8] as f64 / 256.0);
    let (x, y, z) = (be(9), be(11), be(13));
    let (fx, fy, fz) = (x as f64, y as f64, z as f64);
    out.float(
        &ACCELERATION_MG,
        py_round((fx * fx + fy * fy + fz * fz).sqrt(), 1),
    );
    out.int(&field::ACCELERATION_X, x as i64);
    out.int(&field::ACCELERATION_Y, y as i64);
    out.int(&field::ACCELERATION_Z, z as i64);
    out.float(&field::VOLTAGE, volt);
    out.float(&field::BATTERY, battery(volt));
    Ok(())
}
