//! Michelin TMS tyre sensors (manufacturer data 0x0828, 16 bytes, frame type 3 or 4), as
//! ble_monitor's `michelin.py` reads them: from payload byte 4, little-endian, `temperature
//! u8 (−60 °C) | voltage u8 (/100 + 1 V) | absolute pressure u16 | tyre id (3 ASCII bytes) |
//! steps u8 | frame counter u32`. The tyre id (ble_monitor's `text`) is not published: a
//! reading holds static text only, and the id is neither a measurement nor a fixed name.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "tms",
    variants: &[],
    manufacturer: "Michelin",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0828], claim),
    decode,
};

const LEN: usize = 16;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0x0828 && p.len() == LEN && matches!(p[3], 3 | 4)).then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    out.model = "TMS";
    out.firmware = "TMS";
    out.int(&field::TEMPERATURE, p[4] as i64 - 60);
    out.float(&field::VOLTAGE, (p[5] as f64 + 100.0) / 100.0);
    out.int(&field::PRESSURE, u16::from_le_bytes([p[6], p[7]]) as i64);
    out.int(&field::STEPS, p[11] as i64);
    out.int(
        &field::COUNT,
        u32::from_le_bytes([p[12], p[13], p[14], p[15]]) as i64,
    );
    Ok(())
}
