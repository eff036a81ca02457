//! Govee thermometers, hygrometers, meat probes and H512x/H5130 buttons and sensors
//! (manufacturer data).
//!
//! Govee has no single company id: the "company id" is 0xEC88, 0x0001, 0x8801, bytes of the
//! device's MAC (probe thermometers) or 0xEF88 (encrypted H512x). Models are told apart, as
//! govee-ble and bleparser do, by company id, payload length, the local name and the 16-bit
//! service UUID list (probe thermometers advertise `0x8151`…`0x9851`, H5055 `0x5550`; ble_monitor
//! also keys H5075 on `0x7550`, H5074 on `0x7450`, H5178 on `0x7851`… = the model number in the
//! UUID's wire bytes), so the format uses a [`Matcher::Filtered`].
//! Several models only put their data in the scan response
//! (H5074, H5075/H5072, H5129): they need active scanning.
//!
//! Frames (`d` = data after the company id; temperatures °C):
//! * packed 3-byte `TTTHHH`: `v & 0x7FFFFF`, temperature = `v / 1000 / 10` (negative if bit 23),
//!   humidity = `v % 1000 / 10`; the battery byte's bit 7 flags an error. Temperatures outside
//!   −40…100 °C or the error flag: temperature and humidity are not published (govee-ble "error").
//!   H5072/H5075/H5129 (`d[1..5]`), H5100…H5110/H5174/H5177/GV5179 (`d[2..6]`), H5178 (`d[3..7]`,
//!   `d[2]` = sensor 0 indoor / 1 outdoor, the outdoor one reported at MAC + 1 like bleparser).
//! * `<hHB` (temperature/100, humidity/100, battery): H5074 (`d[1..6]`), H5051/H5052/H5071
//!   (`d[1..6]`), H5179 (`d[4..9]`).
//! * probes, big-endian `i16`/100, negative = not connected (0.0, like bleparser): H5181, H5183
//!   (1 probe), H5182, H5184, H5185 (2 probes), H5191 (probe + ambient), H5198 (2 probes with low
//!   alarm); H5184/H5198 `d[6]` says which pair (1/2 or 3/4). H5055 (little-endian whole °C,
//!   6 probes, pair in bits 6-7 of `d[3]`, connected bits in `d[3]`, battery `d[2]`).
//! * H5106: 4 bytes big-endian `d[2..6]`: temperature, humidity and PM2.5 packed in decimal.
//! * H5140: packed temperature/humidity `d[2..5]`, CO2 u16 BE `d[5..7]`, error byte `d[7]`.
//! * H5112: packed `d[2..6]` for probe `d[7]` (0x41 → 1, 0x82 → 2).
//! * H5127 presence (company 0x8803/0x8843 or name, and `d` starting `EC 00 01 01` or
//!   `EC 00 02 01`): `d[4]` present, `d[5] == 0x11` motion.
//! * H5121…H5130 (company 0xEF88, 24 bytes): AES-128-ECB over `d[6..22]` with key
//!   `d[2..6] ‖ 0¹²` (bytes reversed on the way in and out), CRC-16 (init 0x1D0F, poly 0x1021)
//!   of the ciphertext in `d[22..24]`; plaintext `[2]` model, `[4]` battery, `[5]` button/state
//!   (`button N` for any N; H5130: bit 0x10 the button, bit 0x01 pressure = `presence`).
//!
//! Glitch handled: some firmwares glue the 25-byte "INTELLI_ROCKS" iBeacon onto the frame.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, KeyInit};
use aes::Aes128;

use super::bytes::{i16be, i16le};
use super::{
    field, Advert, Claim, Ctx, DecodeError, Field, Format, KeyNeed, Matcher, Needs, Prefilter,
    Reading, Requires, Value,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "govee",
    variants: &[],
    manufacturer: "Govee",
    interval_s: 10,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: true,
    },
    fields: &[],
    // Payload lengths (company id included) of the frames `claim` accepts: 2 + LENS, and
    // 2 + 25 + LENS with the INTELLI_ROCKS trailer.
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens(&[8, 9, 10, 11, 16, 19, 22, 26, 33, 34, 35, 36, 41, 44, 47, 51]),
            apple: false,
            needs: Needs::NameOrUuid16OrCompany(COMPANY_IDS),
        },
        claim,
    ),
    decode,
};

const MIN_TEMP: f64 = -40.0;
const MAX_TEMP: f64 = 100.0;

/// Which button was pressed (H5122/H5125/H5126/H5130), published as the `button` event:
/// `"button N"` for the state byte N, whatever it is (govee-ble fires `button_N`), as ASCII
/// in a fixed row (length in the last byte).
static BUTTON_TEXT: [[u8; 11]; 256] = button_texts();

const fn button_texts() -> [[u8; 11]; 256] {
    let mut t = [[0u8; 11]; 256];
    let mut n = 0;
    while n < 256 {
        let row = &mut t[n];
        let mut i = 0;
        while i < 7 {
            row[i] = b"button "[i];
            i += 1;
        }
        let digits: [u8; 3] = [(n / 100) as u8, (n / 10 % 10) as u8, (n % 10) as u8];
        let first = if n >= 100 {
            0
        } else if n >= 10 {
            1
        } else {
            2
        };
        let mut d = first;
        while d < 3 {
            row[i] = b'0' + digits[d];
            i += 1;
            d += 1;
        }
        row[10] = i as u8;
        n += 1;
    }
    t
}

/// `"button N"` for a state byte.
fn button_text(n: u8) -> Option<&'static str> {
    let row = &BUTTON_TEXT[n as usize];
    core::str::from_utf8(row.get(..row[10] as usize)?).ok()
}

/// Every company id `classify` recognises a frame by; any other frame needs a name or a
/// 16-bit UUID hint (keep in step with `classify`; the `prefilter_covers_classify` test checks).
const COMPANY_IDS: &[u16] = &[
    0xEF88, 0x8803, 0x8843, 0xEC88, 0x0001, 0x8801, 0xF861, 0x388A, 0xEA42, 0xAAA2, 0xD14B, 0x2730,
    0x67DD, 0xE02F, 0xF79F, 0x1B36, 0x4A32, 0x0332, 0x4C32, 0xAC63, 0x3022, 0xEA1C,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Model {
    H5127,
    H5075,
    H5112,
    H5140,
    H5106,
    H5101,
    H5108,
    H5074,
    H5051,
    H5178,
    H5179,
    H5181,
    H5182,
    H5183,
    H5184,
    H5185,
    H5191,
    H5198,
    H5055,
    Encrypted,
}

impl Model {
    /// [`Claim::variant`] & [`MODEL_BITS`] indexes this.
    const ALL: [Model; 20] = [
        Model::H5127,
        Model::H5075,
        Model::H5112,
        Model::H5140,
        Model::H5106,
        Model::H5101,
        Model::H5108,
        Model::H5074,
        Model::H5051,
        Model::H5178,
        Model::H5179,
        Model::H5181,
        Model::H5182,
        Model::H5183,
        Model::H5184,
        Model::H5185,
        Model::H5191,
        Model::H5198,
        Model::H5055,
        Model::Encrypted,
    ];
}

/// Bits of [`Claim::variant`]: the model's index in [`Model::ALL`], and whether the frame
/// carries the 25-byte INTELLI_ROCKS trailer.
const MODEL_BITS: u8 = 0x3F;
const TRAILER: u8 = 0x80;

/// Name and 16-bit service UUIDs of the advert.
struct Hints<'a> {
    name: &'a [u8],
    uuids: [u16; 4],
    n: usize,
}

impl Hints<'_> {
    fn of<'a>(adv: &Advert<'a>) -> Hints<'a> {
        let mut h = Hints {
            name: adv.hints.name,
            uuids: [0; 4],
            n: 0,
        };
        for u in adv.hints.uuid16s() {
            if h.n < h.uuids.len() {
                h.uuids[h.n] = u;
                h.n += 1;
            }
        }
        h
    }
    #[inline]
    fn has(&self, needle: &str) -> bool {
        let n = needle.as_bytes();
        // Most adverts have no name: answer before setting up the window search (`classify`
        // asks up to ~20 names for every manufacturer structure of a plausible length).
        if self.name.len() < n.len() {
            return false;
        }
        self.name.windows(n.len()).any(|w| w == n)
    }
    #[inline]
    fn uuid(&self, u: u16) -> bool {
        self.uuids[..self.n].contains(&u)
    }
}

/// The frame without the INTELLI_ROCKS iBeacon some firmwares glue on, and whether it had one.
fn strip_intelli_rocks(d: &[u8]) -> (&[u8], bool) {
    const TAG: &[u8] = b"INTELLI_ROCKS";
    if d.len() > 25 && d.windows(TAG.len()).any(|w| w == TAG) {
        (&d[..d.len() - 25], true)
    } else {
        (d, false)
    }
}

fn classify(cid: u16, d: &[u8], h: &Hints<'_>) -> Option<Model> {
    use Model::*;
    let len = d.len();
    Some(match len {
        24 if cid == 0xEF88 && crc_ok(d) => Encrypted,
        // govee-ble: 0x8803/0x8843 are a flags byte, not a company: the prefix must match too.
        6 if (cid == 0x8803 || cid == 0x8843 || h.has("H5127"))
            && (d.starts_with(&[0xEC, 0x00, 0x01, 0x01])
                || d.starts_with(&[0xEC, 0x00, 0x02, 0x01])) =>
        {
            H5127
        }
        6 if cid == 0xEC88
            || h.has("H5072")
            || h.has("H5075")
            || h.has("H5129")
            || h.uuid(0x7550) =>
        {
            H5075
        }
        8 if h.has("GV5112") || h.has("H5112") => H5112,
        8 if h.has("5140") => H5140,
        6 if h.has("H5106") || h.uuid(0x0651) => H5106,
        // Company 0x0001 alone at 6 bytes is an H5101/H5102/H5177 heard without its name, as
        // bleparser and ble_monitor decode it (a passive scan never gets the name);
        // govee-ble wants the name (listed in the vector test's deviations).
        6 if cid == 0x0001
            || family_name(h)
            || h.uuid(0x0151)
            || h.uuid(0x0251)
            || h.uuid(0x7751) =>
        {
            H5101
        }
        8 if cid == 0x0001 || family_name(h) => H5108,
        7 if cid == 0xEC88 || h.has("H5074") || h.uuid(0x7450) => H5074,
        9 if cid == 0xEC88
            || h.has("H5051")
            || h.has("H5052")
            || h.has("H5071")
            || h.uuid(0x5150)
            || h.uuid(0x5250)
            || h.uuid(0x7150) =>
        {
            H5051
        }
        9 if cid == 0x0001 || h.has("H5178") || h.has("B5178") || h.uuid(0x7851) => H5178,
        9 if cid == 0x8801 || h.has("H5179") || h.uuid(0x7951) => H5179,
        14 if h.has("H5181")
            || matches!(cid, 0xF861 | 0x388A | 0xEA42 | 0xAAA2 | 0xD14B)
            || h.uuid(0x8151) =>
        {
            H5181
        }
        17 if h.has("H5182") || cid == 0x2730 || h.uuid(0x8251) => H5182,
        14 if h.has("H5183") || matches!(cid, 0x67DD | 0xE02F | 0xF79F) || h.uuid(0x8351) => H5183,
        17 if h.has("H5184") || cid == 0x1B36 || h.uuid(0x8451) => H5184,
        20 if h.has("H5185") || matches!(cid, 0x4A32 | 0x0332 | 0x4C32) || h.uuid(0x8551) => H5185,
        20 if h.has("H5191") || cid == 0xAC63 || h.uuid(0x9151) => H5191,
        20 if h.has("H5198") || cid == 0x3022 || h.uuid(0x9851) => H5198,
        20 if h.uuid(0x5550) || cid == 0xEA1C => H5055,
        _ => return None,
    })
}

fn family_name(h: &Hints<'_>) -> bool {
    [
        "H5108", "H5100", "H5101", "H5102", "H5103", "H5104", "H5105", "H5174", "H5177", "H5110",
        "GV5179",
    ]
    .iter()
    .any(|m| h.has(m))
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (cid, d) = s.manufacturer()?;
    // Apple's iBeacon next to a Govee frame is not ours.
    if cid == 0x004C {
        return None;
    }
    // Cheap reject first: only these lengths (possibly with the 25-byte INTELLI_ROCKS
    // trailer) are Govee frames (see `classify`).
    // LENS = [6, 7, 8, 9, 14, 17, 20, 24] as a bit set.
    const LENS: u32 = 1 << 6 | 1 << 7 | 1 << 8 | 1 << 9 | 1 << 14 | 1 << 17 | 1 << 20 | 1 << 24;
    let govee_len = |n: usize| n < 32 && LENS >> n & 1 != 0;
    if !(govee_len(d.len()) || d.len() > 25 && govee_len(d.len() - 25)) {
        return None;
    }
    claim_classified(cid, d, s, adv)
}

/// The expensive part of [`claim`], out of line: the matcher runs for every manufacturer
/// structure heard, and with this body inlined its quick rejects paid for the register saves
/// of the whole function.
#[inline(never)]
fn claim_classified<'a>(
    cid: u16,
    d: &[u8],
    s: &AdStructure<'a>,
    adv: &Advert<'a>,
) -> Option<Claim<'a>> {
    let (d, trailer) = strip_intelli_rocks(d);
    let model = classify(cid, d, &Hints::of(adv))?;
    let index = Model::ALL.iter().position(|m| *m == model)? as u8;
    Some(Claim {
        payload: s.payload,
        variant: index | if trailer { TRAILER } else { 0 },
    })
}

fn crc_ok(d: &[u8]) -> bool {
    let mut crc: u16 = 0x1D0F;
    for &b in &d[6..22] {
        for s in (0..8).rev() {
            let bit = ((crc >> 15) as u8 ^ (b >> s)) & 1;
            crc = (crc << 1) ^ if bit != 0 { 0x1021 } else { 0 };
        }
    }
    crc == u16::from_be_bytes([d[22], d[23]])
}

/// Packed `TTTHHH` (3 bytes, big-endian) → (temperature, humidity).
fn packed(b: &[u8]) -> (f64, f64) {
    let v = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
    let mag = v & 0x7F_FFFF;
    let t = (mag / 1000) as f64 / 10.0;
    (
        if v & 0x80_0000 != 0 { -t } else { t },
        (mag % 1000) as f64 / 10.0,
    )
}

/// Packed temperature/humidity + battery byte (bit 7 = error), publishing what is valid.
fn packed_thb(out: &mut Reading, b: &[u8], t: &'static Field, h: &'static Field) {
    let (temp, hum) = packed(&b[..3]);
    let batt = b[3];
    if (MIN_TEMP..=MAX_TEMP).contains(&temp) && batt & 0x80 == 0 {
        out.float(t, temp);
        out.float(h, hum);
    }
    out.int(&field::BATTERY, (batt & 0x7F) as i64);
}

/// `<hHB`: temperature/100, humidity/100, battery.
fn le_thb(out: &mut Reading, b: &[u8]) {
    out.float(&field::TEMPERATURE, i16le(b) as f64 / 100.0);
    out.float(
        &field::HUMIDITY,
        u16::from_le_bytes([b[2], b[3]]) as f64 / 100.0,
    );
    out.int(&field::BATTERY, b[4] as i64);
}

/// bleparser's probe rule: negative (0xFFFF = no probe) → 0.0, else /100.
fn probe(v: i16) -> f64 {
    if v < 0 {
        0.0
    } else {
        v as f64 / 100.0
    }
}

/// Probe `n` (1-based) temperature and alarm, bleparser style.
fn probe_pair(out: &mut Reading, n: usize, temp: i16, alarm: i16) {
    out.float(&field::TEMPERATURE_PROBE[n - 1], probe(temp));
    out.float(&field::TEMPERATURE_ALARM_PROBE[n - 1], probe(alarm));
}

/// H5184/H5198 pair selector → first probe number.
fn pair(sensor_id: u8) -> Option<usize> {
    match sensor_id {
        1 | 65 | 129 | 193 => Some(1),
        2 | 66 | 130 | 194 => Some(3),
        _ => None,
    }
}

fn decode(
    _ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let payload = claim.payload;
    use Model::*;
    if payload.len() < 2 {
        return Err(DecodeError::Truncated);
    }
    let d = &payload[2..];
    let d = match (claim.variant & TRAILER != 0, d.len().checked_sub(25)) {
        (true, Some(n)) => &d[..n],
        (true, None) => return Err(DecodeError::Truncated),
        (false, _) => d,
    };
    let model = *Model::ALL
        .get((claim.variant & MODEL_BITS) as usize)
        .ok_or(DecodeError::Malformed("not a Govee frame"))?;
    out.firmware = "Govee";
    // Lengths below are guaranteed by `classify`, which `claim` ran.
    match model {
        H5075 => {
            out.model = "H5072/H5075";
            packed_thb(out, &d[1..5], &field::TEMPERATURE, &field::HUMIDITY);
        }
        H5101 => {
            out.model = "H5101/H5102/H5177";
            packed_thb(out, &d[2..6], &field::TEMPERATURE, &field::HUMIDITY);
        }
        H5108 => {
            out.model = "H5108";
            packed_thb(out, &d[2..6], &field::TEMPERATURE, &field::HUMIDITY);
        }
        H5112 => {
            out.model = "H5112";
            let t: &'static Field = match d[7] {
                0x41 => &field::TEMPERATURE_PROBE[0],
                0x82 => &field::TEMPERATURE_PROBE[1],
                _ => return Err(DecodeError::Malformed("unknown H5112 probe id")),
            };
            let (temp, hum) = packed(&d[2..5]);
            if (MIN_TEMP..=MAX_TEMP).contains(&temp) && d[5] & 0x80 == 0 {
                out.float(t, temp);
                // Only probe 1 measures humidity.
                if d[7] == 0x41 {
                    out.float(&field::HUMIDITY_PROBE_1, hum);
                }
            }
            out.int(&field::BATTERY, (d[5] & 0x7F) as i64);
        }
        H5140 => {
            out.model = "H5140";
            let (temp, hum) = packed(&d[2..5]);
            if (MIN_TEMP..=MAX_TEMP).contains(&temp) && d[7] == 0 {
                out.float(&field::TEMPERATURE, temp);
                out.float(&field::HUMIDITY, hum);
                out.int(&field::CO2, u16::from_be_bytes([d[5], d[6]]) as i64);
            }
        }
        H5106 => {
            out.model = "H5106";
            let v = u32::from_be_bytes([d[2], d[3], d[4], d[5]]);
            let mag = v & 0x7FFF_FFFF;
            let t = (mag / 1_000_000) as f64 / 10.0;
            out.float(
                &field::TEMPERATURE,
                if v & 0x8000_0000 != 0 { -t } else { t },
            );
            out.float(&field::HUMIDITY, ((mag % 1_000_000) / 1000) as f64 / 10.0);
            out.int(&field::PM25, (mag % 1000) as i64);
        }
        H5074 => {
            out.model = "H5074";
            le_thb(out, &d[1..6]);
        }
        H5051 => {
            out.model = "H5051/H5071";
            le_thb(out, &d[1..6]);
        }
        H5179 => {
            out.model = "H5179";
            le_thb(out, &d[4..9]);
        }
        H5178 => {
            match d[2] {
                0 => out.model = "H5178",
                1 => {
                    out.model = "H5178-outdoor";
                    out.addr = addr_plus_one(out.addr);
                }
                // govee-ble reports an unknown sensor id as the primary unit.
                _ => out.model = "H5178",
            }
            packed_thb(out, &d[3..7], &field::TEMPERATURE, &field::HUMIDITY);
            out.int(&field::SENSOR_ID, d[2] as i64);
        }
        H5181 | H5183 => {
            out.model = if model == H5181 { "H5181" } else { "H5183" };
            probe_pair(out, 1, i16be(&d[8..]), i16be(&d[10..]));
        }
        H5182 => {
            out.model = "H5182";
            probe_pair(out, 1, i16be(&d[8..]), i16be(&d[10..]));
            probe_pair(out, 2, i16be(&d[13..]), i16be(&d[15..]));
        }
        H5184 => {
            out.model = "H5184";
            let n = pair(d[6]).ok_or(DecodeError::Malformed("unknown H5184 sensor id"))?;
            probe_pair(out, n, i16be(&d[8..]), i16be(&d[10..]));
            probe_pair(out, n + 1, i16be(&d[13..]), i16be(&d[15..]));
        }
        H5185 => {
            out.model = "H5185";
            probe_pair(out, 1, i16be(&d[8..]), i16be(&d[10..]));
            probe_pair(out, 2, i16be(&d[14..]), i16be(&d[16..]));
        }
        H5191 => {
            out.model = "H5191";
            probe_pair(out, 1, i16be(&d[8..]), i16be(&d[10..]));
            out.float(&field::TEMPERATURE, i16be(&d[14..]) as f64 / 100.0);
        }
        H5198 => {
            out.model = "H5198";
            let n = pair(d[6]).ok_or(DecodeError::Malformed("unknown H5198 sensor id"))?;
            for (i, off) in [(0, 8), (1, 14)] {
                probe_pair(out, n + i, i16be(&d[off..]), i16be(&d[off + 2..]));
                out.float(
                    &field::LOW_TEMPERATURE_ALARM_PROBE[n + i - 1],
                    probe(i16be(&d[off + 4..])),
                );
            }
        }
        H5055 => {
            out.model = "H5055";
            let ids = d[3];
            let (first, bits) = match ids & 0xC0 {
                0x00 => (1, [0x01, 0x02]),
                0x40 => (3, [0x04, 0x08]),
                0x80 => (5, [0x10, 0x20]),
                _ => return Err(DecodeError::Malformed("unknown H5055 probe pair")),
            };
            // Per probe (little-endian): temperature °C, low alarm, high alarm; 1 byte between.
            for (i, off) in [(0usize, 5usize), (1, 12)] {
                if ids & bits[i] == 0 {
                    continue;
                }
                let n = first + i;
                out.float(&field::TEMPERATURE_PROBE[n - 1], i16le(&d[off..]) as f64);
                let low = i16le(&d[off + 2..]);
                let high = i16le(&d[off + 4..]);
                if high >= 0 {
                    out.float(&field::TEMPERATURE_ALARM_PROBE[n - 1], high as f64);
                }
                if low >= 0 {
                    out.float(&field::LOW_TEMPERATURE_ALARM_PROBE[n - 1], low as f64);
                }
            }
            out.int(&field::BATTERY, (d[2] & 0x7F) as i64);
        }
        H5127 => {
            out.model = "H5127";
            out.int(&field::OCCUPANCY, (d[4] == 1) as i64);
            out.int(&field::MOTION, (d[5] == 0x11) as i64);
        }
        Encrypted => decode_encrypted(d, &Hints::of(adv), out)?,
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}

fn addr_plus_one(a: crate::addr::Addr) -> crate::addr::Addr {
    let mut b = [0u8; 8];
    b[2..].copy_from_slice(&a.0);
    let v = u64::from_be_bytes(b).wrapping_add(1) & 0xFFFF_FFFF_FFFF;
    let mut out = [0u8; 6];
    out.copy_from_slice(&v.to_be_bytes()[2..]);
    crate::addr::Addr(out)
}

fn decode_encrypted(d: &[u8], h: &Hints<'_>, out: &mut Reading) -> Result<(), DecodeError> {
    let mut key = [0u8; 16];
    // key = d[2..6] ‖ 0¹², reversed
    for (i, b) in d[2..6].iter().enumerate() {
        key[15 - i] = *b;
    }
    let mut block = [0u8; 16];
    for (i, b) in d[6..22].iter().enumerate() {
        block[15 - i] = *b;
    }
    let cipher = Aes128::new(GenericArray::from_slice(&key));
    let mut ga = GenericArray::clone_from_slice(&block);
    cipher.decrypt_block(&mut ga);
    let mut p = [0u8; 16];
    for (i, b) in ga.iter().enumerate() {
        p[15 - i] = *b;
    }
    let (model_id, battery, state) = (p[2], p[4], p[5]);
    let model = if h.has("GV5121") || model_id == 3 {
        "H5121"
    } else if h.has("GV5122") || model_id == 8 {
        "H5122"
    } else if h.has("GV5123") || model_id == 2 {
        "H5123"
    } else if h.has("GV5124") || model_id == 9 {
        "H5124"
    } else if h.has("GV5125") || model_id == 10 {
        "H5125"
    } else if h.has("GV5126") || model_id == 11 {
        "H5126"
    } else if h.has("GV5130") || model_id == 13 {
        "H5130"
    } else {
        return Err(DecodeError::Malformed("unknown Govee H512x model"));
    };
    out.model = model;
    out.int(&field::BATTERY, battery as i64);
    match model {
        "H5121" => {
            if state == 1 {
                out.int(&field::MOTION, 1);
            }
        }
        "H5123" => out.int(&field::WINDOW, (state == 2) as i64),
        "H5124" => {
            if state == 1 {
                out.int(&field::VIBRATION, 1);
            }
        }
        "H5130" => {
            // A pressure mat with a button; the state is bits: 0x01 pressure (govee-ble's
            // `presence`), 0x10 the button (0x11 = pressed while pressure is applied).
            if state & 0x10 != 0 {
                out.push(&field::BUTTON, Value::Text("button 0"));
            }
            if state != 0x10 {
                out.int(&field::PRESENCE, (state & 0x01) as i64);
            }
        }
        _ => {
            if let Some(b) = button_text(state) {
                out.push(&field::BUTTON, Value::Text(b));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The prefilter's company-id list is complete: without a name or a 16-bit UUID, no
    /// other company id classifies at any Govee length (else the prefilter would hide it).
    #[test]
    fn prefilter_covers_classify() {
        let none = Hints {
            name: &[],
            uuids: [0; 4],
            n: 0,
        };
        for len in [6usize, 7, 8, 9, 14, 17, 20, 24] {
            let mut frames = vec![vec![0u8; len], vec![0xFFu8; len]];
            let mut h5127 = vec![0u8; len];
            h5127[..4.min(len)].copy_from_slice(&[0xEC, 0x00, 0x01, 0x01][..4.min(len)]);
            frames.push(h5127);
            for d in &frames {
                for cid in 0..=u16::MAX {
                    if classify(cid, d, &none).is_some() {
                        assert!(COMPANY_IDS.contains(&cid), "{cid:#06x} len {len}");
                    }
                }
            }
        }
        // and each listed id does classify somewhere (no stale entries)
        let h5127 = [0xEC, 0x00, 0x01, 0x01, 0, 0];
        for &cid in COMPANY_IDS {
            let hit = [6usize, 7, 8, 9, 14, 17, 20]
                .iter()
                .any(|&l| classify(cid, &vec![0u8; l], &none).is_some())
                || classify(cid, &h5127, &none).is_some();
            assert!(hit || cid == 0xEF88, "{cid:#06x} classifies nowhere");
        }
    }

    #[test]
    fn button_text_rows() {
        assert_eq!(button_text(0), Some("button 0"));
        assert_eq!(button_text(7), Some("button 7"));
        assert_eq!(button_text(42), Some("button 42"));
        assert_eq!(button_text(255), Some("button 255"));
    }

    #[test]
    fn packed_negative_and_outdoor_mac() {
        assert_eq!(packed(&[0x82, 0xF7, 0xFD]), (-19.4, 55.7));
        let a = crate::addr::Addr([0xA4, 0xC1, 0x38, 0xDF, 0xC5, 0xFF]);
        assert_eq!(addr_plus_one(a).0, [0xA4, 0xC1, 0x38, 0xDF, 0xC6, 0x00]);
    }
}
