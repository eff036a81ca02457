//! Jinou BEC07-5 thermo-hygrometers (13-byte manufacturer payload in an advert listing the
//! 16-bit service UUID 0xAA20), as ble_monitor's `jinou.py` reads them. The "company id" is
//! data: `sign (1 = negative, any other value positive) | temperature whole | tenths | 0 |
//! humidity whole | tenths | MAC[6]`. ble_monitor builds each value as the decimal text `whole.fraction` and parses it;
//! so does this decoder (`18` and `7` → 18.7).

use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "jinou",
    variants: &[],
    manufacturer: "Jinou",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[LEN]),
            apple: false,
            needs: Needs::NameOrUuid16OrCompany(&[]),
        },
        claim,
    ),
    decode,
};

const LEN: usize = 13;
const UUID: u16 = 0xAA20;

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    (s.manufacturer().is_some() && p.len() == LEN && adv.hints.has_uuid16(UUID))
        .then(|| Claim::of(p))
}

/// `whole.fraction` as the decimal ble_monitor writes (`54` and `2` → 54.2, `5` and `12` → 5.12).
fn decimal(whole: u8, fraction: u8) -> f64 {
    let scale = match fraction {
        0..=9 => 10.0,
        10..=99 => 100.0,
        _ => 1000.0,
    };
    whole as f64 + fraction as f64 / scale
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    if p.len() != LEN {
        return Err(DecodeError::Truncated);
    }
    out.model = "BEC07-5";
    out.firmware = "Jinou";
    let t = decimal(p[1], p[2]);
    out.float(&field::TEMPERATURE, if p[0] == 1 { -t } else { t });
    out.float(&field::HUMIDITY, decimal(p[4], p[5]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn fraction_is_the_decimal_digits_written_after_the_point() {
        assert_eq!(decimal(18, 7), 18.7);
        assert_eq!(decimal(5, 12), 5.12);
        assert_eq!(decimal(0, 0), 0.0);
        assert_eq!(decimal(1, 255), 1.255);
    }
}
