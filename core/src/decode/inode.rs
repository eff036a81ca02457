//! iNode Energy Meter and Care Sensors (manufacturer data), as ble_monitor's `inode.py` reads
//! them. The "company id" is data: its second byte is the device id (0x82 Energy Meter,
//! 13-byte payload; 0x91–0x96 and 0x9A–0x9D Care Sensors, 24 bytes). `x` = payload from
//! byte 2, little-endian.
//!
//! * Energy Meter: average u16, total u32, options u16 (bits 14-15 unit: 0 electricity,
//!   1 m³, 2 counts; bits 0-13 the meter constant, 0 = default), battery/light u8, week-day
//!   u16. `power = 60000 × average / constant` W, `energy = total / constant` kWh, published
//!   only for electricity meters: our `energy`/`power` fields are kWh/W, and a gas/water or
//!   pulse meter's m³ or counts under them would be mislabelled (ble_monitor publishes them
//!   with a unit text). `energy unit`/`power unit` texts, `constant`, `light level`,
//!   `week day`, `week day total` as ble_monitor.
//! * Care Sensors: groups/battery u16, alarm u16, position/pressure u16, temperature u16,
//!   humidity u16, …: temperature by model (clamped to −30…70 °C), humidity
//!   `125 × 4h / 65536 − 6` (clamped to 1…100), pressure `/16`, motion (position bit 15),
//!   magnetic field. The 5-bit accelerometer axes are raw units, not the mG of our
//!   `acceleration` fields, so they are not published (a listed deviation). For models 0x92
//!   and 0x9A ble_monitor indexes an int and raises; we read the two temperature bytes in
//!   frame order as its code intends (`b0 / 16 + 16 × (b1 & 0x0F)`, bit 4 of `b1` = negative).
//!
//! Battery: `10 × (min(level, 11) − 1)` % (level 1 = 100 %) and ble_monitor's voltage from it.
//! ble_monitor's `packet` is the payload as hex, its duplicate key; the device sends no frame
//! counter (our `packet`), so none is published, as for the other counter-less formats.

use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
    Value,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "inode",
    variants: &[],
    manufacturer: "iNode",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[ENERGY_LEN, CARE_LEN]),
            apple: false,
            needs: Needs::Nothing,
        },
        claim,
    ),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    ENERGY_UNIT = "energy unit", "", "", "", Text, true;
    POWER_UNIT = "power unit", "", "", "", Text, true;
    CONSTANT = "constant", "", "", "", Sensor, true;
    WEEK_DAY = "week day", "", "", "", Sensor, true;
    WEEK_DAY_TOTAL = "week day total", "", "", "measurement", Sensor, false;
    MAGNETIC_FIELD = "magnetic field", "", "", "measurement", Sensor, false;
    MAGNETIC_FIELD_DIRECTION = "magnetic field direction", "", "", "measurement", Sensor, false;
}

const ENERGY_LEN: usize = 13;
const CARE_LEN: usize = 24;

fn model(id: u8) -> Option<&'static str> {
    Some(match id {
        0x82 => "iNode Energy Meter",
        0x91 => "iNode Care Sensor 1",
        0x92 => "iNode Care Sensor 2",
        0x93 => "iNode Care Sensor 3",
        0x94 => "iNode Care Sensor 4",
        0x95 => "iNode Care Sensor 5",
        0x96 => "iNode Care Sensor 6",
        0x9A => "iNode Care Sensor T",
        0x9B => "iNode Care Sensor HT",
        0x9C => "iNode Care Sensor PT",
        0x9D => "iNode Care Sensor PHT",
        _ => return None,
    })
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    let ok = s.manufacturer().is_some()
        && match (p.len(), p[1]) {
            (ENERGY_LEN, 0x82) => true,
            (CARE_LEN, id) => id != 0x82 && model(id).is_some(),
            _ => false,
        };
    ok.then(|| Claim::of(p))
}

/// Battery % from the 4-bit level, and ble_monitor's voltage from that.
fn battery(out: &mut Reading, level: u16) {
    let pct = if level == 1 {
        100
    } else {
        10 * (level.min(11) as i64 - 1)
    };
    out.int(&field::BATTERY, pct);
    out.float(&field::VOLTAGE, (pct - 10) as f64 * 1.2 / 100.0 + 1.8);
}

fn energy_meter(x: &[u8], out: &mut Reading) {
    let avg = u16::from_le_bytes([x[0], x[1]]) as f64;
    let sum = u32::from_le_bytes([x[2], x[3], x[4], x[5]]) as f64;
    let options = u16::from_le_bytes([x[6], x[7]]);
    let (units, default) = match options >> 14 {
        0 => (("kWh", "W"), 100),
        1 => (("m3", "m3"), 1000),
        _ => (("cnt", "cnt"), 1),
    };
    let constant = match options & 0x3FFF {
        0 => default,
        c => c,
    };
    if options >> 14 == 0 {
        out.float(&field::ENERGY, sum / constant as f64);
        out.float(&field::POWER, 60_000.0 * avg / constant as f64);
    }
    out.push(&ENERGY_UNIT, Value::Text(units.0));
    out.push(&POWER_UNIT, Value::Text(units.1));
    out.int(&CONSTANT, constant as i64);
    let bl = x[8];
    battery(out, (bl >> 4) as u16);
    out.float(&field::LIGHT_LEVEL, (bl & 0x0F) as f64 * 100.0 / 15.0);
    let wd = u16::from_le_bytes([x[9], x[10]]);
    out.int(&WEEK_DAY, (wd >> 13) as i64);
    out.int(&WEEK_DAY_TOTAL, (wd & 0x1FFF) as i64);
}

fn care_sensor(id: u8, x: &[u8], out: &mut Reading) {
    let w = |o: usize| u16::from_le_bytes([x[o], x[o + 1]]);
    let (groups_battery, raw_p, raw_t, raw_h) = (w(0), w(4), w(6), w(8));
    let clamp = |t: f64| t.clamp(-30.0, 70.0);
    let temperature = match id {
        0x91 | 0x94 | 0x95 | 0x96 => {
            let t = raw_t as i64;
            Some(clamp(if t > 127 { t - 8192 } else { t } as f64))
        }
        0x92 | 0x9A => {
            let (b0, b1) = (x[6] as f64, x[7]);
            let t = b0 * 0.0625 + 16.0 * (b1 & 0x0F) as f64;
            Some(clamp(if b1 & 0x10 != 0 { t - 256.0 } else { t }))
        }
        0x93 | 0x9B | 0x9D => Some(clamp(175.72 * raw_t as f64 * 4.0 / 65536.0 - 46.85)),
        0x9C => Some(42.5 + raw_t as f64 / 480.0),
        _ => None,
    };
    if let Some(t) = temperature {
        out.float(&field::TEMPERATURE, t);
    }
    if matches!(id, 0x93 | 0x9B | 0x9D) {
        let h = 125.0 * raw_h as f64 * 4.0 / 65536.0 - 6.0;
        out.float(&field::HUMIDITY, h.clamp(1.0, 100.0));
    }
    if matches!(id, 0x9C | 0x9D) {
        out.float(&field::PRESSURE, raw_p as f64 / 16.0);
    }
    if id == 0x95 {
        out.int(&MAGNETIC_FIELD, raw_h as i64);
        out.int(&MAGNETIC_FIELD_DIRECTION, (id as i64) << 4);
    }
    if matches!(id, 0x91..=0x96) {
        out.int(&field::MOTION, (raw_p >> 15) as i64);
    }
    battery(out, (groups_battery >> 12) & 0x0F);
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let id = *p.get(1).ok_or(DecodeError::Truncated)?;
    out.model = model(id).ok_or(DecodeError::Malformed("unknown iNode device id"))?;
    out.firmware = "iNode";
    match (id, p.len()) {
        (0x82, ENERGY_LEN) => energy_meter(&p[2..], out),
        (_, CARE_LEN) if id != 0x82 => care_sensor(id, &p[2..], out),
        _ => return Err(DecodeError::Malformed("iNode frame of the wrong length")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::testing;

    fn run(p: &[u8]) -> Reading {
        testing::run(&FORMAT, Addr([1, 2, 3, 4, 5, 6]), &[], 0xFF, p).expect("decoded")
    }

    /// A gas/water meter (unit bits 01) keeps its m³ out of the kWh/W fields.
    #[test]
    fn only_electricity_meters_publish_energy_and_power() {
        let mut p = [
            0x90, 0x82, 0x04, 0x00, 0xCF, 0xE4, 0x00, 0x00, 0xDC, 0x05, 0xB0, 0xED, 0x10,
        ];
        assert!(run(&p).get("energy").is_some());
        p[9] |= 0x40;
        let r = run(&p);
        assert_eq!(r.get("energy"), None);
        assert_eq!(r.get("power"), None);
        assert_eq!(r.get("energy unit"), Some(Value::Text("m3")));
    }

    /// Care Sensor T (0x9A): temperature from the two bytes in frame order, bit 4 = negative.
    #[test]
    fn care_sensor_t_temperature() {
        let mut p = [0u8; CARE_LEN];
        p[0] = 0x90;
        p[1] = 0x9A;
        p[3] = 0x20; // battery level 2 → 10 %
        p[8] = 0x40; // 4 × 0.0625
        p[9] = 0x01; // + 16
        let r = run(&p);
        assert_eq!(r.get("temperature"), Some(Value::Float(20.0)));
        assert_eq!(r.get("battery"), Some(Value::Int(10)));
        p[9] = 0x1F; // 15 × 16 + 4 − 256 = −12
        assert_eq!(run(&p).get("temperature"), Some(Value::Float(-12.0)));
    }
}
