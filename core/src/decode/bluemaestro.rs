//! BlueMaestro Tempo Disc THD / THPD and Pebble (manufacturer data 0x0133), as ble_monitor's
//! `bluemaestro.py` reads them. `d` = payload after the company id, `d[0]` the device id:
//!
//! * 0x16/0x17 Tempo Disc THD, 0x1B THPD (14 bytes; bluemaestro-ble, Home Assistant's library,
//!   reads the first 14 of a longer frame, and so do we): big-endian `battery % | interval |
//!   log count | temperature i16 /10 °C | humidity /10 % | dew point i16 /10 °C (THPD:
//!   pressure /10 hPa) | mode`. The log count is the `packet`.
//! * 0x01 Pebble (18 bytes): little-endian temperatures i16 /10 (the second is the one
//!   published), humidity u8 %, pressure u16 hPa.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "bluemaestro",
    variants: &[],
    manufacturer: "BlueMaestro",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0133], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0x0133, d)
            if matches!(
                (d.len(), d.first()),
                (14.., Some(0x16 | 0x17 | 0x1B)) | (18, Some(0x01))
            ) =>
        {
            Some(Claim::of(d))
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
    let d = claim.payload;
    out.firmware = "BlueMaestro";
    match (d.len(), d.first()) {
        (14.., Some(&id @ (0x16 | 0x17 | 0x1B))) => {
            let be = |o: usize| i16::from_be_bytes([d[o], d[o + 1]]);
            out.model = if id == 0x1B {
                "Tempo Disc THPD"
            } else {
                "Tempo Disc THD"
            };
            out.packet = Some(u16::from_be_bytes([d[4], d[5]]) as u32);
            out.float(&field::TEMPERATURE, be(6) as f64 / 10.0);
            out.float(&field::HUMIDITY, be(8) as u16 as f64 / 10.0);
            out.int(&field::BATTERY, d[1] as i64);
            if id == 0x1B {
                out.float(&field::PRESSURE, be(10) as f64 / 10.0);
            } else {
                out.float(&field::DEWPOINT, be(10) as f64 / 10.0);
            }
        }
        (18, Some(0x01)) => {
            out.model = "Pebble";
            out.float(
                &field::TEMPERATURE,
                i16::from_le_bytes([d[3], d[4]]) as f64 / 10.0,
            );
            out.int(&field::HUMIDITY, d[7] as i64);
            out.int(&field::PRESSURE, u16::from_le_bytes([d[8], d[9]]) as i64);
        }
        _ => return Err(DecodeError::Malformed("not a BlueMaestro frame")),
    }
    Ok(())
}
