//! iBeacon (Apple manufacturer data 0x004C, `02 15` prefix) and AltBeacon (any company id,
//! `BE AC` prefix): trackers.
//!
//! Frame (after the company id): iBeacon `02 15 | uuid[16] | major u16 BE | minor u16 BE |
//! measured power i8` (trailing bytes ignored); AltBeacon `BE AC | uuid[16] | major u16 BE |
//! minor u16 BE | reference rssi i8 | reserved`, exactly 24 bytes (ble_monitor and bleparser
//! take no other length).
//!
//! **How trackers are published.** bleparser returns a separate `tracker_msg` (`tracker_id` =
//! UUID bytes, `uuid`, `major`, `minor`, `measured power`, `rssi`, `mac`). hci2mqtt publishes
//! one ordinary [`Reading`] instead: the reading's address and RSSI are the tracker's `mac` and
//! `rssi`, its values are `major`, `minor` and `measured power` (ints), `firmware`/`model` are
//! `iBeacon` / `AltBeacon` like bleparser's `firmware`/`type`. The 128-bit UUID is not a
//! [`Reading`] value (values are numbers or static text, and a reading must not allocate): the
//! output/tracker layer reads it from the same advert with [`beacon_uuid`] (zero-copy, 16
//! bytes) when it needs the `uuid` / `tracker_id`, e.g. to match `[[tracker]]` entries. Tracker
//! presence (`is connected`, timeouts) is the tracker layer's business, not the decoder's.
//!
//! bleparser also derives `cypress temperature` / `cypress humidity` from the minor of every
//! iBeacon; that is only meaningful for Cypress CYALKIT sensors, so hci2mqtt does not publish it.
//!
//! An Apple iBeacon structure is only claimed when the advert carries no other manufacturer
//! data and no service data: Govee, SensorPush and others append an iBeacon to their own
//! frames, and those adverts belong to the sensor's format.

use super::{
    Advert, Claim, Ctx, DecodeError, Format, Matcher, Needs, Prefilter, Reading, Requires,
};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "ibeacon",
    variants: &[],
    manufacturer: "iBeacon",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    // iBeacon: 2 + 23 bytes and more; AltBeacon: 2 + 24.
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens_from(25),
            apple: true,
            needs: Needs::Nothing,
        },
        claim,
    ),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    MAJOR = "major", "", "", "", Sensor, true;
    MINOR = "minor", "", "", "", Sensor, true;
    MEASURED_POWER = "measured power", "dBm", "signal_strength", "measurement", Sensor, true;
}

const APPLE: u16 = 0x004C;
/// Bytes after the company id: prefix (2) + uuid (16) + major (2) + minor (2) + power (1).
const FRAME_LEN: usize = 23;

fn is_ibeacon(cid: u16, d: &[u8]) -> bool {
    cid == APPLE && d.len() >= FRAME_LEN && d[0] == 0x02 && d[1] == 0x15
}

/// [`Claim::variant`]s.
const IBEACON: u8 = 0;
const ALTBEACON: u8 = 1;

fn is_altbeacon(d: &[u8]) -> bool {
    d.len() == FRAME_LEN + 1 && d[0] == 0xBE && d[1] == 0xAC
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, d) = s.manufacturer()?;
    if is_altbeacon(d) {
        return Some(Claim {
            payload: s.payload,
            variant: ALTBEACON,
        });
    }
    if !is_ibeacon(cid, d) {
        return None;
    }
    let other = adv.hints.service_data || adv.hints.non_apple_manufacturer;
    if other {
        None
    } else {
        Some(Claim {
            payload: s.payload,
            variant: IBEACON,
        })
    }
}

/// The beacon UUID of the first iBeacon/AltBeacon structure in AD data, in display order.
pub fn beacon_uuid(ad: &[u8]) -> Option<[u8; 16]> {
    adv::structures(ad).valid().find_map(|s| {
        let (cid, d) = s.manufacturer()?;
        if is_ibeacon(cid, d) || is_altbeacon(d) {
            d.get(2..18)?.try_into().ok()
        } else {
            None
        }
    })
}

/// `payload` is the whole manufacturer structure payload (company id included).
fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let payload = claim.payload;
    if payload.len() < 2 + FRAME_LEN {
        return Err(DecodeError::Truncated);
    }
    let d = &payload[2..];
    let name = match claim.variant {
        IBEACON => "iBeacon",
        ALTBEACON => "AltBeacon",
        _ => return Err(DecodeError::Malformed("not a beacon frame")),
    };
    out.firmware = name;
    out.model = name;
    out.int(&MAJOR, u16::from_be_bytes([d[18], d[19]]) as i64);
    out.int(&MINOR, u16::from_be_bytes([d[20], d[21]]) as i64);
    out.int(&MEASURED_POWER, d[22] as i8 as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;

    const IBEACON: [u8; 27] = [
        26, 0xFF, 0x4C, 0x00, 0x02, 0x15, 0xE2, 0xC5, 0x6D, 0xB5, 0xDF, 0xFB, 0x48, 0xD2, 0xB0,
        0x60, 0xD0, 0xF5, 0xA7, 0x10, 0x96, 0xE0, 0x00, 0x64, 0x00, 0x00, 0xC5,
    ];

    fn first_claim(data: &[u8]) -> Option<&'static str> {
        let adv = Advert::new(Addr::default(), 0, None, data);
        adv::structures(data)
            .valid()
            .find_map(|s| crate::decode::claim(&s, &adv))
            .map(|(f, _)| f.name)
    }

    #[test]
    fn uuid_and_claim_rules() {
        assert_eq!(
            beacon_uuid(&IBEACON),
            Some([
                0xE2, 0xC5, 0x6D, 0xB5, 0xDF, 0xFB, 0x48, 0xD2, 0xB0, 0x60, 0xD0, 0xF5, 0xA7, 0x10,
                0x96, 0xE0
            ])
        );
        assert_eq!(first_claim(&IBEACON), Some("ibeacon"));
        // iBeacon first, then a Govee H5075 frame: the advert is Govee's.
        let mut d = IBEACON.to_vec();
        d.extend_from_slice(&[9, 0xFF, 0x88, 0xEC, 0x00, 0x03, 0x21, 0x5D, 0x64, 0x00]);
        assert_eq!(first_claim(&d), Some("govee"));
        // An Apple frame that is not an iBeacon (e.g. AirDrop/Handoff) is nobody's.
        assert_eq!(first_claim(&[6, 0xFF, 0x4C, 0x00, 0x10, 0x05, 0x44]), None);
        assert_eq!(beacon_uuid(&[6, 0xFF, 0x4C, 0x00, 0x10, 0x05, 0x44]), None);
    }
}
