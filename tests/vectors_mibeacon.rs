//! Every public MiBeacon vector (tests/data/vectors/mibeacon.jsonl, copied from the shared
//! corpus) through the whole pipeline, and the derived negative cases.
//!
//! bleparser-style vectors are compared key by key with bleparser's names. SensorUpdate-style
//! vectors (xiaomi-ble) name things differently: [`SU_KEYS`] maps their keys to ours; keys we
//! deliberately do not produce are listed in [`NOT_PRODUCED`] with the reason. Any other
//! mismatch fails the test.

mod support;

use serde_json::Value as J;
use support::compare::{matches, Got};
use support::vectors::{load, run, Outcome};

fn same(expected: &J, got: &hci2mqtt_core::decode::Value) -> bool {
    matches(expected, Some(Got::from(got))).is_ok()
}

/// The last reading's header fields, as bleparser names them.
struct Header {
    model: String,
    firmware: String,
    mac: String,
    packet: Option<u32>,
    rssi: Option<i8>,
}

fn header(o: &Outcome) -> Header {
    match o.last() {
        Some(r) => Header {
            model: r.model.to_string(),
            firmware: r.firmware.to_string(),
            mac: String::from_utf8_lossy(&r.addr.hex12()).to_uppercase(),
            packet: r.packet,
            rssi: r.rssi,
        },
        None => Header {
            model: String::new(),
            firmware: String::new(),
            mac: String::new(),
            packet: None,
            rssi: None,
        },
    }
}

/// xiaomi-ble SensorUpdate key → our (bleparser) key. Unlisted keys map to themselves with
/// `_` → ` `.
const SU_KEYS: &[(&str, &str)] = &[
    ("signal_strength", "rssi"),
    ("mass", "weight"),
    ("lock_method", "method"),
];

/// SensorUpdate keys we do not publish, and why.
const NOT_PRODUCED: &[(&str, &str)] = &[
    ("local_name", "the advertised name is not a measurement"),
    (
        "stabilized",
        "scale frames (0x181B/0x181D) are not MiBeacon; body-composition object gives weight only",
    ),
    (
        "impedance_high",
        "xiaomi-ble-only split of the 0x6E16 impedance",
    ),
    (
        "door_left_open",
        "xiaomi-ble event name; we publish `status` = \"door not closed\"",
    ),
    (
        "pry_the_door",
        "xiaomi-ble event name; we publish `door action` = \"pry the door\"",
    ),
    (
        "device_forcibly_removed",
        "xiaomi-ble event name; we publish `status` text",
    ),
    ("duration_cleared", "xiaomi-ble-only derived value"),
    ("charging_state", "object not in bleparser's table"),
    ("asleep", "xiaomi-ble name for `sleeping`"),
    (
        "key_id",
        "we publish bleparser's `key id` (text for administrator/unknown operator)",
    ),
    ("power", "xiaomi-ble name for `switch`"),
];

/// Single vectors where we knowingly differ: (vector id, key, reason).
const DEVIATIONS: &[(&str, &str, &str)] = &[
    ("xiaomi-ble:test_parser:test_Xiaomi_LYWSD03MMC_encrypted", "humidity",
     "object 0x1006 carries 467 (0.1 %); bleparser and ble_monitor give 46.7, xiaomi-ble truncates to 46"),
    ("xiaomi-ble:test_parser:test_Xiaomi_PS1BB_pressure_state_clear", "occupancy",
     "ble_monitor/bleparser publish object 0x483C as `pressure state`; xiaomi-ble calls it occupancy"),
    ("xiaomi-ble:test_parser:test_Xiaomi_PS1BB_pressure_state_occupied", "occupancy",
     "as above"),
    ("xiaomi-ble:test_parser:test_Xiaomi_RS1BB_MI_obj4806", "moisture",
     "object 0x4806 is wet/dry: bleparser key `moisture detected` (binary), not the soil `moisture` %"),
    ("xiaomi-ble:test_parser:test_Xiaomi_Scale_S400_MJTZC01YM", "impedance_low",
     "ble_monitor publishes the 0x6E16 impedance as `impedance` when a mass is present"),
];

fn our_key(k: &str) -> String {
    SU_KEYS
        .iter()
        .find(|(a, _)| *a == k)
        .map(|(_, b)| b.to_string())
        .unwrap_or_else(|| k.replace('_', " "))
}

fn check(v: &J) -> Result<(), String> {
    let o = run(v);
    let h = header(&o);
    let id = v["id"].as_str().unwrap_or("?");
    let style = v["expected_style"].as_str().unwrap_or("");
    if !v["expect_error"].is_null() {
        if !o.readings.is_empty() && !o.values.keys().all(|k| k == "rssi") {
            return Err(format!(
                "{id}: expected an error ({}), got {:?}",
                v["expect_error"], o.values
            ));
        }
        let s = &o.stats;
        if s.decrypt_failures + s.no_key + s.undecodable + s.malformed + s.ad_overruns == 0 {
            return Err(format!("{id}: error not counted: {s:?}"));
        }
        return Ok(());
    }
    let exp = v["expected"].as_object().cloned().unwrap_or_default();
    if style.starts_with("bleparser") {
        for (k, e) in &exp {
            let ok = match k.as_str() {
                "firmware" => e.as_str() == Some(h.firmware.as_str()),
                "type" => e.as_str() == Some(h.model.as_str()),
                "mac" => e.as_str() == Some(h.mac.as_str()),
                "packet" => e.as_u64().map(|p| p as u32) == h.packet,
                "rssi" => e.as_i64() == h.rssi.map(|r| r as i64),
                "data" => e.as_bool() == Some(!o.readings.is_empty()),
                // ble_monitor copies the advertised name into its message; not a measurement.
                "local_name" => true,
                _ => o.values.get(k.as_str()).is_some_and(|g| same(e, g)),
            };
            if !ok {
                return Err(format!(
                    "{id}: {k}: expected {e}, got {:?} (all: {:?}, model {}, fw {})",
                    o.values.get(k.as_str()),
                    o.values,
                    h.model,
                    h.firmware
                ));
            }
        }
        if let Some(J::Array(a)) = v.get("expected_absent") {
            for k in a.iter().filter_map(J::as_str) {
                if o.values.contains_key(k) {
                    return Err(format!("{id}: {k} should be absent"));
                }
            }
        }
        if let Some(J::Array(a)) = v.get("expected_present") {
            for k in a.iter().filter_map(J::as_str) {
                if !o.values.contains_key(k)
                    && !matches!(k, "firmware" | "type" | "mac" | "packet" | "rssi" | "data")
                {
                    return Err(format!("{id}: {k} should be present"));
                }
            }
        }
        if o.readings.is_empty() {
            return Err(format!("{id}: no reading ({:?})", o.stats));
        }
        return Ok(());
    }
    // SensorUpdate style.
    for (k, e) in &exp {
        if DEVIATIONS.iter().any(|(i, key, _)| *i == id && key == k) {
            continue;
        }
        if NOT_PRODUCED.iter().any(|(n, _)| n == k) {
            continue;
        }
        let ours = our_key(k);
        if ours == "rssi" {
            if e.as_i64() != h.rssi.map(|r| r as i64) && !o.readings.is_empty() {
                return Err(format!("{id}: rssi"));
            }
            continue;
        }
        match o.values.get(ours.as_str()) {
            Some(g) if same(e, g) => {}
            got => {
                return Err(format!(
                    "{id}: {k} (ours `{ours}`): expected {e}, got {got:?}; all {:?}",
                    o.values
                ))
            }
        }
    }
    Ok(())
}

#[test]
fn mibeacon_corpus_vectors() {
    let vs = load("mibeacon.jsonl");
    assert!(vs.len() >= 100, "vector file lost lines");
    let mut fails = Vec::new();
    for v in &vs {
        if let Err(e) = check(v) {
            fails.push(e);
        }
    }
    for f in &fails {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "mibeacon vectors: {} passed, {} failed",
        vs.len() - fails.len(),
        fails.len()
    );
    assert!(
        fails.is_empty(),
        "{} of {} MiBeacon vectors failed",
        fails.len(),
        vs.len()
    );
}

#[test]
fn mibeacon_derived_negatives_are_errors() {
    let vs = load("mibeacon-negative.jsonl");
    assert!(vs.len() >= 20);
    for v in &vs {
        let o = run(v);
        let id = v["id"].as_str().unwrap_or("?");
        assert!(o.readings.is_empty(), "{id}: produced {:?}", o.values);
        let s = &o.stats;
        assert!(
            s.decrypt_failures + s.no_key + s.undecodable + s.malformed + s.ad_overruns > 0,
            "{id}: nothing counted: {s:?}"
        );
    }
}
