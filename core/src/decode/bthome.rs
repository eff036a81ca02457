//! BTHome v2 (service data 0xFCD2, plain and AES-CCM encrypted) and BTHome v1 (0x181C plain,
//! 0x181E encrypted). Object table: bthome.io / bthome-ble 3.25 `const.py` (ids 0x00–0x65 plus
//! the device-information ids 0xF0–0xF2). Key names follow bleparser / ble_monitor (`co2`, `tvoc`,
//! `pm2.5`, `dewpoint`, `uv index`, `distance mm`, `volume mL`, `smoke detector` …).
//!
//! Frame (v2): `device-info` byte (bit 0 encrypted, bit 1 MAC included, bit 2 trigger-based,
//! bits 5–7 version = 2), optional 6-byte MAC (little-endian), then objects `id | data`; data
//! length comes from the object table (text/raw objects carry a length byte; the command object
//! 0x3B a byte whose low 5 bits count the arguments after its opcode). Encrypted frames
//! end with a 4-byte counter and a 4-byte MIC; nonce = MAC (display order) + `d2 fc` +
//! device-info byte + counter, no AAD. v1 objects are `control | id | data` (control: bits 0–4
//! length incl. id, bits 5–7 data format); v1 encrypted: nonce = MAC + `1e 18` + counter, AAD 0x11.
//!
//! Decisions (documented deviations from bleparser 3.7.3, whose bugs are not copied):
//! * Nonce uses the real device-info byte (bleparser hard-codes 0x41) and the in-frame MAC when
//!   the frame carries one.
//! * v2: an unknown object id ends decoding of the rest of the frame (its length is unknown);
//!   the values decoded before it are kept. v1: objects carry their own length, so an unknown
//!   id is skipped and decoding goes on; a zero control byte is skipped alone (bthome-ble does
//!   both). A truncated last object is dropped. A v1 object with no data byte publishes nothing
//!   (bthome-ble publishes 0 from the empty bytes). v1 encrypted frames need 4 ciphertext bytes,
//!   as bthome-ble requires.
//! * Repeated objects of the same key (e.g. three temperatures, or voltage from 0x0C and 0x4A)
//!   are named `key_1`, `key_2` … in frame order (bleparser/bthome-ble style); a key that occurs
//!   once keeps its plain name. At most [`REPS`] repeats per key; further ones are dropped.
//! * Buttons are strings (`press`, `double press`, `triple press`, `long press`,
//!   `long double press`, `long triple press`, `hold press`, `hold release`); "no press" (0) and
//!   unknown codes (e.g. 0xFE) publish nothing. Dimmer: `dimmer` = `rotate left`/`rotate right`
//!   and `steps` (unsigned 0–255, as bthome-ble and the spec). Command (0x3B): `command` = `off`,
//!   `on`, `toggle`, `step up`, `step down` (unknown opcodes nothing); its arguments (bthome-ble's
//!   `args` hex text) are not published.
//! * Text (0x53), raw (0x54) and device-information objects (0xF0–0xF2) are parsed (their
//!   length honoured) but not published. Timestamp (0x50) is published as Unix seconds (int).
//! * Ids of different units but one Home Assistant device class (0x06 kg / 0x07 lb, 0x40 mm /
//!   0x41 m, 0x47 L / 0x48 mL) keep their own keys; bthome-ble writes both under one key (the
//!   last one wins, the other is lost).
//! * A frame with no publishable value (e.g. only a packet id) is `NoData`.
//! * Encrypted frame without a configured key → `NoKey` (bleparser raises TypeError).
//!
//! Replay protection (per advertiser, in [`DeviceMemory`]):
//! * The counter is checked only after the MIC authenticates the frame, so forged frames count
//!   as decryption failures, never as replays, and cannot move the stored counter.
//! * "Backwards" means strictly lower than the highest counter accepted so far. An **equal**
//!   counter is the same advertisement heard again (devices repeat each frame several times);
//!   it decodes, and the pipeline's duplicate filter drops it because the counter is the
//!   reading's `packet`.
//! * Restart allowance (as bthome-ble): a counter below [`RESTART_WINDOW`] after a higher one is
//!   taken as a device restart (battery change resets the counter) and becomes the new
//!   reference. Without it a re-powered sensor would be locked out until hci2mqtt restarts;
//!   the price is that the first [`RESTART_WINDOW`] frames after any restart could be replayed.
//! * A plaintext BTHome frame from a device that has sent authenticated encrypted frames, or
//!   for which a key is configured, is rejected as `Replay` (downgrade).

use super::bytes::py_round;
use super::field::{self, Field};
use super::{
    Advert, Claim, Ctx, DecodeError, DeviceKey, DeviceMemory, Format, KeyNeed, Matcher, Reading,
    Requires, Value,
};
use crate::addr::Addr;

pub static FORMAT_V2: Format = Format {
    name: "bthome-v2",
    variants: &["bthome-v2-encrypted"],
    manufacturer: "BTHome",
    interval_s: 60,
    requires: Requires {
        key: KeyNeed::WhenEncrypted,
        name: false,
        active_scan: false,
    },
    fields: &[OWN, REPEATED],
    matcher: Matcher::ServiceData16(0xFCD2),
    decode: decode_v2,
};
pub static FORMAT_V1: Format = Format {
    name: "bthome-v1",
    variants: &[],
    manufacturer: "BTHome",
    interval_s: 60,
    requires: Requires::NOTHING,
    fields: &[OWN, REPEATED],
    matcher: Matcher::ServiceData16(0x181C),
    decode: decode_v1,
};
pub static FORMAT_V1_ENCRYPTED: Format = Format {
    name: "bthome-v1-encrypted",
    variants: &[],
    manufacturer: "BTHome",
    interval_s: 60,
    requires: Requires {
        key: KeyNeed::Always,
        name: false,
        active_scan: false,
    },
    fields: &[OWN, REPEATED],
    matcher: Matcher::ServiceData16(0x181E),
    decode: decode_v1_encrypted,
};

/// Counters below this after a higher one are taken as a device restart (see module docs).
pub const RESTART_WINDOW: u32 = 100;
/// Repeats per key that get their own name (`key_1` … `key_13`): 13 one-byte objects are the
/// most a legacy advertisement holds (31 bytes − 4 of AD header and UUID − the device-info
/// byte), and bthome-ble numbers every repeat.
pub const REPS: usize = 13;
/// Largest encrypted payload we decrypt (an AD structure is at most 255 bytes).
const MAX_CIPHERTEXT: usize = 255;

const MODEL: &str = "BTHome";

// ---------------------------------------------------------------------------------------------
// Fields used only here.

crate::decode::field::fields! {
    OWN;
    // 0x07 weight in pounds (bleparser keeps the key `weight` and adds `weight unit: lbs`).
    WEIGHT_LB = "weight", "lb", "weight", "measurement", Sensor, false;
    // bleparser's `weight unit` text next to a pound weight.
    BTHOME_WEIGHT_UNIT = "weight unit", "", "", "", Text, true;
    // 0x3B command event (bthome-ble: `off`, `on`, `toggle`, `step_up`, `step_down`).
    COMMAND = "command", "", "", "", Event, false;
    // 0x65 settings revision (bthome-ble `settings_revision`).
    SETTINGS_REVISION = "settings revision", "", "", "measurement", Sensor, true;
}

// Repeat names; a unit test checks each matches its base field (unit, class, kind…).
crate::decode::field::repeated! {
    REPEATED;
    ["_1", "_2", "_3", "_4", "_5", "_6", "_7", "_8", "_9", "_10", "_11", "_12", "_13"];
    R_TEMPERATURE = "temperature", "°C", "temperature", "measurement", Sensor, false;
    R_HUMIDITY = "humidity", "%", "humidity", "measurement", Sensor, false;
    R_BATTERY = "battery", "%", "battery", "measurement", Sensor, false;
    R_PRESSURE = "pressure", "hPa", "atmospheric_pressure", "measurement", Sensor, false;
    R_ILLUMINANCE = "illuminance", "lx", "illuminance", "measurement", Sensor, false;
    R_WEIGHT = "weight", "kg", "weight", "measurement", Sensor, false;
    R_WEIGHT_LB = "weight", "lb", "weight", "measurement", Sensor, false;
    R_DEWPOINT = "dewpoint", "°C", "temperature", "measurement", Sensor, false;
    R_COUNT = "count", "", "", "measurement", Sensor, false;
    R_ENERGY = "energy", "kWh", "energy", "total_increasing", Sensor, false;
    R_POWER = "power", "W", "power", "measurement", Sensor, false;
    R_VOLTAGE = "voltage", "V", "voltage", "measurement", Sensor, true;
    R_PM25 = "pm2.5", "µg/m³", "pm25", "measurement", Sensor, false;
    R_PM10 = "pm10", "µg/m³", "pm10", "measurement", Sensor, false;
    R_CO2 = "co2", "ppm", "carbon_dioxide", "measurement", Sensor, false;
    R_TVOC = "tvoc", "µg/m³", "volatile_organic_compounds", "measurement", Sensor, false;
    R_MOISTURE = "moisture", "%", "moisture", "measurement", Sensor, false;
    R_CURRENT = "current", "A", "current", "measurement", Sensor, false;
    R_CONDUCTIVITY = "conductivity", "μS/cm", "", "measurement", Sensor, false;
    R_BINARY = "binary", "", "", "", Binary, false;
    R_SWITCH = "switch", "", "power", "", Binary, false;
    R_OPENING = "opening", "", "opening", "", Binary, false;
    R_BATTERY_LOW = "battery low", "", "battery", "", Binary, false;
    R_BATTERY_CHARGING = "battery charging", "", "battery_charging", "", Binary, false;
    R_CARBON_MONOXIDE = "carbon monoxide", "", "carbon_monoxide", "", Binary, false;
    R_COLD = "cold", "", "cold", "", Binary, false;
    R_CONNECTIVITY = "connectivity", "", "connectivity", "", Binary, false;
    R_DOOR = "door", "", "door", "", Binary, false;
    R_GARAGE_DOOR = "garage door", "", "garage_door", "", Binary, false;
    R_GAS_DETECTED = "gas detected", "", "gas", "", Binary, false;
    R_HEAT = "heat", "", "heat", "", Binary, false;
    R_LIGHT = "light", "", "light", "", Binary, false;
    R_LOCK = "lock", "", "lock", "", Binary, false;
    R_MOISTURE_DETECTED = "moisture detected", "", "moisture", "", Binary, false;
    R_MOTION = "motion", "", "motion", "", Binary, false;
    R_MOVING = "moving", "", "moving", "", Binary, false;
    R_OCCUPANCY = "occupancy", "", "occupancy", "", Binary, false;
    R_PLUG = "plug", "", "plug", "", Binary, false;
    R_PRESENCE = "presence", "", "presence", "", Binary, false;
    R_PROBLEM = "problem", "", "problem", "", Binary, false;
    R_RUNNING = "running", "", "running", "", Binary, false;
    R_SAFETY = "safety", "", "safety", "", Binary, false;
    R_SMOKE = "smoke detector", "", "smoke", "", Binary, false;
    R_SOUND = "sound", "", "sound", "", Binary, false;
    R_TAMPER = "tamper", "", "tamper", "", Binary, false;
    R_VIBRATION = "vibration", "", "vibration", "", Binary, false;
    R_WINDOW = "window", "", "window", "", Binary, false;
    R_BUTTON = "button", "", "", "", Event, false;
    R_DIMMER = "dimmer", "", "", "", Event, false;
    R_COMMAND = "command", "", "", "", Event, false;
    R_STEPS = "steps", "", "", "", Sensor, false;
    R_ROTATION = "rotation", "°", "", "measurement", Sensor, false;
    R_DISTANCE_MM = "distance mm", "mm", "distance", "measurement", Sensor, false;
    R_DISTANCE = "distance", "m", "distance", "measurement", Sensor, false;
    R_DURATION = "duration", "s", "duration", "measurement", Sensor, false;
    R_SPEED = "speed", "m/s", "speed", "measurement", Sensor, false;
    R_UV_INDEX = "uv index", "", "", "measurement", Sensor, false;
    R_VOLUME = "volume", "L", "volume", "total", Sensor, false;
    R_VOLUME_ML = "volume mL", "mL", "volume", "total", Sensor, false;
    R_VOLUME_FLOW_RATE = "volume flow rate", "m³/h", "volume_flow_rate", "measurement", Sensor, false;
    R_GAS = "gas", "m³", "gas", "total_increasing", Sensor, false;
    R_WATER = "water", "L", "water", "total_increasing", Sensor, false;
    R_TIMESTAMP = "timestamp", "", "", "", Sensor, true;
    R_ACCELERATION = "acceleration", "m/s²", "", "measurement", Sensor, false;
    R_GYROSCOPE = "gyroscope", "°/s", "", "measurement", Sensor, false;
    R_VOLUME_STORAGE = "volume storage", "L", "volume_storage", "measurement", Sensor, false;
    R_DIRECTION = "direction", "°", "", "measurement", Sensor, false;
    R_PRECIPITATION = "precipitation", "mm", "precipitation", "measurement", Sensor, false;
    R_CHANNEL = "channel", "", "", "", Sensor, false;
    R_ROTATIONAL_SPEED = "rotational speed", "rpm", "", "measurement", Sensor, false;
    R_LIGHT_LEVEL = "light level", "", "", "measurement", Sensor, false;
    R_SETTINGS_REVISION = "settings revision", "", "", "measurement", Sensor, true;
}

// ---------------------------------------------------------------------------------------------
// Object table.

/// How an object's bytes become a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    /// Little-endian unsigned / signed integer, scaled.
    U,
    S,
    /// Binary state, published 0/1.
    Bin,
    /// 0x00 packet id → `Reading::packet`.
    Packet,
    Button,
    Dimmer,
    /// 0x3B: opcode + arguments; the length byte's low 5 bits count the arguments.
    Command,
    /// Unix seconds.
    Time,
    /// Parsed and not published (text, raw, device information).
    Skip,
}

/// One object id. `len == 0`: a length byte follows the id (text, raw: the data length;
/// command: its low 5 bits are the argument count, the opcode comes first).
struct Obj {
    id: u8,
    len: u8,
    enc: Enc,
    /// value = round(raw × mul / div, dec), Python `round` semantics (see [`scaled`]).
    mul: u16,
    div: u32,
    dec: u8,
    field: &'static Field,
    reps: &'static [Field; REPS],
}

macro_rules! o {
    ($id:literal, $len:literal, $enc:ident, $f:expr, $r:ident) => {
        Obj {
            id: $id,
            len: $len,
            enc: Enc::$enc,
            mul: 1,
            div: 1,
            dec: 0,
            field: &$f,
            reps: &$r,
        }
    };
    ($id:literal, $len:literal, $enc:ident, / $div:literal : $dec:literal, $f:expr, $r:ident) => {
        Obj {
            id: $id,
            len: $len,
            enc: Enc::$enc,
            mul: 1,
            div: $div,
            dec: $dec,
            field: &$f,
            reps: &$r,
        }
    };
    ($id:literal, $len:literal, $enc:ident, $mul:literal / $div:literal : $dec:literal, $f:expr, $r:ident) => {
        Obj {
            id: $id,
            len: $len,
            enc: Enc::$enc,
            mul: $mul,
            div: $div,
            dec: $dec,
            field: &$f,
            reps: &$r,
        }
    };
}

use field::*;

/// Sorted by id (binary search; a unit test checks the order).
static OBJS: &[Obj] = &[
    o!(0x00, 1, Packet, COUNT, R_COUNT),
    o!(0x01, 1, U, BATTERY, R_BATTERY),
    o!(0x02, 2, S, /100:2, TEMPERATURE, R_TEMPERATURE),
    o!(0x03, 2, U, /100:2, HUMIDITY, R_HUMIDITY),
    o!(0x04, 3, U, /100:2, PRESSURE, R_PRESSURE),
    o!(0x05, 3, U, /100:2, ILLUMINANCE, R_ILLUMINANCE),
    o!(0x06, 2, U, /100:2, WEIGHT, R_WEIGHT),
    o!(0x07, 2, U, /100:2, WEIGHT_LB, R_WEIGHT_LB),
    o!(0x08, 2, S, /100:2, DEWPOINT, R_DEWPOINT),
    o!(0x09, 1, U, COUNT, R_COUNT),
    o!(0x0A, 3, U, /1000:3, ENERGY, R_ENERGY),
    o!(0x0B, 3, U, /100:2, POWER, R_POWER),
    o!(0x0C, 2, U, /1000:3, VOLTAGE, R_VOLTAGE),
    o!(0x0D, 2, U, PM25, R_PM25),
    o!(0x0E, 2, U, PM10, R_PM10),
    o!(0x0F, 1, Bin, BINARY, R_BINARY),
    o!(0x10, 1, Bin, SWITCH, R_SWITCH),
    o!(0x11, 1, Bin, OPENING, R_OPENING),
    o!(0x12, 2, U, CO2, R_CO2),
    o!(0x13, 2, U, TVOC, R_TVOC),
    o!(0x14, 2, U, /100:2, MOISTURE, R_MOISTURE),
    o!(0x15, 1, Bin, BATTERY_LOW, R_BATTERY_LOW),
    o!(0x16, 1, Bin, BATTERY_CHARGING, R_BATTERY_CHARGING),
    o!(0x17, 1, Bin, CARBON_MONOXIDE, R_CARBON_MONOXIDE),
    o!(0x18, 1, Bin, COLD, R_COLD),
    o!(0x19, 1, Bin, CONNECTIVITY, R_CONNECTIVITY),
    o!(0x1A, 1, Bin, DOOR, R_DOOR),
    o!(0x1B, 1, Bin, GARAGE_DOOR, R_GARAGE_DOOR),
    o!(0x1C, 1, Bin, GAS_DETECTED, R_GAS_DETECTED),
    o!(0x1D, 1, Bin, HEAT, R_HEAT),
    o!(0x1E, 1, Bin, LIGHT, R_LIGHT),
    o!(0x1F, 1, Bin, LOCK, R_LOCK),
    o!(0x20, 1, Bin, MOISTURE_DETECTED, R_MOISTURE_DETECTED),
    o!(0x21, 1, Bin, MOTION, R_MOTION),
    o!(0x22, 1, Bin, MOVING, R_MOVING),
    o!(0x23, 1, Bin, OCCUPANCY, R_OCCUPANCY),
    o!(0x24, 1, Bin, PLUG, R_PLUG),
    o!(0x25, 1, Bin, PRESENCE, R_PRESENCE),
    o!(0x26, 1, Bin, PROBLEM, R_PROBLEM),
    o!(0x27, 1, Bin, RUNNING, R_RUNNING),
    o!(0x28, 1, Bin, SAFETY, R_SAFETY),
    o!(0x29, 1, Bin, SMOKE, R_SMOKE),
    o!(0x2A, 1, Bin, SOUND, R_SOUND),
    o!(0x2B, 1, Bin, TAMPER, R_TAMPER),
    o!(0x2C, 1, Bin, VIBRATION, R_VIBRATION),
    o!(0x2D, 1, Bin, WINDOW, R_WINDOW),
    o!(0x2E, 1, U, HUMIDITY, R_HUMIDITY),
    o!(0x2F, 1, U, MOISTURE, R_MOISTURE),
    o!(0x3A, 1, Button, BUTTON, R_BUTTON),
    o!(0x3B, 0, Command, COMMAND, R_COMMAND),
    o!(0x3C, 2, Dimmer, DIMMER, R_DIMMER),
    o!(0x3D, 2, U, COUNT, R_COUNT),
    o!(0x3E, 4, U, COUNT, R_COUNT),
    o!(0x3F, 2, S, /10:1, ROTATION, R_ROTATION),
    o!(0x40, 2, U, DISTANCE_MM, R_DISTANCE_MM),
    o!(0x41, 2, U, /10:1, DISTANCE, R_DISTANCE),
    o!(0x42, 3, U, /1000:3, DURATION, R_DURATION),
    o!(0x43, 2, U, /1000:3, CURRENT, R_CURRENT),
    o!(0x44, 2, U, /100:2, SPEED, R_SPEED),
    o!(0x45, 2, S, /10:1, TEMPERATURE, R_TEMPERATURE),
    o!(0x46, 1, U, /10:1, UV_INDEX, R_UV_INDEX),
    o!(0x47, 2, U, /10:1, VOLUME, R_VOLUME),
    o!(0x48, 2, U, VOLUME_ML, R_VOLUME_ML),
    o!(0x49, 2, U, /1000:3, VOLUME_FLOW_RATE, R_VOLUME_FLOW_RATE),
    o!(0x4A, 2, U, /10:1, VOLTAGE, R_VOLTAGE),
    o!(0x4B, 3, U, /1000:3, GAS, R_GAS),
    o!(0x4C, 4, U, /1000:3, GAS, R_GAS),
    o!(0x4D, 4, U, /1000:3, ENERGY, R_ENERGY),
    o!(0x4E, 4, U, /1000:3, VOLUME, R_VOLUME),
    o!(0x4F, 4, U, /1000:3, WATER, R_WATER),
    o!(0x50, 4, Time, TIMESTAMP, R_TIMESTAMP),
    o!(0x51, 2, U, /1000:3, ACCELERATION, R_ACCELERATION),
    o!(0x52, 2, U, /1000:3, GYROSCOPE, R_GYROSCOPE),
    o!(0x53, 0, Skip, COUNT, R_COUNT), // text
    o!(0x54, 0, Skip, COUNT, R_COUNT), // raw
    o!(0x55, 4, U, /1000:3, VOLUME_STORAGE, R_VOLUME_STORAGE),
    o!(0x56, 2, U, CONDUCTIVITY, R_CONDUCTIVITY),
    o!(0x57, 1, S, TEMPERATURE, R_TEMPERATURE),
    o!(0x58, 1, S, 35/100:1, TEMPERATURE, R_TEMPERATURE),
    o!(0x59, 1, S, COUNT, R_COUNT),
    o!(0x5A, 2, S, COUNT, R_COUNT),
    o!(0x5B, 4, S, COUNT, R_COUNT),
    o!(0x5C, 4, S, /100:2, POWER, R_POWER),
    o!(0x5D, 2, S, /1000:3, CURRENT, R_CURRENT),
    o!(0x5E, 2, U, /100:2, DIRECTION, R_DIRECTION),
    o!(0x5F, 2, U, /10:1, PRECIPITATION, R_PRECIPITATION),
    o!(0x60, 1, U, CHANNEL, R_CHANNEL),
    o!(0x61, 2, U, ROTATIONAL_SPEED, R_ROTATIONAL_SPEED),
    o!(0x62, 4, S, /1000000:6, SPEED, R_SPEED),
    o!(0x63, 4, S, /1000000:6, ACCELERATION, R_ACCELERATION),
    o!(0x64, 1, U, LIGHT_LEVEL, R_LIGHT_LEVEL),
    o!(0x65, 1, U, SETTINGS_REVISION, R_SETTINGS_REVISION),
    o!(0xF0, 2, Skip, COUNT, R_COUNT), // device type id
    o!(0xF1, 4, Skip, COUNT, R_COUNT), // firmware version (4 bytes)
    o!(0xF2, 3, Skip, COUNT, R_COUNT), // firmware version (3 bytes)
];

/// Object id → 1 + its index in [`OBJS`] (0: unknown id), built at compile time.
///
/// A direct index instead of a binary search: the search cost more than decoding the
/// object, and every object is looked up twice.
static INDEX: [u8; 256] = {
    assert!(OBJS.len() < 256);
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < OBJS.len() {
        t[OBJS[i].id as usize] = (i + 1) as u8;
        i += 1;
    }
    t
};

#[inline]
fn lookup(id: u8) -> Option<&'static Obj> {
    match INDEX[id as usize] {
        0 => None,
        i => OBJS.get(i as usize - 1),
    }
}

// ---------------------------------------------------------------------------------------------
// Object iteration (shared by v1 and v2, two passes, no allocation).

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ver {
    V1,
    V2,
}

struct Item<'a> {
    obj: &'static Obj,
    /// v1 data format from the control byte (0 uint, 1 int, 2 float, 3 string, 4 raw…).
    v1_format: Option<u8>,
    data: &'a [u8],
}

struct Objects<'a> {
    p: &'a [u8],
    i: usize,
    ver: Ver,
}

impl<'a> Iterator for Objects<'a> {
    type Item = Item<'a>;
    // Inlined into the two passes of `parse_objects`: the call was a third of its cost.
    #[inline(always)]
    fn next(&mut self) -> Option<Item<'a>> {
        loop {
            let p = self.p;
            let i = self.i;
            if i >= p.len() {
                return None;
            }
            match self.ver {
                Ver::V2 => {
                    // Unknown id: its length is unknown, stop here.
                    let obj = lookup(p[i])?;
                    let (start, len) = if obj.len == 0 {
                        let lb = *p.get(i + 1)?;
                        if obj.enc == Enc::Command {
                            (i + 2, (lb & 0x1F) as usize + 1)
                        } else {
                            (i + 2, lb as usize)
                        }
                    } else {
                        (i + 1, obj.len as usize)
                    };
                    let end = start + len;
                    if end > p.len() {
                        self.i = p.len();
                        return None;
                    }
                    self.i = end;
                    return Some(Item {
                        obj,
                        v1_format: None,
                        data: &p[start..end],
                    });
                }
                Ver::V1 => {
                    let ctrl = p[i];
                    let len = (ctrl & 0x1F) as usize; // id + data
                    if len == 0 && i + 1 < p.len() {
                        // A zero control byte is skipped alone (as bthome-ble does).
                        self.i = i + 1;
                        continue;
                    }
                    let end = i + 1 + len;
                    if len == 0 || end > p.len() {
                        self.i = p.len();
                        return None;
                    }
                    self.i = end;
                    match lookup(p[i + 1]) {
                        Some(obj) => {
                            return Some(Item {
                                obj,
                                v1_format: Some(ctrl >> 5),
                                data: &p[i + 2..end],
                            })
                        }
                        None => continue, // unknown v1 id: skip, its length is known
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values.

fn le_uint(d: &[u8]) -> Option<u64> {
    if d.is_empty() || d.len() > 8 {
        return None;
    }
    Some(d.iter().rev().fold(0u64, |a, &b| (a << 8) | b as u64))
}

fn le_int(d: &[u8]) -> Option<i64> {
    let u = le_uint(d)?;
    let bits = 8 * d.len() as u32;
    if bits == 64 {
        return Some(u as i64);
    }
    let shift = 64 - bits;
    Some(((u << shift) as i64) >> shift)
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1F) as i32;
    let frac = (h & 0x3FF) as f64;
    let mag = match exp {
        0 => frac * 2f64.powi(-24),
        31 => {
            if frac == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    };
    sign * mag
}

/// An integer raw value scaled as bleparser does (`round(raw * factor, decimals)`).
fn scaled(obj: &Obj, raw: i64) -> Value {
    if obj.mul == 1 && obj.div == 1 {
        Value::Int(raw)
    } else if obj.mul == 1 {
        // Division by an exact power of ten gives the double nearest the decimal, which is
        // what Python's round(raw * 10^-d, d) returns.
        Value::Float(raw as f64 / obj.div as f64)
    } else {
        Value::Float(py_round(
            raw as f64 * (obj.mul as f64 / obj.div as f64),
            i32::from(obj.dec),
        ))
    }
}

fn scaled_float(obj: &Obj, x: f64) -> Option<Value> {
    let v = py_round(x * (obj.mul as f64 / obj.div as f64), i32::from(obj.dec));
    if v.is_finite() {
        Some(Value::Float(v))
    } else {
        None
    }
}

fn button_event(code: u8) -> Option<&'static str> {
    Some(match code {
        0x01 => "press",
        0x02 => "double press",
        0x03 => "triple press",
        0x04 => "long press",
        0x05 => "long double press",
        0x06 => "long triple press",
        0x80 => "hold press",
        0x81 => "hold release",
        _ => return None,
    })
}

fn command_event(code: u8) -> Option<&'static str> {
    Some(match code {
        0x00 => "off",
        0x01 => "on",
        0x02 => "toggle",
        0x03 => "step up",
        0x04 => "step down",
        _ => return None,
    })
}

fn dimmer_event(code: u8) -> Option<&'static str> {
    match code {
        0x01 => Some("rotate left"),
        0x02 => Some("rotate right"),
        _ => None,
    }
}

/// Numeric value of an item (U/S/Bin/Time), honouring a v1 format byte.
fn numeric(item: &Item<'_>) -> Option<Value> {
    let obj = item.obj;
    let d = item.data;
    let fmt = match item.v1_format {
        Some(f) => f,
        None => {
            if obj.enc == Enc::S {
                1
            } else {
                0
            }
        }
    };
    match fmt {
        0 => le_uint(d).map(|u| scaled(obj, u as i64)),
        1 => le_int(d).map(|i| scaled(obj, i)),
        2 => {
            let x = match d.len() {
                2 => f16_to_f64(u16::from_le_bytes([d[0], d[1]])),
                4 => super::bytes::f32_as_read(f32::from_le_bytes([d[0], d[1], d[2], d[3]])),
                8 => f64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]),
                _ => return None,
            };
            scaled_float(obj, x)
        }
        _ => None, // string / raw / reserved formats: not published
    }
}

/// Object id → a number naming its published key: the index in [`OBJS`] of the first object
/// with the same key string. Repeats are counted per key (several ids share one, e.g. the
/// temperature objects); numbering the keys at compile time makes that bookkeeping integer
/// compares instead of string compares (which cost more than decoding the objects).
static KEY_OF_ID: [u8; 256] = {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < OBJS.len() {
        let mut j = 0;
        while !same(OBJS[j].field.key, OBJS[i].field.key) {
            j += 1;
        }
        t[OBJS[i].id as usize] = j as u8;
        i += 1;
    }
    t
};

/// Per-key repeat bookkeeping: key number (see [`KEY_OF_ID`]), then (total occurrences,
/// emitted so far). Small integers only, so a fresh table is a few zeroing stores.
struct Repeats {
    keys: [u8; 32],
    counts: [(u8, u8); 32],
    n: usize,
}

impl Repeats {
    fn new() -> Self {
        Repeats {
            keys: [0; 32],
            counts: [(0, 0); 32],
            n: 0,
        }
    }
    #[inline(always)]
    fn find(&self, key: u8) -> Option<usize> {
        self.keys[..self.n].iter().position(|&k| k == key)
    }
    fn count(&mut self, obj: &Obj) {
        let key = KEY_OF_ID[obj.id as usize];
        if let Some(i) = self.find(key) {
            self.counts[i].0 = self.counts[i].0.saturating_add(1);
        } else if self.n < self.keys.len() {
            self.keys[self.n] = key;
            self.counts[self.n] = (1, 0);
            self.n += 1;
        }
    }
    /// Name slot for the next occurrence of `obj`'s key: None = plain name, Some(i) =
    /// `key_{i+1}`, Err = beyond the repeat capacity (dropped).
    fn next(&mut self, obj: &Obj) -> Result<Option<usize>, ()> {
        match self.find(KEY_OF_ID[obj.id as usize]) {
            Some(j) if self.counts[j].0 > 1 => {
                let e = &mut self.counts[j];
                let i = e.1 as usize;
                e.1 = e.1.saturating_add(1);
                if i < REPS {
                    Ok(Some(i))
                } else {
                    Err(())
                }
            }
            _ => Ok(None),
        }
    }
}

fn pick(base: &'static Field, reps: &'static [Field; REPS], slot: Option<usize>) -> &'static Field {
    match slot {
        Some(i) => &reps[i],
        None => base,
    }
}

/// Decodes the object list into `out`. Returns `NoData` when nothing publishable was found.
fn parse_objects(p: &[u8], ver: Ver, out: &mut Reading) -> Result<(), DecodeError> {
    let mut reps = Repeats::new();
    for item in (Objects { p, i: 0, ver }) {
        if !matches!(item.obj.enc, Enc::Packet | Enc::Skip) {
            reps.count(item.obj);
        }
    }
    for item in (Objects { p, i: 0, ver }) {
        let obj = item.obj;
        match obj.enc {
            Enc::Skip => continue,
            Enc::Packet => {
                if let Some(u) = le_uint(item.data) {
                    out.packet = Some(u as u32);
                }
                continue;
            }
            _ => {}
        }
        let Ok(slot) = reps.next(obj) else {
            out.overflow = out.overflow.saturating_add(1);
            continue;
        };
        let f = pick(obj.field, obj.reps, slot);
        match obj.enc {
            Enc::Button => {
                if let Some(ev) = item.data.first().and_then(|&c| button_event(c)) {
                    out.push(f, Value::Text(ev));
                }
            }
            Enc::Command => {
                if let Some(ev) = item.data.first().and_then(|&c| command_event(c)) {
                    out.push(f, Value::Text(ev));
                }
            }
            Enc::Dimmer => {
                if let (Some(ev), Some(&steps)) = (
                    item.data.first().and_then(|&c| dimmer_event(c)),
                    item.data.get(1),
                ) {
                    out.push(f, Value::Text(ev));
                    out.push(pick(&STEPS, &R_STEPS, slot), Value::Int(steps as i64));
                }
            }
            Enc::Bin => {
                if let Some(v) = numeric(&item).and_then(|v| v.as_f64()) {
                    out.int(f, (v != 0.0) as i64);
                }
            }
            Enc::Time => {
                if let Some(u) = le_uint(item.data) {
                    out.int(f, u as i64);
                }
            }
            Enc::U | Enc::S => {
                if let Some(v) = numeric(&item) {
                    out.push(f, v);
                    if core::ptr::eq(obj.field, &WEIGHT_LB) {
                        out.push(&BTHOME_WEIGHT_UNIT, Value::Text("lbs"));
                    }
                }
            }
            Enc::Packet | Enc::Skip => {}
        }
    }
    if out.is_empty() {
        Err(DecodeError::NoData)
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Replay protection.

/// Accepts or rejects an authenticated counter and records it.
pub(crate) fn check_counter(mem: &mut DeviceMemory, counter: u32) -> Result<(), DecodeError> {
    if mem.seen_encrypted {
        if let Some(last) = mem.enc_counter {
            if counter < last && counter >= RESTART_WINDOW {
                return Err(DecodeError::Replay);
            }
        }
    }
    // Equal = the same frame heard again (accepted; the pipeline dedups on `packet`).
    // Lower but inside the restart window = device restart: new reference.
    mem.enc_counter = Some(counter);
    mem.seen_encrypted = true;
    Ok(())
}

fn key_for<'k>(ctx: &Ctx<'k>, sensor: &Addr, adv: &Advert<'_>) -> Option<&'k DeviceKey> {
    ctx.keys.get(sensor).or_else(|| ctx.keys.get(&adv.addr))
}

/// Rejects a plaintext frame from a device known to encrypt.
fn check_plaintext(ctx: &Ctx<'_>, sensor: &Addr, adv: &Advert<'_>) -> Result<(), DecodeError> {
    if ctx.memory.seen_encrypted || key_for(ctx, sensor, adv).is_some() {
        Err(DecodeError::Replay)
    } else {
        Ok(())
    }
}

/// Decrypts `enc = ciphertext | counter(4) | mic(4)` and parses the objects.
fn decrypt_and_parse(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    sensor: Addr,
    ver: Ver,
    info: u8,
    enc: &[u8],
    out: &mut Reading,
) -> Result<(), DecodeError> {
    // bthome-ble's minimum ciphertext: v2 id + 1 byte; v1 4 bytes (so a lone 3-byte v1
    // object, e.g. battery, is refused as it refuses it).
    let min_ct = if ver == Ver::V2 { 2 } else { 4 };
    if enc.len() < 8 + min_ct {
        return Err(DecodeError::Truncated);
    }
    let n = enc.len();
    let (ct, tail) = enc.split_at(n - 8);
    if ct.len() > MAX_CIPHERTEXT {
        return Err(DecodeError::Malformed("BTHome payload too long"));
    }
    let key = key_for(ctx, &sensor, adv).ok_or(DecodeError::NoKey)?;
    let counter = [tail[0], tail[1], tail[2], tail[3]];
    let mic = &tail[4..8];
    let mut buf = [0u8; MAX_CIPHERTEXT];
    let buf = &mut buf[..ct.len()];
    buf.copy_from_slice(ct);
    let ok = match ver {
        Ver::V2 => {
            let mut nonce = [0u8; 13];
            nonce[..6].copy_from_slice(&sensor.0);
            nonce[6..9].copy_from_slice(&[0xD2, 0xFC, info]);
            nonce[9..].copy_from_slice(&counter);
            key.ccm_open(&nonce, &[], buf, mic)
        }
        Ver::V1 => {
            let mut nonce = [0u8; 12];
            nonce[..6].copy_from_slice(&sensor.0);
            nonce[6..8].copy_from_slice(&[0x1E, 0x18]);
            nonce[8..].copy_from_slice(&counter);
            key.ccm_open(&nonce, &[0x11], buf, mic)
        }
    };
    if !ok {
        return Err(DecodeError::DecryptFailed);
    }
    let c = u32::from_le_bytes(counter);
    check_counter(ctx.memory, c)?;
    out.packet = Some(c);
    parse_objects(buf, ver, out)
}

// ---------------------------------------------------------------------------------------------
// Decoders.

fn decode_v2(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    out.model = MODEL;
    out.format = "bthome-v2";
    out.firmware = "BTHome V2";
    let (&info, mut rest) = data.split_first().ok_or(DecodeError::Truncated)?;
    if info >> 5 != 2 {
        return Err(DecodeError::Malformed("BTHome version is not 2"));
    }
    let mut sensor = adv.addr;
    if info & 0x02 != 0 {
        if rest.len() < 6 {
            return Err(DecodeError::Truncated);
        }
        sensor = Addr::from_le(&rest[..6]);
        rest = &rest[6..];
    }
    out.addr = sensor;
    if info & 0x01 != 0 {
        out.format = "bthome-v2-encrypted";
        out.firmware = "BTHome V2 (encrypted)";
        out.encrypted = true;
        decrypt_and_parse(ctx, adv, sensor, Ver::V2, info, rest, out)
    } else {
        check_plaintext(ctx, &sensor, adv)?;
        parse_objects(rest, Ver::V2, out)
    }
}

fn decode_v1(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    out.model = MODEL;
    out.format = "bthome-v1";
    out.firmware = "BTHome V1";
    if data.is_empty() {
        return Err(DecodeError::Truncated);
    }
    check_plaintext(ctx, &adv.addr, adv)?;
    parse_objects(data, Ver::V1, out)
}

fn decode_v1_encrypted(
    ctx: &mut Ctx<'_>,
    adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let data = claim.payload;
    out.model = MODEL;
    out.format = "bthome-v1-encrypted";
    out.firmware = "BTHome V1 (encrypted)";
    out.encrypted = true;
    decrypt_and_parse(ctx, adv, adv.addr, Ver::V1, 0, data, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::KeyStore;

    #[test]
    fn table_sorted_and_repeats_match_bases() {
        for w in OBJS.windows(2) {
            assert!(w[0].id < w[1].id, "{:#x} {:#x}", w[0].id, w[1].id);
        }
        for o in OBJS {
            if matches!(o.enc, Enc::Skip | Enc::Packet) {
                continue;
            }
            for (i, r) in o.reps.iter().enumerate() {
                assert_eq!(r.key, format!("{}_{}", o.field.key, i + 1));
                assert_eq!(
                    (r.unit, r.device_class, r.state_class, r.kind, r.diagnostic),
                    (
                        o.field.unit,
                        o.field.device_class,
                        o.field.state_class,
                        o.field.kind,
                        o.field.diagnostic
                    ),
                    "{}",
                    r.key
                );
            }
            if o.mul == 1 && o.div != 1 {
                assert_eq!(10u32.pow(o.dec as u32), o.div, "{:#x}", o.id);
            }
        }
        for (i, r) in R_STEPS.iter().enumerate() {
            assert_eq!(r.key, format!("steps_{}", i + 1));
        }
    }

    #[test]
    fn little_endian_ints_and_half_floats() {
        assert_eq!(le_int(&[0xEA]), Some(-22));
        assert_eq!(le_int(&[0xea, 0x02, 0x34, 0xea]), Some(-365690134));
        assert_eq!(f16_to_f64(0x3C00), 1.0);
        assert_eq!(f16_to_f64(0xC000), -2.0);
    }

    fn adv(addr: Addr) -> Advert<'static> {
        Advert::new(addr, 0, None, &[])
    }

    #[test]
    fn unknown_v2_id_stops_with_values_so_far() {
        let keys = KeyStore::new();
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let mut r = Reading::default();
        // temperature 25.06, unknown 0x70, then humidity that must not be read.
        let d = [0x40, 0x02, 0xCA, 0x09, 0x70, 0x03, 0xBF, 0x13];
        decode_v2(
            &mut ctx,
            &adv(Addr([1, 2, 3, 4, 5, 6])),
            Claim::of(&d),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.get("temperature"), Some(Value::Float(25.06)));
        assert_eq!(r.get("humidity"), None);
        assert_eq!(r.values().len(), 1);
        // v1: an unknown id is skipped (length known), the next object still decodes.
        let mut r = Reading::default();
        let d = [0x23, 0x70, 0x00, 0x00, 0x23, 0x02, 0xCA, 0x09];
        decode_v1(
            &mut ctx,
            &adv(Addr([1, 2, 3, 4, 5, 6])),
            Claim::of(&d),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.get("temperature"), Some(Value::Float(25.06)));
    }

    #[test]
    fn repeats_named_and_capped() {
        let keys = KeyStore::new();
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let mut r = Reading::default();
        // fifteen buttons: 1..=13 named, 14 and 15 dropped (overflow).
        let mut d = vec![0x40];
        for _ in 0..15 {
            d.extend_from_slice(&[0x3A, 0x01]);
        }
        decode_v2(
            &mut ctx,
            &adv(Addr([1, 2, 3, 4, 5, 6])),
            Claim::of(&d),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.get("button_1"), Some(Value::Text("press")));
        assert_eq!(r.get("button_13"), Some(Value::Text("press")));
        assert_eq!(r.get("button"), None);
        assert_eq!(r.overflow, 2);
        // Weight in pounds adds bleparser's `weight unit`.
        let mut r = Reading::default();
        decode_v2(
            &mut ctx,
            &adv(Addr([1, 2, 3, 4, 5, 6])),
            Claim::of(&[0x40, 0x07, 0x3E, 0x1D]),
            &mut r,
        )
        .unwrap();
        assert_eq!(r.get("weight"), Some(Value::Float(74.86)));
        assert_eq!(r.get("weight unit"), Some(Value::Text("lbs")));
    }

    #[test]
    fn v1_formats_mac_in_frame_and_skipped_objects() {
        let keys = KeyStore::new();
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let a = adv(Addr([1, 2, 3, 4, 5, 6]));
        // v1: temperature as f32 (format 2, len 5) = 21.5; humidity as f16 (len 3) = 50.0;
        // a string object (format 3) is skipped; battery uint.
        let mut d = vec![0x45, 0x02];
        d.extend_from_slice(&21.5f32.to_le_bytes());
        d.extend_from_slice(&[0x43, 0x03, 0x40, 0x52]); // f16 0x5240 = 50.0
        d.extend_from_slice(&[0x64, 0x53, b'a', b'b', b'c']);
        d.extend_from_slice(&[0x02, 0x01, 0x5D]);
        let mut r = Reading::default();
        decode_v1(&mut ctx, &a, Claim::of(&d), &mut r).unwrap();
        // Python: round(21.5 * 0.01, 2) = 0.21 (factor 0.01 applies to the float too).
        assert_eq!(r.get("temperature"), Some(Value::Float(0.21)));
        assert_eq!(r.get("humidity"), Some(Value::Float(0.5)));
        assert_eq!(r.get("battery"), Some(Value::Int(93)));
        assert_eq!(r.values().len(), 3);
        // v2 plaintext with MAC included (0x42): the reading names the in-frame sensor; text
        // object, device-information objects are skipped; 0x58 uses ×0.35 rounded to 0.1.
        let mut r = Reading::default();
        let d = [
            0x42, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x3C, 0x02, 0xFE, 0x53, 0x02, b'h', b'i',
            0x58, 0x01, 0xF0, 0x01, 0x00, 0xF1, 0x00, 0x01, 0x02, 0x04, 0xF2, 0x00, 0x01, 0x06,
        ];
        decode_v2(&mut ctx, &a, Claim::of(&d), &mut r).unwrap();
        assert_eq!(r.addr, Addr([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]));
        assert_eq!(r.get("dimmer"), Some(Value::Text("rotate right")));
        assert_eq!(r.get("steps"), Some(Value::Int(254))); // unsigned, as bthome-ble and the spec
        assert_eq!(r.get("temperature"), Some(Value::Float(0.3))); // round(0.35, 1) in Python
        assert_eq!(r.values().len(), 3);
        // Version 0 and 7 are malformed; encrypted flag with a short frame is truncated.
        let mut r = Reading::default();
        assert!(matches!(
            decode_v2(&mut ctx, &a, Claim::of(&[0x00, 0x02, 0x01, 0x00]), &mut r),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode_v2(&mut ctx, &a, Claim::of(&[0xE0, 0x02, 0x01, 0x00]), &mut r),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(
            decode_v2(
                &mut ctx,
                &a,
                Claim::of(&[0x41, 1, 2, 3, 4, 5, 6, 7]),
                &mut r
            ),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            decode_v2(
                &mut ctx,
                &a,
                Claim::of(&[0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
                &mut r
            ),
            Err(DecodeError::NoKey)
        );
        assert_eq!(
            decode_v2(&mut ctx, &a, Claim::of(&[]), &mut r),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn counter_rules() {
        let mut m = DeviceMemory::default();
        assert_eq!(check_counter(&mut m, 1000), Ok(()));
        assert_eq!(check_counter(&mut m, 1000), Ok(())); // duplicate, not replay
        assert_eq!(check_counter(&mut m, 1001), Ok(()));
        assert_eq!(check_counter(&mut m, 999), Err(DecodeError::Replay));
        assert_eq!(m.enc_counter, Some(1001)); // a rejected frame does not move the reference
        assert_eq!(check_counter(&mut m, 5), Ok(())); // restart window
        assert_eq!(check_counter(&mut m, 6), Ok(()));
        assert_eq!(check_counter(&mut m, 1000), Ok(())); // forwards again
        assert_eq!(check_counter(&mut m, 200), Err(DecodeError::Replay));
    }
}
