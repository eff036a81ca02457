//! Small reusable vector harness (fmt-a): turns a corpus vector into HCI events, pushes them
//! through the real [`Pipeline`] and captures what comes out (readings as the JSON line the
//! `replay`/stdout output would print, plus decode errors and notices).
#![allow(dead_code)]

use hci2mqtt::decode::{DecodeError, KeyStore};
use hci2mqtt::hci::event::Report;
use hci2mqtt::output::write_json_line;
use hci2mqtt::pipeline::{Notice, Options, Pipeline};
use hci2mqtt::{Reading, Sink};
use serde_json::{Map, Value};

pub fn hex(s: &str) -> Vec<u8> {
    let s = s.trim();
    assert!(s.len() % 2 == 0, "odd hex {s}");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

pub fn load_jsonl(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `AA:BB:CC:DD:EE:FF` → bytes in display order.
pub fn mac_bytes(mac: &str) -> [u8; 6] {
    let h = hex(&mac.replace([':', '-'], ""));
    let mut a = [0u8; 6];
    a.copy_from_slice(&h);
    a
}

/// Appends one AD structure.
pub fn push_ad(out: &mut Vec<u8>, ad_type: u8, body: &[u8]) {
    out.push(body.len() as u8 + 1);
    out.push(ad_type);
    out.extend_from_slice(body);
}

/// A 16-bit service-data AD structure: `[len, 0x16, uuid_lo, uuid_hi, data…]`.
pub fn push_service_data(out: &mut Vec<u8>, uuid_hex: &str, data: &[u8]) {
    let uuid = u16::from_str_radix(uuid_hex, 16).expect("uuid");
    let mut body = uuid.to_le_bytes().to_vec();
    body.extend_from_slice(data);
    push_ad(out, 0x16, &body);
}

/// Synthetic legacy LE Advertising Report event:
/// `04 3E len 02 01 evtype addrtype addr[6 LE] datalen data rssi`.
pub fn legacy_event(addr: [u8; 6], addr_type: u8, ad: &[u8], rssi: i8) -> Vec<u8> {
    let mut e = vec![0x04, 0x3E, 0, 0x02, 0x01, 0x00, addr_type];
    e.extend(addr.iter().rev());
    e.push(ad.len() as u8);
    e.extend_from_slice(ad);
    e.push(rssi as u8);
    e[2] = (e.len() - 3) as u8;
    e
}

/// AD bytes for a non-HCI vector (or a `preceding_inputs` entry): service data (single or
/// all), manufacturer data, then the local name.
pub fn ad_from_fields(v: &Value) -> Vec<u8> {
    let mut ad = Vec::new();
    if let Some(raw) = v.get("adv_data_hex").and_then(Value::as_str) {
        return hex(raw);
    }
    if let Some(all) = v.get("service_data_all").and_then(Value::as_array) {
        for s in all {
            push_service_data(
                &mut ad,
                s["uuid"].as_str().unwrap_or("0000"),
                &hex(s["data_hex"].as_str().unwrap_or("")),
            );
        }
    } else if let (Some(u), Some(d)) = (
        v.get("service_uuid").and_then(Value::as_str),
        v.get("service_data_hex").and_then(Value::as_str),
    ) {
        push_service_data(&mut ad, u, &hex(d));
    } else if let Some(sd) = v.get("service_data").and_then(Value::as_object) {
        // preceding_inputs style: {"fcd2": "hex", ...}
        for (u, d) in sd {
            push_service_data(&mut ad, u, &hex(d.as_str().unwrap_or("")));
        }
    }
    if let Some(m) = v.get("manufacturer_data").and_then(Value::as_array) {
        for e in m {
            let cid = e["company_id"].as_u64().unwrap_or(0) as u16;
            let mut body = cid.to_le_bytes().to_vec();
            body.extend_from_slice(&hex(e["data_hex"].as_str().unwrap_or("")));
            push_ad(&mut ad, 0xFF, &body);
        }
    }
    if let Some(n) = v.get("local_name").and_then(Value::as_str) {
        push_ad(&mut ad, 0x09, n.as_bytes());
    }
    ad
}

/// The HCI event(s) a vector stands for.
pub fn event_for(v: &Value) -> Vec<u8> {
    if let Some(h) = v.get("hci_event_hex").and_then(Value::as_str) {
        return hex(h);
    }
    let mac = v
        .get("mac")
        .and_then(Value::as_str)
        .unwrap_or("00:00:00:00:00:00");
    let rssi = v.get("rssi").and_then(Value::as_i64).unwrap_or(-60) as i8;
    legacy_event(mac_bytes(mac), 0, &ad_from_fields(v), rssi)
}

/// What the pipeline produced for the last input.
#[derive(Default, Debug)]
pub struct Outcome {
    /// Readings as parsed JSON lines (the exact bytes `write_json_line` produces).
    pub readings: Vec<Map<String, Value>>,
    pub errors: Vec<DecodeError>,
    pub notices: Vec<Notice>,
    /// The key string the vector carried was refused by `KeyStore` (e.g. 24-byte BTHome key).
    pub key_refused: bool,
}

#[derive(Default)]
pub struct Capture {
    pub out: Outcome,
}

impl Sink for Capture {
    fn reading(&mut self, r: &Reading) {
        let mut line = Vec::new();
        write_json_line(&mut line, r);
        let v: Value = serde_json::from_slice(&line).expect("output is JSON");
        match v {
            Value::Object(m) => self.out.readings.push(m),
            other => panic!("reading rendered as {other}"),
        }
    }
    fn notice(&mut self, n: Notice) {
        self.out.notices.push(n);
    }
    fn report(&mut self, _r: &Report<'_>, _decoded: Option<&Reading>, err: Option<DecodeError>) {
        if let Some(e) = err {
            self.out.errors.push(e);
        }
    }
}

/// Runs one vector through a fresh pipeline: key, `preceding_inputs`, then the vector itself.
pub fn run_vector(v: &Value) -> Outcome {
    let mut keys = KeyStore::new();
    let mut key_refused = false;
    if let (Some(k), Some(mac)) = (
        v.get("key_hex").and_then(Value::as_str),
        v.get("mac").and_then(Value::as_str),
    ) {
        if keys.insert_str(mac, k).is_err() {
            key_refused = true;
        }
    }
    let mut p = Pipeline::new(keys, Options::default());
    if let Some(pre) = v.get("preceding_inputs").and_then(Value::as_array) {
        for input in pre {
            if input.get("call").and_then(Value::as_str) == Some("supported") {
                continue;
            }
            let mut sink = Capture::default();
            p.handle_packet(&event_for(input), &mut sink);
        }
    }
    let mut sink = Capture::default();
    p.handle_packet(&event_for(v), &mut sink);
    sink.out.key_refused = key_refused;
    sink.out
}

/// Float comparison with 1e-6 relative tolerance (absolute near zero).
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

/// Compares an output JSON value with an expected one: numbers with tolerance, booleans as
/// 0/1 (bleparser publishes binary states as ints), strings exactly.
pub fn value_matches(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => match (g.as_f64(), w.as_f64()) {
            (Some(g), Some(w)) => close(g, w),
            _ => false,
        },
        (Value::Number(g), Value::Bool(w)) => g.as_f64() == Some(if *w { 1.0 } else { 0.0 }),
        (Value::String(g), Value::String(w)) => g == w,
        _ => false,
    }
}
