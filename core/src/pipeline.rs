//! The sans-IO core: HCI packets in, readings and notices out.
//!
//! No sockets, clocks or threads here: the event loop, the replay command, tests and benches
//! all feed bytes to [`Pipeline::handle_packet`] and receive [`Reading`]s through a [`Sink`].

use std::collections::BTreeMap;

use crate::addr::Addr;
use crate::adv;
use crate::decode::{self, Advert, Ctx, DecodeError, KeyStore, Reading};
use crate::devices::DeviceTable;
use crate::hci::event::{self, DataStatus, Event, EventKind, Report};

/// Default bound on per-device state.
pub const DEFAULT_DEVICE_CAP: usize = 4096;
/// Bound on the per-MAC failure map kept for the summary.
const FAILURE_MAP_CAP: usize = 256;
/// Pending extended-advertising fragments kept at once.
const FRAGMENT_SLOTS: usize = 4;
/// Service/manufacturer-data structures of one report considered for decoding.
const MAX_CANDIDATES: usize = 8;
/// Largest reassembled extended advertisement (Core: 1650 bytes).
const MAX_EXT_DATA: usize = 1650;

/// Something worth telling the user once, not per frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A configured key does not authenticate this device's frames (reported once per device).
    WrongKey { addr: Addr, format: &'static str },
    /// This device sends encrypted frames and has no key (reported once per device).
    NeedsKey {
        addr: Addr,
        format: &'static str,
        model: &'static str,
    },
}

impl core::fmt::Display for Notice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Notice::WrongKey { addr, format } => {
                write!(
                    f,
                    "{addr}: {format} frame does not decrypt with the configured key (wrong key?)"
                )
            }
            Notice::NeedsKey {
                addr,
                format,
                model,
            } => {
                write!(f, "{addr}: {model} sends encrypted {format} frames; configure its key to decode them")
            }
        }
    }
}

/// What became of one report: every well-formed report gets exactly one.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'r> {
    /// No format claimed any structure (phones, names, flags, scan responses…).
    NotClaimed,
    /// A re-broadcast of a frame already seen from this device (dropped before decoding).
    Duplicate(&'static decode::Format),
    Decoded(&'r Reading),
    Failed(&'static decode::Format, DecodeError),
}

/// What the pipeline saw of a report, whatever its outcome: found once, in its one walk of
/// the AD data, so no consumer walks it again.
#[derive(Clone, Copy, Debug)]
pub struct Seen<'a> {
    pub report: &'a Report<'a>,
    /// Complete or shortened local name, or empty.
    pub name: &'a [u8],
}

/// Where the pipeline's output goes: the publisher, trackers, `scan`'s table, stdout and
/// `--record` all consume the same outcome.
pub trait Sink {
    fn outcome(&mut self, seen: &Seen<'_>, outcome: Outcome<'_>);
    fn notice(&mut self, _n: Notice) {}
}

/// A closure sees the decoded readings only.
impl<F: FnMut(&Reading)> Sink for F {
    fn outcome(&mut self, _seen: &Seen<'_>, outcome: Outcome<'_>) {
        if let Outcome::Decoded(r) = outcome {
            self(r)
        }
    }
}

/// A 64-bit fingerprint of a claimed payload (never 0, the "nothing seen" value), eight
/// bytes at a time.
fn fingerprint(format: &decode::Format, payload: &[u8]) -> u64 {
    let mut h = (format as *const decode::Format as u64) ^ (payload.len() as u64).rotate_left(32);
    let mut chunks = payload.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let m = ((h ^ w) as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h = (m as u64) ^ ((m >> 64) as u64);
    }
    // The last 0–7 bytes as a little-endian integer: with 8 bytes or more before them, one
    // load of the final 8 bytes shifted down; else a shift loop.
    let rem = chunks.remainder();
    let n = payload.len();
    let last = match payload.get(n.wrapping_sub(8)..) {
        Some(&[a, b, c, d, e, f, g, h]) if !rem.is_empty() => {
            u64::from_le_bytes([a, b, c, d, e, f, g, h]) >> (8 * (8 - rem.len()))
        }
        _ => rem.iter().rev().fold(0u64, |a, &b| (a << 8) | b as u64),
    };
    let m = ((h ^ last) as u128).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    ((m as u64) ^ ((m >> 64) as u64)) | 1
}

/// Counters for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub packets: u64,
    /// Packets that were not valid HCI events, or events whose reports did not parse.
    pub malformed: u64,
    /// Non-event packets (commands, ACL) and events other than advertising reports.
    pub other: u64,
    pub reports: u64,
    /// Reports whose AD data overran (the well-formed structures before it were still used).
    pub ad_overruns: u64,
    pub decoded: u64,
    pub duplicates: u64,
    /// Claimed by a format but not decodable (truncated, malformed, unsupported).
    pub undecodable: u64,
    pub no_key: u64,
    pub decrypt_failures: u64,
    pub replays: u64,
    /// Devices evicted from the bounded per-device table.
    pub evicted: u64,
    /// Extended advertisements dropped because their fragment chain broke.
    pub fragments_dropped: u64,
    /// Decrypt failures by device (bounded to the first 256 devices).
    pub decrypt_failures_by_mac: BTreeMap<Addr, u64>,
}

struct Fragment {
    addr: Addr,
    sid: u8,
    used: bool,
    data: Vec<u8>,
}

/// Pipeline configuration.
#[derive(Clone, Debug)]
pub struct Options {
    /// Drop a frame whose counter equals the last one from the same device and format.
    pub filter_duplicates: bool,
    pub device_cap: usize,
    /// Key of the device table's address hash. Anyone nearby chooses the addresses, so the
    /// binary passes a per-process random key; the default is fixed (tests, fuzzing).
    pub hash_key: u64,
    /// Remember each address's name from its scan responses and give it to the matchers of
    /// its later reports that carry data without a name ([`crate::names`]). For active
    /// scanning, where scan responses come as reports of their own; off by default, since
    /// name-keyed matchers then also run for every phone that sent a name.
    pub remember_names: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            filter_duplicates: true,
            device_cap: DEFAULT_DEVICE_CAP,
            hash_key: crate::addr::FIXED_HASH_KEY,
            remember_names: false,
        }
    }
}

pub struct Pipeline {
    keys: KeyStore,
    devices: DeviceTable,
    /// The name each address sent last (scan responses come as reports of their own).
    names: crate::names::Names,
    opts: Options,
    stats: Stats,
    reading: Reading,
    fragments: Vec<Fragment>,
    /// Fragment slots in use: with none (nearly always), an extended report skips the search
    /// of the slots.
    fragments_used: usize,
}

impl Pipeline {
    pub fn new(keys: KeyStore, opts: Options) -> Self {
        Pipeline {
            keys,
            devices: DeviceTable::with_capacity(opts.device_cap, opts.hash_key),
            names: crate::names::Names::new(opts.hash_key),
            opts,
            stats: Stats::default(),
            reading: Reading::default(),
            fragments: (0..FRAGMENT_SLOTS)
                .map(|_| Fragment {
                    addr: Addr::default(),
                    sid: 0,
                    used: false,
                    data: Vec::with_capacity(MAX_EXT_DATA),
                })
                .collect(),
            fragments_used: 0,
        }
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    pub fn keys_mut(&mut self) -> &mut KeyStore {
        &mut self.keys
    }

    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.evicted = self.devices.evicted;
        s
    }

    pub fn devices(&self) -> &DeviceTable {
        &self.devices
    }

    /// Feeds one HCI packet (H4 type byte first). Returns the event if it was well-formed, so
    /// callers driving a controller can look at Command Complete etc.
    pub fn handle_packet(&mut self, pkt: &[u8], sink: &mut dyn Sink) {
        self.stats.packets += 1;
        // The common case, one legacy report per event, without the general walk.
        if let Some(rep) = event::single_adv_report(pkt) {
            self.handle_report(&rep, sink);
            return;
        }
        if let Some(rep) = event::single_ext_adv_report(pkt) {
            self.handle_ext_report(&rep, sink);
            return;
        }
        if pkt.first() != Some(&event::H4_EVENT) {
            self.stats.other += 1;
            return;
        }
        let ev = match Event::new_checked(pkt) {
            Ok(e) => e,
            Err(_) => {
                self.stats.malformed += 1;
                return;
            }
        };
        match ev.kind() {
            Ok(EventKind::AdvReports(r)) => {
                for rep in r.iter() {
                    self.handle_report(&rep, sink);
                }
            }
            Ok(EventKind::ExtAdvReports(r)) => {
                for rep in r.iter() {
                    self.handle_ext_report(&rep, sink);
                }
            }
            Ok(_) => self.stats.other += 1,
            Err(_) => self.stats.malformed += 1,
        }
    }

    fn handle_ext_report(&mut self, rep: &Report<'_>, sink: &mut dyn Sink) {
        let slot = if self.fragments_used == 0 {
            None
        } else {
            self.fragments
                .iter()
                .position(|f| f.used && f.addr == rep.addr && f.sid == rep.sid)
        };
        match (rep.data_status(), slot) {
            (DataStatus::Complete, None) => self.handle_report(rep, sink),
            (DataStatus::MoreToCome, _) => {
                let i = match slot {
                    Some(i) => i,
                    None => {
                        // Take a free slot, else recycle the first (its chain is lost).
                        let i = self.fragments.iter().position(|f| !f.used).unwrap_or(0);
                        if self.fragments[i].used {
                            self.stats.fragments_dropped += 1;
                        } else {
                            self.fragments_used += 1;
                        }
                        let f = &mut self.fragments[i];
                        f.used = true;
                        f.addr = rep.addr;
                        f.sid = rep.sid;
                        f.data.clear();
                        i
                    }
                };
                let f = &mut self.fragments[i];
                if f.data.len() + rep.data.len() > MAX_EXT_DATA {
                    f.used = false;
                    self.fragments_used -= 1;
                    self.stats.fragments_dropped += 1;
                } else {
                    f.data.extend_from_slice(rep.data);
                }
            }
            (DataStatus::Complete, Some(i)) => {
                let mut data = core::mem::take(&mut self.fragments[i].data);
                self.fragments[i].used = false;
                self.fragments_used -= 1;
                if data.len() + rep.data.len() <= MAX_EXT_DATA {
                    data.extend_from_slice(rep.data);
                    let whole = Report {
                        data: &data,
                        ..*rep
                    };
                    self.handle_report(&whole, sink);
                } else {
                    self.stats.fragments_dropped += 1;
                }
                data.clear();
                self.fragments[i].data = data;
            }
            (DataStatus::Truncated | DataStatus::Reserved, s) => {
                if let Some(i) = s {
                    self.fragments[i].used = false;
                    self.fragments_used -= 1;
                }
                self.stats.fragments_dropped += 1;
                // The part received may still hold a complete sensor structure.
                self.handle_report(rep, sink);
            }
        }
    }

    /// Decodes one complete report.
    fn handle_report(&mut self, rep: &Report<'_>, sink: &mut dyn Sink) {
        self.stats.reports += 1;
        // One pass over the AD data: the summary the format matchers use, filled in place,
        // and the candidate structures as the offsets of their length bytes (on the stack);
        // then let the formats claim a structure.
        let mut cand = [0u16; MAX_CANDIDATES];
        let mut n = 0;
        let data = rep.data;
        let mut advert = Advert {
            addr: rep.addr,
            addr_type: rep.addr_type,
            rssi: rep.rssi,
            data,
            hints: adv::AdSummary::default(),
        };
        let mut overrun = false;
        let mut off = 0usize;
        let mut first = adv::AdStructure {
            ad_type: 0,
            payload: &[],
        };
        for s in adv::structures(data) {
            match s {
                Ok(s) => {
                    // Only service data, manufacturer data and (Sonoff) complete 32-bit UUID
                    // lists carry readings.
                    if advert.hints.add(&s) && n < MAX_CANDIDATES {
                        // The first (usually only) candidate is kept whole, the others
                        // re-derived from their offsets if it is not claimed.
                        if n == 0 {
                            first = s;
                        }
                        cand[n] = off as u16;
                        n += 1;
                    }
                    off += 2 + s.payload.len();
                }
                Err(_) => overrun = true,
            }
        }
        if overrun {
            self.stats.ad_overruns += 1;
        }
        // With `remember_names` (active scanning): names and 128-bit UUIDs are remembered
        // from scan responses only, and recalled for manufacturer data without them (the
        // service-data formats never look at either).
        if self.opts.remember_names {
            let mfr = n > 0
                && (advert.hints.non_apple_manufacturer
                    || first.ad_type == adv::ad_type::MANUFACTURER);
            scan_response_memory(&mut self.names, rep, &mut advert.hints, mfr);
        }
        if n == 0 {
            // Nothing that carries readings (names, flags, scan responses of phones…).
            let seen = Seen {
                report: rep,
                name: advert.hints.name,
            };
            sink.outcome(&seen, Outcome::NotClaimed);
            return;
        }
        let claimed = decode::claim(&first, &advert).or_else(|| {
            cand[1..n].iter().find_map(|&o| {
                // Well-formed (checked by the walk above), so these slices are in bounds.
                let o = o as usize;
                let end = o + 1 + *data.get(o)? as usize;
                let s = adv::AdStructure {
                    ad_type: *data.get(o + 1)?,
                    payload: data.get(o + 2..end)?,
                };
                decode::claim(&s, &advert)
            })
        });
        let seen = Seen {
            report: rep,
            name: advert.hints.name,
        };
        let Some((format, claim)) = claimed else {
            sink.outcome(&seen, Outcome::NotClaimed);
            return;
        };
        let mem = self.devices.get_or_insert(advert.addr);
        // Sensors re-broadcast each frame several times: identical bytes to the last frame
        // that carried a counter are that frame again. Dropping them here spares the decoder
        // (and AES) most of its work; counted like any other duplicate.
        let fp = fingerprint(format, claim.payload);
        if self.opts.filter_duplicates && mem.last_frame == fp {
            self.stats.duplicates += 1;
            sink.outcome(&seen, Outcome::Duplicate(format));
            return;
        }
        // After the duplicate check: a dropped frame never reaches the reading.
        self.reading.clear(advert.addr, advert.rssi);
        self.reading.format = format.name;
        self.reading.source = format;
        let result = {
            let mut ctx = Ctx {
                keys: &self.keys,
                memory: &mut mem.memory,
            };
            (format.decode)(&mut ctx, &advert, claim, &mut self.reading)
        };
        match result {
            Ok(()) => {
                // The frame may name another address (MAC in frame): dedupe on the sensor.
                let sensor = self.reading.addr;
                let same = sensor == advert.addr;
                let st = if same {
                    mem
                } else {
                    self.devices.get_or_insert(sensor)
                };
                if let (true, Some(p)) = (self.opts.filter_duplicates, self.reading.packet) {
                    if same {
                        st.last_frame = fp;
                    }
                    if st.last_packet == Some((p, format.name)) {
                        self.stats.duplicates += 1;
                        sink.outcome(&seen, Outcome::Duplicate(format));
                        return;
                    }
                    st.last_packet = Some((p, format.name));
                }
                self.stats.decoded += 1;
                // A frame naming its own MAC speaks for a fixed sensor address.
                self.reading.private_address = same && rep.addr.is_private(rep.addr_type);
                sink.outcome(&seen, Outcome::Decoded(&self.reading));
            }
            Err(e) => {
                match e {
                    DecodeError::NoKey => {
                        self.stats.no_key += 1;
                        if !mem.no_key_reported {
                            mem.no_key_reported = true;
                            sink.notice(Notice::NeedsKey {
                                addr: self.reading.addr,
                                format: self.reading.format,
                                model: self.reading.model,
                            });
                        }
                    }
                    DecodeError::DecryptFailed => {
                        self.stats.decrypt_failures += 1;
                        let n = self.stats.decrypt_failures_by_mac.len();
                        if let Some(c) = self
                            .stats
                            .decrypt_failures_by_mac
                            .get_mut(&self.reading.addr)
                        {
                            *c += 1;
                        } else if n < FAILURE_MAP_CAP {
                            self.stats
                                .decrypt_failures_by_mac
                                .insert(self.reading.addr, 1);
                        }
                        if !mem.decrypt_failure_reported {
                            mem.decrypt_failure_reported = true;
                            sink.notice(Notice::WrongKey {
                                addr: self.reading.addr,
                                format: self.reading.format,
                            });
                        }
                    }
                    DecodeError::Replay => self.stats.replays += 1,
                    DecodeError::Truncated | DecodeError::Malformed(_) | DecodeError::NoData => {
                        self.stats.undecodable += 1
                    }
                }
                sink.outcome(&seen, Outcome::Failed(format, e));
            }
        }
    }
}

/// With active scanning: remembers what a scan response carried (name, first 128-bit UUID),
/// or lends what the address sent last to a report with manufacturer data (`mfr`) that lacks
/// it. Out of line: passive scans (the common case) never run it.
#[inline(never)]
fn scan_response_memory<'a>(
    names: &'a mut crate::names::Names,
    rep: &Report<'a>,
    h: &mut adv::AdSummary<'a>,
    mfr: bool,
) {
    if rep.is_scan_response() && !(h.name.is_empty() && h.uuid128.is_empty()) {
        names.remember(rep.addr, h.name, h.uuid128);
    } else if (h.name.is_empty() || h.uuid128.is_empty()) && mfr && !names.is_empty() {
        let (name, uuid128) = names.recall(&rep.addr);
        if h.name.is_empty() {
            h.name = name;
        }
        if h.uuid128.is_empty() {
            h.uuid128 = uuid128;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-load tail of `fingerprint` reads the same little-endian integer as the
    /// byte loop it replaced, for every remainder length.
    /// Every report gets exactly one outcome, duplicates included (trackers and `scan` count
    /// them), and the name comes with it from the pipeline's own walk.
    #[test]
    fn every_report_gets_one_outcome() {
        #[derive(Default)]
        struct Log(Vec<(String, Vec<u8>)>);
        impl Sink for Log {
            fn outcome(&mut self, seen: &Seen<'_>, o: Outcome<'_>) {
                let kind = match o {
                    Outcome::NotClaimed => "not claimed".to_string(),
                    Outcome::Duplicate(f) => format!("duplicate {}", f.name),
                    Outcome::Decoded(r) => format!("decoded {}", r.format),
                    Outcome::Failed(f, e) => format!("failed {} {e:?}", f.name),
                };
                self.0.push((kind, seen.name.to_vec()));
            }
        }
        // BTHome v2, unencrypted: packet id 1, temperature 25.06 °C; and a name-only advert.
        let sensor = [
            0x02, 0x01, 0x06, 0x05, 0x09, b'T', b'H', b'1', b'!', 0x09, 0x16, 0xD2, 0xFC, 0x40,
            0x00, 0x01, 0x02, 0xCA, 0x09,
        ];
        let phone = [0x05, 0x09, b'P', b'h', b'o', b'n'];
        // BTHome v2 with a truncated object (temperature needs 2 bytes).
        let broken = [0x06, 0x16, 0xD2, 0xFC, 0x40, 0x02, 0xCA];
        let a = Addr([0xA4, 0xC1, 0x38, 0, 0, 1]);
        let b = Addr([0x11, 0x22, 0x33, 0x44, 0x55, 0x66]);
        let c = Addr([0xA4, 0xC1, 0x38, 0, 0, 2]);
        let mut p = Pipeline::new(KeyStore::new(), Options::default());
        let mut log = Log::default();
        for (addr, data) in [
            (a, &sensor[..]),
            (a, &sensor[..]),
            (b, &phone[..]),
            (c, &broken[..]),
        ] {
            let mut pkt = Vec::new();
            Report::adv_ind(addr, -60, data).emit(&mut pkt);
            p.handle_packet(&pkt, &mut log);
        }
        let kinds: Vec<&str> = log.0.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds[..3],
            ["decoded bthome-v2", "duplicate bthome-v2", "not claimed"]
        );
        assert!(kinds[3].starts_with("failed bthome-v2"), "{kinds:?}");
        assert_eq!(log.0[0].1, b"TH1!");
        assert_eq!(log.0[1].1, b"TH1!");
        assert_eq!(log.0[2].1, b"Phon");
        assert_eq!(p.stats().duplicates, 1);
    }

    #[test]
    fn fingerprint_tail_matches_byte_loop() {
        fn reference(format: &decode::Format, payload: &[u8]) -> u64 {
            let mut h =
                (format as *const decode::Format as u64) ^ (payload.len() as u64).rotate_left(32);
            let mut chunks = payload.chunks_exact(8);
            for c in &mut chunks {
                let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
                let m = ((h ^ w) as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                h = (m as u64) ^ ((m >> 64) as u64);
            }
            let last = chunks
                .remainder()
                .iter()
                .rev()
                .fold(0u64, |a, &b| (a << 8) | b as u64);
            let m = ((h ^ last) as u128).wrapping_mul(0xD6E8_FEB8_6659_FD93);
            ((m as u64) ^ ((m >> 64) as u64)) | 1
        }
        let bytes: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(97) ^ 0x5A) as u8)
            .collect();
        let f = decode::FORMATS[0];
        for n in 0..bytes.len() {
            assert_eq!(
                fingerprint(f, &bytes[..n]),
                reference(f, &bytes[..n]),
                "length {n}"
            );
        }
    }

    fn ext_event(addr_last: u8, status: u16, data: &[u8]) -> Vec<u8> {
        let evt = 0x0001u16 | status << 5;
        let mut r = vec![
            evt as u8,
            (evt >> 8) as u8,
            0x00,
            addr_last,
            2,
            3,
            4,
            5,
            6,
            1,
            0,
            0xFF,
            0x7F,
            0xC4,
        ];
        r.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, data.len() as u8]);
        r.extend_from_slice(data);
        let mut p = vec![0x04, 0x3E, 0, 0x0D, 1];
        p.extend_from_slice(&r);
        p[2] = (p.len() - 3) as u8;
        p
    }

    /// Extended-advertising chains are reassembled (also with another device's chain in
    /// between), and the in-use count returns to zero so later reports skip the slot search.
    #[test]
    fn fragments_reassemble_and_free_their_slots() {
        // BTHome v2, temperature 0x02 = 25.00 °C, split after the first 5 bytes.
        let ad = [0x07, 0x16, 0xD2, 0xFC, 0x40, 0x02, 0xC4, 0x09];
        let mut p = Pipeline::new(KeyStore::new(), Options::default());
        let mut got = Vec::new();
        let mut sink = |r: &Reading| got.push((r.addr, r.get("temperature")));
        p.handle_packet(&ext_event(0x01, 1, &ad[..5]), &mut sink);
        p.handle_packet(&ext_event(0x02, 1, &ad[..3]), &mut sink);
        assert_eq!(p.fragments_used, 2);
        p.handle_packet(&ext_event(0x01, 0, &ad[5..]), &mut sink);
        p.handle_packet(&ext_event(0x02, 0, &ad[3..]), &mut sink);
        assert_eq!(p.fragments_used, 0);
        assert_eq!(got.len(), 2, "{got:?}");
        for (_, t) in &got {
            assert_eq!(t.and_then(|v| v.as_f64()), Some(25.0));
        }
        assert_eq!(p.stats().fragments_dropped, 0);
        // A truncated chain frees its slot too.
        let mut ignore = |_: &Reading| {};
        p.handle_packet(&ext_event(0x03, 1, &ad[..4]), &mut ignore);
        p.handle_packet(&ext_event(0x03, 2, &ad[4..6]), &mut ignore);
        assert_eq!((p.fragments_used, p.stats().fragments_dropped), (0, 1));
    }
}
