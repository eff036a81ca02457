//! The thin socket part: one non-blocking `mio::net::TcpStream` driven by the caller's
//! single-threaded mio loop, with rumqttc doing the protocol.
//!
//! # Why rumqttc's sans-IO pieces and not its `Client`/`Connection`
//! rumqttc's `EventLoop` is async (tokio) and its blocking `Connection` runs that runtime on
//! the calling thread; the only non-blocking entries, `Connection::try_recv` and
//! `recv_timeout`, poll a *fresh* `EventLoop::poll()` future and drop it when it is not ready
//! (`now_or_never` / a timeout), which cancels the TCP connect + CONNECT/CONNACK exchange in
//! flight, so a connect never completes (rumqtt issue #820). The alternatives, a second thread
//! or a tokio runtime next to the radio loop, are what the design rules out. rumqttc does
//! publicly export what its own event loop uses underneath, and that is what we drive:
//! * [`rumqttc::mqttbytes::v4::Packet::read`] / [`Packet::write`]: the MQTT 3.1.1 codec
//!   (CONNECT with will and login, PUBLISH, SUBSCRIBE, PINGREQ, CONNACK…);
//! * [`rumqttc::MqttState`]: packet ids, SUBACK/PINGRESP bookkeeping, acks for incoming QoS 1/2
//!   publishes, the "PINGRESP missing" error.
//!
//! This module only moves bytes: connect (non-blocking), read what is readable, write what
//! the socket takes, and keep the rest in a small staging buffer plus the coalescing outbox of
//! the sans-IO core ([`hci2mqtt_core::publish::publisher`]). Nothing here sleeps or waits, except
//! [`crate::service::Service::shutdown`] within its budget.
//!
//! CONNACK is checked here (MqttState treats it as an unexpected packet); a refusal is logged
//! with its code, once per distinct error, and the connection is retried with backoff
//! (1 s doubling to 30 s). Every session publishes `online` to `<base>/<gateway>/status`
//! (will: `offline`, retained) and subscribes to Home Assistant's status, every gateway's
//! status and the shared state topics; once its own `online` comes back (every retained
//! message is in) it publishes every discovery config and the current state of every device
//! ([`hci2mqtt_core::publish::publisher`]).
//!
//! Publishes are QoS 0, retained (the will is QoS 1): every message is the current value of
//! its topic, and each new session re-sends all of them, so what a broken connection loses is
//! restored by the next session; QoS 1 would add inflight tracking without closing that gap.
//!
//! With `[mqtt] tls = true` the same bytes go through a rustls [`ClientConnection`] (see
//! [`super::tls`]): what the socket gives is fed to `read_tls`/`process_new_packets` and the
//! plaintext to [`Incoming`]; the staging buffer is handed to the TLS writer 16 KiB at a time,
//! only when rustls has written its previous records, so the backpressure stays the same. A
//! plain session that gets TLS bytes back, or a TLS handshake that gets non-TLS bytes (or a
//! close without a byte), is a port/`tls` mismatch, said as such ([`SessionError::TlsPort`],
//! [`SessionError::NotTls`]…). A plain CONNECT dropped unanswered (reset unread, as Mosquitto's
//! TLS listener does) is followed by one probe, a TLS ClientHello without any login ([`Probe`]);
//! a TLS answer to either stops the retries, since each retry would send the login in clear
//! text again.
//!
//! Host names are resolved with the system resolver (which can block when DNS is down); the
//! result is cached for 5 minutes. Use an IP address in `[mqtt] host` to rule that out.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Buf, BytesMut};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, Disconnect, LastWill, Packet, PingReq, Publish, Subscribe,
    SubscribeFilter,
};
use rumqttc::mqttbytes::{Error as CodecError, QoS};
use rumqttc::{MqttState, Request, StateError};

use rustls::ClientConnection;

use super::tls::{TlsFailure, TlsSettings};
use crate::config::{Config, TLS_PORT};
use crate::service::{Health, Service};
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::Reading;
use hci2mqtt_core::publish::{Publisher, Settings};

const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// A session held this long resets the backoff; shorter ones keep doubling it, so a broker
/// that accepts and then drops us (a session takeover by a client with our id, an ACL kick)
/// is retried slower and slower instead of every second.
const STABLE: Duration = Duration::from_secs(15);
/// Sessions the broker ended within [`STABLE`] in a row before we call it a takeover.
const TAKEOVER_DROPS: u32 = 3;
/// TCP connect and CONNACK each must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RESOLVE_TTL: Duration = Duration::from_secs(300);
/// Bytes staged for the socket at most; the rest waits (coalescing) in the outbox.
const WBUF_HIGH: usize = 16 * 1024;
const MAX_INCOMING: usize = 64 * 1024;
const MAX_OUTGOING: usize = 256 * 1024;
/// Plaintext handed to the TLS session at once (one full TLS record).
const TLS_CHUNK: usize = 16 * 1024;

/// Connection parameters from `[mqtt]`.
#[derive(Clone)]
pub struct ConnSettings {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub keepalive: u16,
    /// `[mqtt] tls = true`.
    pub tls: Option<TlsSettings>,
}

impl core::fmt::Debug for ConnSettings {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConnSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "redacted"))
            .field("keepalive", &self.keepalive)
            .field("tls", &self.tls)
            .finish()
    }
}

/// Connection counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Sessions established (CONNACK accepted).
    pub connects: u64,
    /// Connection attempts or sessions that failed.
    pub failures: u64,
    /// PUBLISH packets handed to the socket buffer.
    pub publishes: u64,
    /// Bytes written to the socket (with TLS: the records, so the TLS overhead included).
    pub bytes_out: u64,
    /// Packets from the broker over the size limit, skipped.
    pub oversized: u64,
    /// Sessions the broker ended within [`STABLE`] of accepting them.
    pub short_sessions: u64,
}

enum Phase {
    Down {
        retry_at: Instant,
    },
    Connecting {
        until: Instant,
    },
    AwaitConnAck {
        until: Instant,
    },
    Up,
    /// A failure retrying cannot mend ([`SessionError::TlsPort`]): no more connects.
    Halted,
}

struct Conn {
    stream: TcpStream,
    /// The TLS session over `stream` (`[mqtt] tls = true`).
    tls: Option<ClientConnection>,
    /// Bytes received on this connection (0: the broker has not answered yet).
    rx_bytes: u64,
    /// This connection sent a TLS ClientHello as a probe, not a CONNECT ([`Probe`]).
    probe: bool,
    incoming: Incoming,
    wbuf: BytesMut,
    state: MqttState,
    last_out: Instant,
    last_in: Instant,
    /// When the outstanding PINGREQ was sent.
    ping_sent: Option<Instant>,
}

pub type LogFn = Box<dyn FnMut(&str)>;

/// A plain port that drops our CONNECT unanswered (reset with it unread, as an OpenSSL-based
/// TLS listener such as Mosquitto's does) may be a TLS port, or a broker in trouble. The next
/// connection sends a TLS ClientHello instead of the CONNECT (so no login): a TLS answer makes
/// it [`SessionError::TlsPort`]; anything else reports the original failure and retries as
/// usual.
enum Probe {
    /// No suspicion, or a session succeeded since.
    None,
    /// The next connection probes; the failure that raised the suspicion.
    Next(SessionError),
    /// The probe connection is open.
    Running(SessionError),
    /// Probed in this run of failures: not TLS; not again until a session succeeds.
    Done,
}

/// The MQTT [`Service`]: the sans-IO [`Publisher`] plus one socket.
pub struct MqttService {
    core: Publisher,
    cs: ConnSettings,
    token: Token,
    phase: Phase,
    conn: Option<Conn>,
    backoff: Duration,
    addrs: Vec<SocketAddr>,
    addr_next: usize,
    resolved_at: Option<Instant>,
    /// The failure logged last (cleared by a successful CONNACK).
    last_error: Option<SessionError>,
    /// When the current session was accepted.
    up_since: Option<Instant>,
    /// Sessions in a row the broker ended within [`STABLE`].
    quick_drops: u32,
    takeover_reported: bool,
    /// Whether the plain port may be a TLS port (see [`Probe`]).
    probe: Probe,
    log: LogFn,
    pub stats: ConnStats,
    /// How far the publisher's clock runs ahead of the wall clock (a replay's capture clock,
    /// [`Service::follow_capture_clock`]); zero live.
    ahead: Duration,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// This machine's host name (the default gateway name).
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success when
    // the name fits, and we stop at the first NUL or the end anyway.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "gateway".into();
    }
    let n = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    let s = String::from_utf8_lossy(&buf[..n]).into_owned();
    if s.is_empty() {
        "gateway".into()
    } else {
        s
    }
}

/// `/etc/machine-id` (or D-Bus's copy), empty when neither is readable. Unique per install:
/// Raspberry Pi OS generates it at first boot, where every Pi has the host name `raspberrypi`.
pub fn machine_id() -> String {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|p| {
            let mut s = String::new();
            std::fs::File::open(p)
                .ok()?
                .take(64)
                .read_to_string(&mut s)
                .ok()?;
            let s = s.trim().to_string();
            (!s.is_empty()).then_some(s)
        })
        .unwrap_or_default()
}

/// The client id when `[mqtt] client_id` is not set: `hci2mqtt-<gateway>-<8 hex>`, the hex a
/// hash of the machine id, so two Pis with one host name do not take over each other's
/// session, and the machine id itself (which systemd asks applications not to disclose) is
/// not sent. Without a machine id: `hci2mqtt-<gateway>`.
pub fn default_client_id(gateway: &str, machine_id: &str) -> String {
    if machine_id.is_empty() {
        return format!("hci2mqtt-{gateway}");
    }
    // FNV-1a over an application-specific prefix and the id; 32 bits identify, they do not
    // reveal a 128-bit id.
    let h = b"hci2mqtt client id\0"
        .iter()
        .chain(machine_id.as_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
        });
    format!("hci2mqtt-{gateway}-{:08x}", (h >> 32) as u32 ^ h as u32)
}

/// Why the session to the broker failed; the service logs it once and retries with backoff.
#[derive(Debug)]
pub enum SessionError {
    Resolve(io::Error),
    NoAddress,
    Connect(SocketAddr, io::Error),
    /// The non-blocking connect finished with an error.
    Connecting(io::Error),
    Register(io::Error),
    Timeout,
    Encode(CodecError),
    BadPacket(CodecError),
    /// Something other than CONNACK came first.
    NoConnAck,
    Refused(ConnectReturnCode),
    NoPingResp,
    State(StateError),
    Closed,
    Read(io::Error),
    Write(io::Error),
    /// `tls = false`, but the port speaks TLS: it answered our CONNECT with a TLS record (an
    /// alert), or (`probed`) it dropped the CONNECT unanswered and answered a TLS ClientHello.
    TlsPort {
        probed: bool,
    },
    /// A [`Probe`] got this non-TLS byte back: not a TLS port (never logged: the failure that
    /// started the probe is).
    ProbeAnswer(u8),
    /// `tls = true`, but the broker answered the TLS hello with this byte, which starts no TLS
    /// record (0x20: an MQTT CONNACK): a plain MQTT port.
    NotTls(u8),
    /// `tls = true`, and the broker closed or reset the connection before answering the TLS
    /// hello (what Mosquitto does on a plain listener).
    ClosedInHandshake,
    /// The TLS session failed: certificate, alert from the broker, bad record.
    Tls(Box<TlsFailure>),
}

impl SessionError {
    /// Same failure as `other` for the log (the same variant and, for I/O, the same kind):
    /// a broker that stays down is reported once, not at every retry.
    fn same_as(&self, other: &SessionError) -> bool {
        use SessionError::*;
        match (self, other) {
            (Resolve(a), Resolve(b))
            | (Connect(_, a), Connect(_, b))
            | (Connecting(a), Connecting(b))
            | (Register(a), Register(b))
            | (Read(a), Read(b))
            | (Write(a), Write(b)) => a.kind() == b.kind(),
            (Refused(a), Refused(b)) => a == b,
            (Tls(a), Tls(b)) => a.error == b.error,
            _ => core::mem::discriminant(self) == core::mem::discriminant(other),
        }
    }
}

impl core::fmt::Display for SessionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use SessionError::*;
        match self {
            Resolve(e) => write!(f, "cannot resolve the host name: {e}"),
            NoAddress => f.write_str("the host name has no address"),
            Connect(a, e) => write!(f, "cannot connect to {a}: {e}"),
            Connecting(e) => write!(f, "cannot connect: {e}"),
            Register(e) => write!(f, "cannot register the socket: {e}"),
            Timeout => f.write_str("timed out connecting to the broker"),
            Encode(e) => write!(f, "cannot encode: {e}"),
            BadPacket(e) => write!(f, "bad packet from the broker: {e}"),
            NoConnAck => f.write_str("the broker sent something other than CONNACK first"),
            Refused(code) => {
                let why = match code {
                    ConnectReturnCode::Success => "CONNACK code 0",
                    ConnectReturnCode::RefusedProtocolVersion => {
                        "unacceptable protocol version (CONNACK code 1)"
                    }
                    ConnectReturnCode::BadClientId => {
                        "client id rejected (CONNACK code 2); set [mqtt] client_id"
                    }
                    ConnectReturnCode::ServiceUnavailable => "server unavailable (CONNACK code 3)",
                    ConnectReturnCode::BadUserNamePassword => {
                        "bad user name or password (CONNACK code 4); check [mqtt] username and password/password_file"
                    }
                    ConnectReturnCode::NotAuthorized => {
                        "not authorized (CONNACK code 5): wrong user name or password, or the user may not connect; check [mqtt] username and password/password_file"
                    }
                };
                write!(f, "broker refused the connection: {why}")
            }
            NoPingResp => f.write_str("no PINGRESP within the keepalive; broker unreachable"),
            State(e) => write!(f, "MQTT state error: {e}"),
            Closed => f.write_str("broker closed the connection"),
            Read(e) => write!(f, "read: {e}"),
            Write(e) => write!(f, "write: {e}"),
            TlsPort { probed } => {
                f.write_str(if *probed {
                    "the broker dropped our MQTT CONNECT unanswered and answered a TLS hello"
                } else {
                    "the broker answered our MQTT CONNECT with a TLS alert"
                })?;
                f.write_str(
                    ": this port speaks MQTT over TLS; set [mqtt] tls = true (and ca_file), or \
                     use the broker's plain MQTT port (usually 1883)",
                )
            }
            ProbeAnswer(b) => write!(f, "a TLS hello was answered with byte 0x{b:02x}: not TLS"),
            NotTls(b) => {
                let what = if *b == 0x20 { " (an MQTT CONNACK)" } else { "" };
                write!(
                    f,
                    "the broker answered the TLS handshake with byte 0x{b:02x}{what}, not TLS: \
                     this port speaks plain MQTT; use the broker's TLS port (usually \
                     {TLS_PORT}) or set [mqtt] tls = false"
                )
            }
            ClosedInHandshake => write!(
                f,
                "the broker closed the connection during the TLS handshake without an answer: \
                 probably a plain MQTT port (Mosquitto closes a plain listener on a TLS hello); \
                 use the broker's TLS port (usually {TLS_PORT}) or set [mqtt] tls = false"
            ),
            Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SessionError {}

/// The broker's side of a session, bytes in and packets out (sans-IO, so the fuzz target
/// `mqtt_incoming` drives exactly what the socket path does). A packet over [`MAX_INCOMING`]
/// (say a 100 KiB retained message someone put on `homeassistant/status`) is skipped as its
/// bytes arrive, never buffered: failing the session would reconnect, get the retained
/// message again, and loop.
#[derive(Default)]
pub struct Incoming {
    buf: BytesMut,
    /// Bytes of an oversized packet still to drop.
    skip: usize,
    /// Oversized packets skipped, and the size of the last one.
    pub skipped: u64,
    pub last_skipped_len: usize,
}

impl Incoming {
    /// Bytes read from the socket.
    pub fn extend(&mut self, bytes: &[u8]) {
        let drop = self.skip.min(bytes.len());
        self.skip -= drop;
        self.buf.extend_from_slice(&bytes[drop..]);
    }

    /// Bytes held for a packet not yet whole (at most [`MAX_INCOMING`] and a header).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete packet (consumed), `None` until one is whole.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, SessionError> {
        loop {
            match Packet::read(&mut self.buf, MAX_INCOMING) {
                Ok(p) => return Ok(Some(p)),
                Err(CodecError::InsufficientBytes(_)) => return Ok(None),
                Err(CodecError::PayloadSizeLimitExceeded(remaining)) => {
                    // The fixed header is whole (its length was read): one type byte and a
                    // variable-length integer of 1–4 bytes, each but the last with bit 7 set.
                    let len_len = self.buf[1..]
                        .iter()
                        .take(4)
                        .position(|b| b & 0x80 == 0)
                        .map_or(4, |i| i + 1);
                    let frame = 1 + len_len + remaining;
                    let here = frame.min(self.buf.len());
                    self.buf.advance(here);
                    self.skip = frame - here;
                    self.skipped += 1;
                    self.last_skipped_len = frame;
                }
                Err(e) => return Err(SessionError::BadPacket(e)),
            }
        }
    }
}

/// Bytes read from the socket into `c`'s [`Incoming`], through its TLS session if it has one.
/// `Ok(true)`: the broker closed the TLS session (close_notify). The first bytes of a
/// connection tell a port/`tls` mismatch: TLS records start with 0x14–0x17 and the version
/// 0x03, an MQTT broker's first packet is CONNACK (0x20).
fn receive(c: &mut Conn, ts: Option<&TlsSettings>, bytes: &[u8]) -> Result<bool, SessionError> {
    let first = c.rx_bytes == 0;
    c.rx_bytes += bytes.len() as u64;
    let (Some(tls), Some(ts)) = (c.tls.as_mut(), ts) else {
        if first && matches!(bytes, [0x15 | 0x16, 0x03, ..]) {
            return Err(SessionError::TlsPort { probed: c.probe });
        }
        if let (true, Some(&b)) = (c.probe, bytes.first()) {
            return Err(SessionError::ProbeAnswer(b));
        }
        c.incoming.extend(bytes);
        return Ok(false);
    };
    if let (true, Some(&b)) = (first, bytes.first()) {
        if !(0x14..=0x17).contains(&b) {
            return Err(SessionError::NotTls(b));
        }
    }
    let mut rest = bytes;
    let mut plain = [0u8; 4096];
    while !rest.is_empty() {
        // The plaintext is drained below after every record batch, so rustls always has room;
        // a 0 here would mean it has none, and looping on it would spin.
        if tls.read_tls(&mut rest).map_err(SessionError::Read)? == 0 {
            return Err(SessionError::Read(io::Error::other(
                "TLS receive buffer full",
            )));
        }
        tls.process_new_packets()
            .map_err(|e| SessionError::Tls(Box::new(ts.failure(e))))?;
        loop {
            match tls.reader().read(&mut plain) {
                Ok(0) => return Ok(true),
                Ok(n) => c.incoming.extend(&plain[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(SessionError::Read(e)),
            }
        }
    }
    Ok(false)
}

/// One packet of an established session: messages (HA's status, the gateways' statuses,
/// the shared states) to `core`, the rest to `state` (acks, PINGRESP), whose reply is
/// encoded into `wbuf`. `Ok(true)`: a reply was queued.
pub fn handle_incoming(
    core: &mut Publisher,
    state: &mut MqttState,
    wbuf: &mut BytesMut,
    p: Packet,
    now: Instant,
) -> Result<bool, SessionError> {
    if let Packet::Publish(ref p) = p {
        core.on_message(&p.topic, &p.payload, p.retain, now);
    }
    let out = state.handle_incoming_packet(p);
    state.events.clear();
    match out {
        Ok(Some(reply)) => {
            reply
                .write(wbuf, MAX_OUTGOING)
                .map_err(SessionError::Encode)?;
            Ok(true)
        }
        Ok(None) => Ok(false),
        Err(e) => Err(SessionError::State(e)),
    }
}

/// Why [`MqttService::from_config`] could not build the service. Display is the message for
/// the user; it never contains the password (a `password_file` error names the file only).
#[derive(Debug)]
pub enum MqttConfigError {
    /// The config has no `[mqtt]` section.
    NoSection,
    /// `password_file` could not be read (or the password settings are inconsistent).
    Password(crate::config::ConfigError),
    /// `ca_file`, `client_cert` or `client_key` could not be used.
    Tls(super::tls::TlsConfigError),
}

impl core::fmt::Display for MqttConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MqttConfigError::NoSection => f.write_str("no [mqtt] section in the config"),
            MqttConfigError::Password(e) => write!(f, "{e}"),
            MqttConfigError::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for MqttConfigError {}

impl MqttService {
    /// From a config with an `[mqtt]` section (reads `password_file`).
    pub fn from_config(cfg: &Config, now: Instant) -> Result<MqttService, MqttConfigError> {
        let Some(m) = &cfg.mqtt else {
            return Err(MqttConfigError::NoSection);
        };
        let password = cfg.mqtt_password().map_err(MqttConfigError::Password)?;
        let host = hostname();
        let settings = Settings {
            hash_key: crate::sys::hash_key(),
            ..cfg.publish_settings(&host)
        };
        let tls = if m.tls {
            Some(TlsSettings::from_config(m).map_err(MqttConfigError::Tls)?)
        } else {
            None
        };
        let cs = ConnSettings {
            host: m.host.clone(),
            port: m.port(),
            client_id: m
                .client_id
                .clone()
                .unwrap_or_else(|| default_client_id(&settings.topics.gateway, &machine_id())),
            username: m.username.clone(),
            password,
            keepalive: m.keepalive,
            tls,
        };
        Ok(MqttService::new(settings, cs, now))
    }

    pub fn new(settings: Settings, cs: ConnSettings, now: Instant) -> MqttService {
        MqttService {
            core: Publisher::new(settings, now),
            cs,
            token: Token(crate::service::SERVICE_TOKEN_BASE),
            phase: Phase::Down { retry_at: now },
            conn: None,
            backoff: BACKOFF_MIN,
            addrs: Vec::new(),
            addr_next: 0,
            resolved_at: None,
            last_error: None,
            up_since: None,
            quick_drops: 0,
            takeover_reported: false,
            probe: Probe::None,
            log: Box::new(|m| eprintln!("hci2mqtt: mqtt: {m}")),
            stats: ConnStats::default(),
            ahead: Duration::ZERO,
        }
    }

    /// The publisher's time for the wall-clock instant `now`.
    fn core_time(&self, now: Instant) -> Instant {
        now + self.ahead
    }

    /// Where log lines go (default: stderr).
    pub fn set_logger(&mut self, log: LogFn) {
        self.log = log;
    }

    pub fn core(&self) -> &Publisher {
        &self.core
    }

    pub fn core_mut(&mut self) -> &mut Publisher {
        &mut self.core
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.phase, Phase::Up)
    }

    /// The last connection error (cleared by a successful session).
    pub fn last_error(&self) -> Option<&SessionError> {
        self.last_error.as_ref()
    }

    /// Bytes staged for the socket and not yet written (with TLS: plaintext not yet handed
    /// to the TLS session, which holds at most 16 KiB more; see [`Self::flushed`]).
    pub fn staged(&self) -> usize {
        self.conn.as_ref().map_or(0, |c| c.wbuf.len())
    }

    /// Nothing staged and no TLS record waiting for the socket.
    pub fn flushed(&self) -> bool {
        self.conn
            .as_ref()
            .is_none_or(|c| c.wbuf.is_empty() && !c.tls.as_ref().is_some_and(|t| t.wants_write()))
    }

    /// True once a failure that retrying cannot mend stopped the service from connecting.
    pub fn is_halted(&self) -> bool {
        matches!(self.phase, Phase::Halted)
    }

    fn resolve(&mut self, now: Instant) -> Result<SocketAddr, SessionError> {
        if let Ok(ip) = self.cs.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.cs.port));
        }
        let stale = self
            .resolved_at
            .is_none_or(|t| now.saturating_duration_since(t) >= RESOLVE_TTL);
        if self.addrs.is_empty() || stale {
            match (self.cs.host.as_str(), self.cs.port).to_socket_addrs() {
                Ok(a) => {
                    self.addrs = a.collect();
                    self.resolved_at = Some(now);
                    self.addr_next = 0;
                }
                Err(e) => return Err(SessionError::Resolve(e)),
            }
        }
        if self.addrs.is_empty() {
            return Err(SessionError::NoAddress);
        }
        let a = self.addrs[self.addr_next % self.addrs.len()];
        self.addr_next = self.addr_next.wrapping_add(1);
        Ok(a)
    }

    fn connect_packet(&self) -> Connect {
        let mut c = Connect::new(self.cs.client_id.clone());
        c.keep_alive = self.cs.keepalive;
        c.clean_session = true;
        c.last_will = Some(LastWill::new(
            self.core.topics().status(),
            "offline",
            QoS::AtLeastOnce,
            true,
        ));
        if let Some(u) = &self.cs.username {
            c.set_login(u.clone(), self.cs.password.clone().unwrap_or_default());
        }
        c
    }

    fn start_connect(&mut self, registry: &Registry, now: Instant) {
        let addr = match self.resolve(now) {
            Ok(a) => a,
            Err(e) => return self.fail(registry, now, e),
        };
        let mut stream = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => return self.fail(registry, now, SessionError::Connect(addr, e)),
        };
        if let Err(e) = registry.register(
            &mut stream,
            self.token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            return self.fail(registry, now, SessionError::Register(e));
        }
        let _ = stream.set_nodelay(true);
        let mut wbuf = BytesMut::with_capacity(4096);
        let hello = match &self.probe {
            Probe::Next(_) => super::tls::client_hello(&self.cs.host),
            _ => None,
        };
        let probe = hello.is_some();
        if let Some(h) = hello {
            if let Probe::Next(e) = core::mem::replace(&mut self.probe, Probe::None) {
                self.probe = Probe::Running(e);
            }
            wbuf.extend_from_slice(&h);
        } else if let Err(e) = Packet::Connect(self.connect_packet()).write(&mut wbuf, MAX_OUTGOING)
        {
            return self.fail(registry, now, SessionError::Encode(e));
        }
        let tls = match self.cs.tls.as_ref().map(|t| (t, t.connect())) {
            None => None,
            Some((_, Ok(mut c))) => {
                // Plaintext (the CONNECT) waits in rustls until the handshake is done; it
                // takes no more than the staging buffer would.
                c.set_buffer_limit(Some(WBUF_HIGH));
                Some(c)
            }
            Some((t, Err(e))) => {
                let _ = registry.deregister(&mut stream);
                let e = SessionError::Tls(Box::new(t.failure(e)));
                return self.fail(registry, now, e);
            }
        };
        self.conn = Some(Conn {
            stream,
            tls,
            rx_bytes: 0,
            probe,
            incoming: Incoming::default(),
            wbuf,
            state: MqttState::new(100, false),
            last_out: now,
            last_in: now,
            ping_sent: None,
        });
        self.phase = Phase::Connecting {
            until: now + CONNECT_TIMEOUT,
        };
    }

    /// Counts a packet [`Incoming`] skipped; logs the first one.
    fn oversized(&mut self, len: usize) {
        self.stats.oversized += 1;
        if self.stats.oversized == 1 {
            (self.log)(&format!(
                "skipped a {len}-byte packet from the broker (over the {} KiB limit; a huge retained \
                 message on {} or {}?)",
                MAX_INCOMING / 1024,
                self.core.topics().ha_status(),
                self.core.topics().status()
            ));
        }
    }

    /// Drops the connection, logs `e` unless it is the failure logged last, schedules a retry.
    fn fail(&mut self, registry: &Registry, now: Instant, e: SessionError) {
        let suspect = self.dropped_unanswered(&e);
        let e = self.explain(e);
        let was_up = matches!(self.phase, Phase::Up);
        if let Some(mut c) = self.conn.take() {
            let _ = registry.deregister(&mut c.stream);
        }
        self.stats.failures += 1;
        let e = match core::mem::replace(&mut self.probe, Probe::None) {
            Probe::Running(orig) => {
                self.probe = Probe::Done;
                if matches!(e, SessionError::TlsPort { .. }) {
                    e
                } else {
                    orig
                }
            }
            Probe::None if suspect => {
                // Said nothing yet: the probe, at once, tells what to say.
                self.probe = Probe::Next(e);
                self.phase = Phase::Down {
                    retry_at: now + BACKOFF_MIN,
                };
                return;
            }
            p => {
                self.probe = p;
                e
            }
        };
        // This session ended, by the broker, within `STABLE` of being accepted.
        let mut quick = false;
        if let (true, Some(t)) = (was_up, self.up_since.take()) {
            if now.saturating_duration_since(t) >= STABLE {
                self.backoff = BACKOFF_MIN;
                self.quick_drops = 0;
            } else if matches!(&e, SessionError::Closed)
                || matches!(&e, SessionError::Read(io) if io.kind() == io::ErrorKind::ConnectionReset)
            {
                self.stats.short_sessions += 1;
                self.quick_drops += 1;
                quick = true;
            }
        }
        // A plain CONNECT to a TLS port sends the login in clear text each time: stop.
        if matches!(e, SessionError::TlsPort { .. }) {
            self.phase = Phase::Halted;
            (self.log)(&format!(
                "{}:{}: {e}. Not retrying (each retry would send the login in clear text \
                 again): fix [mqtt] and restart hci2mqtt",
                self.cs.host, self.cs.port
            ));
            self.last_error = Some(e);
            return;
        }
        let retry = self.backoff;
        self.phase = Phase::Down {
            retry_at: now + retry,
        };
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        // A takeover: reported once, then retried quietly (no line per lost session).
        if quick && self.quick_drops >= TAKEOVER_DROPS {
            if !self.takeover_reported {
                self.takeover_reported = true;
                (self.log)(&format!(
                    "{}:{}: the broker ended our session right after accepting it {} times in a row: \
                     another client is probably connecting with the client id {:?} (two gateways \
                     with one config, or a cloned SD card?); give each gateway its own \
                     [mqtt] client_id. Retrying every {} s at most, quietly",
                    self.cs.host,
                    self.cs.port,
                    self.quick_drops,
                    self.cs.client_id,
                    BACKOFF_MAX.as_secs()
                ));
            }
            self.last_error = Some(e);
            return;
        }
        if self.last_error.as_ref().is_some_and(|l| l.same_as(&e)) {
            return;
        }
        let lost = if was_up {
            "connection to the broker lost: "
        } else {
            ""
        };
        (self.log)(&format!(
            "{}:{}: {lost}{e}; retrying (every {}–{} s)",
            self.cs.host,
            self.cs.port,
            BACKOFF_MIN.as_secs(),
            BACKOFF_MAX.as_secs()
        ));
        self.last_error = Some(e);
    }

    /// The connection ended (`Some(true)`: reset, `Some(false)`: closed) before the broker
    /// sent a byte; `None` for any other failure.
    fn unanswered_end(&self, e: &SessionError) -> Option<bool> {
        let c = self.conn.as_ref()?;
        if c.rx_bytes != 0 || !matches!(self.phase, Phase::AwaitConnAck { .. }) {
            return None;
        }
        // A reset: the peer closed with our bytes unread. A close: it read them first.
        match e {
            SessionError::Closed => Some(false),
            SessionError::Read(io) | SessionError::Write(io) => matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            )
            .then_some(true),
            _ => None,
        }
    }

    /// A plain CONNECT dropped unanswered as a TLS listener drops it: reset with it unread
    /// (an MQTT broker reads a CONNECT and answers it), or closed on the TLS port 8883.
    fn dropped_unanswered(&self, e: &SessionError) -> bool {
        let plain = self
            .conn
            .as_ref()
            .is_some_and(|c| c.tls.is_none() && !c.probe);
        plain
            && match self.unanswered_end(e) {
                Some(reset) => reset || self.cs.port == TLS_PORT,
                None => false,
            }
    }

    /// A TLS handshake the broker ended before answering: the mismatch it most likely is.
    fn explain(&self, e: SessionError) -> SessionError {
        let tls = self.conn.as_ref().is_some_and(|c| c.tls.is_some());
        if tls && self.unanswered_end(&e).is_some() {
            return SessionError::ClosedInHandshake;
        }
        e
    }

    fn connack(
        &mut self,
        registry: &Registry,
        now: Instant,
        ack: ConnAck,
    ) -> Result<(), SessionError> {
        let why = match ack.code {
            ConnectReturnCode::Success => {
                self.phase = Phase::Up;
                self.probe = Probe::None;
                // The backoff resets once the session has held for `STABLE` (see `fail`).
                self.up_since = Some(now);
                self.stats.connects += 1;
                let quiet = self.quick_drops >= TAKEOVER_DROPS;
                if (self.last_error.take().is_some() && !quiet) || self.stats.connects == 1 {
                    let tls = if self.cs.tls.is_some() { " (TLS)" } else { "" };
                    (self.log)(&format!(
                        "connected to {}:{}{tls}",
                        self.cs.host, self.cs.port
                    ));
                }
                self.core.on_connected(self.core_time(now));
                let t = self.core.topics();
                // The statuses last: our own `online` (published after this SUBSCRIBE)
                // comes back after every retained message of these filters.
                let sub = Subscribe::new_many([
                    SubscribeFilter::new(t.ha_status(), QoS::AtMostOnce),
                    SubscribeFilter::new(t.state_filter(), QoS::AtMostOnce),
                    SubscribeFilter::new(t.status_filter(), QoS::AtMostOnce),
                ]);
                self.send_request(Request::Subscribe(sub), now)?;
                let _ = registry;
                return Ok(());
            }
            code => code,
        };
        Err(SessionError::Refused(why))
    }

    /// Runs a request through MqttState and stages the resulting packet.
    fn send_request(&mut self, req: Request, now: Instant) -> Result<(), SessionError> {
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        let out = c.state.handle_outgoing_packet(req);
        c.state.events.clear();
        match out {
            Ok(Some(p)) => {
                if let Packet::Publish(_) = p {
                    self.stats.publishes += 1;
                }
                p.write(&mut c.wbuf, MAX_OUTGOING)
                    .map_err(SessionError::Encode)?;
                c.last_out = now;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(StateError::AwaitPingResp) => Err(SessionError::NoPingResp),
            Err(e) => Err(SessionError::State(e)),
        }
    }

    /// Reads until the socket would block (mio readiness is edge-triggered) and handles every
    /// complete packet as it arrives.
    fn read_all(&mut self, registry: &Registry, now: Instant) -> Result<(), SessionError> {
        let mut tmp = [0u8; 4096];
        loop {
            let Some(c) = self.conn.as_mut() else {
                return Ok(());
            };
            let more = match c.stream.read(&mut tmp) {
                Ok(0) => return Err(SessionError::Closed),
                Ok(n) => {
                    if receive(c, self.cs.tls.as_ref(), &tmp[..n])? {
                        return Err(SessionError::Closed);
                    }
                    c.last_in = now;
                    true
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SessionError::Read(e)),
            };
            loop {
                let Some(c) = self.conn.as_mut() else {
                    return Ok(());
                };
                let skipped = c.incoming.skipped;
                let next = c.incoming.next_packet();
                if c.incoming.skipped != skipped {
                    let len = c.incoming.last_skipped_len;
                    self.oversized(len);
                }
                let Some(p) = next? else {
                    break;
                };
                self.incoming(registry, now, p)?;
            }
            if !more {
                return Ok(());
            }
        }
    }

    fn incoming(
        &mut self,
        registry: &Registry,
        now: Instant,
        p: Packet,
    ) -> Result<(), SessionError> {
        if matches!(self.phase, Phase::AwaitConnAck { .. }) {
            return match p {
                Packet::ConnAck(a) => self.connack(registry, now, a),
                _ => Err(SessionError::NoConnAck),
            };
        }
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        if let Packet::PingResp = p {
            c.ping_sent = None;
        }
        let t = now + self.ahead;
        if handle_incoming(&mut self.core, &mut c.state, &mut c.wbuf, p, t)? {
            c.last_out = now;
        }
        Ok(())
    }

    /// Moves outbox messages to the staging buffer (while connected) and writes what the
    /// socket takes. Never waits.
    fn pump(&mut self, registry: &Registry, now: Instant) {
        if let Err(e) = self.try_pump(now) {
            self.fail(registry, now, e);
        }
    }

    fn try_pump(&mut self, now: Instant) -> Result<(), SessionError> {
        if matches!(self.phase, Phase::Up) {
            loop {
                if self.staged() >= WBUF_HIGH {
                    break;
                }
                let Some(m) = self.core.outbox.pop() else {
                    self.core.after_drain(now + self.ahead);
                    if self.core.outbox.is_empty() {
                        break;
                    }
                    continue;
                };
                let mut p = Publish::new(m.topic, QoS::AtMostOnce, m.payload);
                p.retain = m.retain;
                self.send_request(Request::Publish(p), now)?;
            }
        }
        self.flush()
    }

    fn flush(&mut self) -> Result<(), SessionError> {
        if !matches!(self.phase, Phase::Up | Phase::AwaitConnAck { .. }) {
            return Ok(());
        }
        let Some(c) = self.conn.as_mut() else {
            return Ok(());
        };
        if let Some(tls) = c.tls.as_mut() {
            loop {
                // Records first; new plaintext only once rustls has written the last ones.
                while tls.wants_write() {
                    match tls.write_tls(&mut c.stream) {
                        Ok(0) => return Err(SessionError::Closed),
                        Ok(n) => self.stats.bytes_out += n as u64,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(SessionError::Write(e)),
                    }
                }
                if c.wbuf.is_empty() {
                    return Ok(());
                }
                let n = c.wbuf.len().min(TLS_CHUNK);
                // Before the handshake is done rustls buffers the plaintext (up to its limit,
                // then 0); afterwards it encrypts it into records at once.
                let n = tls
                    .writer()
                    .write(&c.wbuf[..n])
                    .map_err(SessionError::Write)?;
                if n == 0 {
                    return Ok(());
                }
                c.wbuf.advance(n);
            }
        }
        while !c.wbuf.is_empty() {
            match c.stream.write(&c.wbuf) {
                Ok(0) => return Err(SessionError::Closed),
                Ok(n) => {
                    c.wbuf.advance(n);
                    self.stats.bytes_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(SessionError::Write(e)),
            }
        }
        Ok(())
    }

    /// Non-blocking connect finished? (mio: after a writable event, `take_error` then
    /// `peer_addr`.)
    fn check_connected(&mut self) -> Result<bool, SessionError> {
        let Some(c) = self.conn.as_mut() else {
            return Ok(false);
        };
        match c.stream.take_error() {
            Ok(Some(e)) | Err(e) => return Err(SessionError::Connecting(e)),
            Ok(None) => {}
        }
        match c.stream.peer_addr() {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(e) => Err(SessionError::Connecting(e)),
        }
    }

    /// When the keepalive needs attention: the PINGRESP deadline while a ping is out, else
    /// one keepalive after the last packet in either direction.
    fn keepalive_at(&self) -> Option<Instant> {
        let ka = Duration::from_secs(u64::from(self.cs.keepalive));
        if ka.is_zero() || !matches!(self.phase, Phase::Up) {
            return None;
        }
        let c = self.conn.as_ref()?;
        Some(match c.ping_sent {
            Some(t) => t + ka,
            None => c.last_out.min(c.last_in) + ka,
        })
    }

    fn keepalive(&mut self, now: Instant) -> Result<(), SessionError> {
        let Some(at) = self.keepalive_at() else {
            return Ok(());
        };
        if now < at {
            return Ok(());
        }
        // A ping still unanswered after a keepalive: MqttState reports AwaitPingResp.
        self.send_request(Request::PingReq(PingReq), now)?;
        if let Some(c) = self.conn.as_mut() {
            c.ping_sent = Some(now);
        }
        Ok(())
    }

    fn handle_event(
        &mut self,
        registry: &Registry,
        ev: &mio::event::Event,
        now: Instant,
    ) -> Result<(), SessionError> {
        if let Phase::Connecting { .. } = self.phase {
            if !(ev.is_writable() || ev.is_error() || ev.is_write_closed() || ev.is_read_closed()) {
                return Ok(());
            }
            if !self.check_connected()? {
                return Ok(());
            }
            self.phase = Phase::AwaitConnAck {
                until: now + CONNECT_TIMEOUT,
            };
        }
        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
            self.read_all(registry, now)?;
        }
        self.try_pump(now)
    }

    /// Publishes `offline` and disconnects cleanly, waiting at most `budget` (used on exit).
    fn close(&mut self, registry: &Registry, budget: Duration) {
        let end = Instant::now() + budget;
        if matches!(self.phase, Phase::Up) {
            // Flush what is queued first (replay runs end right after their last reading).
            while Instant::now() < end {
                if self.try_pump(Instant::now()).is_err() {
                    break;
                }
                if self.core.outbox.is_empty() && self.flushed() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let mut p = Publish::new(self.core.topics().status(), QoS::AtMostOnce, "offline");
            p.retain = true;
            let now = Instant::now();
            let _ = self.send_request(Request::Publish(p), now);
            let _ = self.send_request(Request::Disconnect(Disconnect), now);
            while Instant::now() < end && !self.flushed() {
                if self.flush().is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            if let Some(tls) = self.conn.as_mut().and_then(|c| c.tls.as_mut()) {
                tls.send_close_notify();
                let _ = self.flush();
            }
        }
        if let Some(mut c) = self.conn.take() {
            let _ = registry.deregister(&mut c.stream);
        }
        self.phase = Phase::Down {
            retry_at: Instant::now() + BACKOFF_MAX,
        };
    }

    /// Presence of `addr` (any advert, decoded or not), for `[[tracker]]`s.
    pub fn advert_seen(&mut self, addr: &Addr, now: Instant) {
        self.core.on_seen(addr, self.core_time(now));
    }
}

impl Service for MqttService {
    fn register(&mut self, registry: &Registry, base: Token, now: Instant) -> io::Result<()> {
        self.token = base;
        self.start_connect(registry, now);
        Ok(())
    }

    fn on_event(&mut self, registry: &Registry, event: &mio::event::Event, now: Instant) {
        if event.token() != self.token || self.conn.is_none() {
            return;
        }
        if let Err(e) = self.handle_event(registry, event, now) {
            self.fail(registry, now, e);
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let conn = match self.phase {
            Phase::Down { retry_at } => Some(retry_at),
            Phase::Connecting { until } | Phase::AwaitConnAck { until } => Some(until),
            Phase::Up => self.keepalive_at(),
            Phase::Halted => None,
        };
        let core = self
            .core
            .deadline()
            .map(|d| d.checked_sub(self.ahead).unwrap_or(d));
        match (conn, core) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_timeout(&mut self, registry: &Registry, now: Instant) {
        match self.phase {
            Phase::Down { retry_at } if now >= retry_at => self.start_connect(registry, now),
            Phase::Connecting { until } | Phase::AwaitConnAck { until } if now >= until => {
                self.fail(registry, now, SessionError::Timeout)
            }
            _ => {}
        }
        if let Err(e) = self.keepalive(now) {
            self.fail(registry, now, e);
        }
        self.core.on_timeout(self.core_time(now));
        self.pump(registry, now);
    }

    fn on_reading(&mut self, _registry: &Registry, reading: &Reading, now: Instant) {
        // Queued only: `after_batch` writes what a whole radio read produced at once.
        self.core
            .on_reading(reading, self.core_time(now), unix_now());
    }

    fn on_advert(&mut self, _registry: &Registry, addr: &Addr, _rssi: Option<i8>, now: Instant) {
        self.advert_seen(addr, now);
    }

    fn after_batch(&mut self, registry: &Registry, now: Instant) {
        self.pump(registry, now);
    }

    fn on_unknown(
        &mut self,
        _registry: &Registry,
        r: &hci2mqtt_core::hci::event::Report<'_>,
        now: Instant,
    ) {
        let t = self.core_time(now);
        self.core
            .on_unknown(&r.addr, r.addr_type, r.rssi, r.data, t);
    }

    fn on_notice(&mut self, notice: &hci2mqtt_core::pipeline::Notice, _now: Instant) {
        // With MQTT there is no stdout writer: decoder notices (wrong/missing key) go to the log.
        (self.log)(&notice.to_string());
    }

    fn shutdown(&mut self, registry: &Registry, budget: Duration) {
        self.close(registry, budget);
    }

    fn idle(&self) -> bool {
        // Unsynced, the states are held, not sent; a resync may have pages left.
        self.core.settled() && self.flushed()
    }

    fn ready(&self) -> bool {
        self.core.synced()
    }

    fn health(&self) -> Health {
        let Some(e) = &self.last_error else {
            return Health::Fine;
        };
        let said = format!("{}:{}: {e}", self.cs.host, self.cs.port);
        // A login or protocol refusal stays a refusal; "server unavailable" may pass.
        let refused =
            matches!(e, SessionError::Refused(c) if *c != ConnectReturnCode::ServiceUnavailable);
        if self.is_halted() || refused {
            Health::Fatal(said)
        } else {
            Health::Failing(said)
        }
    }

    fn follow_capture_clock(&mut self, ahead: Duration) {
        self.ahead = self.ahead.max(ahead);
    }

    fn end_of_input(&mut self, registry: &Registry, now: Instant) {
        self.core.publish_waiting(self.core_time(now));
        self.pump(registry, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_bytes_split_anywhere_decode_and_a_qos1_publish_is_acked() {
        let cfg = Config::parse("[mqtt]\n", "test").expect("minimal config");
        let mut core = Publisher::new(cfg.publish_settings("gw"), Instant::now());
        let mut state = MqttState::new(100, false);
        let mut rbuf = Incoming::default();
        let mut wbuf = BytesMut::new();
        // PUBLISH QoS 1, packet id 7, topic "a/b", payload "1", fed one byte at a time.
        let publish = [0x32, 0x08, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, b'1'];
        let mut got = Vec::new();
        for b in publish {
            rbuf.extend(&[b]);
            if let Some(p) = rbuf.next_packet().expect("valid bytes") {
                got.push(p);
            }
        }
        assert_eq!(got.len(), 1);
        let queued = handle_incoming(
            &mut core,
            &mut state,
            &mut wbuf,
            got.remove(0),
            Instant::now(),
        );
        assert!(matches!(queued, Ok(true)), "{queued:?}");
        assert_eq!(&wbuf[..], &[0x40, 0x02, 0x00, 0x07], "PUBACK for id 7");
        // A reserved packet type is an error, not a panic or a wait.
        rbuf.extend(&[0xF0, 0x00]);
        assert!(matches!(
            rbuf.next_packet(),
            Err(SessionError::BadPacket(_))
        ));
    }

    /// Two machines with one gateway name get two client ids; one machine keeps its id.
    #[test]
    fn default_client_ids_differ_per_machine() {
        let a = default_client_id("raspberrypi", "0123456789abcdef0123456789abcdef");
        let b = default_client_id("raspberrypi", "fedcba9876543210fedcba9876543210");
        assert_ne!(a, b);
        assert_eq!(
            a,
            default_client_id("raspberrypi", "0123456789abcdef0123456789abcdef")
        );
        assert!(
            a.starts_with("hci2mqtt-raspberrypi-") && a.len() == 29,
            "{a}"
        );
        assert!(!a.contains("0123456789"), "the machine id is not disclosed");
        assert_eq!(default_client_id("gw", ""), "hci2mqtt-gw");
    }

    /// A packet over the limit is dropped as it arrives, in any chunking, and the packets
    /// around it still decode; nothing of it is buffered.
    #[test]
    fn an_oversized_packet_is_skipped_not_fatal() {
        let mut big = vec![0x31]; // PUBLISH, retained
        let remaining = 2 + 22 + 100_000;
        let mut n = remaining;
        loop {
            let b = (n % 128) as u8;
            n /= 128;
            big.push(if n > 0 { b | 0x80 } else { b });
            if n == 0 {
                break;
            }
        }
        big.extend_from_slice(&[0x00, 22]);
        big.extend_from_slice(b"homeassistant/status/x");
        big.resize(big.len() + 100_000, b'x');
        let small = [0x30, 0x06, 0x00, 0x03, b'a', b'/', b'b', b'1'];
        let mut stream = small.to_vec();
        stream.extend_from_slice(&big);
        stream.extend_from_slice(&small);
        for chunk in [1, 7, 4096, stream.len()] {
            let mut rbuf = Incoming::default();
            let mut got = 0;
            for c in stream.chunks(chunk) {
                rbuf.extend(c);
                while let Some(p) = rbuf.next_packet().expect("skipped, not an error") {
                    assert!(matches!(p, Packet::Publish(ref p) if p.topic == "a/b"));
                    got += 1;
                }
                assert!(rbuf.buffered() <= MAX_INCOMING + 5);
            }
            assert_eq!((got, rbuf.skipped), (2, 1), "chunks of {chunk}");
            assert_eq!(rbuf.last_skipped_len, big.len());
        }
    }
}
