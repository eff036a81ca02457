//! `hci2mqtt run [--config FILE] [--adapter SPEC] [--key MAC=HEX]... [--record FILE]`
//!
//! Scans and hands readings to the services: MQTT when the config has an `[mqtt]` section, else
//! JSON lines on stdout, exactly as `replay` prints them. `--adapter replay:FILE` feeds a capture
//! through the same pipeline and services instead of a radio.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::{exit, Failure};
use crate::config::{self, Config};
use crate::event_loop::{KeyArgError, KeyReloadError, Live, LiveOptions, NoObserver, Observer};
use crate::transport::adapter::AdapterSpec;
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::KeyStore;
use hci2mqtt_core::hci::command::ScanParams;
use hci2mqtt_core::hci::scan;
use hci2mqtt_core::pipeline::{Options, Pipeline};

pub const USAGE: &str = "\
hci2mqtt run [--config FILE] [--adapter SPEC] [--key MAC=HEX]... [--record FILE]
             [--active] [--listen-only] [--extended]

Scans for BLE sensor advertisements and publishes readings: to MQTT when the config has an
[mqtt] section, else as JSON lines on stdout (the same lines `replay` prints).
  --config FILE     TOML config (default /etc/hci2mqtt.toml when it exists)
  --adapter SPEC    hci0 | INDEX | adapter MAC | tcp:HOST:PORT | serial:/dev/ttyX[@BAUD][,rtscts]
                    | replay:FILE   (default: [scan] adapter, else hci0)
  --key MAC=HEX     bindkey for a device (repeatable; overrides the config)
  --record FILE     write everything received and sent: pcapng if FILE ends in .pcapng,
                    else btsnoop (both open in Wireshark; btsnoop also in btmon -r)
  --active          active scanning (scan requests)
  --listen-only     send no HCI command; only listen (bluetoothd already scans)
  --extended        use the extended scan commands even if the controller does not list them
  --scanner WHO     who runs the scan on hciN: auto (default: the kernel when it can, which
                    never disturbs bluetoothd), kernel, or hci2mqtt (own scan commands)
Signals: SIGINT/SIGTERM disable the scan and exit 0; SIGHUP reloads keys from the config.
";

/// Arguments shared by `run` and `scan`.
#[derive(Debug, Default)]
pub struct CommonArgs {
    pub config: Option<PathBuf>,
    pub adapter: Option<String>,
    pub keys: Vec<String>,
    pub record: Option<PathBuf>,
    pub active: bool,
    pub listen_only: bool,
    pub extended: bool,
    pub scanner: Option<crate::config::Scanner>,
    pub seconds: Option<f64>,
}

/// Parses the options; `allow_seconds` for `scan`. `Ok(None)` means `--help`.
pub fn parse_common(
    args: Vec<OsString>,
    allow_seconds: bool,
) -> Result<Option<CommonArgs>, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut a = CommonArgs::default();
    let s = |v: OsString, what: &str| {
        v.into_string()
            .map_err(|v| format!("{what} {v:?}: not UTF-8"))
    };
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("config") | Short('c') => {
                a.config = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?))
            }
            Long("adapter") | Short('a') => {
                a.adapter = Some(s(p.value().map_err(|e| e.to_string())?, "--adapter")?)
            }
            Long("key") | Short('k') => a
                .keys
                .push(s(p.value().map_err(|e| e.to_string())?, "--key")?),
            Long("record") => a.record = Some(PathBuf::from(p.value().map_err(|e| e.to_string())?)),
            Long("active") => a.active = true,
            Long("listen-only") => a.listen_only = true,
            Long("extended") => a.extended = true,
            Long("scanner") => {
                use crate::config::Scanner;
                let v = s(p.value().map_err(|e| e.to_string())?, "--scanner")?;
                a.scanner = Some(match v.as_str() {
                    "auto" => Scanner::Auto,
                    "kernel" => Scanner::Kernel,
                    "hci2mqtt" => Scanner::Hci2mqtt,
                    _ => {
                        return Err(format!(
                            "--scanner {v:?}: expected auto, kernel or hci2mqtt"
                        ))
                    }
                });
            }
            Long("seconds") if allow_seconds => {
                let v = s(p.value().map_err(|e| e.to_string())?, "--seconds")?;
                match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x > 0.0 => a.seconds = Some(x),
                    _ => return Err(format!("--seconds {v:?}: expected a positive number")),
                }
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Some(a))
}

/// The config: `--config`, else the default file when it exists, else an empty config.
pub fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    let p = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let d = PathBuf::from(config::DEFAULT_PATH);
            if !d.exists() {
                return Ok(Config::default());
            }
            d
        }
    };
    let cfg = Config::load(&p).map_err(|e| Failure::config(e.to_string()))?;
    for w in &cfg.warnings {
        eprintln!("hci2mqtt: warning: {w}");
    }
    Ok(cfg)
}

/// Keys from the config, then `--key` arguments (which win for the same MAC).
pub fn keys(cfg: &Config, args: &[String]) -> Result<KeyStore, Failure> {
    keys_or_refused(cfg, args).map_err(|e| Failure::usage(e.to_string()))
}

/// [`keys`] with the refused argument as a typed error (for the SIGHUP reloader).
fn keys_or_refused(cfg: &Config, args: &[String]) -> Result<KeyStore, KeyArgError> {
    let mut ks = cfg.keystore();
    for k in args {
        ks.insert_arg(k).map_err(|error| KeyArgError {
            shown: redact(k),
            error,
        })?;
    }
    Ok(ks)
}

/// `MAC=<key>` with the key part hidden (keys are never echoed); an argument whose MAC part
/// could be key material (no `=`, or `MAC:KEY`) is not shown at all.
fn redact(arg: &str) -> String {
    match arg.split_once('=') {
        Some((m, _)) if Addr::parse(m.trim()).is_some() => format!("{}=<key>", m.trim()),
        _ => "<argument>".to_string(),
    }
}

/// Live options from the config and arguments.
pub fn live_options(cfg: &Config, a: &CommonArgs) -> Result<LiveOptions, Failure> {
    let adapter = match (&a.adapter, &cfg.scan.adapter) {
        (Some(spec), _) => AdapterSpec::parse(spec).map_err(|e| Failure::usage(e.to_string()))?,
        (None, Some(spec)) => {
            AdapterSpec::parse(spec).map_err(|e| Failure::config(format!("[scan] adapter: {e}")))?
        }
        (None, None) => AdapterSpec::parse("hci0").map_err(|e| Failure::from(e.to_string()))?,
    };
    let raw = adapter.is_raw_socket();
    let sc = &cfg.scan;
    let scan = scan::Options {
        params: ScanParams::from_ms(sc.active || a.active, sc.interval_ms, sc.window_ms),
        // The kernel owns a raw-socket adapter's reset and event masks; H4 controllers are ours.
        reset: sc.reset.unwrap_or(!raw),
        set_event_masks: !raw,
        listen_only: sc.listen_only || a.listen_only,
        force_extended: a.extended,
        ..scan::Options::default()
    };
    let watchdog = match sc.watchdog_s.unwrap_or(300) {
        0 => None,
        s => Some(Duration::from_secs(s)),
    };
    let reload = {
        let path = cfg.path.clone();
        let cli_keys = a.keys.clone();
        Box::new(move || {
            let cfg = match &path {
                Some(p) => Config::load(p).map_err(KeyReloadError::Config)?,
                None => Config::default(),
            };
            keys_or_refused(&cfg, &cli_keys).map_err(KeyReloadError::KeyArg)
        }) as crate::event_loop::KeyReloader
    };
    Ok(LiveOptions {
        adapter,
        scan,
        watchdog,
        record: a.record.clone(),
        run_for: a.seconds.map(Duration::from_secs_f64),
        reload: Some(reload),
        drop_privileges: true,
        scanner: a.scanner.unwrap_or(sc.scanner),
    })
}

/// Runs the loop (or a replay) with `observer`; returns the exit code.
pub fn run_with(a: CommonArgs, observer: &mut dyn Observer) -> Result<i32, Failure> {
    let cfg = load_config(a.config.as_deref())?;
    let ks = keys(&cfg, &a.keys)?;
    let opts = live_options(&cfg, &a)?;
    let mut services = super::services::build(&cfg).map_err(|e| Failure::config(e.to_string()))?;
    let mut pipeline = Pipeline::new(
        ks,
        Options {
            hash_key: crate::sys::hash_key(),
            remember_names: opts.scan.params.active,
            ..Options::default()
        },
    );
    if let AdapterSpec::Replay(path) = &opts.adapter {
        let path = path.clone();
        return Ok(replay_adapter(
            &path,
            &mut pipeline,
            &mut services,
            observer,
        )?);
    }
    let mut live = Live::new(opts, &mut pipeline, &mut services, observer)?;
    Ok(live.run())
}

pub fn main(args: Vec<OsString>) -> ExitCode {
    let a = match parse_common(args, false) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("hci2mqtt run: {e}\n\n{USAGE}");
            return ExitCode::from(exit::USAGE as u8);
        }
    };
    match run_with(a, &mut NoObserver) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("hci2mqtt: {e}");
            e.exit_code()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// replay:FILE as adapter

/// Why `--adapter replay:FILE` stopped early. Display gives the message the user sees; the
/// caller turns any of them into a runtime failure ([`exit::FAILURE`]).
#[derive(Debug)]
pub(crate) enum ReplayError {
    /// The capture could not be opened or is not a capture format we read.
    Open(PathBuf, crate::capture::CaptureError),
    /// A packet of the capture could not be read (truncated, corrupt record).
    Read(PathBuf, crate::capture::CaptureError),
    /// The poller for the services' sockets could not be created.
    Poll(std::io::Error),
    /// A service (MQTT) could not register its socket with the poller.
    Register(std::io::Error),
    /// A service cannot deliver (the broker refused our login): the replay stopped.
    Refused(String),
    /// The capture was read, but not everything it produced was delivered within
    /// [`DRAIN_LIMIT`]; the service's last failure, if it had one.
    Undelivered(Option<String>),
}

/// How long a replay waits for its services to be ready (MQTT: connected, retained
/// messages in) before it reads the capture, and for them to drain at the end.
const READY_LIMIT: Duration = Duration::from_secs(10);
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

impl core::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplayError::Open(path, e) | ReplayError::Read(path, e) => {
                write!(f, "{}: {e}", path.display())
            }
            ReplayError::Poll(e) => write!(f, "epoll: {e}"),
            ReplayError::Register(e) => write!(f, "{e}"),
            ReplayError::Refused(why) => write!(f, "MQTT: {why}; replay stopped"),
            ReplayError::Undelivered(why) => {
                write!(
                    f,
                    "MQTT: not everything was delivered within {} s of the capture's end",
                    DRAIN_LIMIT.as_secs()
                )?;
                match why {
                    Some(why) => write!(f, " ({why})"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl From<ReplayError> for Failure {
    fn from(e: ReplayError) -> Failure {
        Failure::from(e.to_string())
    }
}

/// Feeds every received (controller → host) packet of a capture, with its time stamp
/// (µs since the epoch, if the format has one), to `each` while it returns true; returns the
/// count of packets read. The single call site of the capture readers for
/// `--adapter replay:FILE`.
fn for_each_capture_packet(
    path: &Path,
    each: &mut dyn FnMut(&[u8], Option<i64>) -> bool,
) -> Result<u64, ReplayError> {
    let mut r = crate::capture::open(path).map_err(|e| ReplayError::Open(path.into(), e))?;
    while let Some(p) = r.next_packet() {
        let p = p.map_err(|e| ReplayError::Read(path.into(), e))?;
        if p.received && !each(p.data, p.ts_us) {
            break;
        }
    }
    Ok(r.packets())
}

/// The capture's clock against the wall clock: how far the capture has run ahead of the
/// wall clock since the replay started (never decreasing; a capture whose time stamps go
/// back, or that has none, does not move it).
struct CaptureClock {
    start: Instant,
    first_us: Option<i64>,
    ahead: Duration,
}

impl CaptureClock {
    fn new(start: Instant) -> CaptureClock {
        CaptureClock {
            start,
            first_us: None,
            ahead: Duration::ZERO,
        }
    }

    /// The clock after a packet stamped `ts_us`, read at `now`.
    fn at(&mut self, ts_us: Option<i64>, now: Instant) -> Duration {
        if let Some(ts) = ts_us {
            let first = *self.first_us.get_or_insert(ts);
            let since = Duration::from_micros(u64::try_from(ts - first).unwrap_or(0));
            let capture_now = self.start + since;
            self.ahead = self.ahead.max(capture_now.saturating_duration_since(now));
        }
        self.ahead
    }
}

pub(crate) fn replay_adapter(
    path: &Path,
    pipeline: &mut Pipeline,
    services: &mut [Box<dyn crate::service::Service>],
    observer: &mut dyn Observer,
) -> Result<i32, ReplayError> {
    use crate::event_loop::Fanout;
    use crate::service::Service;

    /// Lets the services (MQTT) move their sockets and timers; waits at most `max`.
    fn drive(
        poll: &mut mio::Poll,
        events: &mut mio::Events,
        services: &mut [Box<dyn Service>],
        max: Duration,
    ) {
        let now = Instant::now();
        let reg = poll.registry();
        for s in services.iter_mut() {
            s.after_batch(reg, now);
            if s.deadline().is_some_and(|d| d <= now) {
                s.on_timeout(reg, now);
            }
        }
        let next = services.iter().filter_map(|s| s.deadline()).min();
        let timeout = next.map_or(max, |d| d.saturating_duration_since(now).min(max));
        if poll.poll(events, Some(timeout)).is_err() {
            return;
        }
        let now = Instant::now();
        let reg = poll.registry();
        for ev in events.iter() {
            for s in services.iter_mut() {
                s.on_event(reg, ev, now);
            }
        }
    }

    let mut poll = mio::Poll::new().map_err(ReplayError::Poll)?;
    let mut events = mio::Events::with_capacity(64);
    let now = Instant::now();
    for (i, s) in services.iter_mut().enumerate() {
        s.register(
            poll.registry(),
            mio::Token(crate::service::SERVICE_TOKEN_BASE + i * 256),
            now,
        )
        .map_err(ReplayError::Register)?;
    }
    // A capture needs no privilege: give up whatever file capabilities granted (best effort;
    // failing to drop what we do not have is not an error worth stopping for).
    let _ = crate::sys::caps::drop_privileges(crate::sys::caps::Keep::Nothing);
    let fatal = |services: &[Box<dyn Service>]| {
        services.iter().find_map(|s| match s.health() {
            crate::service::Health::Fatal(why) => Some(why),
            _ => None,
        })
    };
    // Readings given before the session has the broker's retained messages would be held
    // anyway; waiting here keeps the capture's clock from running out the session's wait.
    let until = Instant::now() + READY_LIMIT;
    while !services.iter().all(|s| s.ready()) && fatal(services).is_none() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        drive(&mut poll, &mut events, services, left);
    }
    let mut refused = fatal(services);
    let mut clock = CaptureClock::new(Instant::now());
    let mut n = 0u64;
    let result = if refused.is_some() {
        Ok(0)
    } else {
        for_each_capture_packet(path, &mut |pkt, ts| {
            let now = Instant::now();
            let ahead = clock.at(ts, now);
            for s in services.iter_mut() {
                s.follow_capture_clock(ahead);
            }
            let mut fan = Fanout {
                services: &mut *services,
                observer: &mut *observer,
                registry: poll.registry(),
                now,
            };
            pipeline.handle_packet(pkt, &mut fan);
            n += 1;
            // Keep the publisher's socket moving during long captures (its outbox is bounded).
            if n % 256 == 0 {
                drive(&mut poll, &mut events, services, Duration::ZERO);
                refused = fatal(services);
            }
            refused.is_none()
        })
    };
    if refused.is_none() {
        for s in services.iter_mut() {
            s.end_of_input(poll.registry(), Instant::now());
        }
    }
    // Let queued publishes go out before the shutdown.
    let end = Instant::now() + DRAIN_LIMIT;
    while refused.is_none() && !services.iter().all(|s| s.idle()) && Instant::now() < end {
        drive(
            &mut poll,
            &mut events,
            services,
            end.saturating_duration_since(Instant::now()),
        );
        refused = fatal(services);
    }
    let delivered = services.iter().all(|s| s.idle());
    let why = services.iter().find_map(|s| match s.health() {
        crate::service::Health::Fine => None,
        crate::service::Health::Failing(w) | crate::service::Health::Fatal(w) => Some(w),
    });
    for s in services.iter_mut() {
        s.shutdown(poll.registry(), Duration::from_secs(2));
    }
    result?;
    if let Some(why) = refused {
        return Err(ReplayError::Refused(why));
    }
    if !delivered {
        return Err(ReplayError::Undelivered(why));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_run_arguments() {
        let a = parse_common(
            args(&[
                "--adapter",
                "tcp:127.0.0.1:9",
                "--key",
                "A4:C1:38:00:00:01=00112233445566778899aabbccddeeff",
                "--key",
                "x=y",
                "--record",
                "/tmp/r.log",
                "--active",
            ]),
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(a.adapter.as_deref(), Some("tcp:127.0.0.1:9"));
        assert_eq!(a.keys.len(), 2);
        assert!(a.active && !a.listen_only);
        assert!(
            parse_common(args(&["--seconds", "3"]), false).is_err(),
            "run has no --seconds"
        );
        assert_eq!(
            parse_common(args(&["--seconds", "3"]), true)
                .unwrap()
                .unwrap()
                .seconds,
            Some(3.0)
        );
        assert!(parse_common(args(&["--seconds", "-1"]), true).is_err());
        assert!(parse_common(args(&["--help"]), false).unwrap().is_none());
        assert!(parse_common(args(&["stray"]), false).is_err());
    }

    #[test]
    fn keys_are_validated_and_never_echoed() {
        let cfg = Config::default();
        let e = keys(&cfg, &["A4:C1:38:00:00:01=00112233".into()]).unwrap_err();
        assert_eq!(e.status, exit::USAGE);
        let e = e.message;
        assert!(
            e.contains("A4:C1:38:00:00:01=<key>") && !e.contains("00112233"),
            "{e}"
        );
        let ks = keys(
            &cfg,
            &["A4:C1:38:00:00:01=00112233445566778899aabbccddeeff".into()],
        )
        .unwrap();
        assert_eq!(ks.len(), 1);
    }

    #[test]
    fn options_follow_transport_and_config() {
        let cfg = Config::parse(
            "[scan]\nadapter = \"tcp:localhost:1\"\nactive = true\ninterval_ms = 100\nwindow_ms = 50\nwatchdog_s = 0\n",
            "t",
        )
        .unwrap();
        let o = live_options(&cfg, &CommonArgs::default()).unwrap();
        assert_eq!(o.adapter, AdapterSpec::Tcp("localhost:1".into()));
        assert!(
            o.scan.reset && o.scan.set_event_masks,
            "H4 controllers are configured by us"
        );
        assert_eq!(
            (
                o.scan.params.active,
                o.scan.params.interval,
                o.scan.params.window
            ),
            (true, 160, 80)
        );
        assert_eq!(o.watchdog, None);
        let a = CommonArgs {
            adapter: Some("hci1".into()),
            ..CommonArgs::default()
        };
        let o = live_options(&Config::default(), &a).unwrap();
        assert_eq!(o.adapter, AdapterSpec::Index(1));
        assert!(
            !o.scan.reset && !o.scan.set_event_masks,
            "the kernel owns a raw-socket adapter"
        );
        assert_eq!(o.watchdog, Some(Duration::from_secs(300)));
        let a = CommonArgs {
            adapter: Some("bogus:x".into()),
            ..CommonArgs::default()
        };
        assert!(live_options(&Config::default(), &a).is_err());
    }
}
