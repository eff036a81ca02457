//! Ruuvi: RuuviTag data formats 3 and 5, Ruuvi Air formats 6 and E1 (manufacturer data
//! 0x0499), and the old Eddystone-URL formats 2 and 4 (service data 0xFEAA, `ruu.vi/#…`).
//!
//! All multi-byte fields are big-endian. `d` = data after the company id, `d[0]` = format.
//! * 3 (14 bytes): humidity u8 /2 % (above 200: not available), temperature sign+magnitude
//!   byte + hundredths byte (hundredths ≥ 100: not available), pressure u16 + 50000 Pa,
//!   acceleration x/y/z i16 mG, battery mV.
//! * 5 (≥ 24 bytes): temperature i16 ×0.005 °C, humidity u16 ×0.0025 %, pressure u16 + 50000 Pa,
//!   acceleration x/y/z i16 mG, power u16 (11 bits battery mV − 1600, 5 bits tx power
//!   (−40 + 2n dBm)), movement counter u8, sequence u16 (published as the packet id), MAC. The
//!   all-ones / 0x8000 values mean "not available" and are not published (but the movement
//!   counter's 255 is, as ruuvitag-ble does).
//! * Shorter frames are refused, as ruuvitag-ble refuses them. Longer ones are decoded: its
//!   formats 3 and 5 `struct.unpack` the whole frame and so fail on any extra byte (RuuviTag
//!   firmware sends format 3 padded to 18 bytes), which its "at least n bytes" checks show is
//!   not meant.
//! * 6 (Ruuvi Air, ≥ 20 bytes): temperature, humidity, pressure as in 5, PM2.5 u16 /10 µg/m³,
//!   CO2 u16 ppm, VOC and NOx index (9 bits: a byte plus a flag bit), luminosity (log-coded
//!   byte), sound average (9 bits /5 + 18 dBA), sequence u8, flags, 3 MAC bytes.
//! * E1 (Ruuvi Air extended, 40 bytes): temperature ×0.005, humidity ×0.0025, pressure,
//!   PM1/2.5/4/10 u16 /10, CO2, VOC/NOx index (9 bits), luminosity u24 /100 lux, sequence u24.
//! * 6 and E1: `iaqs`, Ruuvi's indoor air quality score from CO2 and PM2.5 (when both are
//!   available), as ruuvitag-ble computes it.
//! * 2/4 (Eddystone URL): base64url text after `ruu.vi/#`, 6 bytes: format, humidity /2,
//!   temperature sign+magnitude + hundredths, pressure + 50000 Pa.
//!
//! bleparser key names: `acceleration` (total, mG: ruuvitag-ble's total, the length of the axes
//! rounded to 0.01 m/s², rounded to 0.01 m/s²), `acceleration x/y/z`, `voltage` (V), `tx
//! power`; `battery` % is bleparser's estimate from the voltage. bleparser's format-5 `motion`
//! (movement counter changed since the previous frame) needs per-device memory the pipeline does
//! not keep for this format; the raw `movement counter` is published instead.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};

pub static FORMAT: Format = Format {
    name: "ruuvi",
    variants: &[],
    manufacturer: "Ruuvi",
    interval_s: 10,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Manufacturer(0x0499),
    decode,
};
/// RuuviTag data formats 2 and 4 (Eddystone URL), long superseded by 3 and 5.
pub static FORMAT_URL: Format = Format {
    name: "ruuvi-url",
    variants: &[],
    manufacturer: "Ruuvi",
    interval_s: 10,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::ServiceData16(0xFEAA),
    decode: decode_url,
};

fn be(d: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([d[o], d[o + 1]])
}

/// bleparser's battery estimate from the voltage (V), one decimal.
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

fn voltage(out: &mut Reading, v: f64) {
    out.float(&field::VOLTAGE, v);
    out.float(&field::BATTERY, battery(v));
}

/// Temperature as sign bit + 7-bit integer part, plus hundredths.
fn sign_magnitude(int_byte: u8, frac: u8) -> f64 {
    let v = (int_byte & 0x7F) as f64 + frac as f64 / 100.0;
    if int_byte & 0x80 != 0 {
        -v
    } else {
        v
    }
}

fn acceleration(out: &mut Reading, d: &[u8], o: usize) {
    let (x, y, z) = (be(d, o) as i16, be(d, o + 2) as i16, be(d, o + 4) as i16);
    if x == i16::MIN || y == i16::MIN || z == i16::MIN {
        return;
    }
    // ruuvitag-ble (Home Assistant) publishes each axis in m/s² rounded to 0.01 and the total as
    // the rounded length of those rounded axes; the total here is that value in mG, so the two
    // agree (it differs from the exact length by at most 1.3 mG, below the sensor's 4 mG step).
    let ms = |v: i16| py_round(v as f64 * 0.00980665, 2);
    let (fx, fy, fz) = (ms(x), ms(y), ms(z));
    let total = py_round((fx * fx + fy * fy + fz * fz).sqrt(), 2);
    out.float(&ACCELERATION_MG, total * 1000.0 / 9.80665);
    out.int(&field::ACCELERATION_X, x as i64);
    out.int(&field::ACCELERATION_Y, y as i64);
    out.int(&field::ACCELERATION_Z, z as i64);
}

/// Temperature (×0.005), humidity (×0.0025) and pressure at `d[1..7]` (formats 5, 6, E1).
/// ruuvitag-ble computes formats 5 and 6 as `t / 200`, `h / 400` rounded to 2 places, E1 as
/// `t * 0.005`, `h * 0.0025` rounded to 3 (`e1_digits`): the same float operations, so the
/// same halfway cases round the same way.
fn thp(out: &mut Reading, d: &[u8], e1_digits: Option<i32>) {
    let t = be(d, 1) as i16;
    if t != i16::MIN {
        let v = match e1_digits {
            Some(n) => py_round(t as f64 * 0.005, n),
            None => py_round(t as f64 / 200.0, 2),
        };
        out.float(&field::TEMPERATURE, v);
    }
    let h = be(d, 3);
    if h != 0xFFFF {
        let v = match e1_digits {
            Some(n) => py_round(h as f64 * 0.0025, n),
            None => py_round(h as f64 / 400.0, 2),
        };
        out.float(&field::HUMIDITY, v);
    }
    let p = be(d, 5);
    if p != 0xFFFF {
        out.float(&field::PRESSURE, py_round((p as f64 + 50000.0) / 100.0, 2));
    }
}

/// Ruuvi's indoor air quality score from CO2 (ppm) and PM2.5 (µg/m³), as ruuvitag-ble computes
/// it (`calculate_iaqs`): 100 minus the distance from the clean-air corner, CO2 clamped to
/// 420…2300 and PM2.5 to 0…60 each scaled to 0…100; rounded half to even, 0…100.
fn iaqs(co2: u16, pm25: f64) -> i64 {
    let co2 = (co2 as f64).clamp(420.0, 2300.0);
    let pm25 = pm25.clamp(0.0, 60.0);
    let dx = pm25 * (100.0 / 60.0);
    let dy = (co2 - 420.0) * (100.0 / 1880.0);
    let v = 100.0 - dx.hypot(dy);
    v.clamp(0.0, 100.0).round_ties_even() as i64
}

/// 9-bit index (VOC/NOx) from a byte and a flag bit; 0x1FF = not available.
fn index9(byte: u8, flags: u8, bit: u8) -> Option<i64> {
    let v = (byte as u16) << 1 | ((flags & bit != 0) as u16);
    (v != 0x1FF).then_some(v as i64)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    let Some(&fmt) = d.first() else {
        return Err(DecodeError::Truncated);
    };
    out.model = "Ruuvitag";
    match fmt {
        3 => {
            if d.len() < 14 {
                return Err(DecodeError::Truncated);
            }
            out.firmware = "Ruuvitag V3";
            if d[1] <= 200 {
                out.float(&field::HUMIDITY, py_round(d[1] as f64 / 2.0, 2));
            }
            if d[3] < 100 {
                out.float(&field::TEMPERATURE, py_round(sign_magnitude(d[2], d[3]), 2));
            }
            out.float(
                &field::PRESSURE,
                py_round((be(d, 4) as f64 + 50000.0) / 100.0, 2),
            );
            acceleration(out, d, 6);
            voltage(out, be(d, 12) as f64 / 1000.0);
        }
        5 => {
            if d.len() < 24 {
                return Err(DecodeError::Truncated);
            }
            out.firmware = "Ruuvitag V5";
            thp(out, d, None);
            acceleration(out, d, 7);
            let power = be(d, 13);
            if power >> 5 != 0x7FF {
                voltage(out, (1600 + (power >> 5) as u32) as f64 / 1000.0);
            }
            if power & 0x1F != 0x1F {
                out.int(&field::TX_POWER, -40 + 2 * (power & 0x1F) as i64);
            }
            // 255 is "not available" in Ruuvi's spec, but ruuvitag-ble publishes it.
            out.int(&field::MOVEMENT_COUNTER, d[15] as i64);
            let seq = be(d, 16);
            if seq != 0xFFFF {
                out.packet = Some(seq as u32);
            }
        }
        6 => {
            if d.len() < 20 {
                return Err(DecodeError::Truncated);
            }
            out.model = "Ruuvi Air";
            out.firmware = "Ruuvi Air (format 6)";
            thp(out, d, None);
            let flags = d[16];
            let pm25 = (be(d, 7) != 0xFFFF).then(|| py_round(be(d, 7) as f64 / 10.0, 2));
            let co2 = (be(d, 9) != 0xFFFF).then(|| be(d, 9));
            if let Some(v) = pm25 {
                out.float(&field::PM25, v);
            }
            if let Some(v) = co2 {
                out.int(&field::CO2, v as i64);
            }
            if let (Some(c), Some(p)) = (co2, pm25) {
                out.int(&IAQS, iaqs(c, p));
            }
            if let Some(v) = index9(d[11], flags, 0x40) {
                out.int(&field::VOC_INDEX, v);
            }
            if let Some(v) = index9(d[12], flags, 0x80) {
                out.int(&field::NOX_INDEX, v);
            }
            match d[13] {
                0xFF => {}
                0 => out.int(&field::ILLUMINANCE, 0),
                l => {
                    let scale = 65536f64.ln() / 254.0;
                    out.int(
                        &field::ILLUMINANCE,
                        ((l as f64 * scale).exp() - 1.0).round_ties_even() as i64,
                    );
                }
            }
            if let Some(v) = index9(d[14], flags, 0x10) {
                out.float(&field::SOUND_AVERAGE, py_round(v as f64 / 5.0 + 18.0, 2));
            }
            out.packet = Some(d[15] as u32);
        }
        0xE1 => {
            if d.len() < 40 {
                return Err(DecodeError::Truncated);
            }
            out.model = "Ruuvi Air";
            out.firmware = "Ruuvi Air (format E1)";
            thp(out, d, Some(3));
            for (o, f) in [
                (7, &field::PM1),
                (9, &field::PM25),
                (11, &field::PM4),
                (13, &field::PM10),
            ] {
                if be(d, o) != 0xFFFF {
                    out.float(f, py_round(be(d, o) as f64 * 0.1, 1));
                }
            }
            if be(d, 15) != 0xFFFF {
                out.int(&field::CO2, be(d, 15) as i64);
                if be(d, 9) != 0xFFFF {
                    out.int(&IAQS, iaqs(be(d, 15), py_round(be(d, 9) as f64 * 0.1, 1)));
                }
            }
            let flags = d[28];
            if let Some(v) = index9(d[17], flags, 0x40) {
                out.int(&field::VOC_INDEX, v);
            }
            if let Some(v) = index9(d[18], flags, 0x80) {
                out.int(&field::NOX_INDEX, v);
            }
            let u24 = |o: usize| (d[o] as u32) << 16 | (d[o + 1] as u32) << 8 | d[o + 2] as u32;
            if d[19..22] != [0xFF; 3] {
                out.float(&field::ILLUMINANCE, py_round(u24(19) as f64 * 0.01, 2));
            }
            if d[25..28] != [0xFF; 3] {
                out.packet = Some(u24(25));
            }
        }
        _ => return Err(DecodeError::Malformed("unsupported Ruuvi data format")),
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}

fn b64url(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    })
}

/// Eddystone-URL frame: `0x10 | tx power | scheme | "ruu.vi/#" | base64url…`.
fn decode_url(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    const PREFIX: &[u8] = b"ruu.vi/#";
    if d.len() < 3 + PREFIX.len() || d[0] != 0x10 || &d[3..3 + PREFIX.len()] != PREFIX {
        return Err(DecodeError::Malformed("not a Ruuvi Eddystone URL"));
    }
    let enc = &d[3 + PREFIX.len()..];
    if enc.len() < 8 {
        return Err(DecodeError::Truncated);
    }
    let version = if enc.len() == 8 { 2 } else { 4 };
    let mut b = [0u8; 6];
    for (i, q) in enc[..8].chunks_exact(4).enumerate() {
        let mut v = 0u32;
        for &c in q {
            v = v << 6 | b64url(c).ok_or(DecodeError::Malformed("bad base64 in Ruuvi URL"))? as u32;
        }
        b[i * 3..i * 3 + 3].copy_from_slice(&v.to_be_bytes()[1..]);
    }
    out.model = "Ruuvitag";
    out.firmware = if version == 2 {
        "Ruuvitag V2"
    } else {
        "Ruuvitag V4"
    };
    out.float(&field::HUMIDITY, b[1] as f64 * 0.5);
    out.float(&field::TEMPERATURE, py_round(sign_magnitude(b[2], b[3]), 2));
    out.float(
        &field::PRESSURE,
        py_round((be(&b, 4) as f64 + 50000.0) / 100.0, 2),
    );
    Ok(())
}

// Total acceleration in mG as bleparser reports Ruuvi's (BTHome's `acceleration` is m/s²,
// declared in its own file); same key, so one device never carries both.
crate::decode::field::fields! {
    FIELDS;
    ACCELERATION_MG = "acceleration", "mG", "", "measurement", Sensor, false;
    IAQS = "iaqs", "", "aqi", "measurement", Sensor, false, 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding() {
        assert_eq!(py_round(26.965, 2), 26.96); // binary value just below the tie
        assert_eq!(py_round(0.125, 2), 0.12); // exact tie: to even
        assert_eq!(py_round(1004.155, 2), 1004.15);
        assert_eq!(py_round(-163.84, 2), -163.84);
    }
}
