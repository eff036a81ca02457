//! MikroTik TG-BT5-IN / TG-BT5-OUT tags (manufacturer data 0x094F, 20 bytes, unencrypted), as
//! ble_monitor's `mikrotik.py` reads them. From payload byte 2, little-endian: `version | user
//! data (bit 0: encrypted) | salt u16 | acceleration x, y, z (8.8) | temperature (signed 8.8
//! °C; exactly −128.0 = no sensor, the IN model, as ble_monitor tells them apart) | uptime
//! u32 s | flags | battery %`. Flags: bit 0 reed switch, 1 tilt, 2 drop, 3–5 impact on
//! x/y/z, published 0/1 (ble_monitor: the masked bit).
//! Encrypted frames are not claimed: we cannot decrypt them, and ble_monitor, which means to
//! drop them, publishes the ciphertext (its `& 1 is True` never holds). The IN model's −128.0
//! is not published as a temperature (ble_monitor publishes it).
//!
//! Deviation: the acceleration axes are not published. ble_monitor reads them as unsigned 8.8
//! (so −0.012 comes out as 255.988) and names no unit; our `acceleration` fields are mG, and
//! publishing those numbers under them would be wrong twice.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "mikrotik",
    variants: &[],
    manufacturer: "MikroTik",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x094F], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    VERSION = "version", "", "", "", Sensor, true;
    USER_DATA = "user data", "", "", "", Sensor, true;
    UPTIME = "uptime", "s", "duration", "measurement", Sensor, true;
    TILT = "tilt", "", "moving", "", Binary, false;
    DROPPING = "dropping", "", "moving", "", Binary, false;
    IMPACT = "impact", "", "vibration", "", Binary, false;
    IMPACT_X = "impact x", "", "vibration", "", Binary, false;
    IMPACT_Y = "impact y", "", "vibration", "", Binary, false;
    IMPACT_Z = "impact z", "", "vibration", "", Binary, false;
}

const LEN: usize = 20;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0x094F && p.len() == LEN && p[3] & 1 == 0).then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    if p[3] & 1 != 0 {
        return Err(DecodeError::Malformed("encrypted MikroTik frame"));
    }
    out.firmware = "Mikrotik";
    let (frac, whole) = (p[12], p[13] as i8);
    if whole == -128 && frac == 0 {
        out.model = "TG-BT5-IN";
    } else {
        out.model = "TG-BT5-OUT";
        out.float(&field::TEMPERATURE, whole as f64 + frac as f64 / 256.0);
    }
    let flags = p[18];
    let bit = |n: u8| (flags >> n & 1) as i64;
    out.int(&VERSION, p[2] as i64);
    out.int(&USER_DATA, p[3] as i64);
    out.int(
        &UPTIME,
        u32::from_le_bytes([p[14], p[15], p[16], p[17]]) as i64,
    );
    out.int(&field::BATTERY, p[19] as i64);
    out.int(&field::SWITCH, bit(0));
    out.int(&TILT, bit(1));
    out.int(&DROPPING, bit(2));
    out.int(&IMPACT, (flags & 0x38 != 0) as i64);
    out.int(&IMPACT_X, bit(3));
    out.int(&IMPACT_Y, bit(4));
    out.int(&IMPACT_Z, bit(5));
    Ok(())
}
