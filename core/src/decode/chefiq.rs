//! Chef iQ CQ60 meat thermometers (manufacturer data 0x05CD, 20 bytes), as ble_monitor's
//! `chefiq.py` reads them. From payload byte 4, little-endian: `battery % | probe 3 u8 °C |
//! u16 | meat | tip | probe 1 | probe 2 | ambient | i16`, the five temperatures u16 /10 °C.
//! Values from 0x7FF0 up (probe 3: from 0xFE) mean "no reading" and are not published.

use super::field::TEMPERATURE_PROBE;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "chef-iq",
    variants: &[],
    manufacturer: "Chef iQ",
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x05CD], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    MEAT_TEMPERATURE = "meat temperature", "°C", "temperature", "measurement", Sensor, false;
    TEMPERATURE_PROBE_TIP = "temperature probe tip", "°C", "temperature", "measurement", Sensor, false;
    AMBIENT = "ambient temperature", "°C", "temperature", "measurement", Sensor, false;
}

const LEN: usize = 20;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.manufacturer()? {
        (0x05CD, _) if s.payload.len() == LEN => Some(Claim::of(s.payload)),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim.array()?;
    out.model = "CQ60";
    out.firmware = "Chef iQ";
    out.int(&field::BATTERY, p[4] as i64);
    let mut temp = |f: &'static field::Field, o: usize| {
        let raw = u16::from_le_bytes([p[o], p[o + 1]]);
        if raw < 0x7FF0 {
            out.float(f, raw as f64 / 10.0);
        }
    };
    temp(&MEAT_TEMPERATURE, 8);
    temp(&TEMPERATURE_PROBE_TIP, 10);
    temp(&TEMPERATURE_PROBE[0], 12);
    temp(&TEMPERATURE_PROBE[1], 14);
    temp(&AMBIENT, 16);
    if p[5] < 0xFE {
        out.float(&TEMPERATURE_PROBE[2], p[5] as f64);
    }
    Ok(())
}
