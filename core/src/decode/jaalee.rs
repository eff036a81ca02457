//! Jaalee JHT hygrometers, as ble_monitor's `jaalee.py` reads them. Two table entries:
//!
//! * [`FORMAT`], service data 0xF525 or 0xF51C, 11 or 12 bytes after the UUID (ble_monitor
//!   takes either length under either UUID): `battery % | MAC[6] (reversed; a frame naming
//!   another address is refused) | … | temperature u16 BE | humidity u16 BE` (the last four
//!   bytes);
//! * [`FORMAT_IBEACON`], an Apple iBeacon with Jaalee's UUID `EBEFD083-70A2-47C8-9837-
//!   E7B5634DF525` and one byte more than a plain iBeacon (26 bytes with the company id):
//!   temperature u16 BE, humidity u16 BE, one byte, battery %. It goes before the iBeacon
//!   format in the table, which would otherwise publish it as a tracker.
//!
//! Temperature `175 × t / 65535 − 45` °C and humidity `100 × h / 65535` %, rounded to 0.01.

use super::bytes::py_round;
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "jaalee",
    variants: &[],
    manufacturer: "Jaalee",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0xF525, 0xF51C], claim),
    decode,
};

/// The JHT's iBeacon frame; see the module doc.
pub static FORMAT_IBEACON: Format = Format {
    name: "jaalee-ibeacon",
    variants: &[],
    manufacturer: "Jaalee",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[IBEACON_LEN]),
            apple: true,
            needs: Needs::Nothing,
        },
        claim_ibeacon,
    ),
    decode: decode_ibeacon,
};

/// Apple's company id, the iBeacon prefix and Jaalee's beacon UUID.
const IBEACON_HEAD: [u8; 20] = [
    0x4C, 0x00, 0x02, 0x15, 0xEB, 0xEF, 0xD0, 0x83, 0x70, 0xA2, 0x47, 0xC8, 0x98, 0x37, 0xE7, 0xB5,
    0x63, 0x4D, 0xF5, 0x25,
];
const IBEACON_LEN: usize = 26;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (uuid, d) = s.service_data16()?;
    (matches!(uuid, 0xF525 | 0xF51C) && matches!(d.len(), 11 | 12)).then(|| Claim::of(d))
}

fn claim_ibeacon<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.ad_type == adv::ad_type::MANUFACTURER && p.len() == IBEACON_LEN && p[..20] == IBEACON_HEAD)
        .then(|| Claim::of(p))
}

fn publish(out: &mut Reading, t: [u8; 2], h: [u8; 2], battery: u8) {
    out.model = "JHT";
    out.firmware = "Jaalee";
    let t = u16::from_be_bytes(t) as f64;
    let h = u16::from_be_bytes(h) as f64;
    out.float(&field::TEMPERATURE, py_round(175.0 * t / 65535.0 - 45.0, 2));
    out.float(&field::HUMIDITY, py_round(100.0 * h / 65535.0, 2));
    out.int(&field::BATTERY, battery as i64);
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let mac = claim.payload.get(1..7).ok_or(DecodeError::Truncated)?;
    if mac.iter().rev().ne(adv.addr.0.iter()) {
        return Err(DecodeError::Malformed("frame MAC is not the advertiser's"));
    }
    match claim.payload {
        [battery, .., t0, t1, h0, h1] if claim.payload.len() >= 11 => {
            publish(out, [*t0, *t1], [*h0, *h1], *battery);
            Ok(())
        }
        _ => Err(DecodeError::Truncated),
    }
}

fn decode_ibeacon(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    match claim.payload.get(20..) {
        Some([t0, t1, h0, h1, _, battery]) => {
            publish(out, [*t0, *t1], [*h0, *h1], *battery);
            Ok(())
        }
        _ => Err(DecodeError::Truncated),
    }
}
