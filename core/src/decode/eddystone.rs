//! Eddystone TLM (telemetry) frames of any beacon (service data 0xFEAA, 14 bytes after the
//! UUID, frame type 0x20, version 0), as ble_monitor's `eddystone_tlm.py` reads them (its
//! commit d84afcad): big-endian `0x20 | 0x00 | battery mV | temperature i8 + u8/256 °C |
//! advertisement count u32 | seconds since boot u32`. The advertisement count is the `packet`.
//! A voltage of 0 (not reported) publishes no voltage nor battery; −128 °C (0x8000, not
//! supported) no temperature; a frame with neither gives no reading (ble_monitor returns one
//! with only the counter; listed as a deviation, like Ruuvi's all-unavailable frame). Battery % is ble_monitor's estimate from the voltage. Tried
//! before the Ruuvi Eddystone-URL format (custom matchers come first).

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "eddystone-tlm",
    variants: &[],
    manufacturer: "Eddystone",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(adv::ad_type::SERVICE_DATA16, &[0xFEAA], claim),
    decode,
};

const LEN: usize = 14;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (0xFEAA, d @ [0x20, 0x00, ..]) if d.len() == LEN => Some(Claim::of(d)),
        _ => None,
    }
}

/// ble_monitor's battery estimate (%) from the voltage, one decimal.
fn battery(v: f64) -> f64 {
    let b = if v >= 3.0 {
        100.0
    } else if v >= 2.6 {
        60.0 + (v - 2.6) * 100.0
    } else if v >= 2.5 {
        40.0 + (v - 2.5) * 200.0
    } else if v >= 2.45 {
        20.0 + (v - 2.45) * 400.0
    } else {
        0.0
    };
    py_round(b, 1)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d: &[u8; LEN] = claim.array()?;
    out.model = "Eddystone-TLM";
    out.firmware = "Eddystone";
    out.packet = Some(u32::from_be_bytes([d[6], d[7], d[8], d[9]]));
    let mv = u16::from_be_bytes([d[2], d[3]]);
    if mv != 0 {
        let v = mv as f64 / 1000.0;
        out.float(&field::VOLTAGE, v);
        out.float(&field::BATTERY, battery(v));
    }
    if [d[4], d[5]] != [0x80, 0x00] {
        out.float(
            &field::TEMPERATURE,
            py_round(d[4] as i8 as f64 + d[5] as f64 / 256.0, 2),
        );
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}
