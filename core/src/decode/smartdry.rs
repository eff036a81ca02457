//! SmartDry laundry dryer sensors (manufacturer data 0x01AE, 14 bytes), as ble_monitor's
//! `smartdry.py` reads them: from payload byte 2, little-endian, `temperature f32 °C |
//! humidity f32 % | shake u16 | voltage u16`. The last byte (the voltage's high byte) is 6 when
//! the sensor is awake (`switch` 1; voltage in mV) and 0 when asleep (`switch` 0).
//!
//! Asleep, ble_monitor computes `raw + 1792 / 1000` volts (operator precedence: about 200 V);
//! we take the evident intent, `(raw + 1792) / 1000` V (0x700 + the low byte, mV): a listed
//! deviation (`differential:ble_monitor:smartdry-asleep`). Other last-byte values publish no
//! voltage, as ble_monitor. Battery: ble_monitor's estimate from the voltage.

use super::bytes::f32_as_read;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "smartdry",
    variants: &[],
    manufacturer: "SmartDry",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x01AE], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    SHAKE = "shake", "", "", "measurement", Sensor, false;
}

const LEN: usize = 14;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.manufacturer()?.0 == 0x01AE && s.payload.len() == LEN).then(|| Claim::of(s.payload))
}

/// ble_monitor's battery estimate (%) from the voltage.
fn battery(v: f64) -> f64 {
    if v >= 3.0 {
        100.0
    } else if v >= 2.6 {
        60.0 + (v - 2.6) * 100.0
    } else if v >= 2.5 {
        40.0 + (v - 2.5) * 200.0
    } else if v >= 2.45 {
        20.0 + (v - 2.45) * 400.0
    } else {
        0.0
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let f = |o: usize| f32_as_read(f32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]));
    let raw = u16::from_le_bytes([p[12], p[13]]) as f64;
    out.model = "SmartDry cloth dryer";
    out.firmware = "SmartDry";
    let (t, h) = (f(2), f(6));
    if !t.is_finite() || !h.is_finite() {
        return Err(DecodeError::Malformed("SmartDry value is not a number"));
    }
    out.float(&field::TEMPERATURE, t);
    out.float(&field::HUMIDITY, h);
    out.int(&SHAKE, u16::from_le_bytes([p[10], p[11]]) as i64);
    let volt = match p[13] {
        6 => Some(raw / 1000.0),
        0 => Some((raw + 1792.0) / 1000.0),
        _ => None,
    };
    if let Some(v) = volt {
        out.int(&field::SWITCH, (p[13] == 6) as i64);
        out.float(&field::VOLTAGE, v);
        out.float(&field::BATTERY, battery(v));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::{testing, Value};

    /// Asleep (last byte 0): 0x700 + the low byte, in mV; and an unknown state: no voltage.
    #[test]
    fn asleep_voltage() {
        let mut p = [0u8; LEN];
        p[..2].copy_from_slice(&[0xAE, 0x01]);
        p[2..6].copy_from_slice(&20.5f32.to_le_bytes());
        p[6..10].copy_from_slice(&40.0f32.to_le_bytes());
        p[12] = 0xC4;
        let adv = Advert::new(Addr([1, 2, 3, 4, 5, 6]), 0, None, &[]);
        let r = testing::decode_claim(&FORMAT, &adv, Claim::of(&p)).expect("decoded");
        assert_eq!(r.get("voltage"), Some(Value::Float(1.988)));
        assert_eq!(r.get("switch"), Some(Value::Int(0)));
        assert_eq!(r.get("temperature"), Some(Value::Float(20.5)));
        p[13] = 3;
        let r = testing::decode_claim(&FORMAT, &adv, Claim::of(&p)).expect("decoded");
        assert_eq!(r.get("voltage"), None);
    }
}
