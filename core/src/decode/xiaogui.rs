//! Xiaogui body-composition scales (TZC4, Maxxmee QJ-J), as ble_monitor's `xiaogui.py` reads
//! them: 15-byte manufacturer payload whose first byte is 0xC0 (the "company id" is data):
//! `0xC0 | frame counter | weight u16 BE | impedance u16 BE /10 Ω | control u16 | state |
//! MAC[6]` (display order; a frame naming another address is refused). The state byte says
//! model and stability: 0x20/0x21 TZC4 (weight /10 kg), 0x24/0x25 QJ-J (/100 kg), the odd
//! value stabilised (then `weight` and `impedance` are published too). `packet` = counter << 8
//! | state, so re-broadcasts of one weighing are duplicates.

use super::bthome::BTHOME_WEIGHT_UNIT;
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "xiaogui",
    variants: &[],
    manufacturer: "Xiaogui",
    // Heard only while someone stands on it.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[LEN]),
            apple: false,
            needs: Needs::Nothing,
        },
        claim,
    ),
    decode,
};

const LEN: usize = 15;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer().is_some()
        && p.len() == LEN
        && p[0] == 0xC0
        && matches!(p[8], 0x20 | 0x21 | 0x24 | 0x25))
    .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim
        .payload
        .try_into()
        .map_err(|_| DecodeError::Truncated)?;
    if p[9..15] != adv.addr.0 {
        return Err(DecodeError::Malformed("frame MAC is not the advertiser's"));
    }
    let state = p[8];
    let (model, div) = match state {
        0x20 | 0x21 => ("TZC4", 10.0),
        0x24 | 0x25 => ("QJ-J", 100.0),
        _ => return Err(DecodeError::Malformed("unknown Xiaogui state byte")),
    };
    out.model = model;
    out.firmware = "Xiaogui";
    out.packet = Some((p[1] as u32) << 8 | state as u32);
    let weight = u16::from_be_bytes([p[2], p[3]]) as f64 / div;
    let stable = state & 1 == 1;
    out.float(&field::NON_STABILIZED_WEIGHT, weight);
    if stable {
        out.float(&field::WEIGHT, weight);
        out.float(
            &field::IMPEDANCE,
            u16::from_be_bytes([p[4], p[5]]) as f64 / 10.0,
        );
    }
    out.push(&BTHOME_WEIGHT_UNIT, super::Value::Text("kg"));
    out.int(&field::STABILIZED, stable as i64);
    Ok(())
}
