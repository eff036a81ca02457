//! RAPT Pill hydrometers (KegLand), as `rapt-ble` 2.0.0 (Home Assistant's `rapt_ble`
//! integration) reads them. The Pill puts ASCII where the company id goes: metrics come as
//! manufacturer data "RAPT…" (company 0x4152 "RA", then 23 bytes from "PT"), its firmware
//! version as "KEG…" (company 0x454B "KE", then "G" and the version text).
//!
//! Metrics, big-endian after "PT": `version | v1: MAC (6) | v2: reserved, gravity velocity
//! valid (bool), gravity velocity (f32, SG points/day) | temperature u16 (K × 128) | gravity
//! f32 (× 1000) | x, y, z i16 (/16) | battery i16 (/256 %)`. Any version other than 1 is read
//! with the v2 layout, as the library does. Temperature is rounded to 0.01 °C, gravity to
//! 0.0001, battery to an integer; the velocity is published only when flagged valid in a
//! version 2 or later frame. The accelerometer axes are not published (the library computes
//! but does not publish them);
//! the version and the hardware-revision frame ("RAPTdPillG1") carry no measurement.

use super::bytes::py_round;
use super::tilt::GRAVITY;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "rapt",
    variants: &[],
    manufacturer: "KegLand",
    // The Pill sends its metrics at the interval set in the RAPT app (minutes, not seconds):
    // 15 min keeps Home Assistant's expiry at 45 min.
    interval_s: 900,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[METRICS, VERSION], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    GRAVITY_VELOCITY = "gravity velocity", "SG points/day", "", "measurement", Sensor, false;
}

/// "RA": the metrics frame.
const METRICS: u16 = 0x4152;
/// "KE": the firmware-version frame.
const VERSION: u16 = 0x454B;
/// Data after the company id of a metrics frame.
const LEN: usize = 23;

/// Variants of [`Claim::variant`].
const V_METRICS: u8 = 0;
const V_OTHER: u8 = 1;

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (company, d) = s.manufacturer()?;
    let variant = match (company, d) {
        (METRICS, [b'P', b'T', ..]) if d.len() == LEN => V_METRICS,
        (METRICS, b"PTdPillG1") => V_OTHER,
        (VERSION, [b'G', ..]) => V_OTHER,
        _ => return None,
    };
    Some(Claim {
        payload: d,
        variant,
    })
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    out.model = "RAPT Pill hydrometer";
    out.firmware = "RAPT";
    if claim.variant != V_METRICS {
        // Firmware version or hardware revision: nothing to publish.
        return Err(DecodeError::NoData);
    }
    let d: &[u8; LEN] = claim.array()?;
    let f32be = |o: usize| f32::from_be_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]) as f64;
    let temperature = u16::from_be_bytes([d[9], d[10]]) as f64;
    let gravity = f32be(11);
    let battery = i16::from_be_bytes([d[21], d[22]]) as f64;
    out.float(
        &field::TEMPERATURE,
        py_round(temperature / 128.0 - 273.15, 2),
    );
    if gravity.is_finite() {
        out.float(&GRAVITY, py_round(gravity / 1000.0, 4));
    }
    out.int(&field::BATTERY, py_round(battery / 256.0, 0) as i64);
    // The library publishes a velocity from version 2 on (version 0 is read with the v2
    // layout, but without it).
    if d[2] >= 2 && d[4] != 0 {
        let velocity = f32be(5);
        if velocity.is_finite() {
            out.float(&GRAVITY_VELOCITY, velocity);
        }
    }
    Ok(())
}
