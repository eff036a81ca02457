//! Vector harness for the fmt-b formats (Qingping, Govee, Inkbird, SwitchBot, ThermoPro,
//! Thermobeacon, Ruuvi, SensorPush, iBeacon/AltBeacon).
//!
//! Every vector goes through the real [`Pipeline`]: HCI vectors as given; the others as AD bytes
//! wrapped in a synthetic legacy LE Advertising Report (`04 3E len 02 01 evtype addrtype
//! addr[6 LE] datalen data rssi`). `preceding_inputs` are fed first, to the same pipeline.
//!
//! How a non-HCI input becomes AD bytes:
//! * `adv_data_hex` (the "raw" tests) is used as is, plus a Complete Local Name when the vector
//!   names the device and the raw bytes have none.
//! * otherwise: Complete Local Name (`local_name`, when not empty), the 16-bit and 128-bit
//!   service UUID lists (`service_uuids`), every service-data entry, then manufacturer data.
//! * Manufacturer data: Home Assistant hands parsers a dict *accumulated over many adverts*
//!   (newest last); one advert on the air carries one vendor entry (plus, for some vendors,
//!   Apple's iBeacon entry). So each input is replayed as one advert per vendor entry that is
//!   new or changed since the previous input (what the radio must have received since), in
//!   dict order, each with the Apple (0x004C) entries; if nothing changed, one advert with the
//!   newest entry.
//!
//! Comparison: the readings produced by all inputs of a vector are accumulated key by key
//! (later values replace earlier ones), as Home Assistant accumulates sensor state; the
//! metadata (`firmware`, `model`, `mac`, `packet`, `rssi`) come from the last reading.

#![allow(dead_code)]

use std::collections::BTreeMap;

use hci2mqtt::decode::{KeyStore, Reading, Value};
use hci2mqtt::hci::event::Addr;
use hci2mqtt::pipeline::{Options, Pipeline};
use serde_json::Value as J;

/// The AD bytes of every fmt-b vector (its raw AD data, else the structures built from its
/// fields): seeds of the fuzz test and the inputs of the allocation test.
#[allow(dead_code)]
pub fn vector_ads() -> Vec<Vec<u8>> {
    include_str!("../data/vectors/fmt-b.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<J>(l).ok())
        .flat_map(|v| {
            let mut prev = Default::default();
            match v.get("adv_data_hex").and_then(J::as_str) {
                Some(h) => vec![unhex(h)],
                None => build_ads(&v, &v, &mut prev),
            }
        })
        .collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    let s = s.as_bytes();
    let d = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex digit {c}"),
    };
    assert!(s.len() % 2 == 0, "odd hex length");
    s.chunks(2).map(|p| (d(p[0]) << 4) | d(p[1])).collect()
}

fn push_ad(out: &mut Vec<u8>, ty: u8, payload: &[u8]) {
    out.push(payload.len() as u8 + 1);
    out.push(ty);
    out.extend_from_slice(payload);
}

/// Parses a 128-bit UUID string into its little-endian wire form.
fn uuid128_le(s: &str) -> Option<[u8; 16]> {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    if h.len() != 32 {
        return None;
    }
    let b = unhex(&h);
    let mut out = [0u8; 16];
    for i in 0..16 {
        out[i] = b[15 - i];
    }
    Some(out)
}

/// AD bytes for one input object (the vector itself or one of its `preceding_inputs`).
pub fn build_ad(input: &J, vector: &J) -> Vec<u8> {
    let mut ad = Vec::new();
    let name = input.get("local_name").and_then(J::as_str).unwrap_or("");
    if let Some(raw) = input.get("adv_data_hex").and_then(J::as_str) {
        ad = unhex(raw);
        let has_name = hci2mqtt::adv::structures(&ad)
            .valid()
            .any(|s| s.name().is_some());
        if !name.is_empty() && !has_name {
            push_ad(&mut ad, 0x09, name.as_bytes());
        }
        return ad;
    }
    if !name.is_empty() {
        push_ad(&mut ad, 0x09, name.as_bytes());
    }
    if let Some(list) = input.get("service_uuids").and_then(J::as_array) {
        let mut u16s = Vec::new();
        let mut u128s = Vec::new();
        for u in list.iter().filter_map(J::as_str) {
            if u.len() == 4 {
                let v = unhex(u);
                u16s.extend_from_slice(&[v[1], v[0]]);
            } else if let Some(b) = uuid128_le(u) {
                u128s.extend_from_slice(&b);
            }
        }
        if !u16s.is_empty() {
            push_ad(&mut ad, 0x03, &u16s);
        }
        if !u128s.is_empty() {
            push_ad(&mut ad, 0x07, &u128s);
        }
    }
    let mut sd: Vec<(String, String)> = Vec::new();
    if let Some(all) = input.get("service_data_all").and_then(J::as_object) {
        for (k, v) in all {
            sd.push((k.clone(), v.as_str().unwrap_or("").to_string()));
        }
    } else if let (Some(u), Some(d)) = (
        input.get("service_uuid").and_then(J::as_str),
        input.get("service_data_hex").and_then(J::as_str),
    ) {
        sd.push((u.to_string(), d.to_string()));
    }
    for (u, d) in sd {
        let u = if u.len() > 4 { u[4..8].to_string() } else { u };
        let uv = unhex(&u);
        let mut p = vec![uv[1], uv[0]];
        p.extend(unhex(&d));
        push_ad(&mut ad, 0x16, &p);
    }
    let _ = vector;
    ad
}

/// The adverts one input stands for: the common part (name, UUIDs, service data) plus the
/// manufacturer data, see the module doc. `prev` is the previous input's manufacturer dict.
pub fn build_ads(input: &J, vector: &J, prev: &mut BTreeMap<u64, String>) -> Vec<Vec<u8>> {
    let base = build_ad(input, vector);
    if input.get("adv_data_hex").and_then(J::as_str).is_some() {
        return vec![base];
    }
    let Some(md) = input.get("manufacturer_data").and_then(J::as_array) else {
        return vec![base];
    };
    let entry = |e: &J| {
        (
            e["company_id"].as_u64().unwrap_or(0),
            e["data_hex"].as_str().unwrap_or("").to_string(),
        )
    };
    let apple: Vec<(u64, String)> = md.iter().map(entry).filter(|(c, _)| *c == 76).collect();
    let others: Vec<(u64, String)> = md.iter().map(entry).filter(|(c, _)| *c != 76).collect();
    let changed: Vec<(u64, String)> = others
        .iter()
        .filter(|(c, d)| prev.get(c) != Some(d))
        .cloned()
        .collect();
    let frames: Vec<(u64, String)> = if !changed.is_empty() {
        changed
    } else {
        others.last().cloned().into_iter().collect()
    };
    *prev = others.into_iter().collect();
    let with = |ad: &mut Vec<u8>, (cid, d): &(u64, String)| {
        let mut p = (*cid as u16).to_le_bytes().to_vec();
        p.extend(unhex(d));
        push_ad(ad, 0xFF, &p);
    };
    if frames.is_empty() {
        let mut ad = base;
        apple.iter().for_each(|a| with(&mut ad, a));
        return vec![ad];
    }
    frames
        .iter()
        .map(|f| {
            let mut ad = base.clone();
            with(&mut ad, f);
            apple.iter().for_each(|a| with(&mut ad, a));
            ad
        })
        .collect()
}

/// A legacy LE Advertising Report event (ADV_IND, public address).
pub fn adv_event(addr: Addr, rssi: i8, ad: &[u8]) -> Vec<u8> {
    let mut ev = vec![0x04, 0x3E, 0, 0x02, 1, 0x00, 0x00];
    ev.extend_from_slice(&addr.to_le());
    ev.push(ad.len() as u8);
    ev.extend_from_slice(ad);
    ev.push(rssi as u8);
    ev[2] = (ev.len() - 3) as u8;
    ev
}

fn input_addr(input: &J, vector: &J) -> Addr {
    input
        .get("mac")
        .and_then(J::as_str)
        .or_else(|| vector.get("mac").and_then(J::as_str))
        .and_then(|m| Addr::parse(&m.to_ascii_uppercase()))
        // macOS-style device UUIDs in some tests: any fixed address will do.
        .unwrap_or(Addr([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]))
}

/// What the pipeline produced for one vector.
#[derive(Default, Debug)]
pub struct Outcome {
    /// Every reading, in order.
    pub readings: Vec<Reading>,
    /// Accumulated values (key → value), later readings replacing earlier ones.
    pub values: BTreeMap<String, Value>,
    /// AD data of the last input (for helpers that read the advert directly, e.g. beacon UUID).
    pub last_ad: Vec<u8>,
}

impl Outcome {
    pub fn last(&self) -> Option<&Reading> {
        self.readings.last()
    }
}

/// Runs a vector (preceding inputs first) through a fresh pipeline.
pub fn run_vector(v: &J) -> Outcome {
    let mut p = Pipeline::new(KeyStore::default(), Options::default());
    let mut out = Outcome::default();
    let mut inputs: Vec<&J> = Vec::new();
    if let Some(pre) = v.get("preceding_inputs").and_then(J::as_array) {
        inputs.extend(pre.iter());
    }
    inputs.push(v);
    let mut prev = BTreeMap::new();
    for input in inputs {
        let pkts: Vec<Vec<u8>> = if let Some(h) = input.get("hci_event_hex").and_then(J::as_str) {
            out.last_ad = v
                .get("adv_data_hex")
                .and_then(J::as_str)
                .map(unhex)
                .unwrap_or_default();
            vec![unhex(h)]
        } else {
            let rssi = input
                .get("rssi")
                .or_else(|| v.get("rssi"))
                .and_then(J::as_i64)
                .unwrap_or(-60) as i8;
            build_ads(input, v, &mut prev)
                .into_iter()
                .map(|ad| {
                    let ev = adv_event(input_addr(input, v), rssi, &ad);
                    out.last_ad = ad;
                    ev
                })
                .collect()
        };
        let mut got: Vec<Reading> = Vec::new();
        for pkt in &pkts {
            p.handle_packet(pkt, &mut |r: &Reading| got.push(r.clone()));
        }
        for r in got {
            for (f, val) in r.values() {
                out.values.insert(f.key.to_string(), *val);
            }
            out.readings.push(r);
        }
    }
    out
}

/// How an expected key is checked.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A published value with this key.
    Value(String),
    Rssi,
    Firmware,
    Model,
    /// bleparser `mac` (hex12, the sensor address of the reading).
    Mac,
    /// bleparser `packet` (`"no packet id"` = none).
    Packet,
    /// bleparser `data: True` (a reading with values was produced).
    Data,
    /// Beacon UUID (not a Reading value: see `ibeacon.rs`), checked through `ibeacon::beacon_uuid`.
    Uuid {
        dashed: bool,
    },
    /// Not published by hci2mqtt, with the reason.
    NotPublished(&'static str),
}

/// Source key names (SensorUpdate entity keys, pySwitchbot keys, ruuvitag-ble decoder
/// attributes) → ours, where they differ. Applied before the generic rule
/// (`_` → space, `@device` suffix dropped).
pub static KEY_MAP: &[(&str, &str)] = &[
    ("carbon_dioxide", "co2"),
    ("pm25", "pm2.5"),
    ("volatile_organic_compounds", "tvoc"),
    ("dew_point", "dewpoint"),
    // ruuvitag-ble decoder attributes
    ("temperature_celsius", "temperature"),
    ("humidity_percentage", "humidity"),
    ("pressure_hpa", "pressure"),
    ("pm1_ug_m3", "pm1"),
    ("pm25_ug_m3", "pm2.5"),
    ("pm4_ug_m3", "pm4"),
    ("pm10_ug_m3", "pm10"),
    ("co2_ppm", "co2"),
    ("luminosity_lux", "illuminance"),
    ("sound_avg_dba", "sound average"),
    ("acceleration_total", "acceleration"),
    // pySwitchbot
    ("motion_detected", "motion"),
    ("contact_open", "opening"),
    ("leak", "moisture detected"),
    ("lightLevel", "light level"),
    // Qingping door sensor: `key:(None, 'door_left_open')`
    ("key:(None, 'door_left_open')", "door left open"),
];

/// Keys that exist only in the source library's object model and that hci2mqtt does not
/// publish, with the reason.
pub static NOT_PUBLISHED: &[(&str, &str)] = &[
    (
        "manufacturer",
        "bleparser beacon vendor string; not a measurement",
    ),
    ("calibration_in_progress", "Ruuvi Air internal state"),
    (
        "fahrenheit",
        "SwitchBot display-unit setting, not a measurement",
    ),
    ("temp", "SwitchBot duplicate of temperature in {c, f}"),
    (
        "sequence_number",
        "SwitchBot frame counter (kept as packet id)",
    ),
    ("button_count", "SwitchBot contact-sensor button counter"),
    ("tested", "SwitchBot self-test flag"),
    ("iot", "SwitchBot cloud flag"),
    ("led", "SwitchBot LED setting"),
    ("led_state", "SwitchBot LED setting"),
    ("sense_distance", "SwitchBot configuration"),
    (
        "light_intensity",
        "SwitchBot coarse light level (is_light published as 'light')",
    ),
    ("contact_timeout", "SwitchBot 'open for too long' flag"),
    ("isOn", "SwitchBot Climate Panel state"),
    ("humidity_alarm", "SwitchBot alarm setting"),
    ("temp_alarm", "SwitchBot alarm setting"),
    ("temperature_alarm", "SwitchBot alarm setting"),
    ("network_state", "SwitchBot hub network state"),
    ("sensor_inserted", "SwitchBot hub probe presence"),
    ("adaptive_state", "SwitchBot presence-sensor setting"),
    ("battery_range", "SwitchBot coarse battery text"),
    ("duration", "SwitchBot presence duration"),
    ("trigger_flag", "SwitchBot internal"),
    ("tampered", "SwitchBot leak detector tamper flag"),
    ("low_battery", "SwitchBot leak detector flag"),
];

pub fn map_key(key: &str) -> Target {
    // `key@device_id` (govee-ble H5178 primary/remote): the device is the reading's address.
    let key = key.split('@').next().unwrap_or(key);
    match key {
        "rssi" | "signal_strength" => return Target::Rssi,
        "firmware" => return Target::Firmware,
        "type" => return Target::Model,
        "mac" => return Target::Mac,
        // ruuvitag-ble's sequence number is the frame counter = our packet id.
        "packet" | "measurement_sequence_number" => return Target::Packet,
        "data" => return Target::Data,
        "uuid" => return Target::Uuid { dashed: false },
        "str(UUID(uuid))" => return Target::Uuid { dashed: true },
        _ => {}
    }
    if let Some((_, why)) = NOT_PUBLISHED.iter().find(|(k, _)| *k == key) {
        return Target::NotPublished(why);
    }
    let base = key.split('@').next().unwrap_or(key);
    if let Some((_, ours)) = KEY_MAP.iter().find(|(k, _)| *k == base) {
        return Target::Value(ours.to_string());
    }
    if base == "is_light" {
        return Target::Value("light".into());
    }
    Target::Value(base.replace('_', " "))
}

/// Compares one expected JSON value with a published value. `None` = equal.
pub fn compare(expected: &J, got: Option<Value>) -> Option<String> {
    let close =
        |a: f64, b: f64, rel: f64, abs: f64| (a - b).abs() <= abs.max(rel * a.abs().max(b.abs()));
    match (expected, got) {
        // `null` (not decodable) and HA's "error" state: the key must be absent.
        (J::Null, None) => None,
        (J::String(s), None) if s == "error" => None,
        (J::Null, Some(g)) => Some(format!("expected absent, got {g:?}")),
        (J::String(s), Some(g)) if s == "error" => {
            Some(format!("expected absent (source: error), got {g:?}"))
        }
        (_, None) => Some(format!("expected {expected}, missing")),
        (J::Bool(b), Some(g)) => {
            if g.as_f64() == Some(if *b { 1.0 } else { 0.0 }) {
                None
            } else {
                Some(format!("expected {b}, got {g:?}"))
            }
        }
        (J::Number(n), Some(g)) => {
            let e = n.as_f64().unwrap_or(f64::NAN);
            match g.as_f64() {
                Some(x) if close(e, x, 1e-6, 1e-9) => None,
                _ => Some(format!("expected {e}, got {g:?}")),
            }
        }
        (J::String(s), Some(Value::Text(t))) if s == t => None,
        (J::String(s), Some(g)) => Some(format!("expected {s:?}, got {g:?}")),
        (J::Object(o), Some(g)) if o.contains_key("approx") => {
            let e = o["approx"].as_f64().unwrap_or(f64::NAN);
            let tol = o.get("abs").and_then(J::as_f64).unwrap_or(1e-6);
            match g.as_f64() {
                Some(x) if close(e, x, 0.0, tol) => None,
                _ => Some(format!("expected ≈{e}±{tol}, got {g:?}")),
            }
        }
        (_, Some(g)) => Some(format!("expected {expected}, got {g:?}")),
    }
}

/// Every mismatch of one vector as (key, description).
pub fn check_vector(
    v: &J,
    out: &Outcome,
    beacon_uuid: fn(&[u8]) -> Option<[u8; 16]>,
) -> Vec<(String, String)> {
    let mut bad: Vec<(String, String)> = Vec::new();
    let err = !v["expect_error"].is_null();
    let last = out.last();
    if err {
        // bleparser "sensor_msg is None", pySwitchbot None/empty, ruuvitag-ble raises: nothing.
        if let Some(r) = last {
            if !r.is_empty() {
                bad.push((
                    "*".into(),
                    format!("expected no reading, got {:?}", r.values()),
                ));
            }
        }
        return bad;
    }
    let mut expected = v["expected"].as_object().cloned().unwrap_or_default();
    // bleparser tracker_msg asserts: hci2mqtt publishes trackers as readings (see ibeacon.rs),
    // so the same checks apply; `tracker_id` is the UUID.
    if let Some(t) = v["expected_tracker"].as_object() {
        for (k, e) in t {
            match k.as_str() {
                "__is_none__" | "__truthy__" => {}
                "tracker_id" => {
                    expected.insert("uuid".into(), e["bytes_hex"].clone());
                }
                _ => {
                    expected.insert(k.clone(), e.clone());
                }
            }
        }
    }
    // SensorUpdate events: `button_N` press → our `button` event "button N"; other events
    // (motion, vibration) → the binary state set to 1.
    if let Some(ev) = v["expected_events"].as_object() {
        for k in ev.keys() {
            if let Some(n) = k.strip_prefix("button_") {
                expected.insert("button".into(), J::String(format!("button {n}")));
            } else {
                expected.insert(k.clone(), J::Bool(true));
            }
        }
    }
    let complete = v["expected_is_complete"].as_bool().unwrap_or(false);
    let mut checked_values: Vec<String> = Vec::new();
    let style = v["expected_style"].as_str().unwrap_or("");
    for (k, e) in &expected {
        let t = if k == "mac" && style.starts_with("ruuvitag-ble") {
            Target::NotPublished(
                "Ruuvi Air in-frame MAC (fragment); the reading uses the advertiser address",
            )
        } else {
            map_key(k)
        };
        let problem = match &t {
            Target::NotPublished(_) => None,
            Target::Rssi => match last {
                // HA always has the signal sensor; bleparser only inside a message.
                None => None,
                Some(r) => {
                    if r.rssi.map(|x| x as i64) == e.as_i64() {
                        None
                    } else {
                        Some(format!("rssi {:?} vs {e}", r.rssi))
                    }
                }
            },
            Target::Firmware => match last {
                Some(r) if Some(r.firmware) == e.as_str() => None,
                r => Some(format!("firmware {:?} vs {e}", r.map(|r| r.firmware))),
            },
            Target::Model => match last {
                Some(r) if Some(r.model) == e.as_str() => None,
                r => Some(format!("model {:?} vs {e}", r.map(|r| r.model))),
            },
            Target::Mac => match last {
                Some(r)
                    if e.as_str()
                        .is_some_and(|m| m.as_bytes().eq_ignore_ascii_case(&r.addr.hex12())) =>
                {
                    None
                }
                r => Some(format!("mac {:?} vs {e}", r.map(|r| r.addr))),
            },
            Target::Packet => match (last, e) {
                (Some(r), J::String(s)) if s == "no packet id" && r.packet.is_none() => None,
                (Some(r), J::Number(n)) if r.packet.map(|p| p as u64) == n.as_u64() => None,
                (Some(r), J::Null) if r.packet.is_none() => None,
                (None, J::Null) => None,
                (r, _) => Some(format!("packet {:?} vs {e}", r.map(|r| r.packet))),
            },
            Target::Data => None,
            Target::Uuid { dashed } => {
                let want: String = e
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| *c != '-')
                    .collect();
                let got = beacon_uuid(&out.last_ad)
                    .map(|u| u.iter().map(|b| format!("{b:02x}")).collect::<String>());
                let _ = dashed;
                if got.as_deref() == Some(want.as_str()) {
                    None
                } else {
                    Some(format!("uuid {got:?} vs {want}"))
                }
            }
            Target::Value(key) => {
                checked_values.push(key.clone());
                // Nested objects other than approx (SwitchBot temp {c,f}) never map to a value.
                compare(e, out.values.get(key).copied())
            }
        };
        if let Some(p) = problem {
            bad.push((k.clone(), p));
        }
    }
    for k in v["expected_present"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(J::as_str)
    {
        match map_key(k) {
            Target::Data if last.map(|r| r.is_empty()).unwrap_or(true) => {
                bad.push((k.into(), "expected a reading with values".into()));
            }
            Target::Value(key) if !out.values.contains_key(&key) => {
                bad.push((k.into(), "expected present".into()));
            }
            _ => {}
        }
    }
    for k in v["expected_absent"]
        .as_array()
        .into_iter()
        .chain(v["expected_null"].as_array())
        .flatten()
    {
        if let Some(k) = k.as_str() {
            if let Target::Value(key) = map_key(k) {
                if out.values.contains_key(&key) {
                    bad.push((k.into(), "expected absent".into()));
                }
            }
        }
    }
    if complete {
        for (k, val) in &out.values {
            if !checked_values.contains(k) {
                bad.push((
                    k.clone(),
                    format!("extra value {val:?} (expected_is_complete)"),
                ));
            }
        }
    }
    bad
}
