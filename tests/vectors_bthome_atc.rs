//! Table-driven vector test for the ATC/pvvx and BTHome decoders.
//!
//! Every corpus vector whose `format` is atc1441, pvvx, pvvx-encrypted, bthome-v1,
//! bthome-v1-encrypted, bthome-v2 or bthome-v2-encrypted (tests/data/vectors/bthome-atc.jsonl,
//! copied verbatim) and the matching derived negatives (bthome-atc-negative.jsonl) go through the whole
//! path: HCI event (given, or a synthetic legacy advertising report built from the vector's
//! service data) → `Pipeline::handle_packet` → `Reading` → JSON line. The JSON line is what is
//! compared.
//!
//! ## Key mapping (SensorUpdate / theengs → ours)
//!
//! | source key | our key |
//! |---|---|
//! | `signal_strength` | `rssi` (top level) |
//! | `packet_id` | `packet` (top level) |
//! | `carbon_dioxide` | `co2` |
//! | `volatile_organic_compounds` | `tvoc` |
//! | `pm25` | `pm2.5` |
//! | `dew_point` | `dewpoint` |
//! | `mass` | `weight` |
//! | `generic` (binary) | `binary` |
//! | `power` | `power`, or `switch` for the binary power state |
//! | `uv_index` | `uv index` |
//! | `volume_flow_rate` | `volume flow rate` |
//! | `distance` | `distance` (m) or `distance mm` |
//! | `volume` | `volume` (L) or `volume mL` |
//! | `volume_storage`, `rotational_speed`, `light_level` | same with a space |
//! | `key_N` | mapped base + `_N` |
//! | events `{button: press}` | `button: "press"` (event type, `_` → space) |
//! | events `{dimmer: rotate_left, steps: 3}` | `dimmer: "rotate left"`, `steps: 3` |
//! | theengs `tempc`/`hum`/`batt`/`volt` | `temperature`/`humidity`/`battery`/`voltage` |
//! | bleparser `type` / `firmware` / `mac` | `model` / `firmware` / `mac` (colons removed) |
//!
//! Values compare by `support::compare::matches`.

mod support;

use hci2mqtt_core::decode::DecodeError;
use serde_json::{Map, Value};
use support::compare::{matches, Got};
use support::vectors::{load, run};

/// What a deviation allows. Anything not allowed still fails the test.
enum Allow {
    /// These expected keys are not compared; instead our output must have exactly the `ours`
    /// values (JSON) and must not have the keys listed in `absent`.
    Keys {
        skip: &'static [&'static str],
        ours: &'static [(&'static str, &'static str)],
        absent: &'static [&'static str],
    },
    /// We publish no reading for this input; `Some(e)` = the decode error we must report.
    NoReading(Option<DecodeError>),
}

struct Deviation {
    id: &'static str,
    reason: &'static str,
    allow: Allow,
}

/// Known deviations: vector id, why, and what we do instead.
const DEVIATIONS: &[Deviation] = &[
    Deviation {
        id: "bleparser:test_bthome_v2:test_bthome_v2_quadruple_button",
        reason: "bleparser 3.7.3 publishes raw button codes (0, 3, 1, 0); we publish the event strings \
                 (as ble_monitor/bthome-ble do) and nothing for code 0 (no press)",
        allow: Allow::Keys {
            skip: &["button_1", "button_2", "button_3", "button_4"],
            ours: &[("button_2", "\"triple press\""), ("button_3", "\"press\"")],
            absent: &["button_1", "button_4"],
        },
    },
    Deviation {
        id: "bthome-ble:test_parser_v1:test_bthome_timestamp",
        reason: "timestamp is published as Unix seconds (Value has no owned strings; no ISO text)",
        allow: Allow::Keys { skip: &["timestamp"], ours: &[("timestamp", "1684093277")], absent: &[] },
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_bthome_timestamp",
        reason: "timestamp is published as Unix seconds (Value has no owned strings; no ISO text)",
        allow: Allow::Keys { skip: &["timestamp"], ours: &[("timestamp", "1684093277")], absent: &[] },
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_bthome_text",
        reason: "text objects are parsed but not published (Value::Text is &'static); frame has nothing else",
        allow: Allow::NoReading(Some(DecodeError::NoData)),
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_bthome_raw",
        reason: "raw objects are parsed but not published; frame has nothing else",
        allow: Allow::NoReading(Some(DecodeError::NoData)),
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_identical_packet_id",
        reason: "a frame carrying only a packet id has no publishable value: NoData",
        allow: Allow::NoReading(Some(DecodeError::NoData)),
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_bthome_invalid_button_event",
        reason: "button code 0xFE is no event; the frame then has no value (bthome-ble still emits rssi)",
        allow: Allow::NoReading(Some(DecodeError::NoData)),
    },
    Deviation {
        id: "bthome-ble:test_parser_v2:test_bthome_multiple_uuids",
        reason: "the pipeline decodes the first claimed AD structure only; 0xFE95 (MiBeacon) precedes 0xFCD2 \
                 here (our 0x181A matcher declines the 11-byte non-ATC structure)",
        allow: Allow::NoReading(None),
    },
];

fn deviation(id: &str) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.id == id)
}

/// Source key → our candidate keys (first present wins).
fn map_key(k: &str) -> Vec<String> {
    // key_N → base mapping + _N
    if let Some((base, n)) = k.rsplit_once('_') {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            return map_key(base)
                .into_iter()
                .map(|b| format!("{b}_{n}"))
                .collect();
        }
    }
    let c: &[&str] = match k {
        "carbon_dioxide" => &["co2"],
        "volatile_organic_compounds" => &["tvoc"],
        "pm25" => &["pm2.5"],
        "dew_point" => &["dewpoint"],
        "mass" => &["weight"],
        "generic" => &["binary"],
        "power" => &["power", "switch"],
        "uv_index" => &["uv index"],
        "volume_flow_rate" => &["volume flow rate"],
        "distance" => &["distance", "distance mm"],
        "volume" => &["volume", "volume mL"],
        "volume_storage" => &["volume storage"],
        "rotational_speed" => &["rotational speed"],
        "light_level" => &["light level"],
        "tempc" => &["temperature"],
        "hum" => &["humidity"],
        "batt" => &["battery"],
        "volt" => &["voltage"],
        other => return vec![other.to_string()],
    };
    c.iter().map(|s| s.to_string()).collect()
}

/// Keys of the expectation that describe the device, not a reading (theengs / bleparser).
const IGNORED: &[&str] = &[
    "brand",
    "model",
    "model_id",
    "type_theengs",
    "acts",
    "tempf",
    "data",
];

fn compare(v: &Value, r: &Map<String, Value>, skip: &[&str], errs: &mut Vec<String>) {
    let id = v["id"].as_str().unwrap_or("?");
    let style = v["expected_style"].as_str().unwrap_or("");
    let bleparser = style.starts_with("bleparser");
    let theengs = style.starts_with("theengs");
    macro_rules! check {
        ($k:expr, $want:expr, $got:expr) => {{
            let (k, want, got): (&str, &Value, Option<&Value>) = ($k, $want, $got);
            if matches(want, got.and_then(Got::json)).is_err() {
                errs.push(format!("{id}: {k}: want {want}, got {got:?}"));
            }
        }};
    }
    let Some(exp) = v["expected"].as_object() else {
        return;
    };
    // Our keys accounted for by the expectation (for the completeness check below).
    let mut seen: Vec<String> = skip.iter().map(|k| k.to_string()).collect();
    for (k, want) in exp {
        if skip.contains(&k.as_str()) || IGNORED.contains(&k.as_str()) {
            continue;
        }
        match k.as_str() {
            "firmware" if bleparser => check!(k, want, r.get("firmware")),
            "type" if bleparser => check!(k, want, r.get("model")),
            "type" if theengs => {}
            "mac" => {
                let got = r
                    .get("mac")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .replace(':', "");
                let w = want.as_str().unwrap_or("").replace(':', "");
                if !got.eq_ignore_ascii_case(&w) {
                    errs.push(format!("{id}: mac: want {w}, got {got}"));
                }
            }
            "packet" if want.as_str() == Some("no packet id") => {
                if r.get("packet").is_some() {
                    errs.push(format!(
                        "{id}: packet: want none, got {:?}",
                        r.get("packet")
                    ));
                }
            }
            "packet" | "packet_id" => check!(k, want, r.get("packet")),
            "rssi" | "signal_strength" => check!(k, want, r.get("rssi")),
            _ => {
                let cands = map_key(k);
                let hit = cands.iter().find(|c| r.contains_key(c.as_str()));
                seen.extend(hit.cloned());
                check!(k, want, hit.and_then(|c| r.get(c.as_str())));
            }
        }
    }
    if let Some(events) = v.get("expected_events").and_then(Value::as_object) {
        for (k, e) in events {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let et = e["event_type"].as_str().unwrap_or("").replace('_', " ");
            check!(k, &Value::String(et), r.get(k));
            seen.push(k.clone());
            if let Some(props) = e.get("event_properties").and_then(Value::as_object) {
                for (pk, pv) in props {
                    check!(pk, pv, r.get(pk));
                    seen.push(pk.clone());
                }
            }
        }
    }
    // Where the source compared the whole result, we must not publish readings it lacks
    // (besides the reading header and bleparser's `weight unit` companion text).
    if v["expected_is_complete"].as_bool() == Some(true) {
        const HEADER: &[&str] = &[
            "mac",
            "rssi",
            "format",
            "firmware",
            "model",
            "packet",
            "weight unit",
        ];
        for k in r.keys() {
            if !HEADER.contains(&k.as_str()) && !seen.iter().any(|s| s == k) {
                errs.push(format!(
                    "{id}: extra key {k} = {} not in the complete expectation",
                    r[k]
                ));
            }
        }
    }
    for k in v
        .get("expected_absent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(k) = k.as_str() {
            if r.contains_key(k) {
                errs.push(format!("{id}: {k} must be absent"));
            }
        }
    }
}

/// The decode error a failure vector's reason implies (None = any, including unclaimed).
fn expected_error(reason: &str) -> Option<DecodeError> {
    let r = reason.to_ascii_lowercase();
    if r.contains("downgrade") {
        Some(DecodeError::Replay)
    } else if r.contains("version") {
        Some(DecodeError::Malformed("BTHome version is not 2"))
    } else if r.contains("24 bytes")
        || r.contains("no key")
        || r.contains("no bindkey")
        || r.contains("key needed")
    {
        Some(DecodeError::NoKey)
    } else if r.contains("wrong") || r.contains("bad mic") {
        Some(DecodeError::DecryptFailed)
    } else if r.contains("too short") {
        Some(DecodeError::Truncated)
    } else {
        None // truncated / malformed HCI or AD: nothing decodes, error kind not fixed
    }
}

fn run_file(path: &str) -> (usize, usize, usize) {
    let vectors = load(path);
    assert!(!vectors.is_empty());
    let mut errs = Vec::new();
    let (mut pos, mut neg, mut dev) = (0, 0, 0);
    let mut used = std::collections::HashSet::new();
    for v in &vectors {
        let id = v["id"].as_str().unwrap_or("?").to_string();
        let out = run(v);
        let d = deviation(&id);
        if d.is_some() {
            used.insert(id.clone());
            dev += 1;
        }
        if let Some(reason) = v.get("expect_error").and_then(Value::as_str) {
            neg += 1;
            if !out.json.is_empty() {
                errs.push(format!(
                    "{id}: expected failure ({reason}), got {:?}",
                    out.json
                ));
            }
            if let Some(e) = expected_error(reason) {
                if !out.errors.contains(&e) {
                    errs.push(format!(
                        "{id}: expected {e:?} ({reason}), got {:?}",
                        out.errors
                    ));
                }
            }
            if reason.contains("24 bytes") && !out.key_refused {
                errs.push(format!("{id}: 24-byte key must be refused by KeyStore"));
            }
            continue;
        }
        pos += 1;
        match d.map(|d| &d.allow) {
            Some(Allow::NoReading(e)) => {
                if !out.json.is_empty() {
                    errs.push(format!("{id}: stale deviation: now decodes {:?}", out.json));
                }
                if let Some(e) = e {
                    if !out.errors.contains(e) {
                        errs.push(format!(
                            "{id}: deviation expects {e:?}, got {:?}",
                            out.errors
                        ));
                    }
                }
            }
            allow => {
                if out.json.len() != 1 {
                    errs.push(format!(
                        "{id}: expected 1 reading, got {} (errors {:?})",
                        out.json.len(),
                        out.errors
                    ));
                    continue;
                }
                let r = &out.json[0];
                let skip: &[&str] = match allow {
                    Some(Allow::Keys { skip, ours, absent }) => {
                        for (k, json) in *ours {
                            let want: Value = serde_json::from_str(json).expect("deviation json");
                            if r.get(*k) != Some(&want) {
                                errs.push(format!(
                                    "{id}: deviation value {k}: want {want}, got {:?}",
                                    r.get(*k)
                                ));
                            }
                        }
                        for k in *absent {
                            if r.contains_key(*k) {
                                errs.push(format!("{id}: deviation: {k} must be absent"));
                            }
                        }
                        skip
                    }
                    _ => &[],
                };
                compare(v, r, skip, &mut errs);
                // Our format slug agrees with the corpus slug.
                if r.get("format").and_then(Value::as_str) != v["format"].as_str() {
                    errs.push(format!(
                        "{id}: format {:?} != {:?}",
                        r.get("format"),
                        v["format"]
                    ));
                }
            }
        }
    }
    assert!(
        errs.is_empty(),
        "{} mismatches:\n{}",
        errs.len(),
        errs.join("\n")
    );
    (pos, neg, dev)
}

#[test]
fn corpus_vectors() {
    let (pos, neg, dev) = run_file("bthome-atc.jsonl");
    eprintln!("ATC/BTHome corpus: {pos} positive, {neg} failure vectors, {dev} known deviations");
    assert!(pos >= 140 && neg >= 10, "{pos} {neg}");
    // Every deviation entry names a vector of this file (no stale ids).
    let ids: Vec<String> = load("bthome-atc.jsonl")
        .iter()
        .map(|v| v["id"].as_str().unwrap_or("").to_string())
        .collect();
    for d in DEVIATIONS {
        assert!(
            ids.iter().any(|i| i == d.id),
            "deviation for unknown vector {} ({})",
            d.id,
            d.reason
        );
    }
}

#[test]
fn derived_negative_vectors() {
    let (pos, neg, _) = run_file("bthome-atc-negative.jsonl");
    assert_eq!(pos, 0);
    assert_eq!(neg, 16);
}
