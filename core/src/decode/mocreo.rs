//! MOCREO thermometers, hygrometers and water-leak sensors (manufacturer data), as ble_monitor's
//! `mocreo.py` reads them.
//!
//! The first two payload bytes are data, not a company id, so the format is recognised by the
//! local name and the length ([`Matcher::Filtered`]). `c` = the 16 "common" bytes:
//! * name `MOCREO`, 18-byte payload (ST5/6/8/9/10, SW2, MS1/2/3): `c` = the whole payload;
//! * name `ST7`, company id 0x004A, 16-byte payload, 16-bit UUID 0xFFF0 advertised: `c` =
//!   payload from byte 7.
//!
//! `c[1]` device type, `c[4] & 0x7F` battery %, then by type: temperature i16 LE /100 °C at
//! `c[6..8]` (ST7, type 0x10: `c[5..7]`, in either frame, as ble_monitor reads it), humidity
//! i16 LE /100 % at `c[8..10]` (ST6, ST9), water leak `c[10] & 1` (SW2). Unknown device types
//! are not claimed; the `ST7` frame is claimed only with type 0x10.

use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Needs, Prefilter, Reading,
    Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "mocreo",
    variants: &[],
    manufacturer: "MOCREO",
    interval_s: 600,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: false,
    },
    fields: &[FIELDS],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[16, 18]),
            apple: false,
            needs: Needs::Name,
        },
        claim,
    ),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    WATER_LEAK = "water leak", "", "moisture", "", Binary, false;
}

/// Device type byte → model.
fn model(t: u8) -> Option<&'static str> {
    Some(match t {
        0x10 => "ST7",
        0x81 => "ST5",
        0x82 => "SW2",
        0x83 => "ST6",
        0x84 => "ST8",
        0x86 => "ST9",
        0x87 => "ST10",
        0x8B => "MS1",
        0x94 => "MS2",
        0x96 => "MS3",
        _ => return None,
    })
}

/// The claim's variant: the offset of the common bytes in the payload.
const NORMAL: u8 = 0;
const ST7: u8 = 7;

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, _) = s.manufacturer()?;
    let p = s.payload;
    let variant = match (adv.hints.name, p.len()) {
        (b"MOCREO", 18) if model(p[1]).is_some() => NORMAL,
        (b"ST7", 16) if cid == 0x004A && p[8] == 0x10 && adv.hints.has_uuid16(0xFFF0) => ST7,
        _ => return None,
    };
    Some(Claim {
        payload: p,
        variant,
    })
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let c = claim
        .payload
        .get(claim.variant as usize..)
        .filter(|c| c.len() >= if claim.variant == ST7 { 7 } else { 11 })
        .ok_or(DecodeError::Truncated)?;
    let t = c[1];
    if claim.variant == ST7 && t != 0x10 {
        return Err(DecodeError::Malformed(
            "MOCREO device type does not fit the frame",
        ));
    }
    out.model = model(t).ok_or(DecodeError::Malformed("unknown MOCREO device type"))?;
    out.firmware = "MOCREO";
    let i16at = |o: usize| i16::from_le_bytes([c[o], c[o + 1]]) as f64 / 100.0;
    match t {
        0x10 => out.float(&field::TEMPERATURE, i16at(5)),
        0x82 => out.int(&WATER_LEAK, (c[10] & 1) as i64),
        0x83 | 0x86 => {
            out.float(&field::TEMPERATURE, i16at(6));
            out.float(&field::HUMIDITY, i16at(8));
        }
        _ => out.float(&field::TEMPERATURE, i16at(6)),
    }
    out.int(&field::BATTERY, (c[4] & 0x7F) as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::{testing, Value};

    /// ST7 (no public vector): ble_monitor's layout, common bytes from payload byte 7.
    #[test]
    fn st7_layout() {
        // cid 0x004A, 5 bytes, then c: ?, type 0x10, ?, ?, battery 0xD5 (85 %), -5.25 °C.
        let p: [u8; 16] = [
            0x4A, 0x00, 0, 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0xD5, 0xF3, 0xFD, 0, 0,
        ];
        let mut ad = vec![4, 0x09, b'S', b'T', b'7', 3, 0x03, 0xF0, 0xFF, 17, 0xFF];
        ad.extend_from_slice(&p);
        let adv = Advert::new(Addr([1, 2, 3, 4, 5, 6]), 0, None, &ad);
        let s = AdStructure {
            ad_type: 0xFF,
            payload: &p,
        };
        let c = claim(&s, &adv).expect("claimed");
        assert_eq!(c.variant, ST7);
        let r = testing::decode_claim(&FORMAT, &adv, c).expect("decoded");
        assert_eq!(r.model, "ST7");
        assert_eq!(r.get("temperature"), Some(Value::Float(-5.25)));
        assert_eq!(r.get("battery"), Some(Value::Int(85)));
        // Without the 0xFFF0 UUID, or under another name, it is not MOCREO's.
        let bare = Advert::new(Addr([1, 2, 3, 4, 5, 6]), 0, None, &ad[..5]);
        assert!(claim(
            &s,
            &Advert {
                hints: bare.hints,
                ..adv
            }
        )
        .is_none());
    }
}
