//! The corpus vectors (`tests/data/vectors/*.jsonl`, one JSON object per line, one schema for
//! every file) and how one runs through a fresh [`Pipeline`].
//!
//! An input is the vector itself or one of its `preceding_inputs` (fed first, to the same
//! pipeline, in order). An input with `hci_event_hex` is that event. Otherwise it becomes
//! AD structures in an ADV_IND from `mac` (else the vector's; an address that does not parse,
//! e.g. a macOS device UUID, becomes 11:22:33:44:55:66) with `rssi` (else the vector's, else
//! -60):
//!
//! * `adv_data_hex`: those bytes, plus a Complete Local Name when `local_name` is set and the
//!   bytes carry none;
//! * otherwise: Complete Local Name (`local_name`, when not empty), the 16- and 128-bit UUID
//!   lists (`service_uuids`; the Bluetooth base form `0000xxxx-0000-1000-8000-00805f9b34fb` in
//!   the 16-bit one), the service data — `service_data_all` (a list of
//!   `{uuid, data_hex}`), else `service_data` (an object `uuid → hex`), else the single
//!   `service_uuid` + `service_data_hex` — then manufacturer data (`manufacturer_data`, a list
//!   of `{company_id, data_hex}`).
//! * Manufacturer data, where the source is a Home Assistant library, is a dict accumulated
//!   over many adverts (newest last); one advert on the air carries one vendor entry (plus,
//!   for some vendors, Apple's iBeacon entry). So each input becomes one advert per vendor
//!   entry that is new or changed since the previous input (what the radio must have received
//!   since), each with the Apple (0x004C) entries; if nothing changed, one advert with the
//!   newest entry.
//!
//! `key_hex` with `mac` goes into the key store first (a key the store refuses is noted in
//! [`Outcome::key_refused`]).

use std::collections::BTreeMap;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{DecodeError, KeyStore, Reading, Value};
use hci2mqtt_core::output::write_json_line;
use hci2mqtt_core::pipeline::{
    Notice, Options, Outcome as PipelineOutcome, Pipeline, Seen, Sink, Stats,
};
use serde_json::{Map, Value as J};

use super::ad;
use super::hex::hex;

/// One line of a corpus file, as the schema every file shares. Unknown fields are refused
/// (`deny_unknown_fields`): a new field in the corpus must be added here, either as input or
/// expectation the tests use or, deliberately, as provenance they ignore.
///
/// The tests read vectors as [`J`] (see [`load`]); this struct is the schema check and its
/// documentation.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    // --- identity
    pub id: String,
    /// Format slug as our readings print it (`mibeacon-v5-encrypted`, `govee`, …): what a
    /// vector test dispatches on.
    pub format: String,
    /// The source's model name (null where the source gives none).
    pub device_type: Option<String>,
    // --- input (see the module doc for how it becomes HCI events)
    pub hci_event_hex: Option<String>,
    pub mac: Option<String>,
    pub rssi: Option<i64>,
    pub key_hex: Option<String>,
    pub adv_data_hex: Option<String>,
    pub local_name: Option<String>,
    pub service_uuid: Option<String>,
    pub service_data_hex: Option<String>,
    pub service_uuids: Option<Vec<String>>,
    /// `[{uuid, data_hex}]`.
    pub service_data_all: Option<Vec<J>>,
    /// `[{company_id, data_hex}]`.
    pub manufacturer_data: Option<Vec<J>>,
    /// Earlier inputs to the same pipeline (fields as above, plus the source's `call`).
    pub preceding_inputs: Option<Vec<J>>,
    // --- expectation
    /// Key → value in the source's naming (see [`super::compare::matches`]).
    pub expected: Map<String, J>,
    /// Why no reading may come out (`bad MIC`, `wrong key`, …); `None` for a positive vector.
    pub expect_error: Option<String>,
    /// Whose naming `expected` uses (`bleparser-sensor_msg`, `sensor-state-data …`, …).
    pub expected_style: Option<String>,
    pub expected_is_complete: Option<bool>,
    pub expected_present: Option<Vec<String>>,
    pub expected_absent: Option<Vec<String>>,
    pub expected_null: Option<Vec<String>>,
    pub expected_events: Option<Map<String, J>>,
    pub expected_tracker: Option<Map<String, J>>,
    // --- provenance and source-library detail the tests do not compare (kept, ignored)
    pub source: Option<String>,
    pub source_doc: Option<String>,
    pub also_in: Option<Vec<String>>,
    pub derived_from: Option<String>,
    pub mutation: Option<String>,
    pub payload_group: Option<String>,
    pub checks: Option<Map<String, J>>,
    pub notes: Option<String>,
    pub hci_notes: Option<Vec<J>>,
    pub aes_ccm: Option<String>,
    #[serde(rename = "bleparser==3.7.3")]
    pub bleparser_3_7_3: Option<String>,
    /// Home Assistant units / device block / state / ble_monitor differences / parser options.
    pub expected_units: Option<J>,
    pub expected_device: Option<J>,
    pub expected_state: Option<J>,
    pub expected_ble_monitor_diff: Option<J>,
    pub parser_options: Option<J>,
}

/// The corpus files (every `*.jsonl` of `tests/data/vectors/`), sorted.
pub fn files() -> Vec<String> {
    let dir = format!("{}/tests/data/vectors", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    out.sort();
    out
}

/// Every vector of every corpus file.
pub fn load_all() -> Vec<J> {
    files().iter().flat_map(|f| load(f)).collect()
}

/// Every vector of `tests/data/vectors/<file>`, each checked against [`Vector`].
pub fn load(file: &str) -> Vec<J> {
    let path = format!("{}/tests/data/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            let at = || format!("{path}:{}", n + 1);
            if let Err(e) = serde_json::from_str::<Vector>(l) {
                panic!("{}: not the vector schema: {e}", at());
            }
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}", at()))
        })
        .collect()
}

/// The vector's id, for messages.
pub fn id(v: &J) -> &str {
    v["id"].as_str().unwrap_or("?")
}

fn addr_of(input: &J, vector: &J) -> Addr {
    input
        .get("mac")
        .and_then(J::as_str)
        .or_else(|| vector.get("mac").and_then(J::as_str))
        .and_then(|m| Addr::parse(&m.to_ascii_uppercase()))
        .unwrap_or(Addr([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]))
}

/// The AD structures an input stands for, without its manufacturer data.
fn base_ad(input: &J) -> Vec<u8> {
    let name = input.get("local_name").and_then(J::as_str).unwrap_or("");
    if let Some(raw) = input.get("adv_data_hex").and_then(J::as_str) {
        let mut out = hex(raw);
        let named = hci2mqtt_core::adv::structures(&out)
            .valid()
            .any(|s| s.name().is_some());
        if !name.is_empty() && !named {
            ad::name(&mut out, name);
        }
        return out;
    }
    let mut out = Vec::new();
    if !name.is_empty() {
        ad::name(&mut out, name);
    }
    if let Some(list) = input.get("service_uuids").and_then(J::as_array) {
        let strs: Vec<&str> = list.iter().filter_map(J::as_str).collect();
        // A UUID in the Bluetooth base form is a 16-bit one as Bleak (and so Home Assistant)
        // spells it: on the air it is in the 16-bit list.
        let short: Vec<u16> = strs.iter().filter_map(|u| ad::uuid16(u)).collect();
        let long: Vec<[u8; 16]> = strs
            .iter()
            .filter(|u| ad::uuid16(u).is_none())
            .filter_map(|u| ad::uuid128_le(u))
            .collect();
        if !short.is_empty() {
            ad::uuid16_list(&mut out, &short);
        }
        if !long.is_empty() {
            ad::uuid128_list(&mut out, &long);
        }
    }
    let mut sd: Vec<(&str, &str)> = Vec::new();
    if let Some(all) = input.get("service_data_all").and_then(J::as_array) {
        for s in all {
            sd.push((
                s["uuid"].as_str().unwrap_or(""),
                s["data_hex"].as_str().unwrap_or(""),
            ));
        }
    } else if let Some(obj) = input.get("service_data").and_then(J::as_object) {
        for (u, d) in obj {
            sd.push((u, d.as_str().unwrap_or("")));
        }
    } else if let (Some(u), Some(d)) = (
        input.get("service_uuid").and_then(J::as_str),
        input.get("service_data_hex").and_then(J::as_str),
    ) {
        sd.push((u, d));
    }
    for (u, d) in sd {
        let uuid = ad::uuid16(u).unwrap_or_else(|| panic!("service data UUID {u:?}"));
        ad::service_data16(&mut out, uuid, &hex(d));
    }
    out
}

/// The adverts (AD bytes) one input stands for; `prev` is the previous input's
/// manufacturer dict (see the module doc).
pub fn input_ads(input: &J, prev: &mut BTreeMap<u16, String>) -> Vec<Vec<u8>> {
    let base = base_ad(input);
    if input.get("adv_data_hex").and_then(J::as_str).is_some() {
        return vec![base];
    }
    let Some(md) = input.get("manufacturer_data").and_then(J::as_array) else {
        return vec![base];
    };
    const APPLE: u16 = 0x004C;
    let entries: Vec<(u16, String)> = md
        .iter()
        .map(|e| {
            (
                e["company_id"].as_u64().unwrap_or(0) as u16,
                e["data_hex"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let apple: Vec<&(u16, String)> = entries.iter().filter(|(c, _)| *c == APPLE).collect();
    let others: Vec<&(u16, String)> = entries.iter().filter(|(c, _)| *c != APPLE).collect();
    let changed: Vec<&(u16, String)> = others
        .iter()
        .copied()
        .filter(|(c, d)| prev.get(c) != Some(d))
        .collect();
    let frames: Vec<&(u16, String)> = if changed.is_empty() {
        others.last().copied().into_iter().collect()
    } else {
        changed
    };
    *prev = others.iter().map(|(c, d)| (*c, d.clone())).collect();
    let with_apple = |mut out: Vec<u8>| {
        for (c, d) in &apple {
            ad::manufacturer(&mut out, *c, &hex(d));
        }
        out
    };
    if frames.is_empty() {
        return vec![with_apple(base)];
    }
    frames
        .iter()
        .map(|(c, d)| {
            let mut out = base.clone();
            ad::manufacturer(&mut out, *c, &hex(d));
            with_apple(out)
        })
        .collect()
}

/// The H4 packets of one input, and the AD data of its last advert.
fn input_packets(
    input: &J,
    vector: &J,
    prev: &mut BTreeMap<u16, String>,
) -> (Vec<Vec<u8>>, Vec<u8>) {
    if let Some(h) = input.get("hci_event_hex").and_then(J::as_str) {
        let ad = input
            .get("adv_data_hex")
            .and_then(J::as_str)
            .map(hex)
            .unwrap_or_default();
        return (vec![hex(h)], ad);
    }
    let rssi = input
        .get("rssi")
        .or_else(|| vector.get("rssi"))
        .and_then(J::as_i64)
        .unwrap_or(-60) as i8;
    let addr = addr_of(input, vector);
    let ads = input_ads(input, prev);
    let last = ads.last().cloned().unwrap_or_default();
    (ads.iter().map(|a| ad::event(addr, rssi, a)).collect(), last)
}

/// Every H4 packet a vector stands for, preceding inputs first.
pub fn packets(v: &J) -> Vec<Vec<u8>> {
    let mut prev = BTreeMap::new();
    inputs(v)
        .flat_map(|i| input_packets(i, v, &mut prev).0)
        .collect()
}

/// The AD data of every advert a vector stands for (legacy or extended, decoded from the
/// events so that given events count too): seeds for the randomised tests.
pub fn ads(v: &J) -> Vec<Vec<u8>> {
    packets(v)
        .iter()
        .filter_map(|p| {
            let ev = hci2mqtt_core::hci::event::Event::new_checked(p).ok()?;
            match ev.kind().ok()? {
                hci2mqtt_core::hci::event::EventKind::AdvReports(r) => {
                    r.iter().next().map(|r| r.data.to_vec())
                }
                hci2mqtt_core::hci::event::EventKind::ExtAdvReports(r) => {
                    r.iter().next().map(|r| r.data.to_vec())
                }
                _ => None,
            }
        })
        .collect()
}

fn inputs(v: &J) -> impl Iterator<Item = &J> {
    v.get("preceding_inputs")
        .and_then(J::as_array)
        .into_iter()
        .flatten()
        .chain(std::iter::once(v))
}

/// What a vector produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every reading of every input, in order.
    pub readings: Vec<Reading>,
    /// The readings of the vector's own input (the last), as the JSON objects `replay` prints.
    pub json: Vec<Map<String, J>>,
    /// Values merged over every reading, later ones replacing earlier ones, as a state
    /// topic or Home Assistant accumulates them.
    pub values: BTreeMap<String, Value>,
    /// Decode errors of the vector's own input.
    pub errors: Vec<DecodeError>,
    pub notices: Vec<Notice>,
    pub stats: Stats,
    /// The vector's key was refused by the key store (e.g. a 24-byte BTHome key).
    pub key_refused: bool,
    /// AD data of the last advert.
    pub last_ad: Vec<u8>,
}

impl Outcome {
    pub fn last(&self) -> Option<&Reading> {
        self.readings.last()
    }
}

struct Collect<'a> {
    out: &'a mut Outcome,
    own: bool,
}

impl Sink for Collect<'_> {
    fn outcome(&mut self, _seen: &Seen<'_>, outcome: PipelineOutcome<'_>) {
        let r = match outcome {
            PipelineOutcome::Decoded(r) => r,
            PipelineOutcome::Failed(_, e) => {
                if self.own {
                    self.out.errors.push(e);
                }
                return;
            }
            _ => return,
        };
        for (f, v) in r.values() {
            self.out.values.insert(f.key.to_string(), *v);
        }
        if self.own {
            let mut line = Vec::new();
            write_json_line(&mut line, r);
            match serde_json::from_slice(&line) {
                Ok(J::Object(m)) => self.out.json.push(m),
                other => panic!(
                    "reading printed as {other:?}: {}",
                    String::from_utf8_lossy(&line)
                ),
            }
        }
        self.out.readings.push(r.clone());
    }
    fn notice(&mut self, n: Notice) {
        self.out.notices.push(n);
    }
}

/// Runs one vector through a fresh pipeline with default options.
pub fn run(v: &J) -> Outcome {
    let mut keys = KeyStore::new();
    let mut out = Outcome::default();
    if let (Some(k), Some(mac)) = (v["key_hex"].as_str(), v["mac"].as_str()) {
        out.key_refused = keys.insert_str(mac, k).is_err();
    }
    let mut p = Pipeline::new(keys, Options::default());
    let all: Vec<&J> = inputs(v).collect();
    let mut prev = BTreeMap::new();
    for (i, input) in all.iter().enumerate() {
        let (pkts, last_ad) = input_packets(input, v, &mut prev);
        out.last_ad = last_ad;
        let own = i + 1 == all.len();
        for pkt in &pkts {
            p.handle_packet(pkt, &mut Collect { out: &mut out, own });
        }
    }
    out.stats = p.stats();
    out
}

/// Feeds one H4 packet to an existing pipeline and returns what it produced (as a vector's
/// own input: JSON lines and errors included).
pub fn feed(p: &mut Pipeline, pkt: &[u8]) -> Outcome {
    let mut out = Outcome::default();
    p.handle_packet(
        pkt,
        &mut Collect {
            out: &mut out,
            own: true,
        },
    );
    out.stats = p.stats();
    out
}
