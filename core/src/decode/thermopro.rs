//! ThermoPro thermo-hygrometers (TP357, TP357S, TP359, TP393, TP397…) and meat probes (TP96x,
//! TP97x), manufacturer data.
//!
//! ThermoPro puts measurements into the "company id", so the format is recognised by the local
//! name (`TP35…`, `TP39…`, `TP96…`, `TP97…`; the model is the name up to the first space) with a
//! [`Matcher::Filtered`]. The name may only be in the scan response: a passive scan that never
//! saw the name cannot tell ThermoPro frames from anything else (needs active scanning, at least
//! once per report in practice, since each report is decoded on its own).
//!
//! `p` = manufacturer payload including the 2-byte "company id":
//! * TP3xx (≥ 6 bytes): `p[1..3]` temperature i16 LE /10 °C, `p[3]` humidity %, `p[4] & 3`
//!   battery level (0 → 1 %, 1 → 50 %, 2 → 100 %); `FF FF FF` = no measurement.
//! * TP96x (7 or 13 bytes): `p[0]` probe index (0-based), `p[1..3]` internal °C + 30, `p[3..5]`
//!   battery mV, `p[5..7]` ambient °C + 30.
//! * TP97x (23 bytes): `p[0]` probe, `p[1..3]` ambient °F + 54, `p[3..5]` battery mV, three f32
//!   LE tip/centre/end temperatures in °F + 54.
//!
//! Probe battery % from mV is ThermoPro-ble's fitted curve
//! `52.317286·tanh(mV/273.624277936 − 8.76485439394) + 51.06925`, clamped to 0…100.
//!
//! Rounding is thermopro-ble's, Python's `round` (the exact binary value, ties to even): the
//! TP97x temperatures to 0.1 °C, the battery to 0.01 % and then to 1 %.

use super::bytes::py_round;
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Needs, Prefilter, Reading,
    Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "thermopro",
    variants: &[],
    manufacturer: "Thermopro",
    interval_s: 10,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: true,
    },
    fields: &[FIELDS],
    // `claim` needs a name starting with "TP".
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::ANY_LEN,
            apple: true,
            needs: Needs::Name,
        },
        claim,
    ),
    decode,
};

crate::decode::field::repeated! {
    FIELDS;
    [" probe 1", " probe 2", " probe 3", " probe 4"];
    // Probes 1–4 of the meat thermometers.
    INTERNAL = "internal temperature", "°C", "temperature", "measurement", Sensor, false;
    INTERNAL_CENTER = "internal center temperature", "°C", "temperature", "measurement", Sensor, false;
    INTERNAL_END = "internal end temperature", "°C", "temperature", "measurement", Sensor, false;
    AMBIENT = "ambient temperature", "°C", "temperature", "measurement", Sensor, false;
    BATTERY_PROBE = "battery", "%", "battery", "measurement", Sensor, false;
}

/// The model (name up to the first space) when the advert's name is a ThermoPro one.
fn model_of<'a>(adv: &Advert<'a>) -> Option<&'a str> {
    let name = core::str::from_utf8(adv.hints.name).ok()?;
    if !["TP35", "TP39", "TP96", "TP97"]
        .iter()
        .any(|p| name.starts_with(p))
    {
        return None;
    }
    name.split(' ').next()
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    // Cheap reject first: most manufacturer data comes from phones, not thermometers.
    if !adv.hints.name.starts_with(b"TP") {
        return None;
    }
    claim_named(s, adv)
}

/// The expensive part of [`claim`], out of line so the quick reject above runs without the
/// register saves of the whole body (the matcher runs for every manufacturer structure).
#[inline(never)]
fn claim_named<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    s.manufacturer()?;
    let m = model_of(adv)?;
    Some(Claim {
        payload: s.payload,
        variant: model_index(m)? as u8,
    })
}

/// bleparser/thermopro-ble model strings (static: the reading cannot borrow the advert), then
/// the family names of the models not listed. [`Claim::variant`] is the index here.
static MODELS: [&str; 16] = [
    "TP357", "TP357S", "TP358", "TP359", "TP393", "TP397", "TP960", "TP960R", "TP962R", "TP970R",
    "TP972", "TP972S", "TP35x", "TP39x", "TP96x", "TP97x",
];

/// The index in [`MODELS`] of a name's model (from [`model_of`]).
fn model_index(m: &str) -> Option<usize> {
    let family = match m.get(..4)? {
        "TP35" => "TP35x",
        "TP39" => "TP39x",
        "TP96" => "TP96x",
        _ => "TP97x",
    };
    MODELS[..12]
        .iter()
        .position(|k| *k == m)
        .or_else(|| MODELS.iter().position(|k| *k == family))
}

fn probe_battery(mv: u16) -> i64 {
    let raw = 52.317286 * (mv as f64 / 273.624277936 - 8.76485439394).tanh() + 51.06925;
    py_round(raw.clamp(0.0, 100.0), 2).round_ties_even() as i64
}

fn f_to_c(f: f64) -> f64 {
    py_round((f - 32.0) * 5.0 / 9.0, 1)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    let m = *MODELS
        .get(claim.variant as usize)
        .ok_or(DecodeError::Malformed("not a ThermoPro name"))?;
    out.model = m;
    out.firmware = "Thermopro";
    let probe = |i: u8| -> Result<usize, DecodeError> {
        if (i as usize) < INTERNAL.len() {
            Ok(i as usize)
        } else {
            Err(DecodeError::Malformed("ThermoPro probe index out of range"))
        }
    };
    if p.len() == 23 && m.starts_with("TP97") {
        let i = probe(p[0])?;
        let f32at = |o: usize| f32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]) as f64;
        let ambient = u16::from_le_bytes([p[1], p[2]]) as f64;
        out.float(&INTERNAL[i], f_to_c(f32at(5) - 54.0));
        out.float(&INTERNAL_CENTER[i], f_to_c(f32at(9) - 54.0));
        out.float(&INTERNAL_END[i], f_to_c(f32at(13) - 54.0));
        out.int(&AMBIENT[i], f_to_c(ambient - 54.0).trunc() as i64);
        out.int(
            &BATTERY_PROBE[i],
            probe_battery(u16::from_le_bytes([p[3], p[4]])),
        );
    } else if (p.len() == 7 || p.len() == 13) && (m.starts_with("TP96") || m.starts_with("TP97")) {
        let i = probe(p[0])?;
        out.int(&INTERNAL[i], u16::from_le_bytes([p[1], p[2]]) as i64 - 30);
        out.int(&AMBIENT[i], u16::from_le_bytes([p[5], p[6]]) as i64 - 30);
        out.int(
            &BATTERY_PROBE[i],
            probe_battery(u16::from_le_bytes([p[3], p[4]])),
        );
    } else if p.len() >= 6 && m.starts_with("TP3") {
        match p[4] & 3 {
            0 => out.int(&field::BATTERY, 1),
            1 => out.int(&field::BATTERY, 50),
            2 => out.int(&field::BATTERY, 100),
            _ => {}
        }
        if p[1..4] != [0xFF, 0xFF, 0xFF] {
            out.float(
                &field::TEMPERATURE,
                i16::from_le_bytes([p[1], p[2]]) as f64 / 10.0,
            );
            out.int(&field::HUMIDITY, p[3] as i64);
        }
    } else {
        return Err(DecodeError::Malformed("unknown ThermoPro frame length"));
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn battery_curve() {
        // round(round(x, 2)) as thermopro-ble: 0.5031… → 0.5 → 0, 11.4960… → 11.5 → 12
        assert_eq!(probe_battery(1841), 0);
        assert_eq!(probe_battery(2128), 12);
        assert_eq!(probe_battery(2087), 8);
        assert_eq!(probe_battery(0x0830), 9);
        assert_eq!(probe_battery(0x0A17), 82);
        assert_eq!(probe_battery(0xFFFF), 100);
        assert_eq!(probe_battery(0), 0);
    }

    #[test]
    fn python_rounding() {
        // f32 556.25 °F: 261.25 °C exactly, a tie Python rounds to even (`bytes::py_round`).
        assert_eq!(f_to_c(556.25 - 54.0), 261.2);
    }
}
