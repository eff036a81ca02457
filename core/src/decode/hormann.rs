//! Hörmann Supramatic E4 garage door operators (manufacturer data 0x07B4), as ble_monitor's
//! `hormann.py` reads them: the advert carries two 0x07B4 structures; the 19-byte one holds
//! the door position at byte 3 in half percent (published as sent, as ble_monitor does, also
//! above 200 = 100 %). `opening` is 1 unless the door is fully closed.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "hormann",
    variants: &[],
    manufacturer: "Hörmann",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x07B4], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    OPENING_PERCENTAGE = "opening percentage", "%", "", "measurement", Sensor, false;
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0x07B4, d) if d.len() == 17 => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let half = *claim.payload.get(1).ok_or(DecodeError::Truncated)?;
    out.model = "Supramatic E4 BS";
    out.firmware = "Hörmann";
    out.int(&field::OPENING, (half != 0) as i64);
    out.float(&OPENING_PERCENTAGE, half as f64 / 2.0);
    Ok(())
}
