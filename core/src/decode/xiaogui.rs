//! Xiaogui body-composition scales (TZC4, Maxxmee QJ-J), as ble_monitor's `xiaogui.py` and
//! Home Assistant's `leaone-ble` read them: 15-byte manufacturer payload (the "company id" is
//! data): `0xC0 | frame counter | weight u16 BE | impedance u16 BE /10 Ω | control u16 | state |
//! MAC[6]` (display order). The frame is recognised by its length, a known state byte, and the
//! first byte 0xC0 or the advertiser's MAC at the end (leaone-ble does not check the first
//! byte, and its raw-advert test has 0x00 there); a frame naming another address is refused,
//! and so is an advert that also carries service data or a service UUID list (leaone-ble's
//! check).
//! The state byte says model, unit and stability: 0x20/0x21 TZC4 (weight /10 kg), 0x24/0x25
//! QJ-J (/100 kg), 0x30/0x31 TZC4 in pounds (/10 lb, published in kg rounded to 0.01 as
//! leaone-ble does, `weight unit` `lbs`), the odd value stabilised (then `weight` and
//! `impedance` are published too). `packet` = counter << 8 | state, so re-broadcasts of one
//! weighing are duplicates.

use super::bthome::BTHOME_WEIGHT_UNIT;
use super::bytes::py_round;
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

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer().is_some()
        && p.len() == LEN
        && matches!(p[8], 0x20 | 0x21 | 0x24 | 0x25 | 0x30 | 0x31)
        // ble_monitor's first byte, or (leaone-ble, which does not check it) the MAC, which
        // the decoder checks in any case.
        && (p[0] == 0xC0 || p[9..15] == adv.addr.0)
        // leaone-ble ignores an advert with service data or a service UUID list.
        && !adv.hints.service_data
        && adv.hints.uuid16.is_empty()
        && adv.hints.uuid128.is_empty())
    .then(|| Claim::of(p))
}

/// One pound in kg.
const LB: f64 = 0.45359237;

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    if p[9..15] != adv.addr.0 {
        return Err(DecodeError::Malformed("frame MAC is not the advertiser's"));
    }
    let state = p[8];
    let (model, unit) = match state {
        0x20 | 0x21 => ("TZC4", "kg"),
        0x24 | 0x25 => ("QJ-J", "kg"),
        0x30 | 0x31 => ("TZC4", "lbs"),
        _ => return Err(DecodeError::Malformed("unknown Xiaogui state byte")),
    };
    out.model = model;
    out.firmware = "Xiaogui";
    out.packet = Some((p[1] as u32) << 8 | state as u32);
    let raw = u16::from_be_bytes([p[2], p[3]]) as f64;
    let weight = match state {
        0x24 | 0x25 => raw / 100.0,
        0x30 | 0x31 => py_round(raw / 10.0 * LB, 2),
        _ => raw / 10.0,
    };
    let stable = state & 1 == 1;
    out.float(&field::NON_STABILIZED_WEIGHT, weight);
    if stable {
        out.float(&field::WEIGHT, weight);
        out.float(
            &field::IMPEDANCE,
            u16::from_be_bytes([p[4], p[5]]) as f64 / 10.0,
        );
    }
    out.push(&BTHOME_WEIGHT_UNIT, super::Value::Text(unit));
    out.int(&field::STABILIZED, stable as i64);
    Ok(())
}
