//! R.W. Beckett burner controls (Genisys, BeckettLink Pro; manufacturer data 0x061A), as
//! ble_monitor's `beckett.py` reads them. The payload after 4 bytes is obfuscated: byte `i`
//! (from 4) is `v ^ (u + i − 2) ^ o`, with `u`, `o` the two preceding wrapped bytes (starting
//! with payload bytes 2 and 3). Unwrapped `b`, big-endian: `product u16 (bit 15: bootloader) |
//! device name key u16 | …`, `b[−1]` advertisement version, `b[−2] == 0` connectable, version 1
//! with 20 bytes and more: serial u32 at `b[16..20]`. Legacy Genisys (product 3) adds `state
//! u16 | end cause u16 | cycle count u16` at `b[4..10]`.
//!
//! Like ble_monitor (Python's `int.from_bytes` of a slice), a field the frame cuts short is read
//! from the bytes there are (none: 0), so frames of 2 unwrapped bytes and more decode.
//!
//! Values are published under ble_monitor's keys (`burner_*`); enum names as its enums spell
//! them. Unknown products, device names or states are not claimed (ble_monitor's enum lookups
//! raise and it drops the frame).

use super::{Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "beckett",
    variants: &[],
    manufacturer: "R.W. Beckett",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x061A], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    PRODUCT = "burner_product", "", "", "", Text, true;
    DEVICE = "burner_device", "", "", "", Text, true;
    SERIAL = "burner_serial", "", "", "", Sensor, true;
    BOOTLOADER = "burner_is_bootloader", "", "", "", Binary, true;
    ADV_VERSION = "burner_advertisement_version", "", "", "", Sensor, true;
    CONNECTABLE = "burner_connectable", "", "connectivity", "", Binary, true;
    STATE = "burner_state", "", "", "", Text, false;
    LAST_END_CAUSE = "burner_last_end_cause", "", "", "", Text, false;
    CYCLE_COUNT = "burner_cycle_count", "", "", "total_increasing", Sensor, false;
}

/// Longest unwrapped frame (a 31-byte AD structure).
const MAX: usize = 27;
/// Shortest frame: the two trailer bytes (version, connectable) that ble_monitor indexes.
const MIN: usize = 2;

/// The unwrapped bytes (into `buf`), or `None` when the frame is too short or too long.
fn unwrap<'b>(p: &[u8], buf: &'b mut [u8; MAX]) -> Option<&'b [u8]> {
    let n = p.len().checked_sub(4).filter(|n| (MIN..=MAX).contains(n))?;
    let (mut u, mut o) = (p[2], p[3]);
    for (i, (&v, out)) in p[4..].iter().zip(buf.iter_mut()).enumerate() {
        *out = v ^ u.wrapping_add(i as u8 + 2) ^ o;
        (u, o) = (o, v);
    }
    Some(&buf[..n])
}

/// `b[start..end]` big-endian, cut to the bytes there are (Python's `int.from_bytes` of a
/// slice; no byte: 0).
fn be(b: &[u8], start: usize, end: usize) -> u16 {
    b.get(start..end.min(b.len()))
        .unwrap_or(&[])
        .iter()
        .fold(0, |a, &x| a << 8 | x as u16)
}

fn product(b: &[u8]) -> Option<&'static str> {
    Some(match be(b, 0, 2) & 0x7FFF {
        0 => "Unknown",
        1 => "Genisys75xx",
        2 => "Iot7653",
        3 => "Genisys7505",
        4 => "Iot7652",
        5 => "GenisysGas",
        _ => return None,
    })
}

fn device(b: &[u8]) -> Option<&'static str> {
    Some(match be(b, 2, 4) {
        0 => "Genisys_7505_7575",
        64 => "Genisys_7556",
        96 => "Genisys_7559",
        128 => "Genisys_7580",
        _ => return None,
    })
}

fn state(s: u16) -> Option<&'static str> {
    const NAMES: [&str; 12] = [
        "Standby",
        "MotorRelayTest",
        "Prepurge",
        "TFI",
        "CarryOver",
        "Run",
        "PostPurge",
        "Recycle",
        "Lockout",
        "PumpPrime",
        "MotorRelayFeedbackTest",
        "NoIgnitionPrePurge",
    ];
    NAMES.get((s as usize).checked_sub(1)?).copied()
}

/// ble_monitor's end cause: the low 3 bits, or (for the one empty slot) bits 3–4.
fn end_cause(code: u16) -> &'static str {
    const PRIMARY: [&str; 8] = [
        "NoEndCauseReported",
        "CFHEnded",
        "FlameLoss",
        "",
        "PumpPrime",
        "ManualShutdown",
        "LowVoltage",
        "NoEndCauseReported",
    ];
    const FALLBACK: [&str; 4] = [
        "DidNotLight",
        "FlameLoss",
        "FlameEndOfPretime",
        "RelayFailure",
    ];
    match PRIMARY[(code & 7) as usize] {
        "" => FALLBACK[((code & 0x18) >> 3) as usize],
        p => p,
    }
}

/// Whether the unwrapped frame is one ble_monitor decodes (every enum known).
fn valid(b: &[u8]) -> bool {
    product(b).is_some()
        && device(b).is_some()
        && (product(b) != Some("Genisys7505") || state(be(b, 4, 6)).is_some())
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let mut buf = [0; MAX];
    (s.manufacturer()?.0 == 0x061A && unwrap(s.payload, &mut buf).is_some_and(valid))
        .then(|| Claim::of(s.payload))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let mut buf = [0; MAX];
    let b = unwrap(claim.payload, &mut buf)
        .filter(|b| valid(b))
        .ok_or(DecodeError::Malformed("not a Beckett frame"))?;
    let (product, device) = match (product(b), device(b)) {
        (Some(p), Some(d)) => (p, d),
        _ => return Err(DecodeError::Malformed("unknown Beckett product")),
    };
    let n = b.len();
    let version = b[n - 1];
    out.model = product;
    out.firmware = "Beckett";
    out.push(&PRODUCT, Value::Text(product));
    out.push(&DEVICE, Value::Text(device));
    if version == 1 && n >= 20 {
        out.int(
            &SERIAL,
            u32::from_be_bytes([b[16], b[17], b[18], b[19]]) as i64,
        );
    }
    out.int(&BOOTLOADER, (be(b, 0, 2) >> 15) as i64);
    out.int(&ADV_VERSION, version as i64);
    out.int(&CONNECTABLE, (b[n - 2] == 0) as i64);
    if product == "Genisys7505" {
        let st = state(be(b, 4, 6)).ok_or(DecodeError::Malformed("unknown Genisys state"))?;
        out.push(&STATE, Value::Text(st));
        out.push(&LAST_END_CAUSE, Value::Text(end_cause(be(b, 6, 8))));
        out.int(&CYCLE_COUNT, be(b, 8, 10) as i64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_cause_falls_back_for_the_empty_slot() {
        assert_eq!(end_cause(1), "CFHEnded");
        assert_eq!(end_cause(3), "DidNotLight");
        assert_eq!(end_cause(3 | 0x18), "RelayFailure");
        assert_eq!(end_cause(7), "NoEndCauseReported");
    }

    /// Too short to carry the trailer, or longer than one AD structure: refused.
    #[test]
    fn unwrap_bounds() {
        let mut buf = [0; MAX];
        assert!(unwrap(&[0x1A, 0x06, 0, 0, 1], &mut buf).is_none());
        assert!(unwrap(&[0; 4 + MAX + 1], &mut buf).is_none());
        assert_eq!(unwrap(&[0; 4 + MIN], &mut buf).map(<[u8]>::len), Some(MIN));
    }
}
