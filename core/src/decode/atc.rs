//! ATC_MiThermometer custom firmwares (atc1441 and pvvx) on service data 0x181A. One entry,
//! dispatching on the payload length (bytes after the UUID):
//!
//! | len | format | layout |
//! |---|---|---|
//! | 13 | `atc1441` "ATC (Atc1441)" | MAC[6] (display order), temp i16 BE ×0.1 °C, humidity u8 %, battery u8 %, voltage u16 BE mV, counter u8 |
//! | 15 | `pvvx` "ATC (Custom)" | MAC[6] (little-endian), temp i16 LE ×0.01 °C, humidity u16 LE ×0.01 %, voltage u16 LE mV, battery u8 %, counter u8, flags u8 |
//! | 11 | `pvvx-encrypted` "ATC (Custom encrypted)" | counter u8, AES-CCM ciphertext[6] (temp i16 LE ×0.01, humidity u16 LE ×0.01, battery u8, flags u8), MIC[4] |
//! | 8 | `atc1441-encrypted` "ATC (Atc1441 encrypted)" | counter u8, ciphertext[3] (temp u8: t/2−40 °C, humidity u8: h/2 %, battery bits 0–6 + trigger bit 7), MIC[4] |
//!
//! Encrypted forms (pvvx firmware, as bleparser/ble_monitor decrypt them): key = the device's
//! 16-byte bindkey, nonce = MAC little-endian (6) + the first 5 bytes of the AD structure
//! (`AD length, 0x16, 0x1A, 0x18, counter`), AAD = `0x11`, 4-byte MIC.
//!
//! Flags (pvvx): bit 0 reed switch → `opening`, bit 1 trigger output → `switch` (bleparser
//! keys). The encrypted forms carry no voltage; bleparser publishes an estimate
//! `2.2 + 0.9 × battery/100` V and so do we, to keep its output. bleparser's constant
//! `status: "opened"` is not published.
//!
//! Lengths other than 8/11/13/15 are not claimed, so another format (or another service-data
//! structure of the same advert) can still decode the report; an 11-byte payload that starts
//! with the advertiser's own MAC is not an encrypted pvvx frame either and is not claimed.
//! No replay check: the 1-byte counter wraps every 256 frames.

use super::field;
use super::{Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Reading, Requires};
use crate::addr::Addr;
use crate::adv::AdStructure;

pub const UUID: u16 = 0x181A;

pub static FORMAT: Format = Format {
    name: "atc",
    variants: &["atc1441", "atc1441-encrypted", "pvvx", "pvvx-encrypted"],
    manufacturer: "Xiaomi",
    interval_s: 10,
    requires: Requires {
        key: KeyNeed::WhenEncrypted,
        name: false,
        active_scan: false,
    },
    fields: &[],
    matcher: Matcher::Custom(crate::adv::ad_type::SERVICE_DATA16, &[0x181A], claim),
    decode,
};

const MODEL: &str = "ATC";

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (uuid, data) = s.service_data16()?;
    if uuid != UUID {
        return None;
    }
    match data.len() {
        13 | 15 | 8 => Some(Claim::of(data)),
        11 if data[..6] != adv.addr.to_le() => Some(Claim::of(data)),
        _ => None,
    }
}

fn estimated_voltage(battery: u8) -> f64 {
    // bleparser: volt = 2.2 + (3.1 - 2.2) * (batt / 100)
    2.2 + (3.1 - 2.2) * (battery as f64 / 100.0)
}

fn decode(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    out.model = MODEL;
    match d.len() {
        13 => {
            out.format = "atc1441";
            out.firmware = "ATC (Atc1441)";
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&d[..6]);
            out.addr = Addr(mac);
            out.float(
                &field::TEMPERATURE,
                i16::from_be_bytes([d[6], d[7]]) as f64 / 10.0,
            );
            out.int(&field::HUMIDITY, d[8] as i64);
            out.int(&field::BATTERY, d[9] as i64);
            out.float(
                &field::VOLTAGE,
                u16::from_be_bytes([d[10], d[11]]) as f64 / 1000.0,
            );
            out.packet = Some(d[12] as u32);
            Ok(())
        }
        15 => {
            out.format = "pvvx";
            out.firmware = "ATC (Custom)";
            out.addr = Addr::from_le(&d[..6]);
            out.float(
                &field::TEMPERATURE,
                i16::from_le_bytes([d[6], d[7]]) as f64 / 100.0,
            );
            out.float(
                &field::HUMIDITY,
                u16::from_le_bytes([d[8], d[9]]) as f64 / 100.0,
            );
            out.float(
                &field::VOLTAGE,
                u16::from_le_bytes([d[10], d[11]]) as f64 / 1000.0,
            );
            out.int(&field::BATTERY, d[12] as i64);
            out.packet = Some(d[13] as u32);
            flags(d[14], out);
            Ok(())
        }
        11 | 8 => {
            let pvvx = d.len() == 11;
            out.format = if pvvx {
                "pvvx-encrypted"
            } else {
                "atc1441-encrypted"
            };
            out.firmware = if pvvx {
                "ATC (Custom encrypted)"
            } else {
                "ATC (Atc1441 encrypted)"
            };
            out.encrypted = true;
            out.addr = adv.addr;
            let key = ctx.keys.get(&adv.addr).ok_or(DecodeError::NoKey)?;
            let counter = d[0];
            let n = d.len();
            let mut nonce = [0u8; 11];
            nonce[..6].copy_from_slice(&adv.addr.to_le());
            // The AD structure's first bytes: length (type + UUID + payload), type, UUID LE.
            nonce[6..].copy_from_slice(&[(n + 3) as u8, 0x16, 0x1A, 0x18, counter]);
            let mut buf = [0u8; 6];
            let buf = &mut buf[..n - 5];
            buf.copy_from_slice(&d[1..n - 4]);
            if !key.ccm_open(&nonce, &[0x11], buf, &d[n - 4..]) {
                return Err(DecodeError::DecryptFailed);
            }
            out.packet = Some(counter as u32);
            if pvvx {
                out.float(
                    &field::TEMPERATURE,
                    i16::from_le_bytes([buf[0], buf[1]]) as f64 / 100.0,
                );
                out.float(
                    &field::HUMIDITY,
                    u16::from_le_bytes([buf[2], buf[3]]) as f64 / 100.0,
                );
                let batt = buf[4].min(100);
                out.float(&field::VOLTAGE, estimated_voltage(batt));
                out.int(&field::BATTERY, batt as i64);
                flags(buf[5], out);
            } else {
                out.float(&field::TEMPERATURE, buf[0] as f64 / 2.0 - 40.0);
                out.float(&field::HUMIDITY, buf[1] as f64 / 2.0);
                let batt = (buf[2] & 0x7F).min(100);
                out.float(&field::VOLTAGE, estimated_voltage(batt));
                out.int(&field::BATTERY, batt as i64);
                out.int(&field::SWITCH, (buf[2] >> 7) as i64);
            }
            Ok(())
        }
        _ => Err(DecodeError::Malformed("ATC payload length")),
    }
}

/// pvvx flags byte → bleparser's `switch` (bit 1) and `opening` (bit 0).
fn flags(trg: u8, out: &mut Reading) {
    out.int(&field::SWITCH, ((trg >> 1) & 1) as i64);
    out.int(&field::OPENING, (trg & 1) as i64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DeviceMemory, KeyStore, Value};
    use aes::Aes128;
    use ccm::aead::generic_array::GenericArray;
    use ccm::aead::{AeadInPlace, KeyInit};
    use ccm::consts::{U11, U4};
    use ccm::Ccm;

    /// Encrypts an atc1441-encrypted frame the way the firmware does, then decodes it.
    #[test]
    fn atc1441_encrypted_roundtrip() {
        let addr = Addr([0xA4, 0xC1, 0x38, 0x11, 0x22, 0x33]);
        let key = [7u8; 16];
        let mut keys = KeyStore::new();
        keys.insert_str("A4:C1:38:11:22:33", "07070707070707070707070707070707")
            .unwrap();
        let counter = 42u8;
        // 21.5 °C → (21.5+40)*2 = 123; 55 % → 110; battery 77, trigger 1.
        let mut pt = [123u8, 110, 77 | 0x80];
        let mut nonce = [0u8; 11];
        nonce[..6].copy_from_slice(&addr.to_le());
        nonce[6..].copy_from_slice(&[11, 0x16, 0x1A, 0x18, counter]);
        let c: Ccm<Aes128, U4, U11> = Ccm::new(GenericArray::from_slice(&key));
        let tag = c
            .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &[0x11], &mut pt)
            .unwrap();
        let mut frame = vec![counter];
        frame.extend_from_slice(&pt);
        frame.extend_from_slice(&tag);
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let adv = Advert::new(addr, 0, None, &[]);
        let mut r = Reading::default();
        decode(&mut ctx, &adv, Claim::of(&frame), &mut r).unwrap();
        assert_eq!(r.format, "atc1441-encrypted");
        assert_eq!(r.get("temperature"), Some(Value::Float(21.5)));
        assert_eq!(r.get("humidity"), Some(Value::Float(55.0)));
        assert_eq!(r.get("battery"), Some(Value::Int(77)));
        assert_eq!(r.get("switch"), Some(Value::Int(1)));
        assert_eq!(r.packet, Some(42));
        // One flipped ciphertext bit: rejected.
        frame[2] ^= 1;
        let mut r = Reading::default();
        assert_eq!(
            decode(&mut ctx, &adv, Claim::of(&frame), &mut r),
            Err(DecodeError::DecryptFailed)
        );
        // No key.
        let empty = KeyStore::new();
        let mut ctx = Ctx {
            keys: &empty,
            memory: &mut mem,
        };
        assert_eq!(
            decode(&mut ctx, &adv, Claim::of(&frame), &mut r),
            Err(DecodeError::NoKey)
        );
    }

    #[test]
    fn claims_only_known_lengths() {
        let addr = Addr([0xA4, 0xC1, 0x38, 0x81, 0x24, 0xC4]);
        let adv = Advert::new(addr, 0, None, &[]);
        let mk = |payload: &'static [u8]| AdStructure {
            ad_type: 0x16,
            payload,
        };
        assert!(claim(
            &mk(&[0x1A, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            &adv
        )
        .is_some()); // 13
        assert!(claim(&mk(&[0x1A, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), &adv).is_none()); // 10
        assert!(claim(
            &mk(&[0x1B, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            &adv
        )
        .is_none()); // other UUID
                     // 11 bytes starting with the advertiser's MAC (LE): some other 0x181A format.
        let p: &'static [u8] = &[
            0x1A, 0x18, 0xC4, 0x24, 0x81, 0x38, 0xC1, 0xA4, 0x56, 0x08, 0x83, 0x18, 0xBF,
        ];
        assert!(claim(&mk(p), &adv).is_none());
    }
}
