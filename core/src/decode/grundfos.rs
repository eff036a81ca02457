//! Grundfos MI401 pump modules (manufacturer data 0xF214, 21 bytes), as ble_monitor's
//! `grundfos.py` reads them. From payload byte 4, little-endian: `counter | battery status |
//! pump id u16 | flow u16 (/6.5534 l/h) | pressure i16 (/32767 bar) | reserved | pump mode |
//! temperature u8 °C`. The counter is the `packet`; an unknown pump mode is refused.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "grundfos",
    variants: &[],
    manufacturer: "Grundfos",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xF214], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    FLOW = "flow", "l/h", "", "measurement", Sensor, false;
    WATER_PRESSURE = "water pressure", "bar", "pressure", "measurement", Sensor, false;
    PUMP_MODE = "pump mode", "", "", "", Text, false;
    PUMP_ID = "pump id", "", "", "", Sensor, true;
    BATTERY_STATUS = "battery status", "", "", "", Sensor, true;
}

const LEN: usize = 21;

/// ble_monitor's pump mode names (its table repeats "level 1" for mode 9).
fn pump_mode(m: u8) -> Option<&'static str> {
    Some(match m {
        0 => "Constant speed level 3",
        1 => "Constant speed level 2",
        2 => "Constant speed level 1",
        3 => "Autoadapt",
        4 => "Proportional pressure level 1",
        5 => "Proportional pressure level 2",
        6 => "Proportional pressure level 3",
        7 | 9 => "Constant differential pressure level 1",
        8 => "Constant differential pressure level 2",
        _ => return None,
    })
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0xF214, _) if s.payload.len() == LEN && pump_mode(s.payload[13]).is_some() => {
            Some(Claim::of(s.payload))
        }
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let mode = pump_mode(p[13]).ok_or(DecodeError::Malformed("unknown Grundfos pump mode"))?;
    let u = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
    out.model = "MI401";
    out.firmware = "Grundfos";
    out.packet = Some(p[4] as u32);
    out.float(&FLOW, py_round(u(8) as f64 / 6.5534, 1));
    out.float(&WATER_PRESSURE, py_round(u(10) as i16 as f64 / 32767.0, 3));
    out.int(&field::TEMPERATURE, p[14] as i64);
    out.push(&PUMP_MODE, Value::Text(mode));
    out.int(&PUMP_ID, u(6) as i64);
    out.int(&BATTERY_STATUS, p[5] as i64);
    Ok(())
}
