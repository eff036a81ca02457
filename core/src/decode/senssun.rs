//! Senssun IF_B7 scales (manufacturer data 0x0100, 19 bytes), as ble_monitor's `senssun.py`
//! reads them: from payload byte 11, big-endian, `division | weight i16 /100 kg | impedance
//! i16 Ω | control`, stabilised when both bits of 0xA0 are set in the control byte.
//! ble_monitor's `packet` is those bytes as hex; there is no frame counter, so none is
//! published.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "senssun",
    variants: &[],
    manufacturer: "Senssun",
    // Heard only while someone stands on it.
    interval_s: 86_400,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0100], claim),
    decode,
};

const LEN: usize = 19;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.manufacturer()?.0 == 0x0100 && s.payload.len() == LEN).then(|| Claim::of(s.payload))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    out.model = "Senssun Smart Scale";
    out.firmware = "Senssun";
    out.float(
        &field::WEIGHT,
        i16::from_be_bytes([p[12], p[13]]) as f64 / 100.0,
    );
    out.int(&field::IMPEDANCE, i16::from_be_bytes([p[14], p[15]]) as i64);
    out.int(&field::STABILIZED, (p[16] & 0xA0 == 0xA0) as i64);
    Ok(())
}
