//! Acconeer XM122 / XM126 radar sensor modules (manufacturer data 0xACC0), as ble_monitor's
//! `acconeer.py` reads them: 17-byte payload `company id | device id | battery u16 LE % |
//! temperature i16 LE °C | value u16 LE | 8 reserved bytes`. Device 0x90 (XM126 distance
//! firmware): the value is the distance in mm; 0x80 (XM122) and 0x91 (XM126 presence): presence
//! (any non-zero value = motion).
//!
//! ble_monitor's `packet` is the payload as hex, its duplicate key; the device sends no frame
//! counter (our `packet`), so none is published, as for the other counter-less formats.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "acconeer",
    variants: &[],
    manufacturer: "Acconeer",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xACC0], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0xACC0, d) if d.len() == 15 && matches!(d[0], 0x80 | 0x90 | 0x91) => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d: &[u8; 15] = claim.array()?;
    let u = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]);
    out.firmware = "Acconeer";
    match d[0] {
        0x90 => {
            out.model = "Acconeer XM126";
            out.int(&field::DISTANCE_MM, u(5) as i64);
        }
        id @ (0x80 | 0x91) => {
            out.model = if id == 0x80 {
                "Acconeer XM122"
            } else {
                "Acconeer XM126"
            };
            out.int(&field::MOTION, (u(5) != 0) as i64);
        }
        _ => return Err(DecodeError::Malformed("unknown Acconeer device id")),
    }
    out.int(&field::TEMPERATURE, u(3) as i16 as i64);
    out.int(&field::BATTERY, u(1) as i64);
    Ok(())
}
