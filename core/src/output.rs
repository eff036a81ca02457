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

/// The `io::Write` serde_json writes a line into: a `Vec<u8>`, with the one-byte writes
/// (quotes, colons, commas: half of them) pushed rather than copied.
struct LineBuf<'a>(&'a mut Vec<u8>);

impl std::io::Write for LineBuf<'_> {
    #[inline]
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.write_all(b)?;
        Ok(b.len())
    }

    #[inline]
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match *b {
            [c] => self.0.push(c),
            _ => self.0.extend_from_slice(b),
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Appends one JSON line for `r` to `out`.
pub fn write_json_line(out: &mut Vec<u8>, r: &Reading) {
    // Writing to a Vec cannot fail, and Value/JsonReading never produce non-finite floats that
    // serde_json would reject... but a decoder bug could: fall back to `null` rather than panic.
    if serde_json::to_writer(LineBuf(out), &JsonReading(r)).is_err() {
        out.extend_from_slice(b"null");
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::decode::field;

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
}
