//! Sensirion MyCO2 and SHT40/41/45 Gadgets (manufacturer data 0x06D5, Sensirion's
//! "MyAmbience" advertisement), as ble_monitor's `sensirion.py` reads them. Recognised, like
//! there, by the local name (`MyCO2`, `SHTxx Gadget`), except the sample types sensirion-ble
//! (Home Assistant's library) decodes, 4, 6 and 8, which it reads under any name or none (Home
//! Assistant matches the company id). Payload after the company id:
//! `advertisement type (0) | sample type | device id[2] | samples (u16 LE each)`.
//!
//! Samples by type: temperature `t / 65535 × 175 − 45` °C and humidity `h / 65535 × 100` %
//! (type 6: `h × 125 / 65535 − 6`) first, then per type CO2 ppm, VOC and NOx indices, raw VOC,
//! PM2.5 (`/65535 × 1000` in types 12/16/20, `/10` in types 24–32 µg/m³) and formaldehyde
//! (`hcho`, /5 ppb); values rounded to 0.01 like ble_monitor, except temperature and humidity
//! of types 4 (SHT3x) and 8 (MyCO2), rounded to 0.1 as sensirion-ble (Home Assistant's
//! library, which decodes types 4, 6 and 8) does. Deviation without a vector:
//! type 20's CO2 is published as `co2`, where ble_monitor writes the typo `c02`. ble_monitor's
//! second branch for type 32 (PM1…PM10) can never run; it is not implemented.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "sensirion",
    variants: &[],
    manufacturer: "Sensirion",
    interval_s: 60,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: false,
    },
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x06D5], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    VOC = "voc", "", "", "measurement", Sensor, false;
    VOC_RAW = "voc-raw", "", "", "measurement", Sensor, true;
    NOX = "nox", "", "", "measurement", Sensor, false;
    HCHO = "hcho", "ppb", "", "measurement", Sensor, false;
}

const NAMES: [&[u8]; 4] = [b"MyCO2", b"SHT40 Gadget", b"SHT41 Gadget", b"SHT45 Gadget"];

/// What one sample slot holds.
#[derive(Clone, Copy)]
enum S {
    Co2,
    Voc,
    VocRaw,
    Nox,
    Pm25V1,
    Pm25V2,
    Hcho,
    Skip,
}

/// The slots after temperature and humidity, per sample type (`None`: unknown type).
fn layout(t: u8) -> Option<&'static [S]> {
    use S::*;
    Some(match t {
        3 => &[Voc, VocRaw],
        4 | 6 => &[],
        8 | 10 => &[Co2],
        12 => &[Co2, Pm25V1],
        14 => &[Hcho],
        16 => &[Voc, Pm25V1],
        20 => &[Co2, Voc, Pm25V1, Hcho],
        22 => &[Voc, Nox],
        24 => &[Voc, Skip, Pm25V2],
        26 => &[Co2, Voc, Skip, Pm25V2],
        28 => &[Co2, Pm25V2],
        30 => &[Voc, Pm25V2],
        32 => &[Co2, Voc, Pm25V2, Hcho],
        34 => &[Co2],
        _ => return None,
    })
}

/// Sample bytes a type needs (type 34 carries only CO2, without temperature and humidity).
fn needed(t: u8, slots: &[S]) -> usize {
    if t == 34 {
        2
    } else {
        4 + 2 * slots.len()
    }
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, d) = s.manufacturer()?;
    let ok = cid == 0x06D5
        && d.len() >= 4
        && (NAMES.contains(&adv.hints.name) || matches!(d[1], 4 | 6 | 8))
        && d[0] == 0
        && layout(d[1]).is_some_and(|l| d.len() - 4 >= needed(d[1], l));
    ok.then(|| Claim::of(d))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    let t = *d.get(1).ok_or(DecodeError::Truncated)?;
    let slots = layout(t).ok_or(DecodeError::Malformed("unknown Sensirion sample type"))?;
    let v = d
        .get(4..)
        .filter(|v| v.len() >= needed(t, slots))
        .ok_or(DecodeError::Truncated)?;
    out.model = NAMES
        .iter()
        .zip(["MyCO2", "SHT40 Gadget", "SHT41 Gadget", "SHT45 Gadget"])
        .find(|(n, _)| **n == adv.hints.name)
        .map_or("Sensirion", |(_, m)| m);
    out.firmware = "Sensirion";
    let w = |i: usize| u16::from_le_bytes([v[2 * i], v[2 * i + 1]]) as f64;
    if t == 34 {
        out.int(&field::CO2, w(0) as i64);
        return Ok(());
    }
    // sensirion-ble's precision for the types it shares with ble_monitor.
    let digits = if matches!(t, 4 | 8) { 1 } else { 2 };
    out.float(
        &field::TEMPERATURE,
        py_round(w(0) / 65535.0 * 175.0 - 45.0, digits),
    );
    let h = if t == 6 {
        w(1) * 125.0 / 65535.0 - 6.0
    } else {
        w(1) / 65535.0 * 100.0
    };
    out.float(&field::HUMIDITY, py_round(h, digits));
    for (i, s) in slots.iter().enumerate() {
        let x = w(2 + i);
        match s {
            S::Co2 => out.int(&field::CO2, x as i64),
            S::Voc => out.int(&VOC, x as i64),
            S::VocRaw => out.int(&VOC_RAW, x as i64),
            S::Nox => out.int(&NOX, x as i64),
            S::Pm25V1 => out.float(&field::PM25, py_round(x / 65535.0 * 1000.0, 2)),
            S::Pm25V2 => out.float(&field::PM25, py_round(x / 10.0, 2)),
            S::Hcho => out.float(&HCHO, py_round(x / 5.0, 2)),
            S::Skip => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::{testing, Value};

    /// Manufacturer structure `payload` with the local name `name`, through claim and decode.
    fn run(name: &[u8], payload: &[u8]) -> Option<Reading> {
        let mut ad = vec![name.len() as u8 + 1, 0x09];
        ad.extend_from_slice(name);
        match testing::run(&FORMAT, Addr([1, 2, 3, 4, 5, 6]), &ad, 0xFF, payload) {
            Err(DecodeError::NoData) => None,
            r => Some(r.expect("decoded")),
        }
    }

    #[test]
    fn sample_types_and_names() {
        // Type 34: CO2 only.
        let p = [0xD5, 0x06, 0, 34, 0xAB, 0xCD, 0x20, 0x03];
        let r = run(b"MyCO2", &p).expect("claimed");
        assert_eq!(r.get("co2"), Some(Value::Int(800)));
        assert_eq!(r.get("temperature"), None);
        // Another name, or a type-8 frame too short for its CO2: not claimed.
        assert!(run(b"MyPhone", &p).is_none());
        assert!(run(b"MyCO2", &[0xD5, 0x06, 0, 8, 0, 0, 1, 2, 3, 4]).is_none());
        // Type 22: temperature, humidity, VOC and NOx indices.
        let p = [0xD5, 0x06, 0, 22, 0, 0, 0xFF, 0xFF, 0, 0, 100, 0, 5, 0];
        let r = run(b"SHT45 Gadget", &p).expect("claimed");
        assert_eq!(r.model, "SHT45 Gadget");
        assert_eq!(r.get("temperature"), Some(Value::Float(130.0)));
        assert_eq!(r.get("humidity"), Some(Value::Float(0.0)));
        assert_eq!(r.get("voc"), Some(Value::Int(100)));
        assert_eq!(r.get("nox"), Some(Value::Int(5)));
        // Type 4 (SHT3x, no vector): 0.1 as sensirion-ble rounds it.
        let p = [0xD5, 0x06, 0, 4, 0, 0, 0x00, 0x80, 0x00, 0x80];
        let r = run(b"SHT40 Gadget", &p).expect("claimed");
        assert_eq!(r.get("temperature"), Some(Value::Float(42.5)));
        assert_eq!(r.get("humidity"), Some(Value::Float(50.0)));
    }
}
