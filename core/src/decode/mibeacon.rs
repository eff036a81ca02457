//! Xiaomi MiBeacon (service data 0xFE95), versions 2–5, plain and encrypted.
//!
//! Frame (after the UUID): frame control (u16 LE), product id (u16 LE), frame counter (u8),
//! then optionally the sensor MAC (6 bytes, reversed), a capability byte (+1 I/O byte when
//! capability bit 5 is set), and the object payload: a sequence of `id (u16 LE), len (u8), data`.
//!
//! Encryption:
//! - v4/v5: AES-CCM, nonce = MAC (air order) ‖ product id ‖ counter ‖ 3-byte extended counter
//!   (the 3 bytes before the 4-byte MIC), AAD `0x11`, MIC verified. A MIC mismatch is
//!   [`DecodeError::DecryptFailed`].
//! - v2/v3 ("legacy"): AES-CCM with a 13-byte nonce = frame control ‖ product id ‖ counter ‖
//!   the 3 bytes before the last byte ‖ MAC (air order, first 5 bytes), key = 12-byte bindkey with
//!   `8d3d3c97` inserted after byte 6. These frames carry no usable MIC, so we decrypt in CTR mode
//!   and accept the plaintext only when one of the objects before any overrun has a known id
//!   (those objects are decoded, as xiaomi-ble does); otherwise the key is wrong
//!   ([`DecodeError::DecryptFailed`]), as xiaomi-ble also concludes from a length mismatch.
//!
//! Values follow bleparser's key names and its per-object conversions (e.g. battery object
//! 0x100A also yields no voltage: bleparser 3.7.3 reports none). Where the frame carries the
//! MAC we publish under it and look the key up by it; bleparser instead drops frames whose MAC
//! differs from the advertiser's — we do too (it is how bleparser avoids relayed frames).
//!
//! A product id in no public table gives no reading ([`DecodeError::Malformed`]), as both
//! reference parsers (ble_monitor, xiaomi-ble) log it and decode nothing. Objects bleparser
//! lacks follow xiaomi-ble: the T700's brushing record 0x3003 (plus ble_monitor's `start time` /
//! `end time`, published as Unix seconds), the Water Leak Sensor 2's
//! `bottom submersion` / `top splash` (0x4806, 0x487B, 0x4A68), the one-byte 0x4851/0x4852
//! durations (minutes), the ES5BB's 0x5413 `occupancy close range`, 0x6461 `wearing`, the
//! DSL-C08's handle lift (0x0008: also `lock`, `action`, `method`), the KS2BB's empty
//! button objects, the S400's step-off (profile id, not stabilized), and the AAA-cell
//! voltage of the LYWSDCGQ and CGDK3. Where the two disagree on an object both have, the value
//! follows xiaomi-ble (what Home Assistant shows; checked by scripts/differential/xiaomi.py)
//! under bleparser's key: binary states are 0/1 (smoke, light, moisture, armed), up to 30 s
//! without motion is motion, float objects rounded as it rounds them, occupancy from
//! 0x483C/0x484E on every model. Kept differences: the LYWSD03MMC's and MHO-C401's humidity
//! stays in 0.1 % (xiaomi-ble truncates it); lock action and method texts stay bleparser's
//! (xiaomi-ble names them in Home Assistant events, not states), and 0x1007 gives
//! `illuminance` and `light` on every model as bleparser does (xiaomi-ble reads one of them on
//! a few models).

use aes::cipher::BlockEncrypt;
use aes::Aes128;
use ccm::aead::AeadInPlace;

use super::bytes::{i16le, u16le, u24le, u32le};
use super::field::{self, Field};
use super::{Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Reading, Requires};
use crate::addr::Addr;

pub static FORMAT: Format = Format {
    name: "mibeacon",
    variants: &[
        "mibeacon-v2",
        "mibeacon-v2-encrypted",
        "mibeacon-v3",
        "mibeacon-v3-encrypted",
        "mibeacon-v4",
        "mibeacon-v4-encrypted",
        "mibeacon-v5",
        "mibeacon-v5-encrypted",
    ],
    manufacturer: "Xiaomi",
    interval_s: 600,
    requires: Requires {
        key: KeyNeed::WhenEncrypted,
        name: false,
        active_scan: false,
    },
    fields: &[fields::LIST],
    matcher: Matcher::ServiceData16(0xFE95),
    decode,
};

/// Frame-control bits and header offsets, named in one place.
mod fc {
    pub const ENCRYPTED: u16 = 1 << 3;
    pub const MAC: u16 = 1 << 4;
    pub const CAPABILITY: u16 = 1 << 5;
    pub const OBJECT: u16 = 1 << 6;
    pub const MESH: u16 = 1 << 7;
    pub const VERSION_SHIFT: u16 = 12;
    /// Capability bit: an I/O capability byte follows.
    pub const CAP_IO: u8 = 0x20;
    pub const FRCTRL: usize = 0;
    pub const PRODUCT: usize = 2;
    pub const COUNTER: usize = 4;
    pub const HEADER_LEN: usize = 5;
    pub const MAC_LEN: usize = 6;
    /// v4/v5 trailer: 3-byte extended counter + 4-byte MIC.
    pub const EXT_LEN: usize = 3;
    pub const MIC_LEN: usize = 4;
}

/// Checked view over a MiBeacon frame (the service data after the 0xFE95 UUID).
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    buf: &'a [u8],
    /// Offset of the object payload (or ciphertext).
    payload_at: usize,
}

impl<'a> Frame<'a> {
    pub fn new_checked(buf: &'a [u8]) -> Result<Frame<'a>, DecodeError> {
        if buf.len() < fc::HEADER_LEN {
            return Err(DecodeError::Truncated);
        }
        let f = Frame { buf, payload_at: 0 };
        let ctl = f.frame_control();
        if ctl & fc::MESH != 0 {
            return Err(DecodeError::Malformed(
                "mesh MiBeacon frames are not supported",
            ));
        }
        if f.version() < 2 {
            return Err(DecodeError::Malformed("MiBeacon version below 2"));
        }
        let mut at = fc::HEADER_LEN;
        if ctl & fc::MAC != 0 {
            at += fc::MAC_LEN;
        }
        if ctl & fc::CAPABILITY != 0 {
            let cap = *buf.get(at).ok_or(DecodeError::Truncated)?;
            at += 1;
            if cap & fc::CAP_IO != 0 {
                at += 1;
            }
        }
        if at > buf.len() {
            return Err(DecodeError::Truncated);
        }
        Ok(Frame {
            buf,
            payload_at: at,
        })
    }

    #[inline]
    /// (Accessors are `#[inline]`: `decode` calls them a dozen times per frame and, out of
    /// line, each call with its bounds checks cost more than the field read.)
    pub fn frame_control(&self) -> u16 {
        u16::from_le_bytes([self.buf[fc::FRCTRL], self.buf[fc::FRCTRL + 1]])
    }
    #[inline]
    pub fn version(&self) -> u8 {
        (self.frame_control() >> fc::VERSION_SHIFT) as u8
    }
    #[inline]
    pub fn encrypted(&self) -> bool {
        self.frame_control() & fc::ENCRYPTED != 0
    }
    #[inline]
    pub fn has_objects(&self) -> bool {
        self.frame_control() & fc::OBJECT != 0
    }
    #[inline]
    pub fn product_id(&self) -> u16 {
        u16::from_le_bytes([self.buf[fc::PRODUCT], self.buf[fc::PRODUCT + 1]])
    }
    #[inline]
    pub fn counter(&self) -> u8 {
        self.buf[fc::COUNTER]
    }
    /// The MAC carried in the frame, if any.
    pub fn mac(&self) -> Option<Addr> {
        if self.frame_control() & fc::MAC == 0 {
            return None;
        }
        let b = self.buf.get(fc::HEADER_LEN..fc::HEADER_LEN + fc::MAC_LEN)?;
        Some(Addr::from_le(b))
    }
    /// The capability byte, if present.
    pub fn capability(&self) -> Option<u8> {
        if self.frame_control() & fc::CAPABILITY == 0 {
            return None;
        }
        let at = fc::HEADER_LEN
            + if self.frame_control() & fc::MAC != 0 {
                fc::MAC_LEN
            } else {
                0
            };
        self.buf.get(at).copied()
    }
    /// Everything after the header: objects (plain) or ciphertext + trailer (encrypted).
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[self.payload_at..]
    }
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// One object of the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object<'a> {
    pub id: u16,
    pub data: &'a [u8],
}

/// Iterator over the objects of a plaintext payload. Stops at the first object whose length
/// overruns; [`Objects::overran`] tells whether that happened.
pub struct Objects<'a> {
    buf: &'a [u8],
    overran: bool,
}

pub fn objects(buf: &[u8]) -> Objects<'_> {
    Objects {
        buf,
        overran: false,
    }
}

impl<'a> Objects<'a> {
    pub fn overran(&self) -> bool {
        self.overran
    }
}

impl<'a> Iterator for Objects<'a> {
    type Item = Object<'a>;
    fn next(&mut self) -> Option<Object<'a>> {
        if self.buf.is_empty() {
            return None;
        }
        if self.buf.len() < 3 {
            self.overran = true;
            self.buf = &[];
            return None;
        }
        let id = u16::from_le_bytes([self.buf[0], self.buf[1]]);
        let n = self.buf[2] as usize;
        if self.buf.len() < 3 + n {
            self.overran = true;
            self.buf = &[];
            return None;
        }
        let data = &self.buf[3..3 + n];
        self.buf = &self.buf[3 + n..];
        Some(Object { id, data })
    }
}

/// Product id → model name (the public tables of ble_monitor / xiaomi-ble).
/// Sorted by id (a test checks), for binary search.
pub static MODELS: &[(u16, &str)] = &[
    (0x0083, "YM-K1501"),
    (0x0098, "HHCCJCY01"),
    (0x00DB, "MMC-T201-1"),
    (0x0113, "YM-K1501EU"),
    (0x0153, "YLYK01YL"),
    (0x015D, "HHCCPOT002"),
    (0x01AA, "LYWSDCGQ"),
    (0x02DF, "JQJCY01YM"),
    (0x0347, "CGG1"),
    (0x0380, "DSL-C08"),
    (0x0387, "MHO-C401"),
    (0x0391, "MMC-W505"),
    (0x03B6, "YLKG07YL/YLKG08YL"),
    (0x03BC, "GCLS002"),
    (0x03BF, "YLYB01YL-BHFRC"),
    (0x03D6, "CGH1"),
    (0x03DD, "MUE4094RT"),
    (0x040A, "WX08ZM"),
    (0x045B, "LYWSD02"),
    (0x045C, "V-SK152"),
    (0x0489, "M1S-T500"),
    (0x04E1, "XMMF01JQD"),
    (0x04E6, "YLYK01YL-VENFAN"),
    (0x04E9, "MJZNMSQ01YD"),
    (0x055B, "LYWSD03MMC"),
    (0x0576, "CGD1"),
    (0x0599, "MJZNMS03LM"),
    (0x066F, "CGDK2"),
    (0x068E, "YLYK01YL-FANCL"),
    (0x069E, "ZNMS16LM"),
    (0x069F, "ZNMS17LM"),
    (0x06D3, "MHO-C303"),
    (0x0784, "XMZNMS04LM"),
    (0x07BF, "YLAI003"),
    (0x07F6, "MJYD02YL"),
    (0x0806, "T700"),
    (0x0863, "SJWS01LM"),
    (0x098B, "MCCGQ02HL"),
    (0x098C, "XMZNMST02YD"),
    (0x0997, "JTYJGD03MI"),
    (0x09B0, "loock.safe.v1"),
    (0x0A83, "CGPR1"),
    (0x0A8D, "RTCGQ02LM"),
    (0x0B48, "CGG1-ENCRYPTED"),
    (0x0C3C, "CGC1"),
    (0x0DE7, "SU001-T"),
    (0x0DFD, "K9B-3BTN"),
    (0x0E39, "XMZNMS08LM"),
    (0x11C2, "SV40"),
    (0x1203, "XMWSDJ04MMC"),
    (0x1568, "K9B-1BTN"),
    (0x1569, "K9B-2BTN"),
    (0x16E4, "LYWSD02MMC"),
    (0x1790, "T700i"),
    (0x1889, "MS1BB(MI)"),
    (0x18E3, "ZX1"),
    (0x1949, "XMWXKG01YL"),
    (0x1C10, "K9BB-1BTN"),
    (0x20DB, "MJZNZ018H"),
    (0x2387, "XMWXKG01LM"),
    (0x2542, "LYWSD02MMC"),
    (0x2832, "MJWSD05MMC"),
    (0x2AEB, "HS1BB(MI)"),
    (0x30D9, "MJTZC01YM"),
    (0x3531, "XMPIRO2SXS"),
    (0x38BB, "PTX"),
    (0x3A61, "KS1"),
    (0x3BD5, "MJTZC01YM"),
    (0x3E17, "KS1BP"),
    (0x3F0F, "RS1BB"),
    (0x3F4C, "PS1BB"),
    (0x45C9, "MJTZC02YM"),
    (0x4683, "XMOSB01XS"),
    (0x48CF, "MJTZC01YM"),
    (0x4B05, "MJTZC03YM"),
    (0x4C04, "MJTZC02YM"),
    (0x4C47, "MJWSD05MMC"),
    (0x4C60, "XMPIRO2GSXS"),
    (0x4DCB, "MJTZC02YM"),
    (0x4F59, "CGDK3"),
    (0x4FC2, "MJTZC01YM"),
    (0x50FB, "ES3"),
    (0x520B, "KS2BB"),
    (0x55B5, "MJWSD06MMC"),
    (0x5808, "CGG3"),
    (0x5968, "XMWS01XS"),
    (0x59FA, "M2457B1"),
    (0x59FB, "M2456B1"),
    (0x59FC, "M2456B1"),
    (0x5BEA, "MJWSD06MMC"),
    (0x5DB1, "MBS17"),
    (0x6188, "M2456B1"),
    (0x6375, "SJWS02LM"),
    (0x64C5, "PTX-F1-Display"),
    (0x6A0F, "ES5BB"),
    (0x7712, "zhiee.flood.sj01"),
    (0x78A3, "AFWXKG220000"),
    (0x78D1, "MC-COMM"),
    (0x78DB, "ESM787"),
];

/// Model name for a product id; `None` when no public table lists it.
pub fn model(product_id: u16) -> Option<&'static str> {
    let mut h = model_hash(product_id);
    loop {
        match MODEL_SLOTS[h] {
            0 => return None,
            i => {
                let (id, m) = MODELS[i as usize - 1];
                if id == product_id {
                    return Some(m);
                }
            }
        }
        h = (h + 1) % MODEL_SLOTS.len();
    }
}

/// Product id → 1 + its index in [`MODELS`] (0: empty), an open-addressed table built at
/// compile time (load < 40 %, so a lookup is one or two probes), as it is looked up for
/// every frame.
static MODEL_SLOTS: [u8; 256] = {
    assert!(MODELS.len() < 200);
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < MODELS.len() {
        let mut h = model_hash(MODELS[i].0);
        while t[h] != 0 {
            h = (h + 1) % 256;
        }
        t[h] = (i + 1) as u8;
        i += 1;
    }
    t
};

const fn model_hash(id: u16) -> usize {
    ((id as u32).wrapping_mul(0x9E37_79B1) >> 24) as usize
}

/// Fields only MiBeacon devices produce (the shared table has the common ones).
pub mod fields {
    crate::decode::field::fields! {
        LIST;
        MOTION_TIMER = "motion timer", "", "motion", "", Binary, false;
        KEY_ID = "key id", "", "", "", Text, false;
        RESULT = "result", "", "", "", Event, false;
        DOOR_ACTION = "door action", "", "", "", Event, false;
        ARMED_AWAY = "armed away", "", "", "", Binary, false;
        COUNTER = "counter", "", "", "measurement", Sensor, false;
        SCORE = "score", "", "", "measurement", Sensor, false;
        // ble_monitor's brushing start/end times (Unix seconds; it publishes a datetime).
        START_TIME = "start time", "", "", "", Sensor, false;
        END_TIME = "end time", "", "", "", Sensor, false;
        LOCKTYPE = "locktype", "", "", "", Text, false;
        ACTION = "action", "", "", "", Event, false;
        METHOD = "method", "", "", "", Text, false;
        ERROR = "error", "", "", "", Text, false;
        CHILDLOCK = "childlock", "", "lock", "", Binary, false;
        ANTILOCK = "antilock", "", "lock", "", Binary, false;
        REMOTE = "remote", "", "", "", Event, false;
        REMOTE_SINGLE = "remote single press", "", "", "", Binary, false;
        REMOTE_LONG = "remote long press", "", "", "", Binary, false;
        FAN_REMOTE = "fan remote", "", "", "", Event, false;
        VENFAN_REMOTE = "ventilator fan remote", "", "", "", Event, false;
        BATH_REMOTE = "bathroom heater remote", "", "", "", Event, false;
        BUTTON_SWITCH = "button switch", "", "", "", Event, false;
        ONE_BTN = "one btn switch", "", "", "", Event, false;
        TWO_BTN_LEFT = "two btn switch left", "", "", "", Event, false;
        TWO_BTN_RIGHT = "two btn switch right", "", "", "", Event, false;
        THREE_BTN_LEFT = "three btn switch left", "", "", "", Event, false;
        THREE_BTN_MIDDLE = "three btn switch middle", "", "", "", Event, false;
        THREE_BTN_RIGHT = "three btn switch right", "", "", "", Event, false;
        FOUR_BTN_1 = "four btn switch 1", "", "", "", Event, false;
        FOUR_BTN_2 = "four btn switch 2", "", "", "", Event, false;
        FOUR_BTN_3 = "four btn switch 3", "", "", "", Event, false;
        FOUR_BTN_4 = "four btn switch 4", "", "", "", Event, false;
        STATUS = "status", "", "", "", Text, false;
        SLEEPING = "sleeping", "", "", "", Binary, false;
        SNORING = "snoring", "", "", "", Binary, false;
        PRESSURE_STATE = "pressure state", "", "", "", Binary, false;
        PRESSURE_PRESENT = "pressure present duration", "s", "duration", "measurement", Sensor, false;
        PRESSURE_NOT_PRESENT = "pressure not present duration", "s", "duration", "measurement", Sensor, false;
        PRESSURE_PRESENT_SET = "pressure present time set", "s", "duration", "measurement", Sensor, false;
        PRESSURE_NOT_PRESENT_SET = "pressure not present time set", "s", "duration", "measurement", Sensor, false;
        MOTION_TIME = "motion time", "min", "duration", "measurement", Sensor, false;
        OCC_DURATION = "duration occupancy detected", "s", "duration", "measurement", Sensor, false;
        NO_OCC_DURATION = "duration no occupancy detected", "s", "duration", "measurement", Sensor, false;
        LOW_BATTERY = "low battery", "", "battery", "", Binary, false;
        RESET = "reset", "", "", "", Binary, false;
        MODE = "mode", "", "", "", Sensor, false;
        BED_OCCUPANCY = "bed occupancy", "", "occupancy", "", Binary, false;
        HEART_RATE = "heart rate", "bpm", "", "measurement", Sensor, false;
        IMPEDANCE_LOW = "impedance low", "Ω", "", "measurement", Sensor, false;
        PROFILE_ID = "profile id", "", "", "", Sensor, false;
        // xiaomi-ble's objects that bleparser lacks.
        BOTTOM_SUBMERSION = "bottom submersion", "", "moisture", "", Binary, false;
        TOP_SPLASH = "top splash", "", "moisture", "", Binary, false;
        DURATION_DETECTED = "duration detected", "min", "duration", "measurement", Sensor, false;
        DURATION_CLEARED = "duration cleared", "min", "duration", "measurement", Sensor, false;
        OCCUPANCY_CLOSE_RANGE = "occupancy close range", "", "occupancy", "", Binary, false;
        WEARING = "wearing", "", "", "", Binary, false;
        DOOR_STUCK = "door stuck", "", "problem", "", Binary, false;
        KNOCK = "knock on the door", "", "", "", Binary, false;
        IMPEDANCE_HIGH = "impedance high", "Ω", "", "measurement", Sensor, false, 1;
    }
}

use fields as mf;

/// Static strings for `format` and `firmware` by version (index = version - 2).
const SLUG: [[&str; 2]; 4] = [
    ["mibeacon-v2", "mibeacon-v2-encrypted"],
    ["mibeacon-v3", "mibeacon-v3-encrypted"],
    ["mibeacon-v4", "mibeacon-v4-encrypted"],
    ["mibeacon-v5", "mibeacon-v5-encrypted"],
];
const FIRMWARE: [[&str; 2]; 4] = [
    ["Xiaomi (MiBeacon V2)", "Xiaomi (MiBeacon V2 encrypted)"],
    ["Xiaomi (MiBeacon V3)", "Xiaomi (MiBeacon V3 encrypted)"],
    ["Xiaomi (MiBeacon V4)", "Xiaomi (MiBeacon V4 encrypted)"],
    ["Xiaomi (MiBeacon V5)", "Xiaomi (MiBeacon V5 encrypted)"],
];

/// Largest object payload we decrypt (service data fits in one AD structure: ≤ 251 bytes).
const MAX_PAYLOAD: usize = 255;

fn decode(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    let frame = Frame::new_checked(data)?;
    let addr = match frame.mac() {
        Some(m) if m != adv.addr => {
            return Err(DecodeError::Malformed(
                "MAC in frame differs from advertiser",
            ))
        }
        Some(m) => m,
        None => adv.addr,
    };
    let v = frame.version().min(5) as usize - 2;
    let enc = frame.encrypted() as usize;
    out.addr = addr;
    out.format = SLUG[v][enc];
    out.firmware = FIRMWARE[v][enc];
    let model = model(frame.product_id());
    out.model = model.unwrap_or("MiBeacon");
    // Both reference parsers log an unknown product id and decode nothing: its objects'
    // meaning (and, for some, the frame layout) depends on the model.
    if model.is_none() {
        return Err(DecodeError::Malformed("product id not in the device table"));
    }
    out.packet = Some(frame.counter() as u32);
    out.encrypted = frame.encrypted();
    if !frame.has_objects() {
        return Err(DecodeError::NoData);
    }
    let model = model.unwrap_or("");
    if !frame.encrypted() {
        let payload = frame.payload();
        if payload.len() < 3 {
            return Err(DecodeError::Truncated);
        }
        decode_objects(payload, model, out);
        return if out.is_empty() {
            Err(DecodeError::NoData)
        } else {
            Ok(())
        };
    }
    let key = ctx.keys.get(&addr).ok_or(DecodeError::NoKey)?;
    if frame.payload().len() > MAX_PAYLOAD {
        return Err(DecodeError::Malformed(
            "encrypted payload longer than any advertisement",
        ));
    }
    // Usual encrypted payloads are a few bytes: they are decrypted in a small buffer, and the
    // full-size one is only zeroed for longer frames.
    const SMALL: usize = 32;
    let mut small = [0u8; SMALL];
    let mut large: [u8; MAX_PAYLOAD];
    let buf: &mut [u8] = if frame.payload().len() <= SMALL {
        &mut small
    } else {
        large = [0u8; MAX_PAYLOAD];
        &mut large
    };
    if frame.version() >= 4 {
        let p = frame.payload();
        if p.len() < fc::EXT_LEN + fc::MIC_LEN + 1 {
            return Err(DecodeError::Truncated);
        }
        let ct_len = p.len() - fc::EXT_LEN - fc::MIC_LEN;
        let (ct, rest) = p.split_at(ct_len);
        let (ext, mic) = rest.split_at(fc::EXT_LEN);
        let mut nonce = [0u8; 12];
        nonce[..6].copy_from_slice(&addr.to_le());
        nonce[6..9].copy_from_slice(&frame.bytes()[fc::PRODUCT..fc::HEADER_LEN]);
        nonce[9..].copy_from_slice(ext);
        let pt = &mut buf[..ct_len];
        pt.copy_from_slice(ct);
        key.ccm12
            .decrypt_in_place_detached(&nonce.into(), &[0x11], pt, mic.into())
            .map_err(|_| DecodeError::DecryptFailed)?;
        decode_objects(pt, model, out);
    } else {
        // Legacy v2/v3: ciphertext, then 3 nonce bytes, then one trailing byte.
        let p = frame.payload();
        if p.len() < 4 + 3 {
            return Err(DecodeError::Truncated);
        }
        let ct_len = p.len() - 4;
        let b = frame.bytes();
        let n = b.len();
        let mut nonce = [0u8; 13];
        nonce[..5].copy_from_slice(&b[..fc::HEADER_LEN]);
        nonce[5..8].copy_from_slice(&b[n - 4..n - 1]);
        nonce[8..].copy_from_slice(&addr.to_le()[..5]);
        let pt = &mut buf[..ct_len];
        pt.copy_from_slice(&p[..ct_len]);
        ccm_ctr_decrypt(&key.aes, &nonce, pt);
        // No MIC: the objects before any overrun must include a known one (xiaomi-ble decodes
        // those and stops at the overrun, as for plain frames).
        if !objects(pt).any(|o| KNOWN_IDS.contains(&o.id)) {
            return Err(DecodeError::DecryptFailed);
        }
        decode_objects(pt, model, out);
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}

/// CCM's counter-mode part alone (RFC 3610 §2.3) for a 13-byte nonce: A_i = flags(L'=1) ‖
/// nonce ‖ i, i from 1. Used for legacy MiBeacon, whose frames carry no verifiable MIC.
fn ccm_ctr_decrypt(aes: &Aes128, nonce: &[u8; 13], buf: &mut [u8]) {
    for (i, chunk) in buf.chunks_mut(16).enumerate() {
        let ctr = (i + 1) as u16;
        let mut a = [0u8; 16];
        a[0] = 0x01;
        a[1..14].copy_from_slice(nonce);
        a[14..].copy_from_slice(&ctr.to_be_bytes());
        let mut block = a.into();
        aes.encrypt_block(&mut block);
        for (b, k) in chunk.iter_mut().zip(block.iter()) {
            *b ^= k;
        }
    }
}

/// Object ids this decoder understands (used to validate legacy plaintext).
const KNOWN_IDS: &[u16] = &[
    0x0003, 0x0006, 0x0007, 0x0008, 0x000A, 0x000B, 0x000F, 0x0010, 0x1001, 0x1004, 0x1005, 0x1006,
    0x1007, 0x1008, 0x1009, 0x100A, 0x100D, 0x100E, 0x1010, 0x1012, 0x1013, 0x1014, 0x1015, 0x1017,
    0x1018, 0x1019, 0x101B, 0x2000, 0x4801, 0x4802, 0x4803, 0x4804, 0x4805, 0x4806, 0x4808, 0x4810,
    0x4811, 0x4818, 0x483C, 0x483D, 0x483E, 0x483F, 0x4840, 0x484E, 0x484F, 0x4850, 0x4851, 0x4852,
    0x4A01, 0x4A08, 0x4A0C, 0x4A0D, 0x4A0E, 0x4A0F, 0x4A12, 0x4A13, 0x4A1A, 0x4A1C, 0x4C01, 0x4C02,
    0x4C03, 0x4C08, 0x4C14, 0x4E01, 0x4E1C, 0x4E0C, 0x4E0D, 0x4E0E, 0x4E16, 0x4E17, 0x5003, 0x5010,
    0x5011, 0x5403, 0x5414, 0x5601, 0x560C, 0x560D, 0x560E, 0x5A16, 0x6012, 0x605D, 0x6E16, 0x3003,
    0x487B, 0x4A68, 0x5413, 0x6461, 0x100F, 0x480C, 0x5422, 0x5810,
];

/// A float32 object as the decimal it was written as (`23.2`; bleparser's Python float of the
/// f32 shows `23.200000762939453`).
fn f32r(d: &[u8]) -> f64 {
    super::bytes::f32_as_read(f32::from_le_bytes([d[0], d[1], d[2], d[3]]))
}

/// A float32 object rounded as xiaomi-ble rounds it, Python's `round(x, places)`: the f32
/// times 10 or 100 is exact in an f64 (24 + 7 bits), so rounding that half to even is the
/// correctly rounded decimal Python computes.
fn f32_round(d: &[u8], scale: f64) -> f64 {
    let v = f32::from_le_bytes([d[0], d[1], d[2], d[3]]) as f64;
    (v * scale).round_ties_even() / scale
}

/// Decodes every object of a plaintext payload into `out`. Objects with an unexpected length
/// or an unknown id are skipped, like bleparser.
pub fn decode_objects(payload: &[u8], model: &str, out: &mut Reading) {
    for o in objects(payload) {
        if o.data.is_empty()
            && !matches!(
                o.id,
                0x4A0C | 0x4A0D | 0x4A0E | 0x4E0C | 0x4E0D | 0x4E0E | 0x560C | 0x560D | 0x560E
            )
        {
            continue;
        }
        decode_object(o.id, o.data, model, out);
    }
}

fn int(out: &mut Reading, f: &'static Field, v: i64) {
    out.int(f, v)
}

fn text(out: &mut Reading, f: &'static Field, v: &'static str) {
    out.push(f, super::Value::Text(v))
}

fn decode_object(id: u16, x: &[u8], model: &str, out: &mut Reading) {
    let n = x.len();
    match id {
        // xiaomi-ble: any 0x0003 is a motion-detected event (the MUE4094RT sends no clear).
        0x0003 => {
            int(out, &field::MOTION, 1);
            int(out, &mf::MOTION_TIMER, 1);
        }
        0x0006 if n == 5 => {
            let key = u32le(x);
            match key {
                0 => text(out, &mf::KEY_ID, "administrator"),
                0xFFFF_FFFF => text(out, &mf::KEY_ID, "unknown operator"),
                k => int(out, &mf::KEY_ID, k as i64),
            }
            let (fp, res) = match x[4] {
                0 => (1, "match successful"),
                1 => (0, "match failed"),
                2 => (0, "timeout"),
                3 => (0, "low quality (too light, fuzzy)"),
                4 => (0, "insufficient area"),
                5 => (0, "skin is too dry"),
                6 => (0, "skin is too wet"),
                _ => (0, ""),
            };
            int(out, &field::FINGERPRINT, fp);
            if !res.is_empty() {
                text(out, &mf::RESULT, res);
            }
        }
        0x0007 => {
            let (door, action) = match x[0] {
                0 => (1, "open the door"),
                1 => (0, "close the door"),
                2 => (1, "timeout, not closed"),
                3 => (0, "knock on the door"),
                4 => (1, "pry the door"),
                5 => (0, "door stuck"),
                _ => return,
            };
            int(out, &field::DOOR, door);
            text(out, &mf::DOOR_ACTION, action);
            // xiaomi-ble's binary sensors: opening clears `door stuck` and `knock on the door`.
            match x[0] {
                0 => {
                    int(out, &mf::DOOR_STUCK, 0);
                    int(out, &mf::KNOCK, 0);
                }
                3 => int(out, &mf::KNOCK, 1),
                5 => int(out, &mf::DOOR_STUCK, 1),
                _ => {}
            }
        }
        0x0008 => {
            let armed = (x[0] != 1) as i64;
            int(out, &mf::ARMED_AWAY, armed);
            // The DSL-C08 sends it when its handle is lifted outside the door (xiaomi-ble).
            if model == "DSL-C08" {
                int(out, &field::LOCK, armed);
                text(out, &mf::ACTION, "lock outside the door");
                text(out, &mf::METHOD, "manual");
            }
        }
        0x0010 => {
            if x[0] == 0 {
                int(out, &field::TOOTHBRUSH, 1);
                if n > 1 {
                    int(out, &mf::COUNTER, x[1] as i64);
                }
            } else {
                int(out, &field::TOOTHBRUSH, 0);
                if n > 1 {
                    int(out, &mf::SCORE, x[1] as i64);
                }
            }
        }
        0x000A if n == 2 => {
            let t = i16le(x);
            if t != 0 {
                out.float(&field::TEMPERATURE, t as f64 / 100.0);
            }
        }
        0x000B if n == 9 => lock(x, model, out),
        0x000F if n == 3 => {
            let v = u24le(x);
            // Motion from every model (xiaomi-ble); the value is light or lux on these.
            int(out, &field::MOTION, 1);
            int(out, &mf::MOTION_TIMER, 1);
            match model {
                "MJYD02YL" | "RTCGQ02LM" => int(out, &field::LIGHT, (v >= 100) as i64),
                "CGPR1" => {
                    int(out, &field::ILLUMINANCE, v as i64);
                    int(out, &field::LIGHT, (v >= 100) as i64);
                }
                _ => {}
            }
        }
        0x1001 if n == 3 => button(x, model, out),
        0x1004 if n == 2 => out.float(&field::TEMPERATURE, i16le(x) as f64 / 10.0),
        0x1005 if n >= 2 => {
            int(out, &field::SWITCH, x[0] as i64);
            int(out, &field::TEMPERATURE, x[1] as i64);
        }
        0x1006 if n == 2 => out.float(&field::HUMIDITY, u16le(x) as f64 / 10.0),
        // Lux, and light/dark (100 = light) beside it on every model, as bleparser and
        // ble_monitor publish it (the old script's JSON); xiaomi-ble reads lux only on the plant
        // sensors and light only on the night light and door sensor, a subset of these keys.
        0x1007 if n == 3 => {
            let v = u24le(x);
            int(out, &field::ILLUMINANCE, v as i64);
            int(out, &field::LIGHT, (v == 100) as i64);
        }
        0x1008 => int(out, &field::MOISTURE, x[0] as i64),
        0x1009 if n == 2 => int(out, &field::CONDUCTIVITY, u16le(x) as i64),
        0x1010 if n == 2 => out.float(&field::FORMALDEHYDE, u16le(x) as f64 / 100.0),
        0x1012 => int(out, &field::SWITCH, x[0] as i64),
        0x1013 => int(out, &field::CONSUMABLE, x[0] as i64),
        0x1014 => int(out, &field::MOISTURE_DETECTED, (x[0] > 0) as i64),
        // bleparser's `smoke detector` (the old script's key; ble_monitor and xiaomi-ble now
        // say `smoke`, mapped in the vector test).
        0x1015 => int(out, &field::SMOKE, (x[0] > 0) as i64),
        // Seconds without motion; up to 30 s counts as motion (Mi Home, xiaomi-ble).
        0x1017 if n == 4 => {
            let t = u32le(x);
            int(out, &field::MOTION, (t <= 30) as i64);
            int(out, &field::NO_MOTION_TIME, t as i64);
        }
        // Timeout without movement: motion clear, whatever the payload (xiaomi-ble).
        0x101B => {
            int(out, &field::MOTION, 0);
            if n == 4 {
                int(out, &field::NO_MOTION_TIME, u32le(x) as i64);
            }
        }
        0x1018 => int(out, &field::LIGHT, (x[0] != 0) as i64),
        0x1019 => {
            let (opening, status) = match x[0] {
                0 => (1, "opened"),
                1 => (0, "closed"),
                2 => (1, "closing timeout"),
                // xiaomi-ble publishes no opening state for a reset or an unknown value.
                3 => {
                    text(out, &mf::STATUS, "device reset");
                    return;
                }
                _ => return,
            };
            int(out, &field::OPENING, opening);
            text(out, &mf::STATUS, status);
        }
        0x100A => {
            int(out, &field::BATTERY, x[0] as i64);
            // xiaomi-ble's estimate: a single AAA cell (0.8–1.6 V) in the LYWSDCGQ and CGDK3,
            // a CR2032 (2.2–3.1 V, ble_monitor's for every model) in the others.
            let (lo, span) = match model {
                "LYWSDCGQ" | "CGDK3" => (0.8, 0.8),
                _ => (2.2, 0.9),
            };
            out.float(&field::VOLTAGE, lo + span * x[0] as f64 / 100.0);
        }
        // Brushing record (T700): start (0) or end (1), a timestamp (u32 LE, Unix seconds),
        // the score at the end.
        0x3003 if n >= 5 => {
            let at = u32le(&x[1..]) as i64;
            match x[0] {
                0 => {
                    int(out, &field::TOOTHBRUSH, 1);
                    int(out, &mf::START_TIME, at);
                }
                1 => {
                    int(out, &field::TOOTHBRUSH, 0);
                    int(out, &mf::END_TIME, at);
                }
                _ => {}
            }
            if n == 6 {
                int(out, &mf::SCORE, x[5] as i64);
            }
        }
        0x100D if n == 4 => {
            out.float(&field::TEMPERATURE, i16le(x) as f64 / 10.0);
            out.float(&field::HUMIDITY, u16le(&x[2..]) as f64 / 10.0);
        }
        // The Mi Smart Safe Box's door state (xiaomi-ble): 1 open, 0 closed.
        0x100F if n == 1 && model == "loock.safe.v1" => int(out, &field::DOOR, (x[0] == 1) as i64),
        0x100E if n == 1 && model == "DSL-C08" => {
            int(out, &mf::CHILDLOCK, ((x[0] >> 3) != 1) as i64);
            int(out, &field::LOCK, ((x[0] & 1) ^ 1) as i64);
        }
        0x2000 if n == 5 => {
            let t1 = i16le(x) as f64;
            let t2 = i16le(&x[2..]) as f64;
            // The thermometer's own formula with its truncated ln 2, as both reference parsers
            // write it (std's LN_2 would shift the last digits of the reading).
            #[allow(clippy::approx_constant)]
            let body = 3.71934e-11 * (0.69314 * t1 / 100.0).exp()
                - 1.02801e-8 * (0.53871 * t2 / 100.0).exp()
                + 36.413;
            out.float(&field::TEMPERATURE, body);
            int(out, &field::BATTERY, x[4] as i64);
        }
        // xiaomi-ble rounds these to 0.1 °C / 0.01 °C (0x4C01) and 0.1 % (0x4808); 0x4C08 it
        // leaves as read.
        0x4801 if n == 4 => out.float(&field::TEMPERATURE, f32_round(x, 10.0)),
        0x4C01 if n == 4 => out.float(&field::TEMPERATURE, f32_round(x, 100.0)),
        0x4802 => int(out, &field::HUMIDITY, x[0] as i64),
        0x4C02 | 0x6012 if n == 1 => int(out, &field::HUMIDITY, x[0] as i64),
        0x4803 | 0x4C03 | 0x5003 | 0x5403 => int(out, &field::BATTERY, x[0] as i64),
        0x4804 | 0x4A12 => match x[0] {
            1 => int(out, &field::OPENING, 1),
            2 => int(out, &field::OPENING, 0),
            _ => {}
        },
        0x4805 if n == 4 => out.float(&field::ILLUMINANCE, f32r(x)),
        // Water Leak Sensor 2: its bottom probe, top probe, and alarm/clear events for both.
        0x4806 if n != 1 => {}
        0x4806 if matches!(model, "SJWS02LM" | "zhiee.flood.sj01") => {
            int(out, &mf::BOTTOM_SUBMERSION, (x[0] > 0) as i64)
        }
        0x487B if n == 1 && model == "SJWS02LM" => int(out, &mf::TOP_SPLASH, (x[0] > 0) as i64),
        0x4A68 if n == 1 && model == "SJWS02LM" => match x[0] {
            0 | 1 => int(out, &mf::BOTTOM_SUBMERSION, (x[0] == 0) as i64),
            2 | 3 => int(out, &mf::TOP_SPLASH, (x[0] == 2) as i64),
            _ => {}
        },
        0x4806 => int(out, &field::MOISTURE_DETECTED, (x[0] > 0) as i64),
        // Door/window state (zhiee.magnet.mc01 and similar, xiaomi-ble): 0 open, 1 closed.
        0x480C if n == 1 && x[0] <= 1 => int(out, &field::OPENING, (x[0] == 0) as i64),
        0x4808 if n == 4 => out.float(&field::HUMIDITY, f32_round(x, 10.0)),
        0x4C08 if n == 4 => out.float(&field::HUMIDITY, f32r(x)),
        0x4810 | 0x5010 => match x[0] {
            0 => int(out, &mf::SLEEPING, 0),
            1 => int(out, &mf::SLEEPING, 1),
            2 if id == 0x4810 => text(out, &mf::BUTTON_SWITCH, "double press"),
            2 => text(out, &field::BUTTON, "double press"),
            _ => {}
        },
        0x4811 | 0x5011 => int(out, &mf::SNORING, x[0] as i64),
        0x4818 if n == 2 => {
            let t = u16le(x);
            int(out, &field::MOTION, (t <= 30) as i64);
            int(out, &field::NO_MOTION_TIME, t as i64);
        }
        // bleparser's `pressure state`, and xiaomi-ble's occupancy from it.
        0x483C if n == 1 => {
            int(out, &mf::PRESSURE_STATE, x[0] as i64);
            int(out, &field::OCCUPANCY, (x[0] > 0) as i64);
        }
        0x483D if n == 4 => int(out, &mf::PRESSURE_PRESENT, u32le(x) as i64),
        0x483E if n == 4 => int(out, &mf::PRESSURE_NOT_PRESENT, u32le(x) as i64),
        0x483F if n == 4 => int(out, &mf::PRESSURE_PRESENT_SET, u32le(x) as i64),
        0x4840 if n == 4 => int(out, &mf::PRESSURE_NOT_PRESENT_SET, u32le(x) as i64),
        // Occupancy on every model (xiaomi-ble; the XMOSB01XS's 2 is clear), and bleparser's
        // motion on the others.
        0x484E => {
            let occupied = if model == "XMOSB01XS" {
                x[0] == 1
            } else {
                x[0] != 0
            };
            int(out, &field::OCCUPANCY, occupied as i64);
            if !matches!(model, "ES3" | "XMOSB01XS" | "ES5BB") && x[0] != 0 {
                int(out, &field::MOTION, 1);
                int(out, &mf::MOTION_TIMER, 1);
            }
        }
        0x484F if n == 1 => {
            int(out, &field::MOTION, (x[0] == 0) as i64);
            int(out, &field::NO_MOTION_TIME, x[0] as i64);
        }
        0x4850 if n == 1 => int(out, &mf::MOTION_TIME, x[0] as i64),
        // ble_monitor reads a 4-byte duration in seconds; xiaomi-ble the first byte, in minutes
        // (the ES5BB's one-byte form), whatever the length.
        0x4851 => {
            if n == 4 {
                int(out, &mf::OCC_DURATION, u32le(x) as i64);
            }
            int(out, &mf::DURATION_DETECTED, x[0] as i64);
        }
        0x4852 => {
            if n == 4 {
                int(out, &mf::NO_OCC_DURATION, u32le(x) as i64);
            }
            int(out, &mf::DURATION_CLEARED, x[0] as i64);
        }
        0x5413 if n >= 1 && model == "ES5BB" => {
            int(out, &mf::OCCUPANCY_CLOSE_RANGE, (x[0] > 0) as i64)
        }
        0x6461 if n == 1 => int(out, &mf::WEARING, (x[0] ^ 1) as i64),
        0x4A01 | 0x4E01 | 0x5601 => int(out, &mf::LOW_BATTERY, x[0] as i64),
        0x4A08 if n == 4 => {
            int(out, &field::MOTION, 1);
            int(out, &mf::MOTION_TIMER, 1);
            out.float(&field::ILLUMINANCE, f32r(x));
        }
        // The XMWS01XS says which of its two buttons (0 left, 1 right; xiaomi-ble ignores
        // anything else), every other model has one.
        0x4A0C..=0x4A0E => {
            match (model, x.first()) {
                ("XMWS01XS", Some(0)) => text(out, &mf::TWO_BTN_LEFT, "toggle"),
                ("XMWS01XS", Some(1)) => text(out, &mf::TWO_BTN_RIGHT, "toggle"),
                ("XMWS01XS", _) => return,
                _ => text(out, &mf::ONE_BTN, "toggle"),
            }
            text(
                out,
                &mf::BUTTON_SWITCH,
                match id {
                    0x4A0C => "single press",
                    0x4A0D => "double press",
                    _ => "long press",
                },
            );
        }
        0x4E0C | 0x4E0D | 0x4E0E | 0x560C | 0x560D | 0x560E => click(id, x, model, out),
        0x4A0F if x[0] == 1 => {
            int(out, &field::OPENING, 1);
            text(out, &mf::STATUS, "door/window broken open");
        }
        0x4A13 if x[0] == 1 => text(out, &field::BUTTON, "toggle"),
        0x4A1A if x[0] == 1 => {
            int(out, &field::OPENING, 1);
            text(out, &mf::STATUS, "door not closed");
        }
        0x4A1C | 0x4E1C => int(out, &mf::RESET, x[0] as i64),
        0x4C14 | 0x5414 => int(out, &mf::MODE, x[0] as i64),
        0x5A16 => match x[0] {
            1 => int(out, &mf::BED_OCCUPANCY, 1),
            2 => int(out, &mf::BED_OCCUPANCY, 0),
            3 => text(out, &field::BUTTON, "double press"),
            _ => {}
        },
        // The S200 scale's final weight record (9 bytes: profile id, mass in 10 g as u32 LE,
        // timestamp; xiaomi-ble reads it from every model); shorter, it is bed occupancy.
        0x4E16 if n == 9 => {
            let m = u32le(&x[1..]);
            if m != 0 {
                out.float(&field::WEIGHT, m as f64 / 100.0);
                int(out, &field::STABILIZED, 1);
                int(out, &mf::PROFILE_ID, x[0] as i64);
            }
        }
        0x4E16 if x[0] == 1 => int(out, &mf::BED_OCCUPANCY, 1),
        0x4E17 if x[0] == 1 => int(out, &mf::BED_OCCUPANCY, 0),
        0x605D if n == 1 => int(out, &field::TEMPERATURE, x[0] as i64),
        // Body-composition record (S400): profile id, then mass (0.1 kg, 11 bits; all ones on
        // the MJTZC03YM: none), heart rate (7 bits, + 50 bpm) and impedance (0.1 Ω) packed in a
        // u32. As xiaomi-ble: nothing at all is the step-off; the 50 kHz impedance comes with a
        // mass or heart rate (not yet stabilized), the 250 kHz one alone (stabilized).
        0x6E16 if n == 9 => {
            let d = u32le(&x[1..]);
            let mass = match d & 0x7FF {
                0x7FF => 0,
                m => m,
            };
            let hr = (d >> 11) & 0x7F;
            let imp = d >> 18;
            int(out, &mf::PROFILE_ID, x[0] as i64);
            if mass == 0 && hr == 0 && imp == 0 {
                int(out, &field::STABILIZED, 0);
                return;
            }
            if mass != 0 {
                out.float(&field::WEIGHT, mass as f64 / 10.0);
            }
            if hr > 0 && hr < 127 {
                int(out, &mf::HEART_RATE, hr as i64 + 50);
            }
            if mass == 0 && hr == 0 {
                out.float(&mf::IMPEDANCE_HIGH, imp as f64 / 10.0);
                int(out, &field::STABILIZED, 1);
            } else if imp != 0 {
                out.float(&mf::IMPEDANCE_LOW, imp as f64 / 10.0);
                // ble_monitor's name for it when a mass comes along.
                if mass != 0 {
                    out.float(&field::IMPEDANCE, imp as f64 / 10.0);
                }
                int(out, &field::STABILIZED, 0);
            } else {
                int(out, &field::STABILIZED, 1);
            }
        }
        _ => {}
    }
}

/// Click objects of newer switches (0x4E0C/0x560C single, …0D double, …0E long).
fn click(id: u16, x: &[u8], model: &str, out: &mut Reading) {
    let press = match id & 0xFF {
        0x0C => "single press",
        0x0D => "double press",
        _ => "long press",
    };
    let c = x.first().copied().unwrap_or(0);
    let family = id & 0xFF00;
    match model {
        "XMWXKG01YL" if family == 0x4E00 => {
            if c == 1 || c == 3 {
                text(out, &mf::TWO_BTN_LEFT, "toggle");
            }
            if c == 2 || c == 3 {
                text(out, &mf::TWO_BTN_RIGHT, "toggle");
            }
            if (1..=3).contains(&c) {
                text(out, &mf::BUTTON_SWITCH, press);
            }
        }
        "K9BB-1BTN" if family == 0x4E00 && id == 0x4E0C => {
            let p = match c {
                1 => "single press",
                8 => "long press",
                15 => "double press",
                _ => return,
            };
            text(out, &mf::ONE_BTN, "toggle");
            text(out, &mf::BUTTON_SWITCH, p);
        }
        "XMWXKG01LM" if family == 0x4E00 => {
            text(out, &mf::ONE_BTN, "toggle");
            text(out, &mf::BUTTON_SWITCH, press);
        }
        "PTX-F1-Display" => {
            let f = match c {
                1 => &mf::FOUR_BTN_1,
                2 => &mf::FOUR_BTN_2,
                3 => &mf::FOUR_BTN_3,
                4 => &mf::FOUR_BTN_4,
                _ => return,
            };
            text(out, f, "toggle");
            text(out, &mf::BUTTON_SWITCH, press);
        }
        "KS1" | "KS1BP" if family == 0x5600 && !x.is_empty() => {
            let f = match c {
                1 => &mf::FOUR_BTN_1,
                2 => &mf::FOUR_BTN_2,
                3 => &mf::FOUR_BTN_3,
                4 => &mf::FOUR_BTN_4,
                // xiaomi-ble: a single press of no known button is the device's `button`.
                _ if id == 0x560C => return text(out, &field::BUTTON, press),
                _ => return,
            };
            text(out, f, "toggle");
            text(out, &mf::BUTTON_SWITCH, press);
        }
        // The KS2BB's and AFWXKG220000's one button: empty objects (xiaomi-ble's `button`).
        "KS2BB" | "AFWXKG220000" if family == 0x5600 => text(out, &field::BUTTON, press),
        _ => {}
    }
}

/// Lock event (object 0x000B): action nibble, method nibble, key id, timestamp.
fn lock(x: &[u8], model: &str, out: &mut Reading) {
    let action = x[0] & 0x0F;
    let method = x[0] >> 4;
    let mut key_id = u32le(&x[1..]);
    let (state, kind, action) = match action {
        0b0000 => (1, "lock", "unlock outside the door"),
        0b0001 => (0, "lock", "lock"),
        0b0010 => (0, "antilock", "turn on anti-lock"),
        0b0011 => (1, "antilock", "turn off anti-lock"),
        0b0100 => (1, "lock", "unlock inside the door"),
        0b0101 => (0, "lock", "lock inside the door"),
        0b0110 => (0, "childlock", "turn on child lock"),
        0b0111 => (1, "childlock", "turn off child lock"),
        0b1000 => (0, "lock", "lock outside the door"),
        0b1111 => (1, "lock", "abnormal"),
        _ => return,
    };
    // bleparser's and ble_monitor's texts (the old script's JSON; xiaomi-ble fires Home
    // Assistant events with its own names instead, which are no sensor state).
    let mut method = match method {
        0 => "bluetooth",
        1 => "password",
        2 => "biometrics",
        3 => "key",
        4 => "turntable",
        5 => "nfc",
        6 => "one-time password",
        7 => "two-step verification",
        8 => "coercion",
        9 => "Homekit",
        10 => "manual",
        11 => "automatic",
        15 => "abnormal",
        _ => return,
    };
    let error = lock_error(key_id);
    if error.is_none() && x[0] >> 4 > 0 {
        key_id &= 0xFFFF;
    }
    let kind = if model == "ZNMS17LM" { kind } else { "lock" };
    if model == "DSL-C08" && method == "password" && (5000..6000).contains(&key_id) {
        method = "one-time password";
    }
    let f: &'static Field = match kind {
        "antilock" => &mf::ANTILOCK,
        "childlock" => &mf::CHILDLOCK,
        _ => &field::LOCK,
    };
    int(out, f, state);
    text(out, &mf::LOCKTYPE, kind);
    text(out, &mf::ACTION, action);
    text(out, &mf::METHOD, method);
    match error {
        Some(e) => {
            text(out, &mf::ERROR, e);
            int(out, &mf::KEY_ID, key_id as i64);
        }
        None => int(out, &mf::KEY_ID, key_id as i64),
    }
}

fn lock_error(code: u32) -> Option<&'static str> {
    Some(match code {
        0xC0DE0000 => "frequent unlocking with incorrect password",
        0xC0DE0001 => "frequent unlocking with wrong fingerprints",
        0xC0DE0002 => "operation timeout (password input timeout)",
        0xC0DE0003 => "lock picking",
        0xC0DE0004 => "reset button is pressed",
        0xC0DE0005 => "the wrong key is frequently unlocked",
        0xC0DE0006 => "foreign body in the keyhole",
        0xC0DE0007 => "the key has not been taken out",
        0xC0DE0008 => "error NFC frequently unlocks",
        0xC0DE0009 => "timeout is not locked as required",
        0xC0DE000A => "failure to unlock frequently in multiple ways",
        0xC0DE000B => "unlocking the face frequently fails",
        0xC0DE000C => "failure to unlock the vein frequently",
        0xC0DE000D => "hijacking alarm",
        0xC0DE000E => "unlock inside the door after arming",
        0xC0DE000F => "palmprints frequently fail to unlock",
        0xC0DE0010 => "the safe was moved",
        0xC0DE1000 => "the battery level is less than 10%",
        0xC0DE1001 => "the battery is less than 5%",
        0xC0DE1002 => "the fingerprint sensor is abnormal",
        0xC0DE1003 => "the accessory battery is low",
        0xC0DE1004 => "mechanical failure",
        0xC0DE1005 => "the lock sensor is faulty",
        _ => return None,
    })
}

/// Button object 0x1001: (button type, value, press type); meaning depends on the model.
fn button(x: &[u8], model: &str, out: &mut Reading) {
    let (bt, value, press) = (x[0], x[1], x[2]);
    let (mut press_txt, switch_press) = match press {
        0 => ("single press", "single press"),
        1 => ("double press", "long press"),
        2 => ("long press", "double press"),
        _ => ("no press", "no press"),
    };
    let mut steps: Option<i64> = None;
    match press {
        3 if bt == 0 => {
            press_txt = "short press";
            steps = Some(value as i64);
        }
        3 if bt == 1 => {
            press_txt = "long press";
            steps = Some(value as i64);
        }
        4 if bt == 0 => {
            if value <= 127 {
                press_txt = "rotate right";
                steps = Some(value as i64);
            } else {
                press_txt = "rotate left";
                steps = Some(256 - value as i64);
            }
        }
        4 => {
            if bt <= 127 {
                press_txt = "rotate right (pressed)";
                steps = Some(bt as i64);
            } else {
                press_txt = "rotate left (pressed)";
                steps = Some(256 - bt as i64);
            }
        }
        5 => press_txt = "short press",
        6 => press_txt = "long press",
        _ => {}
    }
    let pick =
        |opts: [&'static str; 9]| -> &'static str { opts.get(bt as usize).copied().unwrap_or("") };
    match model {
        "RTCGQ02LM" | "YLAI003" | "JTYJGD03MI" | "SJWS01LM" => text(out, &field::BUTTON, press_txt),
        "XMMF01JQD" => match bt {
            0 => text(out, &field::BUTTON, "right"),
            1 => text(out, &field::BUTTON, "left"),
            _ => {}
        },
        "YLYK01YL" => {
            let r = pick(["on", "off", "sun", "+", "m", "-", "", "", ""]);
            if !r.is_empty() {
                text(out, &mf::REMOTE, r);
            }
            text(out, &field::BUTTON, press_txt);
            let binary = match bt {
                0 | 3 | 5 => Some(1),
                1 => Some(0),
                _ => None,
            };
            if let Some(b) = binary {
                let f = if press_txt == "single press" {
                    &mf::REMOTE_SINGLE
                } else {
                    &mf::REMOTE_LONG
                };
                int(out, f, b);
            }
        }
        "YLYK01YL-FANCL" | "YLYK01YL-FANRC" => {
            let r = pick([
                "fan toggle",
                "light toggle",
                "wind speed",
                "color temperature",
                "wind mode",
                "brightness",
                "",
                "",
                "",
            ]);
            if !r.is_empty() {
                text(out, &mf::FAN_REMOTE, r);
            }
            text(out, &field::BUTTON, press_txt);
        }
        "YLYK01YL-VENFAN" => {
            let r = pick([
                "swing",
                "power toggle",
                "timer 60 minutes",
                "strong wind speed",
                "timer 30 minutes",
                "low wind speed",
                "",
                "",
                "",
            ]);
            if !r.is_empty() {
                text(out, &mf::VENFAN_REMOTE, r);
            }
            text(out, &field::BUTTON, press_txt);
        }
        "YLYB01YL-BHFRC" => {
            let r = pick([
                "stop",
                "air exchange",
                "fan",
                "speed +",
                "speed -",
                "dry",
                "light toggle",
                "swing",
                "heat",
            ]);
            if !r.is_empty() {
                text(out, &mf::BATH_REMOTE, r);
            }
            text(out, &field::BUTTON, press_txt);
        }
        "YLKG07YL/YLKG08YL" => {
            // bleparser 3.7.3: `dimmer` is the step count, `button` the press/rotation text.
            if let Some(s) = steps {
                int(out, &field::DIMMER, s);
            }
            text(out, &field::BUTTON, press_txt);
        }
        // The K9B switches: button type is a set of buttons; another is no press (xiaomi-ble).
        "K9B-1BTN" if bt == 0 => {
            text(out, &mf::BUTTON_SWITCH, switch_press);
            text(out, &mf::ONE_BTN, "toggle");
        }
        "K9B-2BTN" if bt <= 2 => {
            text(out, &mf::BUTTON_SWITCH, switch_press);
            if bt == 0 || bt == 2 {
                text(out, &mf::TWO_BTN_LEFT, "toggle");
            }
            if bt == 1 || bt == 2 {
                text(out, &mf::TWO_BTN_RIGHT, "toggle");
            }
        }
        "K9B-3BTN" if bt <= 6 => {
            text(out, &mf::BUTTON_SWITCH, switch_press);
            if matches!(bt, 0 | 3 | 5 | 6) {
                text(out, &mf::THREE_BTN_LEFT, "toggle");
            }
            if matches!(bt, 1 | 3 | 4 | 6) {
                text(out, &mf::THREE_BTN_MIDDLE, "toggle");
            }
            if matches!(bt, 2 | 4 | 5 | 6) {
                text(out, &mf::THREE_BTN_RIGHT, "toggle");
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DeviceMemory, KeyStore};

    fn run(sd_hex: &str, mac: &str, key: Option<&str>) -> (Result<(), DecodeError>, Reading) {
        let data: Vec<u8> = (0..sd_hex.len() / 2)
            .map(|i| u8::from_str_radix(&sd_hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let mut keys = KeyStore::new();
        if let Some(k) = key {
            keys.insert_str(mac, k).unwrap();
        }
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let addr = Addr::parse(mac).unwrap();
        let adv = Advert::new(addr, 0, Some(-60), &[]);
        let mut r = Reading::default();
        r.clear(addr, Some(-60));
        let res = decode(&mut ctx, &adv, Claim::of(&data), &mut r);
        (res, r)
    }

    #[test]
    fn v5_encrypted_cgg1_and_wrong_key() {
        // bleparser test_Xiaomi_CGG1 (public vector): temperature/humidity encrypted v5.
        let sd = "5858480b685f12342d585a0b1841e2aa000e00a4964fb5";
        let (res, r) = run(
            sd,
            "5A:58:2D:34:12:5F",
            Some("814aac74c4f17b6c1581e1ab87816b99"),
        );
        assert_eq!(res, Ok(()));
        assert_eq!(r.format, "mibeacon-v5-encrypted");
        assert_eq!(r.model, "CGG1-ENCRYPTED");
        assert!(
            r.get("humidity").is_some() || r.get("temperature").is_some(),
            "{r:?}"
        );
        let (res, _) = run(
            sd,
            "5A:58:2D:34:12:5F",
            Some("804aac74c4f17b6c1581e1ab87816b99"),
        );
        assert_eq!(res, Err(DecodeError::DecryptFailed));
        let (res, _) = run(sd, "5A:58:2D:34:12:5F", None);
        assert_eq!(res, Err(DecodeError::NoKey));
    }

    /// Ciphertexts longer than the small decryption buffer take the full-size one.
    #[test]
    fn v5_encrypted_long_payload() {
        use ccm::aead::KeyInit;
        let key = [0x42u8; 16];
        let mac = "A4:C1:38:01:02:03";
        let addr = Addr::parse(mac).unwrap();
        // Temperature 23.4, nine objects of an unknown id (skipped), humidity 55.0: 55 bytes.
        let mut pt = vec![0x04, 0x10, 2, 0xEA, 0x00];
        for i in 0..9u8 {
            pt.extend_from_slice(&[0xEE, 0x7E, 2, i, i]);
        }
        pt.extend_from_slice(&[0x06, 0x10, 2, 0x26, 0x02]);
        assert!(pt.len() > 32);
        let head = [0x48, 0x50, 0x5B, 0x05, 0x07]; // v5, encrypted, objects; LYWSD03MMC; counter 7
        let ext = [1, 2, 3];
        let mut nonce = [0u8; 12];
        nonce[..6].copy_from_slice(&addr.to_le());
        nonce[6..9].copy_from_slice(&head[2..5]);
        nonce[9..].copy_from_slice(&ext);
        let c: ccm::Ccm<Aes128, ccm::consts::U4, ccm::consts::U12> =
            ccm::Ccm::new_from_slice(&key).unwrap();
        let mut ct = pt.clone();
        let mic = c
            .encrypt_in_place_detached(&nonce.into(), &[0x11], &mut ct)
            .unwrap();
        let mut sd = head.to_vec();
        sd.extend_from_slice(&ct);
        sd.extend_from_slice(&ext);
        sd.extend_from_slice(&mic);
        let hex: String = sd.iter().map(|b| format!("{b:02x}")).collect();
        let (res, r) = run(&hex, mac, Some("42424242424242424242424242424242"));
        assert_eq!(res, Ok(()));
        assert_eq!(
            r.get("temperature"),
            Some(crate::decode::Value::Float(23.4))
        );
        assert_eq!(r.get("humidity"), Some(crate::decode::Value::Float(55.0)));
        // A flipped ciphertext bit fails authentication on this path too.
        sd[10] ^= 1;
        let hex: String = sd.iter().map(|b| format!("{b:02x}")).collect();
        let (res, _) = run(&hex, mac, Some("42424242424242424242424242424242"));
        assert_eq!(res, Err(DecodeError::DecryptFailed));
    }

    #[test]
    fn legacy_wrong_key_detected() {
        let sd = "5830b603d28b98c54124f8c3491476757e00000099";
        let (res, r) = run(sd, "F8:24:41:C5:98:8B", Some("b853075158487ca39a5b5ea9"));
        assert_eq!(res, Ok(()));
        assert_eq!(
            r.get("button"),
            Some(crate::decode::Value::Text("short press"))
        );
        let (res, _) = run(sd, "F8:24:41:C5:98:8B", Some("b853075158487aa39a5b5ea9"));
        assert_eq!(res, Err(DecodeError::DecryptFailed));
    }

    #[test]
    fn model_table_sorted_and_unique() {
        assert!(MODELS.windows(2).all(|w| w[0].0 < w[1].0));
        // The hash table finds every id, and nothing else.
        for &(id, m) in MODELS {
            assert_eq!(model(id), Some(m));
        }
        for id in 0..=u16::MAX {
            assert_eq!(model(id).is_some(), MODELS.iter().any(|e| e.0 == id));
        }
        assert_eq!(model(0x055B), Some("LYWSD03MMC"));
        assert_eq!(model(0x2542), Some("LYWSD02MMC"));
        assert_eq!(model(0x16E4), Some("LYWSD02MMC"));
        assert_eq!(model(0xFFFF), None);
    }

    /// An unknown product id gives no reading; the T700 brushing record's start (no vector).
    #[test]
    fn unknown_product_id_and_brushing_start() {
        // xiaomi-ble's LYWSDCGQ frame with product id 0xFFFF.
        let (res, r) = run(
            "5020ffffa3bf2e3b342d580d1004b40095020a10013b",
            "58:2D:34:3B:2E:BF",
            None,
        );
        assert!(matches!(res, Err(DecodeError::Malformed(_))), "{res:?}");
        assert!(r.is_empty());
        let mut r = Reading::default();
        decode_objects(&[0x03, 0x30, 0x05, 0, 1, 2, 3, 4], "T700", &mut r);
        assert_eq!(r.get("toothbrush"), Some(super::super::Value::Int(1)));
        assert_eq!(
            r.get("start time"),
            Some(super::super::Value::Int(0x0403_0201))
        );
        assert_eq!(r.get("score"), None);
    }

    /// ble_monitor's obj4851/obj4852 tests (test_xiaomi_parser.py, HEAD 5690220): a 4-byte
    /// duration (seconds) decodes, 3 or 5 bytes give no seconds. The first byte is also
    /// xiaomi-ble's duration (minutes, other keys), at any length.
    #[test]
    fn occupancy_durations_as_ble_monitor_tests() {
        use super::super::Value::Int;
        for (id, key, x, want) in [
            (
                0x4851u16,
                "duration occupancy detected",
                &[5u8, 0, 0, 0][..],
                5,
            ),
            (
                0x4852,
                "duration no occupancy detected",
                &[10, 0, 0, 0][..],
                10,
            ),
        ] {
            let obj = |x: &[u8]| {
                let mut b = id.to_le_bytes().to_vec();
                b.push(x.len() as u8);
                b.extend_from_slice(x);
                let mut r = Reading::default();
                decode_objects(&b, "ES5BB", &mut r);
                r
            };
            let r = obj(x);
            assert_eq!(r.get(key), Some(Int(want)), "{id:04x}");
            // Other lengths: only xiaomi-ble's first-byte minutes.
            assert_eq!(obj(&x[..3]).get(key), None, "{id:04x} 3 bytes");
            let mut five = x.to_vec();
            five.push(1);
            assert_eq!(obj(&five).get(key), None, "{id:04x} 5 bytes");
        }
    }

    #[test]
    fn truncation_never_panics() {
        let sd = "5858480b685f12342d585a0b1841e2aa000e00a4964fb5";
        for n in 0..sd.len() / 2 {
            let _ = run(
                &sd[..2 * n],
                "5A:58:2D:34:12:5F",
                Some("814aac74c4f17b6c1581e1ab87816b99"),
            );
        }
    }
}
