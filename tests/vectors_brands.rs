//! Table-driven test over every public corpus vector of the brand formats (qingping, govee,
//! inkbird, switchbot, thermopro, thermobeacon, ruuvi-*, sensorpush, ibeacon, altbeacon),
//! copied verbatim into `tests/data/vectors/brands.jsonl`.
//!
//! Each vector runs through the whole [`hci2mqtt_core::Pipeline`] (see `support/vectors.rs`
//! for how inputs become HCI events and how results are accumulated). Key names are mapped
//! with [`KEY_MAP`] / [`NOT_PUBLISHED`]; the rule for the rest is
//! "underscores become spaces" (SensorUpdate `temperature_probe_1` = bleparser
//! `temperature probe 1`), `signal_strength`/`rssi` are the report's RSSI, bleparser `type`
//! is our `model`, `mac` is the reading's sensor address and `packet` its frame counter.
//!
//! Where hci2mqtt deliberately differs from a vector, the (vector id, key) pair is listed in
//! [`DEVIATIONS`] with the reason. Any other mismatch fails the test, and so does a deviation
//! entry that no longer matches anything (so the table cannot go stale).

mod support;

use std::collections::BTreeMap;

use hci2mqtt_core::decode::Value;
use serde_json::Value as J;
use support::compare::{matches, Got};
use support::vectors::{run, Outcome};

/// (vector id, expected key or `*` for the whole vector, reason).
static DEVIATIONS: &[(&str, &str, &str)] = &[
    // iBeacon
    (IB_SENSOR, "cypress temperature", CYPRESS),
    (IB_SENSOR, "cypress humidity", CYPRESS),
    (IB_TRACKER, "cypress temperature", CYPRESS),
    (IB_TRACKER, "cypress humidity", CYPRESS),
    // Govee
    ("govee-ble:test_parser:test_gvh5178", "sensor id", SENSOR_ID),
    (
        "govee-ble:test_parser:test_gvh5178_error",
        "sensor id",
        SENSOR_ID,
    ),
    (
        "govee-ble:test_parser:test_gvh5178_primary",
        "sensor id",
        SENSOR_ID,
    ),
    ("ble_monitor:test_govee_parser:test_Govee_H5055", "*", H5055),
    // Inkbird
    (
        "bleparser:test_inkbird:test_inkbird_iBBQ_6_probes",
        "*",
        IBBQ_NO_PROBE,
    ),
    (
        "inkbird-ble:test_parser:test_xbbq_multiple_mfr_data",
        "*",
        HA_DICT,
    ),
    // ThermoPro: HA dicts with many entries that the library refuses as ambiguous
    ("thermopro-ble:test_parser:test_tp357s#2", "*", HA_DICT),
    (
        "thermopro-ble:test_parser:test_tp357s_four_updates",
        "*",
        HA_DICT,
    ),
    (
        "thermopro-ble:test_parser:test_tp393_multi_updates",
        "*",
        HA_DICT,
    ),
    // Ruuvi
    (
        "bleparser:test_ruuvitag_parser:test_ruuvitag_v5",
        "motion",
        RUUVI_MOTION,
    ),
    (
        "bleparser:test_ruuvitag_parser:test_ruuvitag_v5",
        "motion timer",
        RUUVI_MOTION,
    ),
    (
        "ruuvitag-ble:test_v6:test_parsing_v6_invalid_data",
        "measurement_sequence_number",
        RUUVI_EMPTY,
    ),
    // SensorPush
    (
        "sensorpush-ble:test_parser:test_ht1_large_data_set",
        "*",
        HA_DICT,
    ),
    (
        "sensorpush-ble:test_parser:test_ht_w_large_data_set",
        "*",
        HA_DICT,
    ),
    (
        "sensorpush-ble:test_parser:test_ht1_long_packet_empty",
        "*",
        SP_IBEACON,
    ),
    // SwitchBot: passive-scan frames (manufacturer data only)
    (
        "pyswitchbot:test_adv_parser:test_adv_passive[test_case17]",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_adv_passive[test_case20]",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_hubmini_matter_passive",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_motion_sensor_clear_passive",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_motion_sensor_motion_passive",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_weather_station_passive",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_woiosensor_passive_only",
        "*",
        SWITCHBOT_PASSIVE,
    ),
    (
        "pyswitchbot:test_adv_parser:test_wosensor_passive_only",
        "*",
        SWITCHBOT_PASSIVE,
    ),
];

const RUUVI_MOTION: &str = "bleparser derives motion from the movement counter changing since the \
    previous frame of the same tag (parser state); the decoder publishes the raw `movement counter`";
const RUUVI_EMPTY: &str =
    "every measurement of this frame is 'not available'; hci2mqtt publishes no \
    reading at all rather than one carrying only the sequence number";
const SP_IBEACON: &str = "the frame is only the HT1's iBeacon (SensorPush UUID, major/minor); \
    sensorpush-ble finds no measurement in it, hci2mqtt reports it as what it is, an iBeacon \
    tracker reading (major, minor, measured power)";
const SWITCHBOT_PASSIVE: &str =
    "manufacturer data only, the model was handed to pySwitchbot by the caller \
    (its model cache from an earlier active scan). The data itself does not say which model sent \
    it, so hci2mqtt publishes nothing: SwitchBot needs active scanning (documented)";

const IBBQ_NO_PROBE: &str =
    "bleparser turns every reading <= 0 into 0 (so unplugged probes, 0xFFF6, \
    read 0 and real sub-zero temperatures are lost); we follow inkbird-ble (signed values) and do \
    not publish unplugged probes (0xFFFF, 0xFFF6) at all";
const HA_DICT: &str =
    "the vector is a Home Assistant manufacturer-data dict accumulated over many \
    adverts (the company id is data for these vendors). The library either excludes entries by a \
    dict rule or, seeing several changed entries, keeps its older state. hci2mqtt sees the frames \
    one at a time, as the radio delivers them, and publishes each: the newest frame's values win";

const SENSOR_ID: &str =
    "bleparser publishes the H5178 `sensor id` (0 indoor, 1 outdoor); govee-ble \
    uses separate devices instead. We follow bleparser (key + outdoor unit at MAC+1)";
const H5055: &str =
    "ble_monitor reports both probes of the pair named by bits 6-7 of byte 3 whatever \
    the connected bits, unconnected ones as 0.0; govee-ble (3 vectors) only reports probes whose \
    connected bit is set and drops negative alarms. We follow govee-ble: this frame (0x41) has \
    neither probe 3 nor 4 flagged, so only the battery is published";

const IB_SENSOR: &str = "bleparser:test_ibeacon_parser:test_ibeacon_sensor";
const IB_TRACKER: &str = "bleparser:test_ibeacon_parser:test_ibeacon_tracker";
const CYPRESS: &str =
    "bleparser computes Cypress CYALKIT temperature/humidity from the minor of every \
    iBeacon; meaningless for any other beacon, so not published";

fn family(format: &str) -> &str {
    if format.starts_with("ruuvi") {
        "ruuvi"
    } else {
        format
    }
}

#[test]
fn brand_vectors() {
    let text = include_str!("data/vectors/brands.jsonl");
    let mut per_format: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new(); // pass, deviating, fail
    let mut failures = Vec::new();
    let mut used = vec![false; DEVIATIONS.len()];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: J = serde_json::from_str(line).expect("vector json");
        let id = v["id"].as_str().unwrap_or("?").to_string();
        let fam = family(v["format"].as_str().unwrap_or("?")).to_string();
        // While developing: BRANDS_ONLY=qingping,govee limits the run (never set in CI).
        if let Ok(only) = std::env::var("BRANDS_ONLY") {
            if !only.split(',').any(|f| f == fam) {
                continue;
            }
        }
        let out = run(&v);
        let bad = check_vector(&v, &out, hci2mqtt_core::decode::ibeacon::beacon_uuid);
        let mut real = Vec::new();
        let mut deviated = false;
        for (k, why) in bad {
            if let Some(i) = DEVIATIONS
                .iter()
                .position(|(i, key, _)| *i == id && (*key == k || *key == "*"))
            {
                used[i] = true;
                deviated = true;
            } else {
                real.push(format!("{k}: {why}"));
            }
        }
        let e = per_format.entry(fam).or_default();
        if !real.is_empty() {
            e.2 += 1;
            failures.push(format!(
                "{id}\n    {}\n    readings: {:?}",
                real.join("\n    "),
                out.values
            ));
        } else if deviated {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    if std::env::var("BRANDS_ONLY").is_err() {
        let total: u32 = per_format.values().map(|(p, d, x)| p + d + x).sum();
        assert_eq!(total, 207, "every brand vector must be run");
    }
    for (f, (p, d, x)) in &per_format {
        println!("{f:>12}: {p} pass, {d} pass with known deviations, {x} fail");
    }
    let stale: Vec<_> = DEVIATIONS
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u && std::env::var("BRANDS_ONLY").is_err())
        .map(|(d, _)| d.0)
        .collect();
    assert!(
        failures.is_empty(),
        "{} vectors fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        stale.is_empty(),
        "deviation entries that match nothing: {stale:?}"
    );
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
fn compare(expected: &J, got: Option<Value>) -> Option<String> {
    matches(expected, got.as_ref().map(Got::from)).err()
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
