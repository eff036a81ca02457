//! Home Assistant MQTT discovery payloads (Domoticz reads the same ones).
//!
//! Pure functions: topics and JSON built with serde_json from the field table
//! ([`crate::decode::field`]), so the units and classes announced are the ones the JSON state
//! carries. What Home Assistant 2024.3 accepts (see the project notes): discovery topics
//! `<prefix>/<component>/<node_id>/<object_id>/config` with ids in `[a-zA-Z0-9_-]` only (we use
//! the 12 lower-case hex digits of the MAC as node id), a `device` block with `identifiers` and
//! `connections`, `via_device` as a string, UTF-8 units valid for the device class, retained.
//! 2026.11 takes the same (it shows `µ` as the Greek mu).
//!
//! **Several gateways**: a sensor's configs are the same bytes from every gateway (no
//! `via_device`, availability over every gateway's status topic, sorted), so Home Assistant
//! sees no config change, and so does not reset the entity, whichever gateway sent last. Only
//! a gateway's own entities (its Status, its RSSI per sensor) name it.
//!
//! Choices:
//! * **Events** (button presses, kind [`Kind::Event`]) are announced as a plain `sensor` without
//!   device_class, unit or state_class: it shows the last press. HA's MQTT `event` platform was
//!   rejected because it needs a closed `event_types` list up front (bleparser's button strings
//!   vary per model and unknown ones are dropped with a warning) and it would fire again for
//!   every publish of the merged, retained state topic (and on every HA restart).
//! * **One temperature and one humidity entity per device**: only the `temperature` and
//!   `humidity` keys carry those device classes; other fields of the same class (dew point)
//!   are announced without a device_class (unit kept), so Domoticz, which combines a device's
//!   temperature and humidity entities into one Temp+Hum device, sees exactly one of each.
//! * **expire_after**: a state message is published at least every `max_interval` while the
//!   sensor is heard, plus the wait for its next advert; passive scanning misses adverts, so we
//!   allow three broadcast intervals: `expire_after = max_interval + 3 × interval(format)`
//!   (at least 60 s). Each format declares its interval in its table entry.

use serde_json::{json, Map, Value as Json};

use crate::addr::Addr;
use crate::decode::field::{self, Field, Kind};

/// Topic roots and this gateway's identity.
#[derive(Clone, Debug)]
pub struct Topics {
    /// `base_topic` (default `hci2mqtt`).
    pub base: String,
    /// `discovery_prefix` (default `homeassistant`).
    pub prefix: String,
    /// This gateway's name, reduced to `[a-zA-Z0-9_-]`.
    pub gateway: String,
}

/// What discovery needs to know about one sensor.
#[derive(Clone, Copy, Debug)]
pub struct DeviceInfo<'a> {
    pub addr: Addr,
    pub name: &'a str,
    pub model: &'a str,
    pub manufacturer: &'a str,
    /// The format's firmware string (`Xiaomi (MiBeacon V5 encrypted)`, as xiaomi-ble reports
    /// it), or "" when the format gives none.
    pub sw_version: &'a str,
    /// Format slug of the last reading (chooses the broadcast interval).
    pub format: &'a str,
}

/// Longest gateway name taken from another gateway's status topic.
pub const MAX_ID_LEN: usize = 64;

/// Keeps `[a-zA-Z0-9_-]`, replacing anything else by `_` (empty → `gateway`).
pub fn sanitize_id(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "gateway".into()
    } else {
        out
    }
}

pub fn mac12(a: &Addr) -> String {
    let h = a.hex12();
    // hex12 yields ASCII hex digits only.
    String::from_utf8_lossy(&h).into_owned()
}

fn mac_colon_lower(a: &Addr) -> String {
    a.to_string().to_ascii_lowercase()
}

impl Topics {
    /// `<base>/<gateway>/status`: this gateway's availability (LWT `offline`, `online` on
    /// connect), retained.
    pub fn status(&self) -> String {
        self.gateway_status(&self.gateway)
    }
    /// `<base>/<gateway>/status` of any gateway.
    pub fn gateway_status(&self, gateway: &str) -> String {
        format!("{}/{}/status", self.base, gateway)
    }
    /// What every gateway's status topic matches: `<base>/+/status`.
    pub fn status_filter(&self) -> String {
        format!("{}/+/status", self.base)
    }
    /// What every sensor's state topic matches: `<base>/+`.
    pub fn state_filter(&self) -> String {
        format!("{}/+", self.base)
    }
    /// `<base>/status`: the status all gateways shared in earlier versions (cleared on start).
    pub fn legacy_status(&self) -> String {
        format!("{}/status", self.base)
    }
    /// The gateway named by a status topic (`<base>/<gateway>/status`), if `topic` is one and
    /// the name is a valid id.
    pub fn gateway_of_status<'t>(&self, topic: &'t str) -> Option<&'t str> {
        let rest = topic.strip_prefix(self.base.as_str())?.strip_prefix('/')?;
        let gw = rest.strip_suffix("/status")?;
        let valid = !gw.is_empty()
            && gw.len() <= MAX_ID_LEN
            && gw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then_some(gw)
    }
    /// The sensor whose state topic (`<base>/<mac12>`) `topic` is.
    pub fn addr_of_state(&self, topic: &str) -> Option<Addr> {
        let m12 = topic.strip_prefix(self.base.as_str())?.strip_prefix('/')?;
        let b = m12.as_bytes();
        if b.len() != 12
            || !b
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        {
            return None;
        }
        let mut a = [0u8; 6];
        for (i, byte) in a.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&m12[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Addr(a))
    }
    /// `<prefix>/status`: Home Assistant's birth/will messages.
    pub fn ha_status(&self) -> String {
        format!("{}/status", self.prefix)
    }
    /// `<base>/<mac12>`: merged JSON state of one sensor (same on every gateway).
    pub fn state(&self, a: &Addr) -> String {
        format!("{}/{}", self.base, mac12(a))
    }
    /// `<base>/<gateway>/<mac12>/rssi`: this gateway's RSSI for one sensor (room presence).
    pub fn gateway_rssi(&self, a: &Addr) -> String {
        format!("{}/{}/{}/rssi", self.base, self.gateway, mac12(a))
    }
    /// `<base>/<mac12>/tracker`: `home` / `not_home`.
    pub fn tracker(&self, a: &Addr) -> String {
        format!("{}/{}/tracker", self.base, mac12(a))
    }
    /// Device identifier of this gateway (the device of its status entity).
    pub fn gateway_id(&self) -> String {
        format!("hci2mqtt_{}", self.gateway)
    }
}

/// Device identifier of a sensor: the same on every gateway, so several gateways make one device.
pub fn device_id(a: &Addr) -> String {
    format!("hci2mqtt_{}", mac12(a))
}

/// `expire_after` for a sensor's entities (see the module doc).
/// `interval_s` is the format's broadcast interval ([`crate::decode::Format::interval_s`]).
pub fn expire_after_s(interval_s: u32, max_interval_s: f64) -> u32 {
    let max = if max_interval_s.is_finite() {
        max_interval_s.clamp(0.0, 86_400.0).ceil() as u32
    } else {
        300
    };
    (max + 3 * interval_s).max(60)
}

/// Display name of a field: `moisture detected` → `Moisture detected`; abbreviations keep
/// their usual spelling (`rssi` → `RSSI`, `pm2.5` → `PM2.5`, `co2` → `CO2`, `tvoc` → `TVOC`).
fn display_name(key: &str) -> String {
    const ABBREV: &[(&str, &str)] = &[
        ("rssi", "RSSI"),
        ("pm2.5", "PM2.5"),
        ("pm10", "PM10"),
        ("pm1", "PM1"),
        ("pm4", "PM4"),
        ("co2", "CO2"),
        ("tvoc", "TVOC"),
        ("uv index", "UV index"),
    ];
    if let Some((_, n)) = ABBREV.iter().find(|(k, _)| *k == key) {
        return n.to_string();
    }
    let mut c = key.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A sensor's device block. No `via_device`: every gateway that hears the sensor sends
/// this block, and Home Assistant's `via_device` names one device, so naming the sending
/// gateway made the config (and "connected via") change with whichever gateway sent last.
fn device_block(d: &DeviceInfo<'_>) -> Json {
    let mut j = json!({
        "identifiers": [device_id(&d.addr)],
        "connections": [["mac", mac_colon_lower(&d.addr)]],
        "name": d.name,
        "model": d.model,
        "manufacturer": d.manufacturer,
    });
    if let (false, Some(o)) = (d.sw_version.is_empty(), j.as_object_mut()) {
        o.insert("sw_version".into(), d.sw_version.into());
    }
    j
}

fn origin() -> Json {
    json!({ "name": "hci2mqtt", "sw_version": env!("CARGO_PKG_VERSION") })
}

/// HA component for a field.
pub fn component(f: &Field) -> &'static str {
    match f.kind {
        Kind::Binary => "binary_sensor",
        Kind::Sensor | Kind::Event | Kind::Text => "sensor",
    }
}

/// Discovery topic of a field of a device.
pub fn field_config_topic(t: &Topics, a: &Addr, f: &Field) -> String {
    let mut oid = String::new();
    f.object_id(&mut oid);
    format!("{}/{}/{}/{}/config", t.prefix, component(f), mac12(a), oid)
}

/// A shared entity's availability: available while any of the gateways (sorted, this one
/// included) says `online` on its status topic. Every gateway computes the same list from
/// the retained status topics, so every gateway sends the same bytes.
fn insert_availability(c: &mut Map<String, Json>, t: &Topics, gateways: &[String]) {
    let list: Vec<Json> = gateways
        .iter()
        .map(|g| json!({ "topic": t.gateway_status(g) }))
        .collect();
    c.insert("availability".into(), Json::Array(list));
    c.insert("availability_mode".into(), "any".into());
    c.insert("payload_available".into(), "online".into());
    c.insert("payload_not_available".into(), "offline".into());
}

/// The retained discovery config of one field of one device: `(topic, JSON)`, the same from
/// every gateway (`gateways`: every known gateway, sorted).
pub fn field_config(
    t: &Topics,
    gateways: &[String],
    d: &DeviceInfo<'_>,
    f: &Field,
    expire_after: u32,
) -> (String, Vec<u8>) {
    let mut oid = String::new();
    f.object_id(&mut oid);
    let m12 = mac12(&d.addr);
    let mut c = Map::new();
    c.insert("name".into(), display_name(f.key).into());
    c.insert("unique_id".into(), format!("{m12}_{oid}").into());
    c.insert("state_topic".into(), t.state(&d.addr).into());
    // Bracket form: keys may hold spaces or dots (`pm2.5`, `moisture detected`). serde_json
    // quotes the key as a JSON string, which is also a valid Jinja string literal.
    let key_lit = serde_json::to_string(f.key).unwrap_or_else(|_| "\"\"".into());
    c.insert(
        "value_template".into(),
        format!("{{{{ value_json[{key_lit}] }}}}").into(),
    );
    let class_ok = match f.device_class {
        "" => false,
        "temperature" => f.key == field::TEMPERATURE.key,
        "humidity" => f.key == field::HUMIDITY.key,
        _ => true,
    };
    match f.kind {
        Kind::Binary => {
            if class_ok {
                c.insert("device_class".into(), f.device_class.into());
            }
            c.insert("payload_on".into(), "1".into());
            c.insert("payload_off".into(), "0".into());
            c.insert("expire_after".into(), expire_after.into());
        }
        Kind::Sensor => {
            if class_ok {
                c.insert("device_class".into(), f.device_class.into());
            }
            if !f.unit.is_empty() {
                c.insert("unit_of_measurement".into(), f.unit.into());
            }
            if !f.state_class.is_empty() {
                c.insert("state_class".into(), f.state_class.into());
            }
            c.insert("expire_after".into(), expire_after.into());
        }
        Kind::Text => {
            c.insert("expire_after".into(), expire_after.into());
        }
        // The last press stays meaningful: no expiry.
        Kind::Event => {}
    }
    if f.diagnostic {
        c.insert("entity_category".into(), "diagnostic".into());
    }
    insert_availability(&mut c, t, gateways);
    c.insert("device".into(), device_block(d));
    c.insert("origin".into(), origin());
    (field_config_topic(t, &d.addr, f), to_vec(&Json::Object(c)))
}

/// This gateway's own RSSI entity for a sensor (room presence), on the sensor's device;
/// available while this gateway is. The only RSSI entity: a shared one would show whichever
/// gateway published last.
pub fn gateway_rssi_config(t: &Topics, d: &DeviceInfo<'_>, expire_after: u32) -> (String, Vec<u8>) {
    let m12 = mac12(&d.addr);
    let oid = format!("rssi_{}", t.gateway);
    let c = json!({
        "name": format!("RSSI {}", t.gateway),
        "unique_id": format!("{m12}_{oid}"),
        "state_topic": t.gateway_rssi(&d.addr),
        "device_class": "signal_strength",
        "unit_of_measurement": "dBm",
        "state_class": "measurement",
        "entity_category": "diagnostic",
        "expire_after": expire_after,
        "availability_topic": t.status(),
        "device": device_block(d),
        "origin": origin(),
    });
    (
        format!("{}/sensor/{}/{}/config", t.prefix, m12, oid),
        to_vec(&c),
    )
}

/// The config topic of the shared RSSI entity that earlier versions announced on every
/// sensor (`<prefix>/sensor/<mac12>/rssi/config`): cleared, its value flipped between gateways.
pub fn legacy_rssi_config_topic(t: &Topics, a: &Addr) -> String {
    format!("{}/sensor/{}/rssi/config", t.prefix, mac12(a))
}

/// The gateway's own device: a connectivity entity fed by `<base>/<gateway>/status` (no
/// availability of its own: `offline` shows as "disconnected", not "unavailable").
pub fn gateway_config(t: &Topics) -> (String, Vec<u8>) {
    let id = t.gateway_id();
    let c = json!({
        "name": "Status",
        "unique_id": format!("{id}_status"),
        "state_topic": t.status(),
        "payload_on": "online",
        "payload_off": "offline",
        "device_class": "connectivity",
        "entity_category": "diagnostic",
        "device": {
            "identifiers": [id],
            "name": format!("hci2mqtt {}", t.gateway),
            "model": "hci2mqtt",
            "manufacturer": "hci2mqtt",
            "sw_version": env!("CARGO_PKG_VERSION"),
        },
        "origin": origin(),
    });
    (
        format!("{}/binary_sensor/{}/status/config", t.prefix, id),
        to_vec(&c),
    )
}

/// A `[[tracker]]` entry: `device_tracker` fed by `<base>/<mac12>/tracker`.
pub fn tracker_config(t: &Topics, gateways: &[String], a: &Addr, name: &str) -> (String, Vec<u8>) {
    let m12 = mac12(a);
    let mut c = json!({
        "name": Json::Null,
        "unique_id": format!("{m12}_tracker"),
        "state_topic": t.tracker(a),
        "payload_home": "home",
        "payload_not_home": "not_home",
        "source_type": "bluetooth_le",
        "device": {
            "identifiers": [device_id(a)],
            "connections": [["mac", mac_colon_lower(a)]],
            "name": name,
        },
        "origin": origin(),
    });
    if let Some(o) = c.as_object_mut() {
        insert_availability(o, t, gateways);
    }
    (
        format!("{}/device_tracker/{}/tracker/config", t.prefix, m12),
        to_vec(&c),
    )
}

fn to_vec(v: &Json) -> Vec<u8> {
    // A Value tree of strings and numbers always serialises.
    serde_json::to_vec(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {

    #[test]
    fn display_names_keep_abbreviations() {
        assert_eq!(display_name("rssi"), "RSSI");
        assert_eq!(display_name("pm2.5"), "PM2.5");
        assert_eq!(display_name("moisture detected"), "Moisture detected");
        assert_eq!(display_name("temperature"), "Temperature");
    }

    use super::*;

    fn topics() -> Topics {
        Topics {
            base: "hci2mqtt".into(),
            prefix: "homeassistant".into(),
            gateway: "attic".into(),
        }
    }

    fn gws() -> Vec<String> {
        vec!["attic".into(), "cellar".into()]
    }

    fn dev() -> DeviceInfo<'static> {
        DeviceInfo {
            addr: Addr([0xA4, 0xC1, 0x38, 0xB4, 0x94, 0x4C]),
            name: "Kitchen",
            model: "LYWSD03MMC",
            manufacturer: "Xiaomi",
            sw_version: "ATC (Atc1441)",
            format: "atc1441",
        }
    }

    fn parse(p: &[u8]) -> Json {
        serde_json::from_slice(p).unwrap()
    }

    #[test]
    fn temperature_config() {
        let (topic, p) = field_config(&topics(), &gws(), &dev(), &field::TEMPERATURE, 330);
        assert_eq!(
            topic,
            "homeassistant/sensor/a4c138b4944c/temperature/config"
        );
        let c = parse(&p);
        assert_eq!(c["unique_id"], "a4c138b4944c_temperature");
        assert_eq!(c["state_topic"], "hci2mqtt/a4c138b4944c");
        assert_eq!(c["value_template"], "{{ value_json[\"temperature\"] }}");
        assert_eq!(c["device_class"], "temperature");
        assert_eq!(c["unit_of_measurement"], "°C");
        assert_eq!(c["state_class"], "measurement");
        assert_eq!(c["expire_after"], 330);
        assert_eq!(
            c["availability"],
            json!([{"topic": "hci2mqtt/attic/status"}, {"topic": "hci2mqtt/cellar/status"}])
        );
        assert_eq!(c["availability_mode"], "any");
        assert!(c.get("entity_category").is_none());
        let d = &c["device"];
        assert_eq!(d["identifiers"][0], "hci2mqtt_a4c138b4944c");
        assert_eq!(d["connections"][0][1], "a4:c1:38:b4:94:4c");
        assert!(
            d.get("via_device").is_none(),
            "no via_device: the same from every gateway"
        );
        assert_eq!(d["model"], "LYWSD03MMC");
        assert_eq!(d["sw_version"], "ATC (Atc1441)");
        let none = DeviceInfo {
            sw_version: "",
            ..dev()
        };
        let c = parse(&field_config(&topics(), &gws(), &none, &field::TEMPERATURE, 330).1);
        assert!(
            c["device"].get("sw_version").is_none(),
            "no empty sw_version"
        );
    }

    #[test]
    fn kinds_and_odd_keys() {
        let (topic, p) = field_config(&topics(), &gws(), &dev(), &field::PM25, 100);
        assert_eq!(topic, "homeassistant/sensor/a4c138b4944c/pm2_5/config");
        assert_eq!(parse(&p)["value_template"], "{{ value_json[\"pm2.5\"] }}");
        let (topic, p) = field_config(&topics(), &gws(), &dev(), &field::MOTION, 100);
        assert_eq!(
            topic,
            "homeassistant/binary_sensor/a4c138b4944c/motion/config"
        );
        let c = parse(&p);
        assert_eq!(
            (c["payload_on"].as_str(), c["device_class"].as_str()),
            (Some("1"), Some("motion"))
        );
        assert!(c.get("unit_of_measurement").is_none());
        let c = parse(&field_config(&topics(), &gws(), &dev(), &field::BUTTON, 100).1);
        assert!(
            c.get("device_class").is_none()
                && c.get("state_class").is_none()
                && c.get("expire_after").is_none()
        );
        let c = parse(&field_config(&topics(), &gws(), &dev(), &field::VOLTAGE, 100).1);
        assert_eq!(c["entity_category"], "diagnostic");
        // a second temperature-class field does not become a second temperature entity
        let c = parse(&field_config(&topics(), &gws(), &dev(), &field::DEWPOINT, 100).1);
        assert!(c.get("device_class").is_none());
        assert_eq!(c["unit_of_measurement"], "°C");
    }

    #[test]
    fn ids_are_restricted() {
        let t = Topics {
            gateway: sanitize_id("living room.pi"),
            ..topics()
        };
        assert_eq!(t.gateway, "living_room_pi");
        for f in field::all() {
            let topic = field_config_topic(&t, &dev().addr, f);
            let parts: Vec<&str> = topic.split('/').collect();
            assert_eq!(parts.len(), 5, "{topic}");
            for id in &parts[2..4] {
                assert!(
                    id.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
                    "{topic}"
                );
            }
        }
        let (topic, _) = gateway_rssi_config(&t, &dev(), 100);
        assert_eq!(
            topic,
            "homeassistant/sensor/a4c138b4944c/rssi_living_room_pi/config"
        );
    }

    /// The config of a shared entity is the same bytes whichever gateway builds it; only
    /// the gateway's own entities (its RSSI, its status) name it.
    #[test]
    fn shared_configs_do_not_depend_on_the_gateway() {
        let cellar = Topics {
            gateway: "cellar".into(),
            ..topics()
        };
        for f in field::all() {
            assert_eq!(
                field_config(&topics(), &gws(), &dev(), f, 330),
                field_config(&cellar, &gws(), &dev(), f, 330),
                "{}",
                f.key
            );
        }
        let a = dev().addr;
        assert_eq!(
            tracker_config(&topics(), &gws(), &a, "Keys"),
            tracker_config(&cellar, &gws(), &a, "Keys")
        );
        let (_, r) = gateway_rssi_config(&cellar, &dev(), 330);
        let r = parse(&r);
        assert_eq!(r["availability_topic"], "hci2mqtt/cellar/status");
        assert_eq!(r["state_topic"], "hci2mqtt/cellar/a4c138b4944c/rssi");
        let (topic, g) = gateway_config(&cellar);
        assert_eq!(
            topic,
            "homeassistant/binary_sensor/hci2mqtt_cellar/status/config"
        );
        assert_eq!(parse(&g)["state_topic"], "hci2mqtt/cellar/status");
    }

    #[test]
    fn status_and_state_topics_parse_back() {
        let t = topics();
        assert_eq!(t.status(), "hci2mqtt/attic/status");
        assert_eq!(
            t.gateway_of_status("hci2mqtt/cellar/status"),
            Some("cellar")
        );
        assert_eq!(t.gateway_of_status("hci2mqtt/status"), None);
        assert_eq!(t.gateway_of_status("hci2mqtt/a b/status"), None);
        assert_eq!(t.gateway_of_status("hci2mqttx/cellar/status"), None);
        assert_eq!(t.gateway_of_status("hci2mqtt/a/b/status"), None);
        let a = dev().addr;
        assert_eq!(t.addr_of_state(&t.state(&a)), Some(a));
        assert_eq!(t.addr_of_state("hci2mqtt/status"), None);
        assert_eq!(t.addr_of_state("hci2mqtt/A4C138B4944C"), None);
        assert_eq!(t.addr_of_state("hci2mqtt/a4c138b4944c/tracker"), None);
    }

    #[test]
    fn expiry_covers_interval() {
        assert_eq!(
            expire_after_s(crate::decode::atc::FORMAT.interval_s, 300.0),
            330
        );
        assert_eq!(
            expire_after_s(crate::decode::mibeacon::FORMAT.interval_s, 300.0),
            2100
        );
        assert_eq!(expire_after_s(600, 0.0), 1800);
        assert_eq!(expire_after_s(10, 0.0), 60);
    }
}
