//! Oras Electra washbasin faucets and Garnet SeeLevel II 709-BTP3 tank monitors, which share
//! the company id 0x0131 (manufacturer data), as ble_monitor's `oras.py` reads them:
//!
//! * 20-byte payload (Oras): `p[3]` battery %.
//! * 16-byte payload (Garnet, slug `garnet`): `p[5]` sensor id (0 fresh, 1 black, 2 grey tank,
//!   3/4 LPG, 5/6 galley, 7–10 temperature and probes 2–4, 11/12 chemical tank, 13 battery
//!   voltage), `p[6..9]` its value as ASCII digits (voltage in 0.1 V), `p[9..15]` volume and
//!   total (not published), `p[15]` alarm digit (`problem`). A value that is not a number is
//!   the monitor's error code: the frame gives no reading (ble_monitor logs and drops it).

use super::field::TEMPERATURE_PROBE;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "oras",
    variants: &[GARNET],
    manufacturer: "Oras",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x0131], claim),
    decode,
};

const GARNET: &str = "garnet";

crate::decode::field::fields! {
    FIELDS;
    FRESH_TANK = "fresh tank", "%", "", "measurement", Sensor, false;
    BLACK_TANK = "black tank", "%", "", "measurement", Sensor, false;
    GREY_TANK = "grey tank", "%", "", "measurement", Sensor, false;
    LPG_TANK = "lpg tank", "%", "", "measurement", Sensor, false;
    LPG_TANK_2 = "lpg tank 2", "%", "", "measurement", Sensor, false;
    GALLEY_TANK = "galley tank", "%", "", "measurement", Sensor, false;
    GALLEY_TANK_2 = "galley tank 2", "%", "", "measurement", Sensor, false;
    CHEMICAL_TANK = "chemical tank", "%", "", "measurement", Sensor, false;
    CHEMICAL_TANK_2 = "chemical tank 2", "%", "", "measurement", Sensor, false;
}

/// The field of a Garnet sensor id.
fn garnet_field(id: u8) -> Option<&'static field::Field> {
    Some(match id {
        0 => &FRESH_TANK,
        1 => &BLACK_TANK,
        2 => &GREY_TANK,
        3 => &LPG_TANK,
        4 => &LPG_TANK_2,
        5 => &GALLEY_TANK,
        6 => &GALLEY_TANK_2,
        7 => &field::TEMPERATURE,
        8 => &TEMPERATURE_PROBE[1],
        9 => &TEMPERATURE_PROBE[2],
        10 => &TEMPERATURE_PROBE[3],
        11 => &CHEMICAL_TANK,
        12 => &CHEMICAL_TANK_2,
        13 => &field::VOLTAGE,
        _ => return None,
    })
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let p = s.payload;
    let ok = match (s.manufacturer()?.0, p.len()) {
        (0x0131, 20) => true,
        (0x0131, 16) => garnet_field(p[5]).is_some() && p[15].is_ascii_digit(),
        _ => false,
    };
    ok.then(|| Claim::of(p))
}

/// A space-padded ASCII number (digits with an optional sign). ble_monitor reads it with
/// Python's `int()`, which would also take `1_2`; a monitor sends digits.
fn ascii_int(b: &[u8]) -> Option<i64> {
    core::str::from_utf8(b).ok()?.trim().parse().ok()
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    match p.len() {
        20 => {
            out.model = "Electra Washbasin Faucet";
            out.firmware = "Oras";
            out.int(&field::BATTERY, p[3] as i64);
        }
        16 => {
            let f = garnet_field(p[5]).ok_or(DecodeError::Malformed("unknown Garnet sensor"))?;
            let v = ascii_int(&p[6..9]).ok_or(DecodeError::NoData)?;
            let alarm = (p[15] as char)
                .to_digit(10)
                .ok_or(DecodeError::Malformed("Garnet alarm is not a digit"))?;
            out.format = GARNET;
            out.model = "SeeLevel II 709-BTP3";
            out.firmware = "Garnet";
            if p[5] == 13 {
                out.float(f, v as f64 / 10.0);
            } else {
                out.int(f, v);
            }
            out.int(&field::PROBLEM, alarm as i64);
        }
        _ => return Err(DecodeError::Malformed("not an Oras/Garnet frame")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::{testing, Value};

    fn run(p: &[u8]) -> Result<Reading, DecodeError> {
        testing::run(&FORMAT, Addr([1, 2, 3, 4, 5, 6]), &[], 0xFF, p)
    }

    /// A Garnet grey tank at 45 % with the alarm set, then the same sensor reporting an error
    /// code (`ERR`) instead of a level.
    #[test]
    fn garnet_levels_and_error_codes() {
        let mut p = *b"\x31\x01\x0c\x46\x4e\x02 450000001";
        let r = run(&p).expect("decoded");
        assert_eq!(r.format, GARNET);
        assert_eq!(r.get("grey tank"), Some(Value::Int(45)));
        assert_eq!(r.get("problem"), Some(Value::Int(1)));
        p[6..9].copy_from_slice(b"ERR");
        assert_eq!(run(&p).err(), Some(DecodeError::NoData));
        // Digits with a sign or padding; anything else (Python's `1_2` too) is no number.
        for (text, v) in [(b"-07", Some(-7)), (b" 9 ", Some(9)), (b"+12", Some(12))] {
            assert_eq!(ascii_int(text), v);
        }
        for text in [b"1_2", b"_12", b"+ 1", b"   "] {
            assert_eq!(ascii_int(text), None);
        }
    }
}
