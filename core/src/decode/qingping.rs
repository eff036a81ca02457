//! Qingping / ClearGrass (service data 0xFDCD), unencrypted.
//!
//! Frame (after the UUID): `frame control | device type | MAC[6] (reversed) | objects…`, each
//! object `id | size | value[size]` (little-endian). Objects: 0x01 temperature (i16 /10 °C) +
//! humidity (u16 /10 %), 0x02 battery % (0xFF: externally powered, read as 100), 0x04 door (0
//! open, 1 closed, 2 open too long), 0x07 pressure (u16 /10 hPa), 0x08 motion (u8) +
//! illuminance (u24 lux; not in event frames, frame control bit 6, where those bytes are no
//! illuminance), 0x09 illuminance (u32), 0x0F frame counter, 0x11 light (u8), 0x12 PM2.5 + PM10
//! (u16 each), 0x13 CO2 (u16 ppm), 0x15 VOC index (u16), 0x19 noise (u8 dB); 0x18 is a
//! hardware capability bitmap, not a reading. An object that overruns the frame ends the walk;
//! unknown objects (and known ones of another size) are skipped, as qingping-ble does.
//!
//! The advertiser's address is used for the reading (the CGDN1 puts another MAC in its frame).

use super::bytes::u16le;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};

crate::decode::field::fields! {
    FIELDS;
    SOUND_PRESSURE = "sound pressure", "dB", "sound_pressure", "measurement", Sensor, false, 0;
}

pub static FORMAT: Format = Format {
    name: "qingping",
    variants: &[],
    manufacturer: "Qingping",
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::ServiceData16(0xFDCD),
    decode,
};

/// Device type byte → model (bleparser / qingping-ble names).
fn model(id: u8) -> Option<&'static str> {
    Some(match id {
        0x01 | 0x07 | 0x16 => "CGG1",
        0x04 => "CGH1",
        0x09 => "CGP1W",
        0x0C => "CGD1",
        0x0E | 0x24 => "CGDN1",
        0x0F => "CGM1",
        0x10 => "CGDK2",
        0x12 => "CGPR1",
        0x15 => "CGF1W",
        0x18 | 0x26 => "CGP23W",
        0x1E => "CGC1",
        0x33 | 0x5D => "CGP22C",
        0x4F => "CGG3",
        0x52 | 0x62 => "CGR1PC",
        _ => return None,
    })
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    if data.len() < 9 {
        return Err(DecodeError::Truncated);
    }
    out.model = model(data[1]).ok_or(DecodeError::Malformed("unknown Qingping device type"))?;
    out.firmware = "Qingping";
    let event = data[0] & 0x40 != 0;
    let mut rest = &data[8..];
    while rest.len() >= 2 {
        let (id, size) = (rest[0], rest[1] as usize);
        let Some(v) = rest.get(2..2 + size) else {
            break;
        };
        rest = &rest[2 + size..];
        match (id, size) {
            (0x01, 4) => {
                out.float(&field::TEMPERATURE, u16le(v) as i16 as f64 / 10.0);
                out.float(&field::HUMIDITY, u16le(&v[2..]) as f64 / 10.0);
            }
            (0x02, 1) => out.int(
                &field::BATTERY,
                if v[0] == 0xFF { 100 } else { v[0] as i64 },
            ),
            (0x04, 1) => {
                out.int(&field::DOOR, (v[0] == 0 || v[0] == 2) as i64);
                out.int(&field::DOOR_LEFT_OPEN, (v[0] == 2) as i64);
            }
            (0x07, 2) => out.float(&field::PRESSURE, u16le(v) as f64 / 10.0),
            (0x08, 4) => {
                out.int(&field::MOTION, (v[0] != 0) as i64);
                if !event {
                    out.int(
                        &field::ILLUMINANCE,
                        u16le(&v[1..]) as i64 | (v[3] as i64) << 16,
                    );
                }
            }
            (0x09, 4) => out.int(
                &field::ILLUMINANCE,
                u32::from_le_bytes([v[0], v[1], v[2], v[3]]) as i64,
            ),
            (0x0F, 1) => out.packet = Some(v[0] as u32),
            (0x11, 1) => out.int(&field::LIGHT, (v[0] != 0) as i64),
            (0x12, 4) => {
                out.int(&field::PM25, u16le(v) as i64);
                out.int(&field::PM10, u16le(&v[2..]) as i64);
            }
            (0x13, 2) => out.int(&field::CO2, u16le(v) as i64),
            (0x15, 2) => out.int(&field::VOC_INDEX, u16le(v) as i64),
            (0x19, 1) => out.int(&SOUND_PRESSURE, v[0] as i64),
            _ => {}
        }
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::testing;

    #[test]
    fn overrunning_object_stops_walk() {
        let adv = Advert::new(Addr::default(), 0, None, &[]);
        // battery object, then a CO2 object claiming 9 bytes
        let d = [
            0x08, 0x0C, 1, 2, 3, 4, 5, 6, 0x02, 0x01, 0x55, 0x13, 0x09, 0x01,
        ];
        let r = testing::decode_claim(&FORMAT, &adv, Claim::of(&d)).expect("decoded");
        assert_eq!(r.get("battery"), Some(super::super::Value::Int(0x55)));
        assert_eq!(r.values().len(), 1);
        assert_eq!(
            testing::decode_claim(&FORMAT, &adv, Claim::of(&d[..5])).err(),
            Some(DecodeError::Truncated)
        );
    }
}
