//! Shared harness for the table-driven vector tests: builds the HCI event a vector describes,
//! runs it (after its `preceding_inputs`) through a fresh [`Pipeline`] and collects the merged
//! readings and the pipeline's counters.
#![allow(dead_code)]

use std::collections::BTreeMap;

use hci2mqtt::decode::{KeyStore, Reading, Value};
use hci2mqtt::pipeline::{Options, Pipeline, Sink, Stats};
use serde_json::Value as J;

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

pub fn load(path: &str) -> Vec<J> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("jsonl"))
        .collect()
}

/// AD bytes for one input (service data / manufacturer data / name / UUID list).
pub fn ad_from_parts(
    local_name: Option<&str>,
    service_data: &[(u16, Vec<u8>)],
    manufacturer: &[(u16, Vec<u8>)],
    uuids: &[u16],
) -> Vec<u8> {
    let mut ad = Vec::new();
    if !uuids.is_empty() {
        ad.push((1 + 2 * uuids.len()) as u8);
        ad.push(0x03);
        for u in uuids {
            ad.extend_from_slice(&u.to_le_bytes());
        }
    }
    for (uuid, d) in service_data {
        ad.push((3 + d.len()) as u8);
        ad.push(0x16);
        ad.extend_from_slice(&uuid.to_le_bytes());
        ad.extend_from_slice(d);
    }
    for (cid, d) in manufacturer {
        ad.push((3 + d.len()) as u8);
        ad.push(0xFF);
        ad.extend_from_slice(&cid.to_le_bytes());
        ad.extend_from_slice(d);
    }
    if let Some(n) = local_name {
        ad.push((1 + n.len()) as u8);
        ad.push(0x09);
        ad.extend_from_slice(n.as_bytes());
    }
    ad
}

/// A legacy LE Advertising Report event (0x04 0x3E … subevent 0x02) carrying `ad`. Extended
/// reports are used when the data does not fit a legacy report.
pub fn event(mac: &str, rssi: i8, ad: &[u8]) -> Vec<u8> {
    let addr = hci2mqtt::hci::event::Addr::parse(mac).expect("mac");
    if ad.len() <= 31 {
        let mut p = vec![0x04, 0x3E, 0, 0x02, 0x01, 0x00, 0x00];
        p.extend_from_slice(&addr.to_le());
        p.push(ad.len() as u8);
        p.extend_from_slice(ad);
        p.push(rssi as u8);
        p[2] = (p.len() - 3) as u8;
        p
    } else {
        let mut p = vec![0x04, 0x3E, 0, 0x0D, 0x01, 0x13, 0x00, 0x00];
        p.extend_from_slice(&addr.to_le());
        p.extend_from_slice(&[
            0x01, 0x00, 0xFF, 0x7F, rssi as u8, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        p.push(ad.len() as u8);
        p.extend_from_slice(ad);
        p[2] = (p.len() - 3) as u8;
        p
    }
}

fn sd_list(obj: Option<&J>) -> Vec<(u16, Vec<u8>)> {
    let mut v = Vec::new();
    if let Some(J::Object(m)) = obj {
        for (k, d) in m {
            if let (Ok(u), Some(h)) = (
                u16::from_str_radix(k.trim_start_matches("0000").get(..4).unwrap_or(k), 16),
                d.as_str(),
            ) {
                v.push((u, hex(h)));
            }
        }
    }
    v
}

fn mfr_list(obj: Option<&J>) -> Vec<(u16, Vec<u8>)> {
    let mut v = Vec::new();
    match obj {
        Some(J::Array(a)) => {
            for m in a {
                if let (Some(c), Some(h)) = (m["company_id"].as_u64(), m["data_hex"].as_str()) {
                    v.push((c as u16, hex(h)));
                }
            }
        }
        Some(J::Object(m)) => {
            for (k, d) in m {
                if let (Ok(c), Some(h)) = (k.parse::<u16>(), d.as_str()) {
                    v.push((c, hex(h)));
                }
            }
        }
        _ => {}
    }
    v
}

fn uuid_list(obj: Option<&J>) -> Vec<u16> {
    let mut v = Vec::new();
    if let Some(J::Array(a)) = obj {
        for u in a {
            if let Some(s) = u.as_str() {
                let s = s.trim_start_matches("0000");
                if let Ok(x) = u16::from_str_radix(s.get(..4).unwrap_or(s), 16) {
                    if s.len() == 4 || s.ends_with("-0000-1000-8000-00805f9b34fb") {
                        v.push(x);
                    }
                }
            }
        }
    }
    v
}

/// The HCI packets a vector stands for: its preceding inputs, then itself.
pub fn packets(v: &J) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mac = v["mac"].as_str().unwrap_or("00:00:00:00:00:00");
    if let Some(J::Array(pre)) = v.get("preceding_inputs") {
        for p in pre {
            if p["call"].as_str() == Some("supported") {
                continue;
            }
            let m = p["mac"].as_str().unwrap_or(mac);
            let ad = ad_from_parts(
                p["local_name"].as_str(),
                &sd_list(p.get("service_data")),
                &mfr_list(p.get("manufacturer_data")),
                &uuid_list(p.get("service_uuids")),
            );
            out.push(event(m, p["rssi"].as_i64().unwrap_or(-60) as i8, &ad));
        }
    }
    if let Some(h) = v["hci_event_hex"].as_str() {
        out.push(hex(h));
        return out;
    }
    let rssi = v["rssi"].as_i64().unwrap_or(-60) as i8;
    let ad = if let Some(h) = v["adv_data_hex"].as_str() {
        hex(h)
    } else {
        let mut sd = sd_list(v.get("service_data_all"));
        if sd.is_empty() {
            if let (Some(u), Some(h)) = (v["service_uuid"].as_str(), v["service_data_hex"].as_str())
            {
                if let Ok(u) = u16::from_str_radix(u, 16) {
                    sd.push((u, hex(h)));
                }
            }
        }
        ad_from_parts(
            v["local_name"].as_str(),
            &sd,
            &mfr_list(v.get("manufacturer_data")),
            &uuid_list(v.get("service_uuids")),
        )
    };
    out.push(event(mac, rssi, &ad));
    out
}

/// What a vector produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Latest value per key over every reading (as a state topic would merge them).
    pub values: BTreeMap<String, Value>,
    pub readings: usize,
    pub model: String,
    pub firmware: String,
    pub format: String,
    pub mac: String,
    pub packet: Option<u32>,
    pub rssi: Option<i8>,
    pub stats: Stats,
}

struct Collect<'a>(&'a mut Outcome);

impl Sink for Collect<'_> {
    fn reading(&mut self, r: &Reading) {
        let o = &mut *self.0;
        o.readings += 1;
        o.model = r.model.to_string();
        o.firmware = r.firmware.to_string();
        o.format = r.format.to_string();
        o.mac = String::from_utf8_lossy(&r.addr.hex12()).to_uppercase();
        o.packet = r.packet;
        o.rssi = r.rssi;
        for (f, v) in r.values() {
            o.values.insert(f.key.to_string(), *v);
        }
    }
}

pub fn run(v: &J) -> Outcome {
    let mut keys = KeyStore::new();
    if let (Some(k), Some(m)) = (v["key_hex"].as_str(), v["mac"].as_str()) {
        keys.insert_str(m, k).expect("vector key");
    }
    let mut p = Pipeline::new(keys, Options::default());
    let mut o = Outcome::default();
    for pkt in packets(v) {
        p.handle_packet(&pkt, &mut Collect(&mut o));
    }
    o.stats = p.stats();
    o
}

/// Compares an expected JSON value with ours: numbers with a 1e-6 relative tolerance (the
/// sources state floats as Python printed them), booleans as 0/1, strings exactly.
pub fn same(expected: &J, got: &Value) -> bool {
    match (expected, got) {
        (J::Bool(b), Value::Int(i)) => (*b as i64) == *i,
        (J::Number(n), v) => match (n.as_f64(), v.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(1.0),
            _ => false,
        },
        (J::String(s), Value::Text(t)) => s == t,
        (J::Object(o), v) => match (
            o.get("approx").and_then(J::as_f64),
            o.get("abs").and_then(J::as_f64),
            v.as_f64(),
        ) {
            (Some(a), Some(tol), Some(b)) => (a - b).abs() <= tol,
            _ => false,
        },
        _ => false,
    }
}
