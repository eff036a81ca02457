//! JSON rendering of readings: one object per line, bleparser key names.
//!
//! serde_json does the encoding (no hand-written escaping); the `Serialize` impls stream
//! straight from the borrowed [`Reading`] into a reused buffer, so no allocation per reading.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::decode::{Reading, Value};

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Float(f) => s.serialize_f64(f),
            Value::Int(i) => s.serialize_i64(i),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// A reading as the `replay`/stdout JSON line: `mac`, `rssi`, `format`, `firmware`, `model`,
/// `packet`, then the measurements.
pub struct JsonReading<'a>(pub &'a Reading);

impl Serialize for JsonReading<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(None)?;
        let mac = r.addr.colon();
        m.serialize_entry("mac", core::str::from_utf8(&mac).unwrap_or(""))?;
        if let Some(rssi) = r.rssi {
            m.serialize_entry("rssi", &rssi)?;
        }
        m.serialize_entry("format", r.format)?;
        m.serialize_entry("firmware", r.firmware)?;
        m.serialize_entry("model", r.model)?;
        if let Some(p) = r.packet {
            m.serialize_entry("packet", &p)?;
        }
        for (f, v) in r.values() {
            m.serialize_entry(f.key, v)?;
        }
        m.end()
    }
}

/// Appends one JSON line for `r` to `out`.
pub fn write_json_line(out: &mut Vec<u8>, r: &Reading) {
    // Writing to a Vec cannot fail, and Value/JsonReading never produce non-finite floats that
    // serde_json would reject... but a decoder bug could: fall back to `null` rather than panic.
    if serde_json::to_writer(&mut *out, &JsonReading(r)).is_err() {
        out.extend_from_slice(b"null");
    }
    out.push(b'\n');
}

/// Fast JSON-lines writer producing exactly [`write_json_line`]'s bytes.
///
/// Almost every string in a reading is `&'static` (keys, format, firmware, model, event
/// texts), so each is escaped by serde_json once, the first time it is seen, and copied after
/// that; numbers still go through serde_json. This cut the replay's JSON cost about tenfold
/// (callgrind), and no escaping is written by hand.
#[derive(Default)]
pub struct JsonWriter {
    cache: std::collections::HashMap<(usize, usize), Box<[u8]>, std::hash::BuildHasherDefault<PtrHasher>>,
}

/// Hasher for (pointer, length) keys of static strings (not attacker-chosen).
#[derive(Default)]
pub struct PtrHasher(u64);

impl std::hash::Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_usize(&mut self, x: usize) {
        self.write_u64(x as u64)
    }
    fn write_u64(&mut self, x: u64) {
        let m = ((self.0 ^ x) as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl JsonWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The JSON encoding of a static string, with quotes.
    fn put_str(&mut self, out: &mut Vec<u8>, s: &'static str) {
        let k = (s.as_ptr() as usize, s.len());
        if let Some(b) = self.cache.get(&k) {
            out.extend_from_slice(b);
            return;
        }
        let mut b = Vec::with_capacity(s.len() + 2);
        // Serialising a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut b, s);
        out.extend_from_slice(&b);
        // Bounded: only `&'static str`s of the binary ever get here.
        self.cache.insert(k, b.into_boxed_slice());
    }

    fn put_value(&mut self, out: &mut Vec<u8>, v: &Value) {
        match *v {
            Value::Text(t) => self.put_str(out, t),
            Value::Int(i) => {
                let _ = serde_json::to_writer(&mut *out, &i);
            }
            Value::Float(f) => {
                let _ = serde_json::to_writer(&mut *out, &f);
            }
        }
    }

    /// Appends one JSON line for `r` to `out` (same bytes as [`write_json_line`]).
    pub fn write_line(&mut self, out: &mut Vec<u8>, r: &Reading) {
        out.extend_from_slice(b"{\"mac\":\"");
        out.extend_from_slice(&r.addr.colon());
        out.push(b'"');
        if let Some(rssi) = r.rssi {
            out.extend_from_slice(b",\"rssi\":");
            let _ = serde_json::to_writer(&mut *out, &rssi);
        }
        out.extend_from_slice(b",\"format\":");
        self.put_str(out, r.format);
        out.extend_from_slice(b",\"firmware\":");
        self.put_str(out, r.firmware);
        out.extend_from_slice(b",\"model\":");
        self.put_str(out, r.model);
        if let Some(p) = r.packet {
            out.extend_from_slice(b",\"packet\":");
            let _ = serde_json::to_writer(&mut *out, &p);
        }
        for (f, v) in r.values() {
            out.push(b',');
            self.put_str(out, f.key);
            out.push(b':');
            self.put_value(out, v);
        }
        out.extend_from_slice(b"}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::field;
    use crate::hci::event::Addr;

    #[test]
    fn renders_bleparser_style() {
        let mut r = Reading::default();
        r.clear(Addr([0xA4, 0xC1, 0x38, 0x02, 0x83, 0xF4]), Some(-53));
        r.format = "mibeacon-v5-encrypted";
        r.firmware = "Xiaomi (MiBeacon V5 encrypted)";
        r.model = "LYWSD03MMC";
        r.packet = Some(7);
        r.float(&field::TEMPERATURE, 23.4);
        r.int(&field::BATTERY, 81);
        let mut out = Vec::new();
        write_json_line(&mut out, &r);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["mac"], "A4:C1:38:02:83:F4");
        assert_eq!(v["temperature"], 23.4);
        assert_eq!(v["battery"], 81);
        assert_eq!(v["packet"], 7);
        assert_eq!(v["rssi"], -53);
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn fast_writer_matches_serde_json_byte_for_byte() {
        use crate::decode::field;
        static ODD: field::Field = field::Field {
            key: "we\"ird\\key\u{1}é",
            unit: "",
            device_class: "",
            state_class: "",
            kind: field::Kind::Text,
            diagnostic: false,
        };
        let mut w = JsonWriter::new();
        let mut rng = 0x1234_5678_9abc_def1u64;
        for i in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut r = Reading::default();
            r.clear(Addr(rng.to_le_bytes()[..6].try_into().unwrap()), if i % 3 == 0 { None } else { Some(rng as i8) });
            r.format = "mibeacon-v5-encrypted";
            r.firmware = if i % 2 == 0 { "Xiaomi (MiBeacon V5 encrypted)" } else { "tab\tand \"quote\"" };
            r.model = "LYWSD03MMC";
            r.packet = if i % 5 == 0 { None } else { Some((rng >> 8) as u32) };
            r.float(&field::TEMPERATURE, (rng as i64 % 100_000) as f64 / 1000.0);
            r.int(&field::BATTERY, (rng >> 20) as i64 % 101);
            r.float(&field::HUMIDITY, f64::from_bits(rng));
            r.push(&ODD, Value::Text("single press"));
            r.float(&field::VOLTAGE, if i % 7 == 0 { f64::NAN } else { 3.1 });
            let (mut a, mut b) = (Vec::new(), Vec::new());
            write_json_line(&mut a, &r);
            w.write_line(&mut b, &r);
            assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        }
    }
}
