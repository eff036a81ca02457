//! What a measured value is: its key (bleparser's name, so the old script's users get the same
//! JSON), unit, and the Home Assistant metadata discovery needs. One table used by the JSON
//! output and by MQTT discovery, so the two cannot disagree.
//!
//! A format that needs a field not listed here may declare its own `static` [`Field`] in its
//! own file; nothing else has to change.

/// How a field is announced to Home Assistant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A numeric sensor.
    Sensor,
    /// On/off state published as 0/1 (bleparser style) → `binary_sensor`.
    Binary,
    /// A momentary event (button press…) published as a string.
    Event,
    /// A text value (firmware string, lock method…).
    Text,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    /// JSON / state key, bleparser's name (`temperature`, `humidity`, `battery`, `pm2.5`…).
    pub key: &'static str,
    /// Unit as Home Assistant expects it for `device_class` (UTF-8 `°C`), or "".
    pub unit: &'static str,
    /// Home Assistant device class, or "" for none.
    pub device_class: &'static str,
    /// `measurement`, `total_increasing` or "".
    pub state_class: &'static str,
    pub kind: Kind,
    /// `entity_category: diagnostic` (rssi, voltage…).
    pub diagnostic: bool,
    /// Decimals a value keeps ([`crate::decode::Reading::push`] rounds every float to them, so
    /// the JSON lines, the MQTT state and the scan table agree and no binary noise shows:
    /// `0.1 * 219` reads `21.9`). A table line without it keeps [`DECIMALS`].
    pub decimals: u8,
}

/// The decimals of a field whose table line names none: six, finer than any sensor resolves,
/// so where the reference parsers publish an unrounded formula (iNode's energy, Tilt's and
/// Inkbird's °F → °C, b-parasite's 1/65536 moisture) our value stays within 5·10⁻⁷ of theirs;
/// only the binary noise past it goes. A float32 from the radio is already its shortest
/// decimal (`bytes::f32_as_read`), so it needs no rounding of its own.
pub const DECIMALS: u8 = 6;

/// The most decimals [`crate::decode::round_decimals`] applies.
pub const FINEST: u8 = 9;

impl Field {
    /// The key with only `[a-zA-Z0-9_-]`, for discovery topics and unique ids.
    pub fn object_id(&self, out: &mut String) {
        out.clear();
        for c in self.key.chars() {
            out.push(if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            });
        }
    }
}

/// A table of fields, as [`fields!`] and [`repeated!`] list them (a repeated field is one
/// group).
pub type FieldList = &'static [&'static [Field]];

/// The one way to declare fields, here and in a format's own file:
/// `fields! { LIST; NAME = "key", "unit", "device_class", "state_class", Kind, diagnostic[, decimals]; … }`
/// declares each `pub static NAME: Field` and `pub static LIST`, the list the format's table
/// entry names in [`crate::decode::Format::fields`] so [`all`] (config lookups, discovery
/// checks, the key-uniqueness test) sees every field of every format.
macro_rules! fields {
    ($list:ident; $($name:ident = $key:literal, $unit:literal, $class:literal, $state:literal, $kind:ident, $diag:literal $(, $dec:literal)?;)*) => {
        $(pub static $name: $crate::decode::field::Field = $crate::decode::field::Field {
            key: $key, unit: $unit, device_class: $class, state_class: $state,
            kind: $crate::decode::field::Kind::$kind, diagnostic: $diag,
            decimals: $crate::decode::field::decimals!($($dec)?),
        };)*
        /// Every field declared in this table.
        pub static $list: &[&[$crate::decode::field::Field]] = &[$(core::slice::from_ref(&$name)),*];
    };
}
pub(crate) use fields;

/// Fields repeated under numbered keys (BTHome's `temperature_2`, probe thermometers'
/// `… probe 3`): `repeated! { LIST; ["_1", "_2"]; NAME = "key", …; }` declares each
/// `pub static NAME: [Field; n]` with the key followed by each suffix, and the list, as
/// [`fields!`] does.
macro_rules! repeated {
    ($list:ident; $sfx:tt; $($name:ident = $key:literal, $unit:literal, $class:literal, $state:literal, $kind:ident, $diag:literal $(, $dec:literal)?;)*) => {
        $($crate::decode::field::repeated!(@array $name $sfx $key, $unit, $class, $state, $kind, $diag, $crate::decode::field::decimals!($($dec)?));)*
        /// Every field declared in this table.
        pub static $list: &[&[$crate::decode::field::Field]] = &[$(&$name),*];
    };
    (@array $name:ident [$($s:literal),*] $key:literal, $unit:literal, $class:literal, $state:literal, $kind:ident, $diag:literal, $dec:expr) => {
        pub static $name: [$crate::decode::field::Field; [$($s),*].len()] = [$(
            $crate::decode::field::Field {
                key: concat!($key, $s), unit: $unit, device_class: $class, state_class: $state,
                kind: $crate::decode::field::Kind::$kind, diagnostic: $diag, decimals: $dec,
            }
        ),*];
    };
}
pub(crate) use repeated;

/// A table line's decimals column, or [`DECIMALS`] where it has none.
macro_rules! decimals {
    () => {
        $crate::decode::field::DECIMALS
    };
    ($dec:literal) => {
        $dec
    };
}
pub(crate) use decimals;

// The last column, where there is one, is the decimals a value keeps: fewer than
// [`DECIMALS`] only where every format gives whole numbers.
fields! {
    ALL;
    TEMPERATURE = "temperature", "°C", "temperature", "measurement", Sensor, false;
    HUMIDITY = "humidity", "%", "humidity", "measurement", Sensor, false;
    BATTERY = "battery", "%", "battery", "measurement", Sensor, false;
    VOLTAGE = "voltage", "V", "voltage", "measurement", Sensor, true;
    RSSI = "rssi", "dBm", "signal_strength", "measurement", Sensor, true;
    ILLUMINANCE = "illuminance", "lx", "illuminance", "measurement", Sensor, false;
    MOISTURE = "moisture", "%", "moisture", "measurement", Sensor, false;
    // Greek mu (U+03BC): HA ≥ 2025 rewrites the micro sign to it. No device class: HA 2024.3
    // has none for conductivity and would refuse the entity.
    CONDUCTIVITY = "conductivity", "μS/cm", "", "measurement", Sensor, false, 0;
    FORMALDEHYDE = "formaldehyde", "mg/m³", "", "measurement", Sensor, false;
    CONSUMABLE = "consumable", "%", "", "measurement", Sensor, false;
    PRESSURE = "pressure", "hPa", "atmospheric_pressure", "measurement", Sensor, false;
    CO2 = "co2", "ppm", "carbon_dioxide", "measurement", Sensor, false, 0;
    TVOC = "tvoc", "µg/m³", "volatile_organic_compounds", "measurement", Sensor, false;
    PM25 = "pm2.5", "µg/m³", "pm25", "measurement", Sensor, false;
    PM10 = "pm10", "µg/m³", "pm10", "measurement", Sensor, false;
    DEWPOINT = "dewpoint", "°C", "temperature", "measurement", Sensor, false;
    WEIGHT = "weight", "kg", "weight", "measurement", Sensor, false;
    IMPEDANCE = "impedance", "Ω", "", "measurement", Sensor, false;
    COUNT = "count", "", "", "measurement", Sensor, false;
    POWER = "power", "W", "power", "measurement", Sensor, false;
    ENERGY = "energy", "kWh", "energy", "total_increasing", Sensor, false;
    CURRENT = "current", "A", "current", "measurement", Sensor, false;
    SIGNAL_STRENGTH = "signal strength", "dBm", "signal_strength", "measurement", Sensor, true;
    // Binary states (bleparser publishes 0/1).
    MOTION = "motion", "", "motion", "", Binary, false;
    OPENING = "opening", "", "opening", "", Binary, false;
    LIGHT = "light", "", "light", "", Binary, false;
    MOISTURE_DETECTED = "moisture detected", "", "moisture", "", Binary, false;
    SMOKE = "smoke detector", "", "smoke", "", Binary, false;
    LOCK = "lock", "", "lock", "", Binary, false;
    DOOR = "door", "", "door", "", Binary, false;
    OCCUPANCY = "occupancy", "", "occupancy", "", Binary, false;
    BATTERY_LOW = "battery low", "", "battery", "", Binary, false;
    SWITCH = "switch", "", "power", "", Binary, false;
    TOOTHBRUSH = "toothbrush", "", "", "", Binary, false;
    FINGERPRINT = "fingerprint", "", "", "", Binary, false;
    // Events.
    BUTTON = "button", "", "", "", Event, false;
    // Diagnostics in seconds.
    NO_MOTION_TIME = "no motion time", "s", "duration", "measurement", Sensor, false;
    // BTHome: binary states, bleparser/ble_monitor key names, HA binary_sensor classes.
    BINARY = "binary", "", "", "", Binary, false;
    BATTERY_CHARGING = "battery charging", "", "battery_charging", "", Binary, false;
    CARBON_MONOXIDE = "carbon monoxide", "", "carbon_monoxide", "", Binary, false;
    COLD = "cold", "", "cold", "", Binary, false;
    CONNECTIVITY = "connectivity", "", "connectivity", "", Binary, false;
    GARAGE_DOOR = "garage door", "", "garage_door", "", Binary, false;
    GAS_DETECTED = "gas detected", "", "gas", "", Binary, false;
    HEAT = "heat", "", "heat", "", Binary, false;
    MOVING = "moving", "", "moving", "", Binary, false;
    PLUG = "plug", "", "plug", "", Binary, false;
    PRESENCE = "presence", "", "presence", "", Binary, false;
    PROBLEM = "problem", "", "problem", "", Binary, false;
    RUNNING = "running", "", "running", "", Binary, false;
    SAFETY = "safety", "", "safety", "", Binary, false;
    SOUND = "sound", "", "sound", "", Binary, false;
    TAMPER = "tamper", "", "tamper", "", Binary, false;
    VIBRATION = "vibration", "", "vibration", "", Binary, false;
    WINDOW = "window", "", "window", "", Binary, false;
    // BTHome: events.
    DIMMER = "dimmer", "", "", "", Event, false;
    STEPS = "steps", "", "", "", Sensor, false;
    // BTHome: measurements (HA device_class/unit/state_class combinations HA accepts).
    ROTATION = "rotation", "°", "", "measurement", Sensor, false;
    DISTANCE_MM = "distance mm", "mm", "distance", "measurement", Sensor, false;
    DISTANCE = "distance", "m", "distance", "measurement", Sensor, false;
    DURATION = "duration", "s", "duration", "measurement", Sensor, false;
    SPEED = "speed", "m/s", "speed", "measurement", Sensor, false;
    UV_INDEX = "uv index", "", "", "measurement", Sensor, false;
    VOLUME = "volume", "L", "volume", "total", Sensor, false;
    VOLUME_ML = "volume mL", "mL", "volume", "total", Sensor, false;
    VOLUME_FLOW_RATE = "volume flow rate", "m³/h", "volume_flow_rate", "measurement", Sensor, false;
    GAS = "gas", "m³", "gas", "total_increasing", Sensor, false;
    WATER = "water", "L", "water", "total_increasing", Sensor, false;
    TIMESTAMP = "timestamp", "", "", "", Sensor, true;
    ACCELERATION = "acceleration", "m/s²", "", "measurement", Sensor, false;
    GYROSCOPE = "gyroscope", "°/s", "", "measurement", Sensor, false;
    VOLUME_STORAGE = "volume storage", "L", "volume_storage", "measurement", Sensor, false;
    DIRECTION = "direction", "°", "", "measurement", Sensor, false;
    PRECIPITATION = "precipitation", "mm", "precipitation", "measurement", Sensor, false;
    CHANNEL = "channel", "", "", "", Sensor, false;
    ROTATIONAL_SPEED = "rotational speed", "rpm", "", "measurement", Sensor, false;
    LIGHT_LEVEL = "light level", "", "", "measurement", Sensor, false;
    // Brand formats (Qingping, Govee, Inkbird, SwitchBot, ThermoPro, Ruuvi, SensorPush...).
    DOOR_LEFT_OPEN = "door left open", "", "problem", "", Binary, false;
    HUMIDITY_PROBE_1 = "humidity probe 1", "%", "humidity", "measurement", Sensor, false;
    SENSOR_ID = "sensor id", "", "", "", Sensor, true;
    ACCELERATION_X = "acceleration x", "mG", "", "measurement", Sensor, false;
    ACCELERATION_Y = "acceleration y", "mG", "", "measurement", Sensor, false;
    ACCELERATION_Z = "acceleration z", "mG", "", "measurement", Sensor, false;
    TX_POWER = "tx power", "dBm", "signal_strength", "measurement", Sensor, true;
    MOVEMENT_COUNTER = "movement counter", "", "", "total_increasing", Sensor, false;
    VOC_INDEX = "voc index", "", "", "measurement", Sensor, false;
    NOX_INDEX = "nox index", "", "", "measurement", Sensor, false;
    SOUND_AVERAGE = "sound average", "dBA", "sound_pressure", "measurement", Sensor, false;
    SOUND_PEAK = "sound peak", "dBA", "sound_pressure", "measurement", Sensor, false;
    PM1 = "pm1", "µg/m³", "pm1", "measurement", Sensor, false;
    PM4 = "pm4", "µg/m³", "", "measurement", Sensor, false;
    // Scales (Xiaogui, Xiaomi 0x181B/0x181D): ble_monitor's keys beside `weight`.
    NON_STABILIZED_WEIGHT = "non-stabilized weight", "kg", "weight", "measurement", Sensor, false;
    STABILIZED = "stabilized", "", "", "", Binary, false;
}

repeated! {
    PROBES;
    [" probe 1", " probe 2", " probe 3", " probe 4", " probe 5", " probe 6"];
    TEMPERATURE_PROBE = "temperature", "°C", "temperature", "measurement", Sensor, false;
    TEMPERATURE_ALARM_PROBE = "temperature alarm", "°C", "temperature", "measurement", Sensor, false;
    LOW_TEMPERATURE_ALARM_PROBE = "low temperature alarm", "°C", "temperature", "measurement", Sensor, false;
}

/// Every field: this table's, then each format's own ([`crate::decode::Format::fields`]).
pub fn all() -> impl Iterator<Item = &'static Field> {
    let formats = crate::decode::FORMATS
        .iter()
        .flat_map(|f| f.fields.iter().flat_map(|list| list.iter()));
    ALL.iter()
        .chain(PROBES.iter())
        .chain(formats)
        .flat_map(|group| group.iter())
}

/// Keys two fields share on purpose: bleparser keeps `weight` for pounds (with a `weight
/// unit` text beside it), reports Ruuvi's `acceleration` in mG where BTHome's is m/s² (and
/// Blustream's is a unitless level), and ble_monitor's Oral-B `pressure` is a text.
/// A reading merges values by key ([`crate::decode::Reading::push`]), so they never meet in
/// one JSON object.
pub const SAME_KEY: &[&str] = &["weight", "acceleration", "pressure"];

/// Looks a field up by its key (config files name fields by key); the first of [`all`].
pub fn by_key(key: &str) -> Option<&'static Field> {
    all().find(|f| f.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys in [`SAME_KEY`] are the only ones two fields share.
    #[test]
    fn keys_unique_and_object_ids_valid() {
        let mut s = String::new();
        let fields: Vec<&Field> = all().collect();
        for (i, a) in fields.iter().enumerate() {
            for b in &fields[i + 1..] {
                if core::ptr::eq(*a, *b) {
                    continue;
                }
                // BTHome's numbered repeats (`weight_2`) share like their base key.
                let base = a.key.trim_end_matches(|c: char| c.is_ascii_digit());
                let base = base.strip_suffix('_').unwrap_or(a.key);
                assert!(
                    a.key != b.key || SAME_KEY.contains(&base),
                    "two fields with the key {:?}",
                    a.key
                );
            }
            a.object_id(&mut s);
            assert!(
                s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'),
                "{s}"
            );
        }
        assert_eq!(by_key("pm2.5").map(|f| f.device_class), Some("pm25"));
        assert_eq!(by_key("temperature probe 3").map(|f| f.unit), Some("°C"));
        assert!(by_key("measured power").is_some(), "a format file's field");
    }
}
