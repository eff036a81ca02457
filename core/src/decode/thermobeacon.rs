//! ThermoBeacon family: Thermoplus / ThermoBeacon hygrometers (SensorBlue, "Lanyard/mini" and
//! "Smart" hygrometers) and the Brifit / SensorPro T201 and T301 (manufacturer data).
//!
//! `p` = manufacturer payload including the 2-byte company id:
//! * Thermoplus (company id 0x0010 Lanyard/mini, 0x0011/0x0014/0x0015/0x0018/0x001B/0x0030
//!   Smart hygrometer, advertised with the 16-bit service UUID 0xFFF0, 20 bytes), as
//!   thermobeacon-ble (Home Assistant's library) reads it: `p[3]` bit 7 the button
//!   (`occupancy`, as there), `p[4..10]` MAC (reversed), `p[10..12]` battery mV, `p[12..14]`
//!   temperature i16 /16 °C, `p[14..16]` humidity /16 % (these and the voltage to 0.01, as there; a value
//!   above 100 means the frame is not a measurement: no reading). Battery % is the
//!   piecewise-linear curve over the voltage, to 1 %.
//! * Brifit / SensorPro (company id 0xAA55, 19 bytes): `p[2]` 0x01, `p[3]` device (0x01 T201,
//!   0x05 T301), `p[4..10]` MAC, then big-endian voltage /100 V, temperature i16 /100 °C,
//!   humidity /100 %, battery %. sensorpro-ble reads these seven bytes of any frame with its
//!   prefix (below) that holds them, shorter (17 bytes, the last two missing) or longer (a
//!   frame and its scan response merged), and so do we.
//!
//! bleparser rejected a frame whose MAC is not the advertiser's (these company ids are not
//! registered to the vendor). Home Assistant's thermobeacon-ble and sensorpro-ble do not check
//! it (their tests use placeholder addresses); they identify the frame by the UUID, company id
//! and length (Thermoplus) or by the `01 01|05 A4 C1` prefix, the Telink OUI of the MAC
//! (Brifit). We accept what they accept, and a Brifit frame with the advertiser's MAC as
//! bleparser did.

use super::bytes::py_round;
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "thermobeacon",
    variants: &[],
    manufacturer: "Thermoplus",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(
        crate::adv::ad_type::MANUFACTURER,
        &[
            0xAA55, 0x0010, 0x0011, 0x0014, 0x0015, 0x0018, 0x001B, 0x0030,
        ],
        claim,
    ),
    decode,
};

fn is_thermoplus(cid: u16, p: &[u8], adv: &Advert<'_>) -> bool {
    p.len() == 20
        && matches!(
            cid,
            0x0010 | 0x0011 | 0x0014 | 0x0015 | 0x0018 | 0x001B | 0x0030
        )
        && adv.hints.has_uuid16(0xFFF0)
}

/// [`Claim::variant`]s: a Brifit frame (company 0xAA55) or a Thermoplus one.
const BRIFIT: u8 = 0;
const THERMOPLUS: u8 = 1;

/// sensorpro-ble's check: the device byte and the MAC's Telink OUI.
fn sensorpro(p: &[u8]) -> bool {
    matches!(p.get(2..6), Some([0x01, 0x01 | 0x05, 0xA4, 0xC1]))
}

/// Company id + the 15 bytes sensorpro-ble reads.
const BRIFIT_MIN: usize = 17;

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, _) = s.manufacturer()?;
    let n = s.payload.len();
    let variant = if cid == 0xAA55 && (n == 19 || (n >= BRIFIT_MIN && sensorpro(s.payload))) {
        BRIFIT
    } else if is_thermoplus(cid, s.payload, adv) {
        THERMOPLUS
    } else {
        return None;
    };
    Some(Claim {
        payload: s.payload,
        variant,
    })
}

/// bleparser's battery estimate from the cell voltage (mV).
fn battery(mv: u16) -> f64 {
    let v = mv as f64;
    if mv >= 3000 {
        100.0
    } else if mv >= 2600 {
        60.0 + (v - 2600.0) * 0.1
    } else if mv >= 2500 {
        40.0 + (v - 2500.0) * 0.2
    } else if mv >= 2450 {
        20.0 + (v - 2450.0) * 0.4
    } else {
        0.0
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    if p.len() < BRIFIT_MIN {
        return Err(DecodeError::Truncated);
    }
    let cid = u16::from_le_bytes([p[0], p[1]]);
    let mac = &p[4..10];
    if claim.variant == BRIFIT {
        // sensorpro-ble's check, or bleparser's (19 bytes, the advertiser's MAC).
        if !sensorpro(p) && (p.len() != 19 || mac != adv.addr.0) {
            return Err(DecodeError::Malformed("frame MAC is not the advertiser's"));
        }
        out.firmware = "Brifit";
        out.model = if p[3] == 0x05 { "T301" } else { "T201" };
        let be = |o: usize| u16::from_be_bytes([p[o], p[o + 1]]);
        out.float(&field::TEMPERATURE, be(12) as i16 as f64 / 100.0);
        out.float(&field::HUMIDITY, be(14) as f64 / 100.0);
        out.float(&field::VOLTAGE, be(10) as f64 / 100.0);
        out.int(&field::BATTERY, p[16] as i64);
        return Ok(());
    }
    if claim.variant != THERMOPLUS || p.len() < 20 {
        return Err(DecodeError::Malformed("not a Thermoplus frame"));
    }
    out.firmware = "Thermoplus";
    out.model = if cid == 0x0010 {
        "Lanyard/mini hygrometer"
    } else {
        "Smart hygrometer"
    };
    let le = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
    let mv = le(10);
    let (t, h) = (le(12) as i16 as f64 / 16.0, le(14) as f64 / 16.0);
    if t > 100.0 || h > 100.0 {
        return Err(DecodeError::Malformed(
            "Thermoplus temperature or humidity above 100",
        ));
    }
    out.float(&field::VOLTAGE, py_round(mv as f64 / 1000.0, 2));
    out.float(&field::TEMPERATURE, py_round(t, 2));
    out.float(&field::HUMIDITY, py_round(h, 2));
    out.int(&field::BATTERY, py_round(battery(mv), 0) as i64);
    out.int(&field::OCCUPANCY, (p[3] & 0x80 != 0) as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn battery_curve() {
        assert_eq!(battery(3132), 100.0);
        assert!((battery(2922) - 92.2).abs() < 1e-9);
        assert_eq!(battery(2449), 0.0);
        assert!((battery(2475) - 30.0).abs() < 1e-9);
    }

    /// Brifit T201 (no public vector): a frame laid out as bleparser's `>HhHB` at `data[12:19]`.
    #[test]
    fn brifit_t201_layout() {
        use crate::addr::Addr;
        use crate::decode::{testing, Value};
        let mac = [0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6];
        let mut p = vec![0x55, 0xAA, 0x00, 0x00];
        p.extend_from_slice(&mac);
        p.extend_from_slice(&[0x01, 0x2C, 0xFF, 0x38, 0x13, 0x88, 0x5A, 0x00, 0x00]); // 3.00 V, -2.00 °C, 50 %, 90 %
        assert_eq!(p.len(), 19);
        let adv = Advert::new(Addr(mac), 0, None, &[]);
        let r = testing::decode_claim(&FORMAT, &adv, Claim::of(&p)).expect("decoded");
        assert_eq!((r.firmware, r.model), ("Brifit", "T201"));
        assert_eq!(r.get("temperature"), Some(Value::Float(-2.0)));
        assert_eq!(r.get("humidity"), Some(Value::Float(50.0)));
        assert_eq!(r.get("voltage"), Some(Value::Float(3.0)));
        assert_eq!(r.get("battery"), Some(Value::Int(90)));
        // another advertiser: rejected
        let other = Advert {
            addr: Addr([0; 6]),
            ..adv
        };
        assert!(testing::decode_claim(&FORMAT, &other, Claim::of(&p)).is_err());
    }
}
