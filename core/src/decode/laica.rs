//! Laica smart scales (manufacturer data 0xA0AC, 14 bytes), as ble_monitor's `laica.py` reads
//! them. The value bytes are XORed with 0xA0; `p[12]` says what they hold: 0x0D weight (`p[8..12]`
//! big-endian, low 18 bits, in 10 g, rounded to 0.1 kg), 0x06 impedance (`p[8..10]`, clamped to
//! 430…630 Ω as ble_monitor does). ble_monitor's `packet` is the payload as hex; there is no
//! frame counter, so none is published.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "laica",
    variants: &[],
    manufacturer: "Laica",
    // Heard only while someone stands on it.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0xA0AC], claim),
    decode,
};

const LEN: usize = 14;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer()?.0 == 0xA0AC && p.len() == LEN && matches!(p[12], 0x06 | 0x0D))
        .then(|| Claim::of(p))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    let x = |o: usize| (p[o] ^ 0xA0) as u32;
    out.model = "Laica Smart Scale";
    out.firmware = "Laica";
    match p[12] {
        0x0D => {
            let v = (x(8) << 24 | x(9) << 16 | x(10) << 8 | x(11)) & 0x3FFFF;
            out.float(&field::WEIGHT, py_round(v as f64 / 100.0, 0) / 10.0);
        }
        0x06 => {
            let ohm = (x(8) << 8 | x(9)).clamp(430, 630);
            out.int(&field::IMPEDANCE, ohm as i64);
        }
        _ => return Err(DecodeError::Malformed("unknown Laica value type")),
    }
    Ok(())
}
