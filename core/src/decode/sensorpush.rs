//! SensorPush HT1, HT.w, HTP.xw and TC.x (manufacturer data).
//!
//! SensorPush uses the "company id" as data, so frames are recognised by the advertised
//! 128-bit service UUID (`EF090000-11D6-42BA-93B8-9DD7EC090AB0` for HT.w/HTP.xw/TC.x,
//! `…090AA9` with the name `s` for the HT1) or a `SensorPush …` local name, with a
//! [`Matcher::Filtered`]. As sensorpush-ble, an HT.w/HTP.xw/TC.x advert is decoded only when
//! the name contains `HTP.xw`, `HT.w` or `TC`, or (with the V2 UUID) when the data after the
//! company id is 5, 3 or 2 bytes long. The UUID/name may only be in the scan response (needs active scanning
//! when the controller does not merge them into one report).
//!
//! `p` = manufacturer payload including the 2-byte "company id":
//! * HT.w / HTP.xw / TC.x: `p[0] & 3` is the page (only page 0 carries values), `64 + p[0] >> 2`
//!   the device type (64 HTP.xw, 65 HT.w, 66 TC.x). `p[1..]` little-endian is one integer holding
//!   the values in mixed radix: temperature −40…140 (HTP.xw) / −40…125 (HT.w) step 0.0025 °C,
//!   humidity 0…100 step 0.0025 %, pressure 30000…125000 Pa step 1 (HTP.xw); TC.x: one
//!   temperature −200…1800 step 0.0625 °C. Bytes past the values still count (the integer is
//!   taken modulo the product of the radices, byte by byte, so any length decodes as the
//!   library's unbounded integer does).
//! * HT1 (4 bytes): 12-bit raw humidity `−6 + 125·raw/4096` (clamped 0…100) and 14-bit raw
//!   temperature `−46.85 + 175.72·raw/16384`; `(p[3] & 0x7C) >> 2` must be 1.
//!
//! Values are rounded to 2 decimals like the reference parsers.

use super::bytes::py_round;
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Needs, Prefilter, Reading,
    Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "sensorpush",
    variants: &[],
    manufacturer: "SensorPush",
    interval_s: 10,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: true,
    },
    fields: &[],
    // `claim` needs the name or 128-bit UUID and declines Apple's company id.
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::ANY_LEN,
            apple: false,
            needs: Needs::NameOrUuid128,
        },
        claim,
    ),
    decode,
};

/// `EF090000-11D6-42BA-93B8-9DD7EC090AB0` / `…090AA9` on the wire (little-endian): the first
/// byte differs.
const UUID_V2_WIRE: [u8; 16] = [
    0xB0, 0x0A, 0x09, 0xEC, 0xD7, 0x9D, 0xB8, 0x93, 0xBA, 0x42, 0xD6, 0x11, 0x00, 0x00, 0x09, 0xEF,
];
const UUID_HT1_WIRE_FIRST: u8 = 0xA9;

/// What `claim` recognised; [`Claim::variant`] is the discriminant.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    V2 = 0,
    Ht1 = 1,
}

fn kind(adv: &Advert<'_>, payload: &[u8]) -> Option<Kind> {
    let (mut v2, mut ht1) = (false, false);
    for u in adv.hints.uuid128.chunks_exact(16) {
        v2 |= u == UUID_V2_WIRE;
        ht1 |= u[0] == UUID_HT1_WIRE_FIRST && u[1..] == UUID_V2_WIRE[1..];
    }
    let n = adv.hints.name;
    if ht1 && n == b"s" {
        return Some(Kind::Ht1);
    }
    // sensorpush-ble takes the model from a name containing `HTP.xw`, `HT.w` or `TC`, else
    // (V2 UUID) from the data length after the company id: 5 HTP.xw, 3 HT.w, 2 TC.x; any other
    // advert it does not decode.
    let contains = |pat: &[u8]| n.windows(pat.len()).any(|w| w == pat);
    let model_name = contains(b"HTP.xw") || contains(b"HT.w") || contains(b"TC");
    let named = n.starts_with(b"SensorPush ");
    if (named || v2) && model_name || v2 && matches!(payload.len(), 4 | 5 | 7) {
        Some(Kind::V2)
    } else {
        None
    }
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    // SensorPush is recognised by its 128-bit UUID or its name: without either, not ours.
    if adv.hints.uuid128.is_empty() && adv.hints.name.is_empty() {
        return None;
    }
    let (cid, _) = s.manufacturer()?;
    // The iBeacon a SensorPush may send alongside is not a measurement frame.
    if cid == 0x004C {
        return None;
    }
    claim_kind(s, adv)
}

/// The expensive part of [`claim`], out of line so the quick rejects above run without the
/// register saves of the whole body (the matcher runs for every manufacturer structure).
#[inline(never)]
fn claim_kind<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    kind(adv, s.payload).map(|k| Claim {
        payload: s.payload,
        variant: k as u8,
    })
}

/// (min, max, step) of each packed value, by device type.
const HTPXW: &[(f64, f64, f64)] = &[
    (-40.0, 140.0, 0.0025),
    (0.0, 100.0, 0.0025),
    (30000.0, 125000.0, 1.0),
];
const HTW: &[(f64, f64, f64)] = &[(-40.0, 125.0, 0.0025), (0.0, 100.0, 0.0025)];
const TCX: &[(f64, f64, f64)] = &[(-200.0, 1800.0, 0.0625)];

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let k = match claim.variant {
        0 => Kind::V2,
        1 => Kind::Ht1,
        _ => return Err(DecodeError::Malformed("not a SensorPush advert")),
    };
    out.firmware = "SensorPush";
    if k == Kind::Ht1 {
        out.model = "HT1";
        if p.len() < 4 {
            return Err(DecodeError::Truncated);
        }
        if (p[3] & 0x7C) >> 2 != 1 {
            return Err(DecodeError::Malformed("not an HT1 measurement frame"));
        }
        let rh = (p[0] as u32 | ((p[1] & 0x0F) as u32) << 8) as f64;
        let rh = (-6.0 + 125.0 * (rh / 4096.0)).max(0.0);
        let rh = if rh > 100.0 { 100.0 } else { py_round(rh, 2) };
        let t = ((p[1] >> 4) as u32 | (p[2] as u32) << 4 | ((p[3] & 3) as u32) << 12) as f64;
        out.float(
            &field::TEMPERATURE,
            py_round(-46.85 + 175.72 * (t / 16384.0), 2),
        );
        out.float(&field::HUMIDITY, rh);
        return Ok(());
    }
    if p.len() < 2 {
        return Err(DecodeError::Truncated);
    }
    if p[0] & 0x03 != 0 {
        return Err(DecodeError::NoData); // pages 1-3: no measurements
    }
    let (model, params) = match 64 + (p[0] >> 2) {
        64 => ("HTP.xw", HTPXW),
        65 => ("HT.w", HTW),
        66 => ("TC.x", TCX),
        _ => return Err(DecodeError::Malformed("unknown SensorPush device type")),
    };
    out.model = model;
    // The values only depend on the little-endian integer modulo the product of the radices
    // (< 2^49): reduce it byte by byte from the most significant one.
    let radix = |&(min, max, step): &(f64, f64, f64)| ((max - min) / step + step / 2.0) as u64 + 1;
    let total = params.iter().fold(1u64, |m, r| m.saturating_mul(radix(r)));
    let packed = p[1..]
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc * 256 + b as u64) % total);
    let fields = [&field::TEMPERATURE, &field::HUMIDITY, &field::PRESSURE];
    let (mut modulus, mut div) = (1u64, 1u64);
    for (i, r) in params.iter().enumerate() {
        let (min, step, n) = (r.0, r.2, radix(r));
        modulus = modulus.saturating_mul(n);
        let count = (packed % modulus) / div;
        let mut v = py_round(count as f64 * step + min, 2);
        if i == 2 {
            v /= 100.0; // Pa → hPa
        }
        out.float(fields[i], v);
        div = div.saturating_mul(n);
    }
    Ok(())
}
