//! The single-threaded mio loop of `run` and `scan`: the only place with I/O.
//!
//! It owns the transport fd, a signalfd (SIGINT/SIGTERM: disable the scan and exit 0 within a
//! second; SIGHUP: reload keys), and the timers (scan-setup command timeout, reconnect backoff,
//! watchdog, the services' deadlines). Bytes from the controller go through the H4 deframer into
//! [`ScanSetup`] (Command Complete/Status) and [`Pipeline::handle_packet`]; readings go to the
//! [`Service`]s. No periodic wake-ups: `poll` sleeps until the earliest real deadline.
//!
//! Recovery: a transport error is logged once, the link is reopened with exponential backoff
//! (0.5 s doubling to 30 s, 4 s on a raw socket) and the scan set up again; the loop never exits on its own once the
//! link has worked. A failed scan setup is retried the same way on the same link. A watchdog
//! restarts the scan setup when no advertising report arrived for `watchdog` while scanning
//! (an adapter powered down sends nothing at all; bluetoothd may disable our scan).

use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::capture::Recorder;
use crate::config::Scanner;
use crate::service::{Service, SERVICE_TOKEN_BASE};
use crate::sys::caps::{drop_privileges, Keep};
use crate::transport::adapter::{AdapterSpec, Transport};
use crate::transport::mgmt::{Mgmt, MgmtError};
use hci2mqtt_core::decode::KeyStore;
use hci2mqtt_core::hci::event::{self, Event};
use hci2mqtt_core::hci::h4::Deframer;
use hci2mqtt_core::hci::mgmt;
use hci2mqtt_core::hci::scan::{self, Phase, ScanSetup, Transition};
use hci2mqtt_core::pipeline::{Notice, Outcome, Pipeline, Seen, Sink};

const TOKEN_SIGNAL: Token = Token(0);
const TOKEN_LINK: Token = Token(1);
/// Each service gets its own range of tokens.
const SERVICE_TOKEN_STRIDE: usize = 256;

pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest wait between attempts on a raw-socket adapter (see [`Live::grow_backoff`]).
pub const MAX_RAW_BACKOFF: Duration = Duration::from_secs(4);
/// How long a shutdown waits for the scan-disable reply, and the services' flush budget: the
/// total stays under one second.
const STOP_BUDGET: Duration = Duration::from_millis(600);
const SERVICE_SHUTDOWN_BUDGET: Duration = Duration::from_millis(300);
/// How long reports may gather after a read before the next one (see [`Live::hold_off`]).
/// Each wake-up costs ~120 µs of CPU on the bench machine whatever it brings (measured with
/// `bench/live_syscalls.py` at 1,000 events/s: 2.4 µs/event with 50 ms, 1.4 with 100 ms, 1.1
/// with 200 ms), so the longer the better for CPU; 100 ms is what a reading may wait.
const READ_HOLDOFF: Duration = Duration::from_millis(100);
/// A read that brought this many packets skips the hold-off: at that rate the next 100 ms
/// could overflow a raw socket's receive buffer if the kernel refused to enlarge it (~165
/// events fit in the default).
const HOLDOFF_UNLESS_PACKETS: usize = 128;

/// Extra consumer of what the loop sees (the `scan` table).
pub trait Observer {
    /// Every well-formed report, once, with its outcome (as [`Sink::outcome`]).
    fn outcome(&mut self, _seen: &Seen<'_>, _outcome: Outcome<'_>) {}
    fn notice(&mut self, _n: &Notice) {}
    /// Called this often while running (the live table refresh); `None`: never.
    fn tick_every(&self) -> Option<Duration> {
        None
    }
    fn tick(&mut self, _keys: &KeyStore) {}
}

/// No observer.
pub struct NoObserver;
impl Observer for NoObserver {}

/// Reloads keys on SIGHUP (config file + `--key` arguments).
pub type KeyReloader = Box<dyn FnMut() -> Result<KeyStore, KeyReloadError>>;

/// Why a SIGHUP reload keeps the old keys. Display is the logged reason; no key appears in it.
#[derive(Debug)]
pub enum KeyReloadError {
    /// The config file could not be read or parsed.
    Config(crate::config::ConfigError),
    /// A `--key` argument was refused.
    KeyArg(KeyArgError),
}

impl core::fmt::Display for KeyReloadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyReloadError::Config(e) => write!(f, "{e}"),
            KeyReloadError::KeyArg(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KeyReloadError {}

/// A `--key MAC=HEX` argument the key store refused. `shown` is the argument with its key
/// hidden (`MAC=<key>`, or `<argument>` when even the MAC part could be key material), so
/// Display (`--key <shown>: <why>`) never prints a key.
#[derive(Debug)]
pub struct KeyArgError {
    pub shown: String,
    pub error: hci2mqtt_core::decode::KeyError,
}

impl core::fmt::Display for KeyArgError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "--key {}: {}", self.shown, self.error)
    }
}

impl std::error::Error for KeyArgError {}

/// What the loop needs besides the pipeline and services.
pub struct LiveOptions {
    pub adapter: AdapterSpec,
    pub scan: scan::Options,
    /// Restart the scan setup after this long without an advertising report (`None`: never).
    pub watchdog: Option<Duration>,
    /// Write everything received and sent: pcapng (LINKTYPE 201) for a `.pcapng` name, else btsnoop (H4, datalink 1002).
    pub record: Option<PathBuf>,
    /// Stop by itself after this long (`scan --seconds`).
    pub run_for: Option<Duration>,
    pub reload: Option<KeyReloader>,
    /// Drop capabilities before the first open (see [`crate::sys::caps::drop_privileges`]).
    pub drop_privileges: bool,
    /// Who runs the scan on a raw-socket adapter.
    pub scanner: Scanner,
}

/// The kernel's scan that hci2mqtt asked for: its advertisement monitor on adapter `index`.
#[derive(Clone, Copy, Debug)]
struct KernelScan {
    index: u16,
    handle: u16,
}

/// Why the kernel cannot scan for us on this adapter.
#[derive(Debug)]
enum NoKernelScan {
    /// LE is off in the kernel's settings (nobody manages the adapter through the management
    /// interface, or LE was switched off).
    LeOff,
    NotPowered,
    Mgmt(MgmtError),
}

impl core::fmt::Display for NoKernelScan {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            NoKernelScan::LeOff => {
                f.write_str("LE is not enabled in the kernel's adapter settings")
            }
            NoKernelScan::NotPowered => f.write_str("the kernel does not see the adapter powered"),
            NoKernelScan::Mgmt(e) => write!(f, "{e}"),
        }
    }
}

/// Asks the kernel to keep a passive scan running (see [`crate::transport::mgmt`]).
fn start_kernel_scan(index: u16) -> Result<KernelScan, NoKernelScan> {
    let m = Mgmt::open().map_err(NoKernelScan::Mgmt)?;
    let settings = m.settings(index).map_err(NoKernelScan::Mgmt)?;
    if settings & mgmt::setting::LE == 0 {
        return Err(NoKernelScan::LeOff);
    }
    if settings & mgmt::setting::POWERED == 0 {
        return Err(NoKernelScan::NotPowered);
    }
    let handle = m.add_monitor(index).map_err(NoKernelScan::Mgmt)?;
    Ok(KernelScan { index, handle })
}

fn stop_kernel_scan(k: KernelScan) -> Result<(), MgmtError> {
    Mgmt::open()?.remove_monitor(k.index, k.handle)
}

/// Counters for the exit summary and tests.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoopStats {
    pub connects: u64,
    pub link_losses: u64,
    pub scan_setups_completed: u64,
    pub watchdog_restarts: u64,
    pub reports: u64,
    pub commands_sent: u64,
}

enum Link {
    Down { retry_at: Instant },
    Connecting(Transport),
    Up(Transport),
}

fn log(msg: &str) {
    eprintln!("hci2mqtt: {msg}");
}

/// Advertising report event (legacy or extended)?
fn is_report(pkt: &[u8]) -> bool {
    pkt.len() > 3
        && pkt[0] == event::H4_EVENT
        && pkt[1] == event::EVT_LE_META
        && matches!(
            pkt[3],
            event::LE_ADVERTISING_REPORT | event::LE_EXTENDED_ADVERTISING_REPORT
        )
}

/// Command Complete / Status / Hardware Error: what the scan setup listens to.
fn is_control(pkt: &[u8]) -> bool {
    pkt.len() > 1
        && pkt[0] == event::H4_EVENT
        && matches!(
            pkt[1],
            event::EVT_COMMAND_COMPLETE | event::EVT_COMMAND_STATUS | event::EVT_HARDWARE_ERROR
        )
}

fn unix_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Fans pipeline output out to the services and the observer (the live loop and the
/// `replay:FILE` adapter both use it).
pub(crate) struct Fanout<'a> {
    pub(crate) services: &'a mut [Box<dyn Service>],
    pub(crate) observer: &'a mut dyn Observer,
    pub(crate) registry: &'a mio::Registry,
    pub(crate) now: Instant,
}

impl Sink for Fanout<'_> {
    fn outcome(&mut self, seen: &Seen<'_>, outcome: Outcome<'_>) {
        let r = seen.report;
        for s in self.services.iter_mut() {
            match outcome {
                // A reading marks its sensor seen too; the advertiser only if it is another
                // address (MAC in the frame).
                Outcome::Decoded(d) => {
                    s.on_reading(self.registry, d, self.now);
                    if d.addr != r.addr {
                        s.on_advert(self.registry, &r.addr, r.rssi, self.now);
                    }
                }
                Outcome::NotClaimed => {
                    s.on_advert(self.registry, &r.addr, r.rssi, self.now);
                    s.on_unknown(self.registry, r, self.now);
                }
                _ => s.on_advert(self.registry, &r.addr, r.rssi, self.now),
            }
        }
        self.observer.outcome(seen, outcome);
    }
    fn notice(&mut self, n: Notice) {
        for s in self.services.iter_mut() {
            s.on_notice(&n, self.now);
        }
        self.observer.notice(&n);
    }
}

/// The loop's state.
pub struct Live<'a> {
    opts: LiveOptions,
    pipeline: &'a mut Pipeline,
    services: &'a mut Vec<Box<dyn Service>>,
    observer: &'a mut dyn Observer,
    poll: Poll,
    signals: SignalFd,
    link: Link,
    scan: ScanSetup,
    deframer: Deframer,
    record: Option<Recorder>,
    backoff: Duration,
    scan_retry_at: Option<Instant>,
    last_report: Instant,
    last_problem: Option<String>,
    stop_deadline: Option<Instant>,
    end_at: Option<Instant>,
    next_tick: Option<Instant>,
    ever_up: bool,
    /// Set while the kernel runs the scan for us.
    kernel_scan: Option<KernelScan>,
    /// Do not wait for readiness before this (see [`Live::hold_off`]).
    hold_until: Option<Instant>,
    exit: Option<i32>,
    /// Scan-setup transitions seen while draining packets (handled after the batch).
    transitions: Vec<Transition>,
    pub stats: LoopStats,
}

impl<'a> Live<'a> {
    /// Sets up signals, the record file and the services. Errors are for the user (exit 1).
    pub fn new(
        opts: LiveOptions,
        pipeline: &'a mut Pipeline,
        services: &'a mut Vec<Box<dyn Service>>,
        observer: &'a mut dyn Observer,
    ) -> Result<Live<'a>, String> {
        let poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
        mask.add(Signal::SIGHUP);
        // SIGUSR1 prints a status dump; SIGUSR2 is taken too, so a stray `kill -USR2` does not
        // kill the gateway without its clean offline message.
        mask.add(Signal::SIGUSR1);
        mask.add(Signal::SIGUSR2);
        // Blocked signals are delivered through the signalfd only (single-threaded process).
        mask.thread_block()
            .map_err(|e| format!("sigprocmask: {e}"))?;
        let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(|e| format!("signalfd: {e}"))?;
        poll.registry()
            .register(
                &mut mio::unix::SourceFd(&signals.as_raw_fd()),
                TOKEN_SIGNAL,
                Interest::READABLE,
            )
            .map_err(|e| format!("epoll: {e}"))?;
        let record = match &opts.record {
            Some(p) => {
                Some(Recorder::create(p).map_err(|e| format!("--record {}: {e}", p.display()))?)
            }
            None => None,
        };
        let now = Instant::now();
        for (i, s) in services.iter_mut().enumerate() {
            let base = Token(SERVICE_TOKEN_BASE + i * SERVICE_TOKEN_STRIDE);
            s.register(poll.registry(), base, now)
                .map_err(|e| format!("service: {e}"))?;
        }
        let scan = ScanSetup::new(opts.scan.clone());
        let end_at = opts.run_for.map(|d| now + d);
        let next_tick = observer.tick_every().map(|d| now + d);
        Ok(Live {
            opts,
            pipeline,
            services,
            observer,
            poll,
            signals,
            link: Link::Down { retry_at: now },
            scan,
            deframer: Deframer::new(),
            record,
            backoff: INITIAL_BACKOFF,
            scan_retry_at: None,
            last_report: now,
            last_problem: None,
            stop_deadline: None,
            end_at,
            next_tick,
            ever_up: false,
            kernel_scan: None,
            hold_until: None,
            exit: None,
            transitions: Vec::with_capacity(8),
            stats: LoopStats::default(),
        })
    }

    /// Logs a problem unless it is the one logged last (no log flood while retrying).
    fn problem(&mut self, msg: String) {
        if self.last_problem.as_deref() != Some(msg.as_str()) {
            log(&msg);
            self.last_problem = Some(msg);
        }
    }

    fn grow_backoff(&mut self) -> Duration {
        let d = self.backoff;
        // A raw-socket retry is a few local system calls and the adapter may come back at any
        // moment (re-plug, driver reload): look often, so readings resume within seconds.
        let max = if self.opts.adapter.is_raw_socket() {
            MAX_RAW_BACKOFF
        } else {
            MAX_BACKOFF
        };
        self.backoff = (self.backoff * 2).min(max);
        d
    }

    /// Runs until a signal (or `run_for`) ends it. Returns the exit code.
    pub fn run(&mut self) -> i32 {
        if self.opts.drop_privileges {
            // Before the first open, so nothing more is held when the link never comes up.
            let keep = if self.opts.adapter.is_raw_socket() {
                Keep::RawSocket
            } else {
                Keep::Nothing
            };
            if let Err(e) = drop_privileges(keep) {
                log(&format!("could not drop capabilities: {e}"));
            }
        }
        let mut events = Events::with_capacity(64);
        loop {
            let now = Instant::now();
            self.on_timers(now);
            if let Some(code) = self.exit {
                return self.finish(code);
            }
            self.send_commands(now);
            // One clock read per wake-up and one after it (on ARMv6 and in emulated VMs
            // clock_gettime is a system call, not the vDSO): after a hold-off its end stands
            // for the time.
            let now = self.hold_off(now);
            let timeout = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != io::ErrorKind::Interrupted {
                    log(&format!("epoll: {e}"));
                    return self.finish(1);
                }
            }
            let now = Instant::now();
            for ev in events.iter() {
                match ev.token() {
                    TOKEN_SIGNAL => self.on_signals(now),
                    TOKEN_LINK => self.on_link_event(ev, now),
                    t if t.0 >= SERVICE_TOKEN_BASE => {
                        let reg = self.poll.registry();
                        for s in self.services.iter_mut() {
                            s.on_event(reg, ev, now);
                        }
                    }
                    _ => {}
                }
            }
            self.flush_record();
        }
    }

    /// After a read, sleeps until [`READ_HOLDOFF`] has passed (or an earlier deadline), so that
    /// under load one wake-up and one `recvmmsg` take a whole burst of reports (≤ 0.1 system
    /// calls per report at 1,000 reports/s) instead of one each. Reports wait at most this long;
    /// an idle loop never sleeps here.
    /// Returns the time after it (`until` when it slept: the sleep lasts at least that long).
    fn hold_off(&mut self, now: Instant) -> Instant {
        let Some(until) = self.hold_until.take() else {
            return now;
        };
        let until = self.next_deadline().map_or(until, |d| d.min(until));
        if until > now {
            std::thread::sleep(until - now);
            return until;
        }
        now
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut d: Option<Instant> = None;
        let mut take = |x: Option<Instant>| {
            if let Some(x) = x {
                d = Some(d.map_or(x, |d| d.min(x)));
            }
        };
        if let Link::Down { retry_at } = self.link {
            take(Some(retry_at));
        }
        take(self.scan.poll_timeout());
        take(self.scan_retry_at);
        take(self.watchdog_deadline());
        take(self.stop_deadline);
        take(self.end_at);
        take(self.next_tick);
        for s in self.services.iter() {
            take(s.deadline());
        }
        d
    }

    fn watchdog_deadline(&self) -> Option<Instant> {
        match (self.opts.watchdog, self.scan.phase()) {
            (Some(w), Phase::Scanning) if self.stop_deadline.is_none() => {
                Some(self.last_report + w)
            }
            (Some(w), Phase::Listening)
                if self.kernel_scan.is_some() && self.stop_deadline.is_none() =>
            {
                Some(self.last_report + w)
            }
            _ => None,
        }
    }

    fn on_timers(&mut self, now: Instant) {
        if let Some(d) = self.stop_deadline {
            if now >= d {
                log("the controller did not confirm the scan disable in time; exiting anyway");
                self.exit = Some(0);
                return;
            }
        }
        if self.end_at.is_some_and(|e| now >= e) && self.stop_deadline.is_none() {
            self.end_at = None;
            self.begin_stop(now);
            if self.exit.is_some() {
                return;
            }
        }
        if let Link::Down { retry_at } = self.link {
            if now >= retry_at && self.stop_deadline.is_none() {
                self.open_link(now);
                if self.exit.is_some() {
                    return;
                }
            }
        }
        if let Some(t) = self.scan.handle_timeout(now) {
            self.on_transition(t, now);
        }
        if self.scan_retry_at.is_some_and(|r| now >= r) {
            self.scan_retry_at = None;
            if matches!(self.link, Link::Up(_)) && self.stop_deadline.is_none() {
                self.scan.start();
            }
        }
        if self.watchdog_deadline().is_some_and(|d| now >= d) {
            let w = self.opts.watchdog.unwrap_or_default();
            log(&format!(
                "no advertising report for {} s while scanning; setting the scan up again",
                w.as_secs()
            ));
            self.stats.watchdog_restarts += 1;
            self.last_report = now;
            match self.kernel_scan {
                // The monitor may have gone (bluetoothd restarted, adapter reset): add it again.
                Some(k) => self.use_kernel_scan(k.index),
                None => {
                    self.scan.start();
                }
            }
        }
        if let Some(t) = self.next_tick {
            if now >= t {
                self.observer.tick(self.pipeline.keys());
                self.next_tick = self.observer.tick_every().map(|d| now + d);
            }
        }
        let reg = self.poll.registry();
        for s in self.services.iter_mut() {
            if s.deadline().is_some_and(|d| now >= d) {
                s.on_timeout(reg, now);
            }
        }
    }

    fn open_link(&mut self, now: Instant) {
        match Transport::open(&self.opts.adapter) {
            Ok(mut t) => {
                if let Err(e) = t.register(self.poll.registry(), TOKEN_LINK) {
                    self.problem(format!("{}: epoll: {e}", self.opts.adapter));
                    let d = self.grow_backoff();
                    self.link = Link::Down { retry_at: now + d };
                    return;
                }
                self.deframer.clear();
                if matches!(t, Transport::Tcp(_)) {
                    self.link = Link::Connecting(t);
                } else {
                    self.link_up(t, now);
                }
            }
            Err(e) => {
                if !e.retry && !self.ever_up {
                    log(&e.message);
                    self.exit = Some(if e.missing.is_some() {
                        crate::cli::exit::NO_PERMISSION
                    } else {
                        crate::cli::exit::UNAVAILABLE
                    });
                    return;
                }
                self.problem(e.message);
                let d = self.grow_backoff();
                self.link = Link::Down { retry_at: now + d };
            }
        }
    }

    fn link_up(&mut self, t: Transport, now: Instant) {
        let raw_index = match &t {
            Transport::Raw(s) => Some(s.dev_id),
            _ => None,
        };
        self.link = Link::Up(t);
        self.stats.connects += 1;
        if self.ever_up {
            log(&format!(
                "{}: connected again; setting the scan up",
                self.opts.adapter
            ));
        }
        self.ever_up = true;
        self.last_problem = None;
        self.scan_retry_at = None;
        self.last_report = now;
        if let Some(index) = raw_index {
            if !self.opts.scan.listen_only && self.opts.scanner != Scanner::Hci2mqtt {
                self.use_kernel_scan(index);
                if self.kernel_scan.is_some() || self.opts.scanner == Scanner::Kernel {
                    self.scan.listen();
                    return;
                }
            }
        }
        self.scan.start();
    }

    /// Lets the kernel scan (an advertisement monitor), so that the scan bluetoothd and its
    /// clients rely on is never reconfigured or disabled behind the kernel's back.
    fn use_kernel_scan(&mut self, index: u16) {
        self.release_kernel_scan();
        match start_kernel_scan(index) {
            Ok(k) => {
                self.kernel_scan = Some(k);
                log(&format!(
                    "{}: the kernel scans for hci2mqtt (advertisement monitor {}: passive, duplicates \
                     not filtered; bluetoothd and its clients keep their own discovery)",
                    self.opts.adapter, k.handle
                ));
                if self.opts.scan.params.active {
                    log("active scanning is not available through the kernel's scan: scan responses \
                         arrive only while a client discovers (set [scan] scanner = \"hci2mqtt\" on an \
                         adapter nobody else uses)");
                }
            }
            Err(e) if self.opts.scanner == Scanner::Kernel => self.problem(format!(
                "{}: the kernel cannot scan for hci2mqtt ({e}); listening only",
                self.opts.adapter
            )),
            Err(e) => log(&format!(
                "{}: the kernel cannot scan for hci2mqtt ({e}); hci2mqtt sets the scan up itself",
                self.opts.adapter
            )),
        }
    }

    /// Removes our advertisement monitor, if any (the kernel then stops the scan unless someone
    /// else needs it).
    fn release_kernel_scan(&mut self) {
        if let Some(k) = self.kernel_scan.take() {
            if let Err(e) = stop_kernel_scan(k) {
                // Gone with its adapter (Invalid Index): nothing left to remove.
                if !matches!(
                    e,
                    MgmtError::Status {
                        status: mgmt::status::INVALID_INDEX,
                        ..
                    }
                ) {
                    log(&format!(
                        "{}: could not remove advertisement monitor {}: {e}",
                        self.opts.adapter, k.handle
                    ));
                }
            }
        }
    }

    fn link_lost(&mut self, msg: String, now: Instant) {
        if let Link::Up(t) | Link::Connecting(t) = &mut self.link {
            t.deregister(self.poll.registry());
        }
        self.stats.link_losses += 1;
        self.release_kernel_scan();
        self.scan.reset_link();
        self.deframer.clear();
        if self.stop_deadline.is_some() {
            self.exit = Some(0);
            self.link = Link::Down { retry_at: now };
            return;
        }
        self.problem(format!("{msg}; retrying"));
        let d = self.grow_backoff();
        self.link = Link::Down { retry_at: now + d };
    }

    fn on_transition(&mut self, t: Transition, now: Instant) {
        match t {
            Transition::Scanning(mode) => {
                self.stats.scan_setups_completed += 1;
                self.backoff = INITIAL_BACKOFF;
                self.last_report = now;
                self.last_problem = None;
                let kind = if self.opts.scan.params.active {
                    "active"
                } else {
                    "passive"
                };
                let m = match mode {
                    scan::Mode::Extended => "extended",
                    scan::Mode::Legacy => "legacy",
                };
                log(&format!(
                    "{}: scanning ({m} scan commands, {kind})",
                    self.opts.adapter
                ));
            }
            Transition::Failed(e) => {
                self.problem(format!("{}: scan setup failed: {e}", self.opts.adapter));
                let d = self.grow_backoff();
                self.scan_retry_at = Some(now + d);
            }
            Transition::ControllerReset => match self.kernel_scan {
                Some(k) => {
                    log(&format!(
                        "{}: the controller was reset; asking the kernel to scan again",
                        self.opts.adapter
                    ));
                    // Removing the monitor lets the kernel drop the scan it believes is on;
                    // adding it back makes it start one on the reset controller.
                    self.use_kernel_scan(k.index);
                }
                None if self.scan.phase() == Phase::Configuring => log(&format!(
                    "{}: the controller was reset; setting the scan up again",
                    self.opts.adapter
                )),
                None => {}
            },
            Transition::Restarted(code) => log(&format!(
                "{}: controller hardware error 0x{code:02x}; setting the scan up again",
                self.opts.adapter
            )),
            Transition::Stopped => {
                if self.stop_deadline.is_some() {
                    self.exit = Some(0);
                }
            }
        }
    }

    fn send_commands(&mut self, now: Instant) {
        let Link::Up(t) = &mut self.link else { return };
        let Some(cmd) = self.scan.poll_command(now) else {
            return;
        };
        let pkt = cmd.encode();
        match t.write(pkt.as_bytes()) {
            Ok(n) if n == pkt.as_bytes().len() => {
                self.stats.commands_sent += 1;
                if let Some(r) = &mut self.record {
                    let _ = r.write_packet(pkt.as_bytes(), unix_us(), false);
                }
            }
            Ok(_) => {
                let msg = "short write of an HCI command".to_string();
                self.link_lost(msg, now);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // Flow control (RTS/CTS held, or a peer that stopped reading): not a lost link.
                // The command's timeout fails the setup, which is retried with backoff.
                self.problem(format!(
                    "{}: the controller does not accept commands (flow control?)",
                    self.opts.adapter
                ));
            }
            Err(e) => {
                let msg = t.explain(&e);
                self.link_lost(msg, now);
            }
        }
    }

    fn on_link_event(&mut self, ev: &mio::event::Event, now: Instant) {
        if let Link::Connecting(t) = &mut self.link {
            match t.connected() {
                Ok(true) => {
                    let Link::Connecting(t) =
                        std::mem::replace(&mut self.link, Link::Down { retry_at: now })
                    else {
                        return;
                    };
                    self.link_up(t, now);
                }
                Ok(false) => {
                    if ev.is_error() || ev.is_read_closed() {
                        self.link_lost(format!("{}: connection failed", self.opts.adapter), now);
                    }
                    return;
                }
                Err(e) => {
                    let msg = format!("{}: {e}", self.opts.adapter);
                    self.link_lost(msg, now);
                    return;
                }
            }
        }
        if !(ev.is_readable() || ev.is_error() || ev.is_read_closed()) {
            return;
        }
        // Edge-triggered: drain until a read comes back short (or WouldBlock).
        let mut packets = 0;
        while let Link::Up(t) = &mut self.link {
            match t.read_into(&mut self.deframer) {
                Ok(f) if f.bytes == 0 => {
                    let msg = format!(
                        "{}: the controller closed the connection",
                        self.opts.adapter
                    );
                    self.link_lost(msg, now);
                    break;
                }
                Ok(f) => {
                    packets += self.process_packets(now);
                    if f.drained {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let msg = t.explain(&e);
                    self.link_lost(msg, now);
                    break;
                }
            }
        }
        if packets == 0 {
            return;
        }
        let reg = self.poll.registry();
        for s in self.services.iter_mut() {
            s.after_batch(reg, now);
        }
        // Let the next burst gather before reading again, unless this one was big (the
        // socket buffer is filling) or a scan setup is waiting for its replies.
        if packets < HOLDOFF_UNLESS_PACKETS
            && !matches!(self.scan.phase(), Phase::Configuring | Phase::Stopping)
        {
            self.hold_until = Some(now + READ_HOLDOFF);
        }
    }

    /// Hands every whole packet in the deframer over; returns how many there were.
    fn process_packets(&mut self, now: Instant) -> usize {
        let Live {
            deframer,
            scan,
            pipeline,
            services,
            observer,
            poll,
            record,
            stats,
            last_report,
            transitions,
            ..
        } = self;
        let mut count = 0;
        while let Some(pkt) = deframer.next_packet() {
            count += 1;
            if let Some(r) = record {
                let _ = r.write_packet(pkt, unix_us(), true);
            }
            if is_report(pkt) {
                stats.reports += 1;
                *last_report = now;
            } else if is_control(pkt) {
                if let Ok(k) = Event::new_checked(pkt).and_then(|e| e.kind()) {
                    if let Some(t) = scan.handle_event(&k) {
                        transitions.push(t);
                    }
                }
            }
            let mut sink = Fanout {
                services: services.as_mut_slice(),
                observer: &mut **observer,
                registry: poll.registry(),
                now,
            };
            pipeline.handle_packet(pkt, &mut sink);
        }
        let mut ts = std::mem::take(&mut self.transitions);
        for t in ts.drain(..) {
            self.on_transition(t, now);
        }
        self.transitions = ts;
        count
    }

    fn on_signals(&mut self, now: Instant) {
        loop {
            match self.signals.read_signal() {
                Ok(Some(si)) => match Signal::try_from(si.ssi_signo as i32) {
                    Ok(Signal::SIGINT) | Ok(Signal::SIGTERM) => {
                        if self.stop_deadline.is_some() {
                            // Second signal: leave now.
                            self.exit = Some(0);
                        } else {
                            self.begin_stop(now);
                        }
                    }
                    Ok(Signal::SIGHUP) => self.reload_keys(),
                    Ok(Signal::SIGUSR1) => log(&format!("status: {}", self.status_line())),
                    Ok(Signal::SIGUSR2) => log("SIGUSR2 ignored (SIGUSR1 prints the status)"),
                    _ => {}
                },
                Ok(None) => return,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    log(&format!("signalfd: {e}"));
                    return;
                }
            }
        }
    }

    fn reload_keys(&mut self) {
        let Some(reload) = self.opts.reload.as_mut() else {
            log("SIGHUP: nothing to reload");
            return;
        };
        match reload() {
            Ok(ks) => {
                let n = ks.len();
                *self.pipeline.keys_mut() = ks;
                log(&format!("SIGHUP: reloaded {n} key(s)"));
            }
            Err(e) => log(&format!("SIGHUP: keeping the old keys: {e}")),
        }
    }

    fn begin_stop(&mut self, now: Instant) {
        self.release_kernel_scan();
        if !matches!(self.link, Link::Up(_)) {
            self.exit = Some(0);
            return;
        }
        match self.scan.stop() {
            Some(Transition::Stopped) => self.exit = Some(0),
            _ => {
                self.stop_deadline = Some(now + STOP_BUDGET);
                self.send_commands(now);
            }
        }
    }

    fn flush_record(&mut self) {
        if let Some(r) = &mut self.record {
            if let Err(e) = r.flush() {
                log(&format!("--record: {e}; recording stopped"));
                self.record = None;
            }
        }
    }

    /// Counters, devices and link state: the exit summary and the SIGUSR1 dump.
    fn status_line(&self) -> String {
        let s = self.pipeline.stats();
        let f = self.deframer.stats;
        let link = match &self.link {
            Link::Down { .. } => "down",
            Link::Connecting(_) => "connecting",
            Link::Up(_) => "up",
        };
        format!(
            "{} reports, {} readings, {} duplicates, {} without key, {} decrypt failures; {} devices; link {} ({}): {} connects, {} losses, {} scan setups, {} watchdog restarts; H4: {} garbage bytes, {} resyncs",
            self.stats.reports,
            s.decoded,
            s.duplicates,
            s.no_key,
            s.decrypt_failures,
            self.pipeline.devices().len(),
            self.opts.adapter,
            link,
            self.stats.connects,
            self.stats.link_losses,
            self.stats.scan_setups_completed,
            self.stats.watchdog_restarts,
            f.garbage_bytes,
            f.resyncs
        )
    }

    fn finish(&mut self, code: i32) -> i32 {
        self.release_kernel_scan();
        let reg = self.poll.registry();
        for s in self.services.iter_mut() {
            s.shutdown(reg, SERVICE_SHUTDOWN_BUDGET);
        }
        self.flush_record();
        log(&format!("exit: {}", self.status_line()));
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_classification() {
        assert!(is_report(&[0x04, 0x3E, 0x0C, 0x02, 0x01]));
        assert!(is_report(&[0x04, 0x3E, 0x1A, 0x0D, 0x01]));
        assert!(!is_report(&[0x04, 0x3E, 0x03, 0x01, 0x00]));
        assert!(is_control(&[0x04, 0x0E, 0x04, 1, 3, 0x0c, 0]));
        assert!(is_control(&[0x04, 0x10, 0x01, 0]));
        assert!(!is_control(&[0x02, 0x0E]));
    }
}
