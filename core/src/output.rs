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
/// that; numbers still go through serde_json. No escaping is written by hand.
///
/// The cache stores each string's whole JSON *fragment* (`,"model":"LYWSD03MMC"`,
/// `,"temperature":`), so a field costs one lookup and one copy. The lookup is an
/// open-addressed table keyed by the string's address: a `HashMap` of boxed slices cost about
/// a third of the replay's JSON time in hashing and probing (callgrind).
pub struct JsonWriter {
    slots: Box<[Slot; CACHE_SLOTS]>,
    /// Fragments of the cached strings, back to back.
    arena: Vec<u8>,
    used: usize,
    /// Whole `,"format":…,"firmware":…,"model":…[,"packet":]` fragments by the three strings
    /// (a device's never change): one lookup and one copy instead of three.
    heads: Box<[HeadSlot; HEAD_SLOTS]>,
    heads_used: usize,
}

const HEAD_SLOTS: usize = 256;
const HEAD_MAX: usize = HEAD_SLOTS * 3 / 4;

/// Cache entry of a line head: address and length of format, firmware and model, and whether
/// `,"packet":` ends the fragment.
#[derive(Clone, Copy)]
struct HeadSlot {
    key: [usize; 6],
    packet: bool,
    used: bool,
    start: u32,
    end: u32,
}

const EMPTY_HEAD: HeadSlot = HeadSlot {
    key: [0; 6],
    packet: false,
    used: false,
    start: 0,
    end: 0,
};

/// Table size (a power of two) and how many strings are cached at most. Only `&'static str`s
/// of the binary reach the cache, a few hundred at most; past the bound a string is simply
/// encoded every time.
const CACHE_SLOTS: usize = 1024;
const CACHE_MAX: usize = CACHE_SLOTS * 3 / 4;

/// What a cached fragment is for: the same string makes different bytes as a key and as a
/// value, so the role is part of the cache key.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Role {
    Empty = 0,
    /// `,"format":"…"`
    Format,
    /// `,"firmware":"…"`
    Firmware,
    /// `,"model":"…"`
    Model,
    /// `,"key":`
    Key,
    /// `"…"` (an event text value)
    Text,
}

#[derive(Clone, Copy)]
struct Slot {
    ptr: usize,
    len: usize,
    role: Role,
    start: u32,
    end: u32,
}

const EMPTY: Slot = Slot {
    ptr: 0,
    len: 0,
    role: Role::Empty,
    start: 0,
    end: 0,
};

impl Default for JsonWriter {
    fn default() -> Self {
        JsonWriter {
            slots: Box::new([EMPTY; CACHE_SLOTS]),
            arena: Vec::new(),
            used: 0,
            heads: Box::new([EMPTY_HEAD; HEAD_SLOTS]),
            heads_used: 0,
        }
    }
}

impl JsonWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the JSON fragment of `s` in `role` (see [`Role`]).
    #[inline]
    fn put(&mut self, out: &mut Vec<u8>, s: &'static str, role: Role) {
        let (ptr, len) = (s.as_ptr() as usize, s.len());
        let h =
            ((ptr as u64) ^ ((len as u64) << 40) ^ role as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut i = (h >> (64 - CACHE_SLOTS.trailing_zeros())) as usize;
        loop {
            let e = &self.slots[i];
            if e.role == role && e.ptr == ptr && e.len == len {
                out.extend_from_slice(&self.arena[e.start as usize..e.end as usize]);
                return;
            }
            if e.role == Role::Empty {
                break;
            }
            i = (i + 1) & (CACHE_SLOTS - 1);
        }
        self.miss(out, s, role, i);
    }

    /// Encodes a fragment not cached yet, and caches it in slot `i` (empty) if there is room.
    #[cold]
    fn miss(&mut self, out: &mut Vec<u8>, s: &'static str, role: Role, i: usize) {
        let start = self.arena.len();
        let a = &mut self.arena;
        match role {
            Role::Format => a.extend_from_slice(b",\"format\":"),
            Role::Firmware => a.extend_from_slice(b",\"firmware\":"),
            Role::Model => a.extend_from_slice(b",\"model\":"),
            Role::Key => a.push(b','),
            Role::Text | Role::Empty => {}
        }
        // Serialising a str into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *a, s);
        if role == Role::Key {
            a.push(b':');
        }
        out.extend_from_slice(&a[start..]);
        let end = a.len();
        if self.used < CACHE_MAX && end <= u32::MAX as usize {
            self.slots[i] = Slot {
                ptr: s.as_ptr() as usize,
                len: s.len(),
                role,
                start: start as u32,
                end: end as u32,
            };
            self.used += 1;
        } else {
            a.truncate(start);
        }
    }

    /// Appends `,"format":…,"firmware":…,"model":…` and, when the reading has a packet
    /// counter, `,"packet":` (see [`JsonWriter::heads`]).
    fn put_head(&mut self, out: &mut Vec<u8>, r: &Reading) {
        let key = [
            r.format.as_ptr() as usize,
            r.format.len(),
            r.firmware.as_ptr() as usize,
            r.firmware.len(),
            r.model.as_ptr() as usize,
            r.model.len(),
        ];
        let packet = r.packet.is_some();
        let h = key.iter().fold(packet as u64, |h, &k| {
            (h ^ k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let mut i = (h >> (64 - HEAD_SLOTS.trailing_zeros())) as usize;
        loop {
            let e = &self.heads[i];
            if !e.used {
                break;
            }
            if e.key == key && e.packet == packet {
                out.extend_from_slice(&self.arena[e.start as usize..e.end as usize]);
                return;
            }
            i = (i + 1) & (HEAD_SLOTS - 1);
        }
        // Not cached: write the pieces (each from the string cache) and remember the result.
        let start = out.len();
        self.put(out, r.format, Role::Format);
        self.put(out, r.firmware, Role::Firmware);
        self.put(out, r.model, Role::Model);
        if packet {
            out.extend_from_slice(b",\"packet\":");
        }
        let a = self.arena.len();
        if self.heads_used < HEAD_MAX && a + (out.len() - start) <= u32::MAX as usize {
            self.arena.extend_from_slice(&out[start..]);
            self.heads[i] = HeadSlot {
                key,
                packet,
                used: true,
                start: a as u32,
                end: self.arena.len() as u32,
            };
            self.heads_used += 1;
        }
    }

    fn put_value(&mut self, out: &mut Vec<u8>, v: &Value) {
        match *v {
            Value::Text(t) => self.put(out, t, Role::Text),
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
        // One reservation for the usual line, so the copies below rarely grow the buffer.
        out.reserve(256);
        // `{"mac":"AA:BB:CC:DD:EE:FF"` and `,"rssi":` assembled on the stack and appended in
        // one copy (each `extend_from_slice` is a call plus a `memcpy`, ~40 instructions).
        const MAC_END: usize = 26;
        let mut head = *b"{\"mac\":\"AA:BB:CC:DD:EE:FF\",\"rssi\":";
        head[8..25].copy_from_slice(&r.addr.colon());
        match r.rssi {
            Some(rssi) => {
                out.extend_from_slice(&head);
                let _ = serde_json::to_writer(&mut *out, &rssi);
            }
            None => out.extend_from_slice(&head[..MAC_END]),
        }
        self.put_head(out, r);
        if let Some(p) = r.packet {
            let _ = serde_json::to_writer(&mut *out, &p);
        }
        for (f, v) in r.values() {
            self.put(out, f.key, Role::Key);
            self.put_value(out, v);
        }
        out.extend_from_slice(b"}\n");
    }
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
            r.clear(
                Addr(rng.to_le_bytes()[..6].try_into().unwrap()),
                if i % 3 == 0 { None } else { Some(rng as i8) },
            );
            r.format = "mibeacon-v5-encrypted";
            r.firmware = if i % 2 == 0 {
                "Xiaomi (MiBeacon V5 encrypted)"
            } else {
                "tab\tand \"quote\""
            };
            r.model = "LYWSD03MMC";
            r.packet = if i % 5 == 0 {
                None
            } else {
                Some((rng >> 8) as u32)
            };
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
