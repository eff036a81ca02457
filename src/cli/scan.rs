//! `hci2mqtt scan [--adapter SPEC] [--seconds N] [--config FILE] [--key MAC=HEX]... [--raw]`
//!
//! A table of nearby devices so a user can identify a sensor without its box: address, name,
//! RSSI, detected format and model, whether frames are encrypted and need a key, whether a
//! configured key works, and what to do (from what the claiming format declares it
//! `requires`: a key, active scanning), and the last reading. Refreshed every few seconds on
//! a terminal; printed once more at the end (after `--seconds`, or on Ctrl-C).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::event_loop::Observer;
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{self, DecodeError, KeyStore, Reading};
use hci2mqtt_core::pipeline::{Notice, Outcome, Seen};
use hci2mqtt_core::publish::unknown;

pub const USAGE: &str = "\
hci2mqtt scan [--adapter SPEC] [--seconds N] [--config FILE] [--key MAC=HEX]... [--active] [--raw]

Lists nearby BLE devices: MAC, name, RSSI, detected format and model, whether frames are
encrypted and need a key, whether the configured key works, and the last reading.
  --adapter SPEC    as for `run` (default: [scan] adapter, else hci0)
  --seconds N       stop after N seconds (default: until Ctrl-C)
  --active          active scanning: also collects scan responses (names)
  --raw             no table: one JSON line per device no format decodes (its AD structures
                    as hex, RSSI, address type), to paste into a request for a new format
";

/// Rows kept at most (random-address phones would otherwise grow the table for ever).
const MAX_ROWS: usize = 512;

/// Key state of one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Frames are not encrypted.
    Plain,
    /// Encrypted, no key configured.
    NeedsKey,
    /// Encrypted, the configured key decrypts them.
    KeyWorks,
    /// Encrypted, the configured key fails.
    WrongKey,
    /// Nothing decodable seen.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub addr: Addr,
    pub name: String,
    pub rssi: Option<i8>,
    pub format: &'static str,
    pub model: &'static str,
    pub key: KeyState,
    pub last_reading: String,
    pub reports: u64,
    pub last_seen: Instant,
    /// The format table entry that claimed its adverts, if one did.
    pub source: Option<&'static decode::Format>,
    /// A random address that is resolvable or non-resolvable private: it changes every few
    /// minutes (phones, watches), so the device comes back under other addresses.
    pub rotating: bool,
    /// `--raw` printed its advert already.
    pub raw_printed: bool,
}

impl Row {
    /// What the user should do about this device, in a few words ("" when nothing).
    pub fn hint(&self, active_scan: bool) -> &'static str {
        let requires = self.source.map(|f| f.requires);
        match self.key {
            KeyState::NeedsKey => return "add its key: [[sensor]] key",
            KeyState::WrongKey => return "check its [[sensor]] key",
            _ => {}
        }
        if self.last_reading.is_empty() {
            if requires.is_some_and(|r| r.active_scan) && !active_scan {
                return "no reading yet: try --active";
            }
            if self.rotating && self.source.is_none() {
                return "rotating private address (phone?)";
            }
        }
        ""
    }
}

/// Collects rows from what the loop sees.
#[derive(Default)]
pub struct Table {
    pub rows: HashMap<Addr, Row>,
    pub refresh: Option<Duration>,
    /// The scan sends scan requests (hints say when a format needs them).
    pub active: bool,
    /// `--raw`: print each undecodable device's advert as a JSON line instead of a table.
    pub raw: bool,
}

impl Table {
    fn row(&mut self, addr: Addr) -> Option<&mut Row> {
        if !self.rows.contains_key(&addr) {
            if self.rows.len() >= MAX_ROWS {
                // Drop the stalest device.
                let oldest = self
                    .rows
                    .values()
                    .min_by_key(|r| r.last_seen)
                    .map(|r| r.addr);
                if let Some(o) = oldest {
                    self.rows.remove(&o);
                }
            }
            self.rows.insert(
                addr,
                Row {
                    addr,
                    name: String::new(),
                    rssi: None,
                    format: "",
                    model: "",
                    key: KeyState::Unknown,
                    last_reading: String::new(),
                    reports: 0,
                    last_seen: Instant::now(),
                    source: None,
                    rotating: false,
                    raw_printed: false,
                },
            );
        }
        self.rows.get_mut(&addr)
    }

    /// Renders the table, strongest signal first.
    pub fn render(&self, keys: &KeyStore) -> String {
        let mut rows: Vec<&Row> = self.rows.values().collect();
        rows.sort_by_key(|r| (std::cmp::Reverse(r.rssi.unwrap_or(i8::MIN)), r.addr));
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<17}  {:>4}  {:<16}  {:<22}  {:<12}  {:<22}  {:<34}  LAST READING",
            "MAC", "RSSI", "NAME", "FORMAT", "MODEL", "KEY", "TO DO"
        );
        for r in rows {
            let key = match (r.key, keys.contains(&r.addr)) {
                (KeyState::Plain, _) => "not encrypted",
                (KeyState::NeedsKey, _) => "encrypted: needs a key",
                (KeyState::KeyWorks, _) => "encrypted: key works",
                (KeyState::WrongKey, _) => "encrypted: WRONG KEY",
                (KeyState::Unknown, true) => "key configured",
                (KeyState::Unknown, false) => "",
            };
            let rssi = r.rssi.map(|v| v.to_string()).unwrap_or_default();
            let _ = writeln!(
                s,
                "{:<17}  {:>4}  {:<16}  {:<22}  {:<12}  {:<22}  {:<34}  {}",
                r.addr.to_string(),
                rssi,
                trunc(&r.name, 16),
                trunc(if r.format.is_empty() { "-" } else { r.format }, 22),
                trunc(r.model, 12),
                key,
                r.hint(self.active),
                r.last_reading
            );
        }
        s
    }
}

fn trunc(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn reading_summary(r: &Reading) -> String {
    let mut s = String::new();
    for (f, v) in r.values() {
        if !s.is_empty() {
            s.push(' ');
        }
        let _ = match v {
            decode::Value::Float(x) => write!(s, "{}={x}", f.key),
            decode::Value::Int(x) => write!(s, "{}={x}", f.key),
            decode::Value::Text(t) => write!(s, "{}={t}", f.key),
        };
    }
    s
}

impl Observer for Table {
    fn outcome(&mut self, seen: &Seen<'_>, outcome: Outcome<'_>) {
        let r = seen.report;
        // The format that claimed the advertisement, decoded or not, as the pipeline found it.
        let (source, decoded, err) = match outcome {
            Outcome::NotClaimed => (None, None, None),
            Outcome::Duplicate(f) => (Some(f), None, None),
            Outcome::Decoded(d) => (Some(d.source), Some(d), None),
            Outcome::Failed(f, e) => (Some(f), None, Some(e)),
        };
        let format = source.map(|f| f.name);
        let name = (!seen.name.is_empty()).then(|| String::from_utf8_lossy(seen.name).into_owned());
        let raw = self.raw;
        let Some(row) = self.row(r.addr) else { return };
        row.reports += 1;
        row.last_seen = Instant::now();
        row.rotating = r.addr.is_private(r.addr_type);
        if source.is_some() {
            row.source = source;
        }
        if raw
            && !row.raw_printed
            && matches!(outcome, Outcome::NotClaimed)
            && unknown::worth_reporting(r.data)
        {
            row.raw_printed = true;
            let mut line = unknown::json(&r.addr, r.addr_type, r.rssi, r.data);
            line.push(b'\n');
            let _ = std::io::stdout().lock().write_all(&line);
        }
        if r.rssi.is_some() {
            row.rssi = r.rssi;
        }
        if let Some(n) = name {
            row.name = n;
        }
        // The claiming format's table name ("mibeacon") only until a decoder or a notice
        // names the variant ("mibeacon-v5-encrypted").
        if let (Some(f), true) = (format, row.format.is_empty()) {
            row.format = f;
        }
        if let Some(d) = decoded {
            row.format = d.format;
            if !d.model.is_empty() {
                row.model = d.model;
            }
            row.key = if d.encrypted {
                KeyState::KeyWorks
            } else {
                KeyState::Plain
            };
            row.last_reading = reading_summary(d);
        }
        match err {
            Some(DecodeError::NoKey) => row.key = KeyState::NeedsKey,
            Some(DecodeError::DecryptFailed) => row.key = KeyState::WrongKey,
            _ => {}
        }
    }

    fn notice(&mut self, n: &Notice) {
        match *n {
            Notice::NeedsKey {
                addr,
                format,
                model,
            } => {
                if let Some(row) = self.row(addr) {
                    row.format = format;
                    if !model.is_empty() {
                        row.model = model;
                    }
                    row.key = KeyState::NeedsKey;
                }
            }
            Notice::WrongKey { addr, format } => {
                if let Some(row) = self.row(addr) {
                    row.format = format;
                    row.key = KeyState::WrongKey;
                }
            }
        }
    }

    fn tick_every(&self) -> Option<Duration> {
        self.refresh
    }

    fn tick(&mut self, keys: &KeyStore) {
        if self.raw {
            return;
        }
        let mut out = std::io::stdout().lock();
        // Clear the screen and home the cursor (only on a terminal, see `main`).
        let _ = write!(out, "\x1b[2J\x1b[H{}", self.render(keys));
        let _ = out.flush();
    }
}

pub fn main(mut args: Vec<OsString>) -> ExitCode {
    // `--raw` is scan's own; the rest are the common flags.
    let n = args.len();
    args.retain(|a| a != "--raw");
    let raw = args.len() != n;
    let a = match super::run::parse_common(args, true) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hci2mqtt scan: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (cfg, keys) = match super::run::load_config(a.config.as_deref())
        .and_then(|c| super::run::keys(&c, &a.keys).map(|k| (c, k)))
    {
        Ok(k) => k,
        Err(e) => {
            eprintln!("hci2mqtt: {e}");
            return e.exit_code();
        }
    };
    let mut table = Table {
        active: a.active || cfg.scan.active,
        raw,
        refresh: (std::io::stdout().is_terminal() && !raw).then_some(Duration::from_secs(2)),
        ..Table::default()
    };
    // `scan` prints the table, not JSON lines: run the loop without the stdout service.
    let code = match scan_with(a, &cfg, &mut table) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hci2mqtt: {e}");
            return e.exit_code();
        }
    };
    if !raw {
        print!("{}", table.render(&keys));
    }
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn scan_with(
    a: super::run::CommonArgs,
    cfg: &crate::config::Config,
    table: &mut Table,
) -> Result<i32, super::Failure> {
    let ks = super::run::keys(cfg, &a.keys)?;
    let opts = super::run::live_options(cfg, &a)?;
    let mut services: Vec<Box<dyn crate::service::Service>> = Vec::new();
    let mut pipeline = hci2mqtt_core::pipeline::Pipeline::new(
        ks,
        hci2mqtt_core::pipeline::Options {
            hash_key: crate::sys::hash_key(),
            remember_names: opts.scan.params.active,
            ..Default::default()
        },
    );
    // A capture gives the same table, which is handy to look at a recording made elsewhere.
    if let crate::transport::adapter::AdapterSpec::Replay(path) = &opts.adapter {
        let path = path.clone();
        return Ok(super::run::replay_adapter(
            &path,
            &mut pipeline,
            &mut services,
            table,
        )?);
    }
    let mut live = crate::event_loop::Live::new(opts, &mut pipeline, &mut services, table)?;
    let code = live.run();
    // A table from an adapter that never answered would look like "no devices": fail instead.
    Ok(if code == 0 && live.stats.connects == 0 {
        1
    } else {
        code
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hci2mqtt_core::hci::event::Event;
    use hci2mqtt_core::pipeline::{Options, Pipeline, Sink};

    struct Obs<'a>(&'a mut Table);
    impl Sink for Obs<'_> {
        fn notice(&mut self, n: Notice) {
            self.0.notice(&n)
        }
        fn outcome(&mut self, seen: &Seen<'_>, o: Outcome<'_>) {
            self.0.outcome(seen, o)
        }
    }

    #[test]
    fn table_lists_names_and_rssi() {
        // Legacy report with a complete name "Tbl1" and flags, RSSI -60.
        let data = [0x02, 0x01, 0x06, 0x05, 0x09, b'T', b'b', b'l', b'1'];
        let mut pkt = vec![
            0x04,
            0x3E,
            0,
            0x02,
            0x01,
            0x00,
            0x00,
            0x66,
            0x55,
            0x44,
            0x33,
            0x22,
            0x11,
            data.len() as u8,
        ];
        pkt.extend_from_slice(&data);
        pkt.push((-60i8) as u8);
        pkt[2] = (pkt.len() - 3) as u8;
        assert!(Event::new_checked(&pkt).is_ok());
        let mut t = Table::default();
        let mut p = Pipeline::new(KeyStore::new(), Options::default());
        p.handle_packet(&pkt, &mut Obs(&mut t));
        p.handle_packet(&pkt, &mut Obs(&mut t));
        let row = &t.rows[&Addr::parse("11:22:33:44:55:66").unwrap()];
        assert_eq!(
            (row.name.as_str(), row.rssi, row.reports),
            ("Tbl1", Some(-60), 2)
        );
        let out = t.render(&KeyStore::new());
        assert!(
            out.lines()
                .nth(1)
                .unwrap()
                .starts_with("11:22:33:44:55:66   -60  Tbl1"),
            "{out}"
        );
    }

    /// The TO DO column: a key to add or check, active scanning for a format that declares
    /// it needs it, and rotating addresses pointed out.
    #[test]
    fn hints_say_what_to_do() {
        let mut t = Table::default();
        let a = Addr::parse("A4:C1:38:00:00:01").unwrap();
        let row = t.row(a).expect("row");
        row.key = KeyState::NeedsKey;
        assert_eq!(row.hint(false), "add its key: [[sensor]] key");
        row.key = KeyState::WrongKey;
        assert_eq!(row.hint(true), "check its [[sensor]] key");
        row.key = KeyState::Unknown;
        row.source = Some(&decode::switchbot::FORMAT);
        assert_eq!(row.hint(false), "no reading yet: try --active");
        assert_eq!(row.hint(true), "");
        row.last_reading = "temperature=21.5".into();
        assert_eq!(row.hint(false), "", "it decodes: nothing to do");
        row.source = Some(&decode::qingping::FORMAT);
        row.last_reading.clear();
        assert_eq!(row.hint(false), "", "Qingping needs no active scan");
        // A phone: random resolvable private address (top bits 01), flags only.
        let data = [0x02, 0x01, 0x1A];
        let mut pkt = vec![0x04, 0x3E, 0, 0x02, 0x01, 0x00, 0x01];
        pkt.extend_from_slice(&[0x66, 0x55, 0x44, 0x33, 0x22, 0x5A, data.len() as u8]);
        pkt.extend_from_slice(&data);
        pkt.push((-70i8) as u8);
        pkt[2] = (pkt.len() - 3) as u8;
        let mut p = Pipeline::new(KeyStore::new(), Options::default());
        p.handle_packet(&pkt, &mut Obs(&mut t));
        let phone = &t.rows[&Addr::parse("5A:22:33:44:55:66").unwrap()];
        assert!(phone.rotating);
        assert_eq!(phone.hint(false), "rotating private address (phone?)");
        assert!(t.render(&KeyStore::new()).contains("TO DO"));
    }

    #[test]
    fn notices_set_the_key_column_and_rows_are_bounded() {
        let mut t = Table::default();
        let a = Addr::parse("A4:C1:38:00:00:01").unwrap();
        t.notice(&Notice::NeedsKey {
            addr: a,
            format: "mibeacon-v5-encrypted",
            model: "LYWSD03MMC",
        });
        let out = t.render(&KeyStore::new());
        assert!(
            out.contains("mibeacon-v5-encrypted")
                && out.contains("LYWSD03MMC")
                && out.contains("needs a key"),
            "{out}"
        );
        t.notice(&Notice::WrongKey {
            addr: a,
            format: "mibeacon-v5-encrypted",
        });
        assert!(t.render(&KeyStore::new()).contains("WRONG KEY"));
        for i in 0..(MAX_ROWS as u32 + 50) {
            let b = i.to_be_bytes();
            t.notice(&Notice::WrongKey {
                addr: Addr([0, 0, b[0], b[1], b[2], b[3]]),
                format: "x",
            });
        }
        assert_eq!(t.rows.len(), MAX_ROWS);
    }
}
