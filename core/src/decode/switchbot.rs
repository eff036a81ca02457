//! SwitchBot sensors: Meter, Meter Plus, Indoor/Outdoor Meter, Meter Pro (CO2), Hub 2, Hub 3,
//! Hub Mini Matter, Weather Station, Climate Panel, Contact, Motion, Presence and Leak sensors.
//!
//! A SwitchBot advert has up to two parts: service data (UUID 0xFD3D, older devices 0x0D00)
//! whose first byte (`& 0x7F`) is the model letter (`T` Meter, `i` Meter Plus, `w` Indoor/
//! Outdoor, `4`/0x14 Meter Pro, `5`/0x15 Meter Pro CO2, `v` Hub 2, `%`/0x05 Hub Mini Matter,
//! `d` Contact, `s` Motion, `&`/0x06 Leak; newer devices end the service data with a 4-byte
//! model id: Hub 3 `…10 B9 40`, Climate Panel `…10 F3 D8`, Presence `…10 CC C8`, Weather
//! Station `…10 53 B0`), and manufacturer data (company 0x0969: MAC[6] then device data).
//!
//! **Needs active scanning**: the service data (and with it the model) is in the scan
//! response, so a passive scan only sees the manufacturer data, which does not say which model
//! sent it (pySwitchbot remembers the model from an earlier active scan). Without the model
//! this decoder publishes nothing. Both parts arrive in one report only when the controller
//! merges them or the device sends them together; each report is decoded on its own.
//!
//! Temperature/humidity (3 bytes): `b0 & 0x0F` tenths, `b1 & 0x7F` whole degrees with bit 7 set
//! for positive, `b2 & 0x7F` humidity % (bit 7: display in °F). The meters carry it in the
//! manufacturer data `[8..11]` (used first, as pySwitchbot does) and in the service data
//! `[3..6]`; 0.0 °C with 0 % means "no measurement". The model is what pySwitchbot takes it to
//! be: a letter of another SwitchBot device is not a sensor, whatever follows; the 0xFD3D
//! service data wins over 0x0D00; the manufacturer data is company 0x0969's, else 0x02E5's or
//! 0x0059's.

use super::{field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Reading, Requires};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "switchbot",
    variants: &[],
    manufacturer: "Switchbot",
    interval_s: 30,
    requires: Requires {
        key: KeyNeed::Never,
        name: false,
        active_scan: true,
    },
    fields: &[],
    matcher: Matcher::Custom(
        crate::adv::ad_type::SERVICE_DATA16,
        &[0xFD3D, 0x0D00],
        claim,
    ),
    decode,
};

/// pySwitchbot's manufacturer data: the first of these company ids the advert carries
/// (0x0969 Woan; 0x02E5 and 0x0059 on some models).
const COMPANIES: [u16; 3] = [0x0969, 0x02E5, 0x0059];
const HUB2_LUX: [u16; 22] = [
    0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 105, 205, 317, 416, 510, 610, 707, 801, 897, 1023,
    1091,
];
const HUB3_LUX: [u16; 11] = [0, 0, 50, 90, 205, 317, 510, 610, 707, 801, 1023];

/// The models `claim` tells apart; its [`Claim::variant`] is the index in [`Model::ALL`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    Meter,
    MeterPlus,
    IoMeter,
    MeterPro,
    MeterProCo2,
    Hub2,
    HubMiniMatter,
    Hub3,
    WeatherStation,
    ClimatePanel,
    Contact,
    Motion,
    Presence,
    Leak,
}

impl Model {
    const ALL: [Model; 14] = [
        Model::Meter,
        Model::MeterPlus,
        Model::IoMeter,
        Model::MeterPro,
        Model::MeterProCo2,
        Model::Hub2,
        Model::HubMiniMatter,
        Model::Hub3,
        Model::WeatherStation,
        Model::ClimatePanel,
        Model::Contact,
        Model::Motion,
        Model::Presence,
        Model::Leak,
    ];
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (u, d) = s.service_data16()?;
    if u != 0xFD3D && u != 0x0D00 {
        return None;
    }
    // pySwitchbot reads the 0xFD3D service data when an advert has both.
    if u == 0x0D00
        && adv::structures(adv.data)
            .valid()
            .any(|x| x.service_data16().is_some_and(|(u, _)| u == 0xFD3D))
    {
        return None;
    }
    let m = model(d)?;
    // Without a model letter, pySwitchbot takes 6 bytes of company 0x02E5 for a humidifier
    // before it looks at the model id ending the service data.
    if matches!(
        m,
        Model::Hub3 | Model::ClimatePanel | Model::Presence | Model::WeatherStation
    ) && manufacturer_data(adv).is_some_and(|(c, d)| c == 0x02E5 && d.len() == 6)
    {
        return None;
    }
    Some(Claim {
        payload: d,
        variant: Model::ALL.iter().position(|k| *k == m)? as u8,
    })
}

/// The manufacturer data pySwitchbot reads: company and data of the first of [`COMPANIES`]
/// present.
fn manufacturer_data<'a>(adv: &Advert<'a>) -> Option<(u16, &'a [u8])> {
    COMPANIES.iter().find_map(|&company| {
        adv::structures(adv.data)
            .valid()
            .find_map(|s| s.manufacturer().filter(|(c, _)| *c == company))
    })
}

/// Every one-character model letter pySwitchbot knows (`SUPPORTED_TYPES`, sensors or not), as a
/// bit set over `sd[0] & 0x7F`: a letter of another SwitchBot device (bot, curtain, lock…)
/// names that device, whatever the service data ends with.
const KNOWN_LETTERS: u128 = 0x6ffec6bc6ffec7bcf9b87df8f9b8bdf8;

/// The last three bytes of every 4-byte model id pySwitchbot knows (its first byte is 0 or 1).
const KNOWN_IDS: [[u8; 3]; 27] = [
    [0x10, 0x53, 0xB0],
    [0x10, 0xA5, 0xB8],
    [0x10, 0xB9, 0x40],
    [0x10, 0xCC, 0xC8],
    [0x10, 0xD0, 0xB0],
    [0x10, 0xD0, 0xB1],
    [0x10, 0xD0, 0xB3],
    [0x10, 0xD0, 0xB4],
    [0x10, 0xD0, 0xB5],
    [0x10, 0xD0, 0xB6],
    [0x10, 0xD0, 0xB7],
    [0x10, 0xE0, 0x50],
    [0x10, 0xF3, 0xD8],
    [0x10, 0xFB, 0xA8],
    [0x10, 0xFF, 0x90],
    [0x11, 0x03, 0x78],
    [0x11, 0x07, 0x60],
    [0x11, 0x22, 0xB8],
    [0x11, 0x36, 0x40],
    [0x11, 0x3E, 0x10],
    [0x11, 0x51, 0x98],
    [0x11, 0x69, 0x08],
    [0x11, 0x69, 0x09],
    [0x11, 0x9F, 0xB8],
    [0x11, 0xB3, 0x40],
    [0x11, 0xBB, 0x10],
    [0x11, 0xBE, 0xF8],
];

/// The model, as pySwitchbot finds it: the letter `sd[0] & 0x7F`, else a 4-byte model id
/// ending the service data (or followed by one more byte), the first known one deciding.
fn model(sd: &[u8]) -> Option<Model> {
    use Model::*;
    let c = *sd.first()? & 0x7F;
    let m = match c {
        b'T' | b't' => Some(Meter),
        b'i' | b'I' => Some(MeterPlus),
        b'w' | b'W' => Some(IoMeter),
        b'4' | 0x14 => Some(MeterPro),
        b'5' | 0x15 => Some(MeterProCo2),
        b'v' | b'V' => Some(Hub2),
        b'%' | 0x05 => Some(HubMiniMatter),
        b'd' | b'D' => Some(Contact),
        b's' | b'S' => Some(Motion),
        b'&' | 0x06 => Some(Leak),
        _ => None,
    };
    if m.is_some() || KNOWN_LETTERS >> c & 1 != 0 || sd.len() <= 5 {
        return m;
    }
    let n = sd.len();
    for tail in [&sd[n - 4..], &sd[n - 5..n - 1]] {
        if tail[0] > 1 || !KNOWN_IDS.iter().any(|id| tail[1..] == id[..]) {
            continue;
        }
        return match [tail[1], tail[2], tail[3]] {
            [0x10, 0xB9, 0x40] => Some(Hub3),
            [0x10, 0xF3, 0xD8] => Some(ClimatePanel),
            [0x10, 0xCC, 0xC8] => Some(Presence),
            [0x10, 0x53, 0xB0] => Some(WeatherStation),
            _ => None, // another SwitchBot device
        };
    }
    None
}

/// Decodes the 3-byte temperature/humidity group.
fn temp_hum(b: &[u8]) -> (f64, i64) {
    let t = (b[1] & 0x7F) as f64 + (b[0] & 0x0F) as f64 / 10.0;
    (if b[1] & 0x80 != 0 { t } else { -t }, (b[2] & 0x7F) as i64)
}

fn push_th(out: &mut Reading, b: &[u8]) -> (f64, i64) {
    let (t, h) = temp_hum(b);
    out.float(&field::TEMPERATURE, t);
    out.int(&field::HUMIDITY, h);
    (t, h)
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let sd = claim.payload;
    use Model::*;
    let m = *Model::ALL
        .get(claim.variant as usize)
        .ok_or(DecodeError::Malformed("unknown SwitchBot model"))?;
    let mfr: &[u8] = manufacturer_data(adv).map_or(&[], |(_, d)| d);
    out.firmware = "Switchbot";
    let batt_sd = sd.get(2).map(|b| (b & 0x7F) as i64);
    match m {
        Meter | MeterPlus | IoMeter | MeterPro | MeterProCo2 | WeatherStation => {
            out.model = match m {
                Meter => "Meter TH S1",
                MeterPlus => "Meter TH plus",
                IoMeter => "Indoor/Outdoor Meter",
                MeterPro => "Meter Pro",
                MeterProCo2 => "Meter Pro CO2",
                _ => "Weather Station",
            };
            // The manufacturer data's group first, then the service data's (pySwitchbot).
            let th = if mfr.len() >= 11 {
                Some(&mfr[8..11])
            } else if sd.len() >= 6 {
                Some(&sd[3..6])
            } else {
                None
            };
            let batt = if m == WeatherStation && mfr.len() >= 11 {
                Some((mfr[7] & 0x7F) as i64)
            } else if m == WeatherStation {
                sd.get(2)
                    .filter(|_| sd.len() >= 6)
                    .map(|b| (b & 0x7F) as i64)
            } else {
                batt_sd
            };
            let Some(th) = th else {
                return Err(DecodeError::NoData);
            };
            let (t, h) = temp_hum(th);
            if t == 0.0 && h == 0 {
                return Err(DecodeError::NoData);
            }
            push_th(out, th);
            if let Some(b) = batt {
                out.int(&field::BATTERY, b);
            }
            if m == MeterProCo2 && mfr.len() >= 15 {
                let co2 = u16::from_be_bytes([mfr[13], mfr[14]]);
                if co2 <= 9999 {
                    out.int(&field::CO2, co2 as i64);
                }
            }
        }
        Hub2 | HubMiniMatter => {
            out.model = if m == Hub2 { "Hub 2" } else { "HubMini Matter" };
            if mfr.len() < 16 {
                return Err(DecodeError::NoData);
            }
            let (t, h) = temp_hum(&mfr[13..16]);
            if t == 0.0 && h == 0 {
                return Err(DecodeError::NoData);
            }
            push_th(out, &mfr[13..16]);
            if m == Hub2 {
                let level = mfr[12] & 0x1F;
                out.int(&field::LIGHT_LEVEL, level as i64);
                out.int(
                    &field::ILLUMINANCE,
                    HUB2_LUX.get(level as usize).copied().unwrap_or(0) as i64,
                );
            }
        }
        Hub3 => {
            out.model = "Hub3";
            if mfr.len() < 17 {
                return Err(DecodeError::NoData);
            }
            let d = &mfr[6..];
            let level = d[6] & 0x0F;
            out.int(&field::LIGHT_LEVEL, level as i64);
            out.int(
                &field::ILLUMINANCE,
                HUB3_LUX[(level as usize).min(10)] as i64,
            );
            push_th(out, &d[7..10]);
            out.int(&field::MOTION, (d[10] & 0x80 != 0) as i64);
        }
        ClimatePanel => {
            out.model = "Climate Panel";
            if mfr.len() < 16 {
                return Err(DecodeError::NoData);
            }
            out.int(&field::BATTERY, (mfr[7] & 0x7F) as i64);
            push_th(out, &mfr[8..11]);
            out.int(&field::MOTION, (mfr[15] & 0x80 != 0) as i64);
            out.int(&field::LIGHT, ((mfr[15] >> 1) & 0x03 == 0x02) as i64);
        }
        Presence => {
            out.model = "Presence Sensor";
            if mfr.len() < 12 {
                return Err(DecodeError::NoData);
            }
            out.int(&field::MOTION, (mfr[7] & 0x40 != 0) as i64);
            out.int(&field::LIGHT_LEVEL, (mfr[11] & 0x1F) as i64);
            if let Some(b) = batt_sd {
                out.int(&field::BATTERY, b);
            }
        }
        Contact => {
            out.model = "Contact Sensor";
            let (motion, open, light) = if mfr.len() >= 13 {
                (mfr[7] & 0x80 != 0, mfr[7] & 0x30 != 0, mfr[7] & 0x40 != 0)
            } else if sd.len() >= 9 {
                (sd[1] & 0x40 != 0, sd[3] & 0x06 != 0, sd[3] & 0x01 != 0)
            } else {
                return Err(DecodeError::NoData);
            };
            out.int(&field::MOTION, motion as i64);
            out.int(&field::OPENING, open as i64);
            out.int(&field::LIGHT, light as i64);
            if let Some(b) = batt_sd {
                out.int(&field::BATTERY, b);
            }
        }
        Motion => {
            out.model = "Motion Sensor";
            let mut state = None;
            if sd.len() >= 6 {
                state = Some((sd[1] & 0x40 != 0, sd[5] & 0x02 != 0));
            }
            if mfr.len() >= 8 {
                state = Some((mfr[7] & 0x40 != 0, mfr[7] & 0x20 != 0));
            }
            let Some((motion, light)) = state else {
                return Err(DecodeError::NoData);
            };
            out.int(&field::MOTION, motion as i64);
            out.int(&field::LIGHT, light as i64);
            if sd.len() >= 6 {
                out.int(&field::BATTERY, (sd[2] & 0x7F) as i64);
            }
        }
        Leak => {
            out.model = "Leak Detector";
            if mfr.len() < 9 {
                return Err(DecodeError::NoData);
            }
            out.int(&field::MOISTURE_DETECTED, (mfr[8] & 0x01) as i64);
            out.int(&field::BATTERY, (mfr[7] & 0x7F) as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temperature_sign_and_models() {
        assert_eq!(temp_hum(&[0x03, 0x19, 0x38]), (-25.3, 56));
        assert_eq!(temp_hum(&[0x00, 0x99, 0x8E]), (25.0, 14));
        assert_eq!(model(&[0x54, 0, 0x64]), Some(Model::Meter));
        assert_eq!(
            model(&[0x00, 0x20, 0x5F, 0x00, 0x10, 0xF3, 0xD8, 0x40]),
            Some(Model::ClimatePanel)
        );
        assert_eq!(model(&[0xFF, 0xFF, 0xFF, 0xFF]), None);
        assert_eq!(model(&[]), None);
    }
}
