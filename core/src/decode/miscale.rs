//! Xiaomi Mi Scale V1 (service data 0x181D, 10 bytes after the UUID) and Mi Body Composition
//! Scale / Mi Scale V2 (0x181B, 13 bytes), as ble_monitor's `miscale.py` reads them. `d` = data
//! after the UUID, little-endian:
//!
//! * V1: `control | weight u16 | 7 bytes (time)`; control bit 0 lbs (/100), bit 4 jin (/100),
//!   else kg (/200); bit 5 stabilised, bit 7 weight removed.
//! * V2: `units | control | 7 bytes (time) | impedance u16 Ω | weight u16`; control bit 6 jin
//!   (/100), else units 3 lbs (/100), units 2 kg (/200), other units unknown; control bit 1
//!   impedance present, bit 5 stabilised, bit 7 weight removed.
//!
//! Published as ble_monitor does: `non-stabilized weight`, `weight unit`, `weight removed`,
//! `stabilized`, and, once stabilised and not removed, `weight` (V1) or `stabilized weight`
//! (V2, plus `weight` and `impedance` when the impedance is present). Deviation: weights are
//! published in kg whatever unit the scale displays (lbs × 0.45359237, jin × 0.5), because
//! our weight fields are kg; `weight unit` still names the display unit. A V2 in an unknown
//! unit publishes no weights (its impedance still). xiaomi-ble's `stabilized` is false once
//! the weight is removed; ble_monitor's (followed here) is the raw bit.

use super::bthome::BTHOME_WEIGHT_UNIT;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "xiaomi-scale",
    variants: &[V1_SLUG, V2_SLUG],
    manufacturer: "Xiaomi",
    // Heard only while someone stands on it.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[V1_UUID, V2_UUID], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    WEIGHT_REMOVED = "weight removed", "", "", "", Binary, false;
    STABILIZED_WEIGHT = "stabilized weight", "kg", "weight", "measurement", Sensor, false;
}

const V1_SLUG: &str = "xiaomi-scale-v1";
const V2_SLUG: &str = "xiaomi-scale-v2";
const V1_UUID: u16 = 0x181D;
const V2_UUID: u16 = 0x181B;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (V1_UUID, d) if d.len() == 10 => Some(Claim::of(s.payload)),
        (V2_UUID, d) if d.len() == 13 => Some(Claim::of(s.payload)),
        _ => None,
    }
}

/// kg per display unit.
fn to_kg(unit: &str) -> f64 {
    match unit {
        "lbs" => 0.45359237,
        "jin" => 0.5,
        _ => 1.0,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let (uuid, d) = match claim.payload {
        [lo, hi, d @ ..] => (u16::from_le_bytes([*lo, *hi]), d),
        _ => return Err(DecodeError::Truncated),
    };
    let w = |o: usize| u16::from_le_bytes([d[o], d[o + 1]]) as f64;
    let (control, raw, unit, impedance) = match (uuid, d.len()) {
        (V1_UUID, 10) => {
            let c = d[0];
            let unit = if c & 1 != 0 {
                Some(("lbs", 100.0))
            } else if c & 0x10 != 0 {
                Some(("jin", 100.0))
            } else {
                Some(("kg", 200.0))
            };
            out.format = V1_SLUG;
            out.model = "Mi Scale V1";
            (c, w(1), unit, None)
        }
        (V2_UUID, 13) => {
            let c = d[1];
            let unit = if c & 0x40 != 0 {
                Some(("jin", 100.0))
            } else {
                match d[0] {
                    3 => Some(("lbs", 100.0)),
                    2 => Some(("kg", 200.0)),
                    _ => None,
                }
            };
            out.format = V2_SLUG;
            out.model = "Mi Scale V2";
            (c, w(11), unit, (c & 2 != 0).then(|| w(9)))
        }
        _ => return Err(DecodeError::Malformed("not a Mi Scale frame")),
    };
    out.firmware = out.model;
    let stable = control & 0x20 != 0;
    let removed = control & 0x80 != 0;
    let settled = stable && !removed;
    if let Some((name, div)) = unit {
        let kg = raw / div * to_kg(name);
        out.float(&field::NON_STABILIZED_WEIGHT, kg);
        out.push(&BTHOME_WEIGHT_UNIT, Value::Text(name));
        if settled {
            if uuid == V1_UUID {
                out.float(&field::WEIGHT, kg);
            } else {
                out.float(&STABILIZED_WEIGHT, kg);
                if impedance.is_some() {
                    out.float(&field::WEIGHT, kg);
                }
            }
        }
    }
    // The impedance does not depend on the unit: published in an unknown unit too.
    if let (true, Some(ohm)) = (settled, impedance) {
        out.float(&field::IMPEDANCE, ohm);
    }
    out.int(&WEIGHT_REMOVED, removed as i64);
    out.int(&field::STABILIZED, stable as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::testing;

    fn run(payload: &[u8]) -> Reading {
        testing::run(&FORMAT, Addr([1, 2, 3, 4, 5, 6]), &[], 0x16, payload).expect("decoded")
    }

    /// A V1 set to pounds: 150.00 lbs stabilised, published in kg with the unit text.
    #[test]
    fn pounds_are_published_in_kg() {
        let r = run(&[0x1D, 0x18, 0x21, 0x98, 0x3A, 0, 0, 0, 0, 0, 0, 0]);
        let kg = 68.038856; // 150 × 0.45359237 = 68.0388555, at `weight`'s six decimals
        assert_eq!(r.get("weight"), Some(Value::Float(kg)));
        assert_eq!(r.get("non-stabilized weight"), Some(Value::Float(kg)));
        assert_eq!(r.get("weight unit"), Some(Value::Text("lbs")));
        assert_eq!(r.format, V1_SLUG);
    }

    /// A V2 in an unknown unit publishes its flags and impedance but no weight.
    #[test]
    fn unknown_unit_publishes_no_weight() {
        let mut p = [0u8; 15];
        p[..4].copy_from_slice(&[0x1B, 0x18, 0x07, 0x26]);
        p[11..13].copy_from_slice(&500u16.to_le_bytes());
        let r = run(&p);
        assert_eq!(r.get("non-stabilized weight"), None);
        assert_eq!(r.get("stabilized"), Some(Value::Int(1)));
        assert_eq!(r.get("impedance"), Some(Value::Float(500.0)));
        assert_eq!(r.format, V2_SLUG);
    }
}
