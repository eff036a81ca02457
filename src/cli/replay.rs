//! `hci2mqtt replay FILE [--key MAC=HEX]... [--config FILE] [--all-frames]`
//!
//! Decodes a capture and prints one JSON object per reading on stdout (the same line `run`
//! prints without a broker), then a summary on stderr. Exit status: 0 on success, 1 when the
//! capture was cut short or unreadable (the readings before the damage are still printed),
//! 2 for usage errors.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::capture;
use crate::config::Config;
use hci2mqtt_core::decode::KeyStore;
use hci2mqtt_core::output::write_json_line;
use hci2mqtt_core::pipeline::{Notice, Options, Outcome, Pipeline, Seen, Sink, Stats};

pub const USAGE: &str = "\
hci2mqtt replay FILE [--key MAC=HEX]... [--config FILE] [--all-frames]

Decodes a capture file and prints one JSON object per decoded advertisement.
FILE: btsnoop (datalink 1001, 1002, btmon's 2001), pcapng or pcap (Wireshark; link types 187,
201, 254), an Android bug report zip (its btsnoop_hci.log), `hcidump -R` text output, plain
text with one hex HCI packet per line (`#` comments allowed), or a raw H4 byte stream; detected
from the content.
  --key MAC=HEX      bindkey for a device: 32 hex digits (24 for legacy MiBeacon v2/v3)
  --config FILE      take keys from a hci2mqtt TOML config ([[sensor]] mac/key)
  --all-frames       do not drop repeated frames (same packet id)
Summary (packets, reports, decoded, duplicates, undecodable, decrypt failures by MAC) on stderr.
";

/// Parsed arguments (shared with `run`'s key handling).
pub struct Args {
    pub file: PathBuf,
    pub keys: Vec<String>,
    pub config: Option<PathBuf>,
    pub all_frames: bool,
}

fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut file = None;
    let mut keys = Vec::new();
    let mut config = None;
    let mut all_frames = false;
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("key") | Short('k') => {
                let v = p.value().map_err(|e| e.to_string())?;
                keys.push(
                    v.into_string()
                        .map_err(|v| format!("--key {v:?}: not UTF-8"))?,
                );
            }
            Long("config") | Short('c') => {
                config = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?))
            }
            Long("all-frames") => all_frames = true,
            Value(v) if file.is_none() => file = Some(PathBuf::from(v)),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let file = file.ok_or("missing FILE")?;
    Ok(Some(Args {
        file,
        keys,
        config,
        all_frames,
    }))
}

/// Keys from `--config` (only when given: a replay does not read `/etc/hci2mqtt.toml`) then
/// `--key` (which wins for the same MAC); shared with `run`, so errors read the same.
pub fn load_keys(config: Option<&PathBuf>, keys: &[String]) -> Result<KeyStore, super::Failure> {
    let cfg = match config {
        Some(path) => super::run::load_config(Some(path))?,
        None => Config::default(),
    };
    super::run::keys(&cfg, keys)
}

/// Stdout is written in blocks of about this many bytes.
const OUT_BLOCK: usize = 64 * 1024;

/// Stdout: the JSON lines are serialised straight into `buf`, written out a block at a time.
struct Out<W: Write> {
    w: W,
    buf: Vec<u8>,
    failed: bool,
}

impl<W: Write> Out<W> {
    fn flush(&mut self) {
        if !self.failed
            && self
                .w
                .write_all(&self.buf)
                .and_then(|_| self.w.flush())
                .is_err()
        {
            // stdout closed (e.g. `| head`): keep counting, stop writing.
            self.failed = true;
        }
        self.buf.clear();
    }
}

impl<W: Write> Sink for Out<W> {
    fn outcome(&mut self, _seen: &Seen<'_>, outcome: Outcome<'_>) {
        let Outcome::Decoded(r) = outcome else {
            return;
        };
        write_json_line(&mut self.buf, r);
        if self.buf.len() >= OUT_BLOCK {
            self.flush();
        }
    }
    fn notice(&mut self, n: Notice) {
        eprintln!("hci2mqtt: {n}");
    }
}

/// The summary printed on stderr.
pub fn summary(s: &Stats) -> String {
    let mut t = format!(
        "packets {}, reports {}, decoded {}, duplicates {}, undecodable {}, no key {}, decrypt failures {}, \
         replays {}, malformed {}, AD overruns {}, other {}, devices evicted {}",
        s.packets,
        s.reports,
        s.decoded,
        s.duplicates,
        s.undecodable,
        s.no_key,
        s.decrypt_failures,
        s.replays,
        s.malformed,
        s.ad_overruns,
        s.other,
        s.evicted
    );
    for (mac, n) in &s.decrypt_failures_by_mac {
        t.push_str(&format!("\n  decrypt failures {mac}: {n}"));
    }
    t
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let args = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hci2mqtt replay: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Replaying a file needs no privilege: drop any file capabilities before reading it.
    let _ = crate::sys::caps::drop_privileges(crate::sys::caps::Keep::Nothing);
    let keys = match load_keys(args.config.as_ref(), &args.keys) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("hci2mqtt replay: {e}");
            return e.exit_code();
        }
    };
    let mut reader = match capture::open(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hci2mqtt replay: {}: {e}", args.file.display());
            return ExitCode::from(1);
        }
    };
    let opts = Options {
        filter_duplicates: !args.all_frames,
        hash_key: crate::sys::hash_key(),
        ..Options::default()
    };
    let mut pipe = Pipeline::new(keys, opts);
    let stdout = std::io::stdout();
    let mut out = Out {
        w: stdout.lock(),
        buf: Vec::with_capacity(OUT_BLOCK + 4096),
        failed: false,
    };
    let mut status = ExitCode::SUCCESS;
    while let Some(p) = reader.next_packet() {
        match p {
            Ok(p) => pipe.handle_packet(p.data, &mut out),
            Err(e) => {
                out.flush();
                eprintln!("hci2mqtt replay: {}: {e}", args.file.display());
                status = ExitCode::from(1);
            }
        }
    }
    out.flush();
    eprintln!(
        "hci2mqtt replay: {} ({}): {}",
        args.file.display(),
        reader.kind(),
        summary(&pipe.stats())
    );
    if reader.skipped() > 0 {
        eprintln!(
            "hci2mqtt replay: {}: skipped {} packets that are not HCI traffic (other link types, monitor notes)",
            args.file.display(),
            reader.skipped()
        );
    }
    status
}
