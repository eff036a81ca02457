//! Table-driven test over every public corpus vector of the fmt-b formats (qingping, govee,
//! inkbird, switchbot, thermopro, thermobeacon, ruuvi-*, sensorpush, ibeacon, altbeacon),
//! copied verbatim into `tests/data/vectors/fmt-b.jsonl`.
//!
//! Each vector runs through the whole [`hci2mqtt::Pipeline`] (see `common/fmt_b_harness.rs`
//! for how inputs become HCI events and how results are accumulated). Key names are mapped
//! with the harness's `KEY_MAP` / `NOT_PUBLISHED` tables; the rule for the rest is
//! "underscores become spaces" (SensorUpdate `temperature_probe_1` = bleparser
//! `temperature probe 1`), `signal_strength`/`rssi` are the report's RSSI, bleparser `type`
//! is our `model`, `mac` is the reading's sensor address and `packet` its frame counter.
//!
//! Where hci2mqtt deliberately differs from a vector, the (vector id, key) pair is listed in
//! [`DEVIATIONS`] with the reason. Any other mismatch fails the test, and so does a deviation
//! entry that no longer matches anything (so the table cannot go stale).

#[path = "common/fmt_b_harness.rs"]
mod harness;

use std::collections::BTreeMap;

use harness::{check_vector, run_vector};
use serde_json::Value as J;

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
fn fmt_b_vectors() {
    let text = include_str!("data/vectors/fmt-b.jsonl");
    let mut per_format: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new(); // pass, deviating, fail
    let mut failures = Vec::new();
    let mut used = vec![false; DEVIATIONS.len()];
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: J = serde_json::from_str(line).expect("vector json");
        let id = v["id"].as_str().unwrap_or("?").to_string();
        let fam = family(v["format"].as_str().unwrap_or("?")).to_string();
        // While developing: FMT_B_ONLY=qingping,govee limits the run (never set in CI).
        if let Ok(only) = std::env::var("FMT_B_ONLY") {
            if !only.split(',').any(|f| f == fam) {
                continue;
            }
        }
        let out = run_vector(&v);
        let bad = check_vector(&v, &out, hci2mqtt::decode::ibeacon::beacon_uuid);
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
    if std::env::var("FMT_B_ONLY").is_err() {
        let total: u32 = per_format.values().map(|(p, d, x)| p + d + x).sum();
        assert_eq!(total, 207, "every fmt-b vector must be run");
    }
    for (f, (p, d, x)) in &per_format {
        println!("{f:>12}: {p} pass, {d} pass with known deviations, {x} fail");
    }
    let stale: Vec<_> = DEVIATIONS
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u && std::env::var("FMT_B_ONLY").is_err())
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
