//! Teltonika EYE sensors and Blue Puck / Blue Coin (also sold as ELA), as ble_monitor's
//! `teltonika.py` reads them. Two table entries, one per AD type they use, sharing one decoder
//! that reads every Teltonika structure of the advert (a puck sends temperature and battery in
//! two structures of one advert):
//!
//! * [`FORMAT`], manufacturer data: company id 0x089A (EYE sensor): `version | flags | …`, the
//!   fields present by flag bit: 0 temperature i16 BE /100 °C, 1 humidity u8 %, 2 magnet
//!   sensor present (bit 3: field detected), 4 movement (bit 15 moving, 15-bit counter, BE),
//!   5 pitch i8 + roll i16 BE (°), 6 battery low, 7 battery voltage `2 V + u8 × 10 mV`.
//!   Company id 0x0757 (ELA puck): `type | value`: 0x12 temperature i16 LE /100, 0x21 humidity
//!   i8 + reserved + temperature i16 LE /100, 0xF1 battery % (i8); trailing bytes are ignored.
//! * [`FORMAT_GATT`], service data under the GATT characteristic UUIDs 0x2A6E (temperature
//!   i16 LE /100 °C) and 0x2A6F (humidity u8 %).
//!
//! Except the EYE, the model comes from the local name (`PUCK_T1`, `PUCK_TH`, `C T…`, `P T…`,
//! `P RHT…`): an advert without one of these names is not claimed, as ble_monitor drops it.
//! ble_monitor publishes `moving` as 0 or 128 (the masked bit); we publish 0/1.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

const REQUIRES: Requires = Requires {
    key: KeyNeed::Never,
    name: true,
    active_scan: false,
};

pub static FORMAT: Format = Format {
    name: "teltonika",
    variants: &[],
    manufacturer: "Teltonika",
    interval_s: 600,
    requires: REQUIRES,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[EYE_ID, ELA_ID], claim),
    decode,
};

/// Blue Puck / Coin frames in service data (0x2A6E/0x2A6F); see the module doc.
pub static FORMAT_GATT: Format = Format {
    name: "teltonika-gatt",
    variants: &[],
    manufacturer: "Teltonika",
    interval_s: 600,
    requires: REQUIRES,
    fields: &[FIELDS],
    matcher: Matcher::Custom(
        adv::ad_type::SERVICE_DATA16,
        &[TEMPERATURE_UUID, HUMIDITY_UUID],
        claim_gatt,
    ),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    MAGNETIC_FIELD_DETECTED = "magnetic field detected", "", "", "", Binary, false;
    PITCH = "pitch", "°", "", "measurement", Sensor, false;
    ROLL = "roll", "°", "", "measurement", Sensor, false;
}

const EYE_ID: u16 = 0x089A;
const ELA_ID: u16 = 0x0757;
const TEMPERATURE_UUID: u16 = 0x2A6E;
const HUMIDITY_UUID: u16 = 0x2A6F;

/// Models, indexed by the claim's variant.
const MODELS: [&str; 4] = ["EYE sensor", "Blue Puck T", "Blue Puck RHT", "Blue Coin T"];
const EYE: u8 = 0;

/// The model a puck or coin names itself by.
fn named_model(name: &[u8]) -> Option<u8> {
    match name {
        b"PUCK_T1" => Some(1),
        b"PUCK_TH" => Some(2),
        n if n.starts_with(b"C T") => Some(3),
        n if n.starts_with(b"P T") => Some(1),
        n if n.starts_with(b"P RHT") => Some(2),
        _ => None,
    }
}

/// Whether an ELA structure (after the company id) is one the decoder reads. Bytes after the
/// value are ignored, as ble_monitor does.
fn ela_ok(d: &[u8]) -> bool {
    matches!(d, [0x12, _, _, ..] | [0x21, _, _, _, _, ..] | [0xF1, _, ..])
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, d) = s.manufacturer()?;
    let variant = match cid {
        EYE_ID if d.len() >= 2 => EYE,
        ELA_ID if ela_ok(d) => named_model(adv.hints.name)?,
        _ => return None,
    };
    Some(Claim {
        payload: s.payload,
        variant,
    })
}

fn claim_gatt<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    match s.service_data16()? {
        (TEMPERATURE_UUID, [_, _]) | (HUMIDITY_UUID, [_]) => Some(Claim {
            payload: s.payload,
            variant: named_model(adv.hints.name)?,
        }),
        _ => None,
    }
}

/// The EYE sensor's flagged fields (`d` after the company id).
fn eye(d: &[u8], out: &mut Reading) -> Result<(), DecodeError> {
    let (&flags, mut rest) = match d {
        [_version, flags, rest @ ..] => (flags, rest),
        _ => return Err(DecodeError::Truncated),
    };
    let mut take = |n: usize| -> Result<&[u8], DecodeError> {
        let (h, t) = rest.split_at_checked(n).ok_or(DecodeError::Truncated)?;
        rest = t;
        Ok(h)
    };
    if flags & 1 != 0 {
        let t = take(2)?;
        out.float(
            &field::TEMPERATURE,
            i16::from_be_bytes([t[0], t[1]]) as f64 / 100.0,
        );
    }
    if flags & 2 != 0 {
        out.int(&field::HUMIDITY, take(1)?[0] as i64);
    }
    if flags & 4 != 0 {
        out.int(&MAGNETIC_FIELD_DETECTED, (flags >> 3 & 1) as i64);
    }
    if flags & 0x10 != 0 {
        let m = take(2)?;
        out.int(&field::MOVING, (m[0] >> 7) as i64);
        out.int(
            &field::MOVEMENT_COUNTER,
            u16::from_be_bytes([m[0] & 0x7F, m[1]]) as i64,
        );
    }
    if flags & 0x20 != 0 {
        let a = take(3)?;
        out.int(&PITCH, a[0] as i8 as i64);
        out.int(&ROLL, i16::from_be_bytes([a[1], a[2]]) as i64);
    }
    out.int(&field::BATTERY_LOW, (flags >> 6 & 1) as i64);
    if flags & 0x80 != 0 {
        let v = take(1)?[0];
        out.float(&field::VOLTAGE, (200 + v as u32) as f64 / 100.0);
    }
    Ok(())
}

/// Reads every Teltonika structure of the advert: the claimed one may carry only part of the
/// values.
fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    out.model = MODELS
        .get(claim.variant as usize)
        .ok_or(DecodeError::Malformed("not a Teltonika frame"))?;
    out.firmware = "Teltonika";
    for s in adv::structures(adv.data).valid() {
        if let Some((cid, d)) = s.manufacturer() {
            match (cid, d) {
                (EYE_ID, d) if claim.variant == EYE => eye(d, out)?,
                (ELA_ID, [0x12, a, b, ..]) => out.float(
                    &field::TEMPERATURE,
                    i16::from_le_bytes([*a, *b]) as f64 / 100.0,
                ),
                (ELA_ID, [0x21, h, _, a, b, ..]) => {
                    out.float(
                        &field::TEMPERATURE,
                        i16::from_le_bytes([*a, *b]) as f64 / 100.0,
                    );
                    out.int(&field::HUMIDITY, *h as i8 as i64);
                }
                (ELA_ID, [0xF1, b, ..]) => out.int(&field::BATTERY, *b as i8 as i64),
                _ => {}
            }
        } else if let Some((uuid, d)) = s.service_data16() {
            match (uuid, d) {
                (TEMPERATURE_UUID, [a, b]) => out.float(
                    &field::TEMPERATURE,
                    i16::from_le_bytes([*a, *b]) as f64 / 100.0,
                ),
                (HUMIDITY_UUID, [h]) => out.int(&field::HUMIDITY, *h as i64),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}
