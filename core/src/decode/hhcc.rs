//! HHCC HHCCJCY10 plant sensors (service data 0xFD50, 9 bytes after the UUID, not MiBeacon),
//! as ble_monitor's `hhcc.py` reads them: big-endian `moisture % | temperature u16 /10 °C |
//! illuminance u24 lx | battery % | conductivity u16 µS/cm`. ble_monitor's `packet` is the
//! payload as hex; there is no frame counter, so none is published.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "hhcc",
    variants: &[],
    manufacturer: "HHCC",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0xFD50], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0xFD50, d) if d.len() == 9 => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let Ok(&[moist, t0, t1, l0, l1, l2, batt, c0, c1]) = <&[u8; 9]>::try_from(claim.payload) else {
        return Err(DecodeError::Truncated);
    };
    out.model = "HHCCJCY10";
    out.firmware = "HHCC";
    out.float(
        &field::TEMPERATURE,
        u16::from_be_bytes([t0, t1]) as f64 / 10.0,
    );
    out.int(&field::MOISTURE, moist as i64);
    out.int(
        &field::ILLUMINANCE,
        u32::from_be_bytes([0, l0, l1, l2]) as i64,
    );
    out.int(&field::CONDUCTIVITY, u16::from_be_bytes([c0, c1]) as i64);
    out.int(&field::BATTERY, batt as i64);
    Ok(())
}
