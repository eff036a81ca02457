//! b-parasite soil moisture sensors, original firmware (service data 0x181A, 16 or 18 bytes
//! after the UUID), as ble_monitor's `bparasite.py` reads them; newer firmware sends BTHome.
//! Big-endian: `protocol | counter | voltage mV | temperature i16 | humidity u16 | moisture u16
//! | MAC[6] | (18 bytes: illuminance u16 lx)`. Temperature is /100 °C when the protocol's high
//! nibble is 2, else /1000; humidity and moisture are `x / 65536 × 100` %. The counter is the
//! `packet`. The 0x181A lengths of ATC/pvvx (8, 11, 13, 15) are not these.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "b-parasite",
    variants: &[],
    manufacturer: "b-parasite",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0x181A], claim),
    decode,
};

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0x181A, d) if matches!(d.len(), 16 | 18) => Some(Claim::of(d)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    if !matches!(d.len(), 16 | 18) {
        return Err(DecodeError::Truncated);
    }
    let u = |o: usize| u16::from_be_bytes([d[o], d[o + 1]]);
    let light = d.len() == 18;
    (out.model, out.firmware) = if light {
        ("b-parasite V1.1.0", "b-parasite V1.1.0 (with illuminance)")
    } else {
        (
            "b-parasite V1.0.0",
            "b-parasite V1.0.0 (without illuminance)",
        )
    };
    out.packet = Some(d[1] as u32);
    let div = if d[0] >> 4 == 2 { 100.0 } else { 1000.0 };
    out.float(&field::TEMPERATURE, u(4) as i16 as f64 / div);
    out.float(&field::HUMIDITY, u(6) as f64 / 65536.0 * 100.0);
    out.float(&field::VOLTAGE, u(2) as f64 / 1000.0);
    out.float(&field::MOISTURE, u(8) as f64 / 65536.0 * 100.0);
    if light {
        out.int(&field::ILLUMINANCE, u(16) as i64);
    }
    Ok(())
}
