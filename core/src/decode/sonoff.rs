//! Sonoff S-MATE and R5 remote buttons, as ble_monitor's `sonoff.py` reads them (its commit
//! 7028af10 and test_sonoff.py): the frame is a 32-bit UUID list (AD type 0x05) from the fixed
//! address 66:55:44:33:22:11 that every such remote uses. Payload: UUID (4 bytes, `FF FF EE
//! 1B` as ble_monitor requires; a list of other UUIDs is not claimed), magic
//! (4), device type (0x46 S-MATE, 0x47 R5), magic, sequence, the remote's 4-byte id, a seed,
//! then bytes XORed with the seed and a fixed 41-byte table: padding, button id, press type
//! (single, double, long), a 4-byte big-endian press counter (the `packet`).
//!
//! The reading's address is the remote's own, `00:00` + its id (as ble_monitor's `mac`), so
//! several remotes behind the shared address are told apart. An unknown device type, button or
//! press type gives no reading (ble_monitor logs and returns nothing). ble_monitor's `data:
//! True` flag is not published.

use super::field::Field;
use super::mibeacon::fields as mf;
use super::{Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::addr::Addr;
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "sonoff",
    variants: &[],
    manufacturer: "Sonoff",
    // Buttons send on a press only: nothing to expire.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::COMPLETE_UUID32, &[], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    SIX_BTN_TOP_LEFT = "six btn switch top left", "", "", "", Event, false;
    SIX_BTN_TOP_MIDDLE = "six btn switch top middle", "", "", "", Event, false;
    SIX_BTN_TOP_RIGHT = "six btn switch top right", "", "", "", Event, false;
    SIX_BTN_BOTTOM_LEFT = "six btn switch bottom left", "", "", "", Event, false;
    SIX_BTN_BOTTOM_MIDDLE = "six btn switch bottom middle", "", "", "", Event, false;
    SIX_BTN_BOTTOM_RIGHT = "six btn switch bottom right", "", "", "", Event, false;
}

/// The address every Sonoff remote advertises from (air order: 66:55:44:33:22:11).
const SHARED_ADDR: Addr = Addr([0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
/// The 32-bit UUID that starts every remote's frame (as it appears in the AD structure).
const UUID32: [u8; 4] = [0xFF, 0xFF, 0xEE, 0x1B];
/// Shortest payload ble_monitor accepts (its 21 bytes count the AD length and type bytes).
const MIN_LEN: usize = 19;
/// Where the fields start in the payload (ble_monitor's offsets less the two header bytes).
const DEVICE_TYPE: usize = 8;
const DEVICE_ID: usize = 11;
const SEED: usize = 15;
const ENCRYPTED: usize = 16;

const XOR: [u8; 41] = [
    0x0f, 0x39, 0xbe, 0x5f, 0x27, 0x05, 0xbe, 0xf9, 0x66, 0xb5, 0x74, 0x0d, 0x04, 0x86, 0xd2, 0x61,
    0x55, 0xbb, 0xfc, 0x16, 0x34, 0x40, 0x7e, 0x1d, 0x38, 0x6e, 0xe4, 0x06, 0xaa, 0x79, 0x32, 0x95,
    0x66, 0xb5, 0x74, 0x0d, 0xdb, 0x8c, 0xe9, 0x01, 0x2a,
];

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.ad_type == adv::ad_type::COMPLETE_UUID32
        && adv.addr == SHARED_ADDR
        && s.payload.len() >= MIN_LEN
        && s.payload.starts_with(&UUID32))
    .then(|| Claim::of(s.payload))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let (Some(&kind), Some(id), Some(&seed), Some(enc)) = (
        p.get(DEVICE_TYPE),
        p.get(DEVICE_ID..DEVICE_ID + 4),
        p.get(SEED),
        p.get(ENCRYPTED..),
    ) else {
        return Err(DecodeError::Truncated);
    };
    let plain = |i: usize| enc.get(i).map(|b| b ^ seed ^ XOR[i % XOR.len()]);
    let (Some(button), Some(press)) = (plain(1), plain(2)) else {
        return Err(DecodeError::Truncated);
    };
    // The counter from the bytes there are (ble_monitor: int.from_bytes of up to four).
    let counter = (3..7)
        .filter_map(plain)
        .fold(0u32, |c, b| c << 8 | b as u32);
    let (model, buttons): (&'static str, &[&'static Field]) = match kind {
        0x46 => ("S-MATE", THREE),
        0x47 => ("R5", SIX),
        _ => return Err(DecodeError::Malformed("unknown Sonoff device type")),
    };
    let press = match press {
        0 => "single press",
        1 => "double press",
        2 => "long press",
        _ => return Err(DecodeError::Malformed("unknown Sonoff press type")),
    };
    let Some(b) = buttons.get(button as usize) else {
        return Err(DecodeError::Malformed("unknown Sonoff button"));
    };
    out.addr = Addr([0, 0, id[0], id[1], id[2], id[3]]);
    out.model = model;
    out.firmware = "Sonoff";
    out.packet = Some(counter);
    out.push(b, Value::Text("toggle"));
    out.push(&mf::BUTTON_SWITCH, Value::Text(press));
    Ok(())
}

/// Button ids → fields, per model (ble_monitor's SONOFF_BUTTON_MAP).
static THREE: &[&Field] = &[
    &mf::THREE_BTN_LEFT,
    &mf::THREE_BTN_MIDDLE,
    &mf::THREE_BTN_RIGHT,
];
static SIX: &[&Field] = &[
    &SIX_BTN_TOP_LEFT,
    &SIX_BTN_TOP_MIDDLE,
    &SIX_BTN_TOP_RIGHT,
    &SIX_BTN_BOTTOM_LEFT,
    &SIX_BTN_BOTTOM_MIDDLE,
    &SIX_BTN_BOTTOM_RIGHT,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::testing;

    /// A frame as a remote sends it: `kind`, id 5A:D5:09:22, seed 0x42, the plain bytes
    /// (padding, button, press, counter) XORed as the remote does.
    fn frame(kind: u8, button: u8, press: u8, counter: u32) -> Vec<u8> {
        let mut p = vec![
            0xFF, 0xFF, 0xEE, 0x1B, 0xC8, 0x78, 0xF6, 0x4A, kind, 0x90, 0x36,
        ];
        p.extend_from_slice(&[0x5A, 0xD5, 0x09, 0x22]);
        let seed = 0x42;
        p.push(seed);
        let mut plain = vec![0, button, press];
        plain.extend_from_slice(&counter.to_be_bytes());
        plain.extend_from_slice(&[0, 0x12, 0x34]);
        p.extend(plain.iter().enumerate().map(|(i, b)| b ^ seed ^ XOR[i]));
        p
    }

    fn run(addr: Addr, ad_type: u8, p: &[u8]) -> Result<Reading, DecodeError> {
        testing::run(&FORMAT, addr, &[], ad_type, p)
    }

    #[test]
    fn buttons_presses_and_what_is_refused() {
        let uuid32 = adv::ad_type::COMPLETE_UUID32;
        let r = run(SHARED_ADDR, uuid32, &frame(0x47, 5, 2, 0x0102_0304)).expect("R5");
        assert_eq!((r.model, r.packet), ("R5", Some(0x0102_0304)));
        assert_eq!(r.addr, Addr([0, 0, 0x5A, 0xD5, 0x09, 0x22]));
        assert_eq!(
            r.get("six btn switch bottom right"),
            Some(Value::Text("toggle"))
        );
        assert_eq!(r.get("button switch"), Some(Value::Text("long press")));
        let r = run(SHARED_ADDR, uuid32, &frame(0x46, 2, 1, 7)).expect("S-MATE");
        assert_eq!(r.get("three btn switch right"), Some(Value::Text("toggle")));
        assert_eq!(r.get("button switch"), Some(Value::Text("double press")));
        // An S-MATE has three buttons; press types stop at 2.
        assert!(run(SHARED_ADDR, uuid32, &frame(0x46, 3, 0, 7)).is_err());
        assert!(run(SHARED_ADDR, uuid32, &frame(0x47, 0, 3, 7)).is_err());
        // Another address, another AD type: not claimed.
        let other = Addr([1, 2, 3, 4, 5, 6]);
        assert_eq!(
            run(other, uuid32, &frame(0x47, 0, 0, 7)).err(),
            Some(DecodeError::NoData)
        );
        assert_eq!(
            run(SHARED_ADDR, 0xFF, &frame(0x47, 0, 0, 7)).err(),
            Some(DecodeError::NoData)
        );
    }
}
