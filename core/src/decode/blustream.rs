//! Blustream TaylorSense sensors (manufacturer data 0x0194, 11 bytes), as ble_monitor's
//! `blustream.py` reads them: from payload byte 6, big-endian, `acceleration u8 | humidity
//! u16 /100 % | temperature i16 /100 °C`. The acceleration is the device's raw motion level,
//! so it gets a unitless field (the key is ble_monitor's).

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "blustream",
    variants: &[],
    manufacturer: "Blustream",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0194], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    ACCELERATION_LEVEL = "acceleration", "", "", "measurement", Sensor, false;
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0x0194, _) if s.payload.len() == 11 => Some(Claim::of(s.payload)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let Some(&[acc, h0, h1, t0, t1]) = claim.payload.get(6..11) else {
        return Err(DecodeError::Truncated);
    };
    out.model = "Blustream";
    out.firmware = "Blustream";
    out.float(
        &field::TEMPERATURE,
        i16::from_be_bytes([t0, t1]) as f64 / 100.0,
    );
    out.float(
        &field::HUMIDITY,
        u16::from_be_bytes([h0, h1]) as f64 / 100.0,
    );
    out.int(&ACCELERATION_LEVEL, acc as i64);
    Ok(())
}
