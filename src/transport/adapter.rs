//! The adapter SPEC (`--adapter`, `[scan] adapter`), parsed in one place, and the transport it
//! opens: a raw HCI socket, an H4 stream over TCP or a serial port, or a capture replay.

use std::fmt;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::hci::h4::Deframer;

use super::h4::{self, Serial};
use super::raw_socket::{self as socket, HciSocket, OpenError, Which};

/// Default serial speed (Zephyr hci_uart and most HCI UART firmwares).
pub const DEFAULT_BAUD: u32 = 1_000_000;

/// What `--adapter` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdapterSpec {
    /// `hci0` or a bare index.
    Index(u16),
    /// The adapter's own address (hciN numbers change across reboots).
    Mac(Addr),
    /// `tcp:HOST:PORT`: an H4 stream (Bumble `tcp-server`, btproxy, QEMU chardev…).
    Tcp(String),
    /// `serial:/dev/ttyX[@BAUD][,rtscts]`.
    Serial {
        path: PathBuf,
        baud: u32,
        rtscts: bool,
    },
    /// `replay:FILE`: a capture instead of a radio.
    Replay(PathBuf),
}

pub const SPEC_HELP: &str =
    "expected hci0, an adapter index, an adapter MAC (AA:BB:CC:DD:EE:FF), tcp:HOST:PORT, serial:/dev/ttyX[@BAUD][,rtscts] or replay:FILE";

/// An `--adapter` / `[scan] adapter` value that names no adapter: the text given and what
/// is wrong with it. Display: `invalid adapter "…": <problem>; <the accepted forms>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidAdapter {
    pub spec: String,
    pub problem: AdapterProblem,
}

/// What is wrong with an adapter spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterProblem {
    /// `tcp:HOST` without `:PORT`.
    MissingPort,
    /// `tcp::PORT`.
    MissingHost,
    /// `tcp:` port 0 or not a number up to 65535.
    BadPort,
    /// `serial:PATH@BAUD` with a baud rate the H4 transport cannot set.
    UnsupportedBaud,
    /// `serial:` without a path.
    MissingDevicePath,
    /// `replay:` without a file.
    MissingFile,
    /// `hciN` with N ≥ 65535.
    IndexOutOfRange,
    /// None of the forms.
    NotRecognised,
}

impl core::fmt::Display for AdapterProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AdapterProblem::MissingPort => "missing :PORT",
            AdapterProblem::MissingHost => "missing host",
            AdapterProblem::BadPort => "port must be 1-65535",
            AdapterProblem::UnsupportedBaud => {
                "unsupported baud rate (9600 … 4000000, standard values)"
            }
            AdapterProblem::MissingDevicePath => "missing device path",
            AdapterProblem::MissingFile => "missing file",
            AdapterProblem::IndexOutOfRange => "index out of range",
            AdapterProblem::NotRecognised => "not recognised",
        })
    }
}

impl core::fmt::Display for InvalidAdapter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "invalid adapter {:?}: {}; {SPEC_HELP}",
            self.spec, self.problem
        )
    }
}

impl std::error::Error for InvalidAdapter {}

impl AdapterSpec {
    pub fn parse(s: &str) -> Result<AdapterSpec, InvalidAdapter> {
        let s = s.trim();
        let bad = |problem| {
            Err(InvalidAdapter {
                spec: s.to_string(),
                problem,
            })
        };
        if let Some(rest) = s.strip_prefix("tcp:") {
            let Some((host, port)) = rest.rsplit_once(':') else {
                return bad(AdapterProblem::MissingPort);
            };
            if host.is_empty() {
                return bad(AdapterProblem::MissingHost);
            }
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return bad(AdapterProblem::BadPort);
            }
            return Ok(AdapterSpec::Tcp(rest.to_string()));
        }
        if let Some(rest) = s.strip_prefix("serial:") {
            let (rest, rtscts) = match rest.strip_suffix(",rtscts") {
                Some(r) => (r, true),
                None => (rest, false),
            };
            let (path, baud) = match rest.rsplit_once('@') {
                Some((p, b)) => match b.parse::<u32>() {
                    Ok(b) if h4::is_supported_baud(b) => (p, b),
                    _ => return bad(AdapterProblem::UnsupportedBaud),
                },
                None => (rest, DEFAULT_BAUD),
            };
            if path.is_empty() {
                return bad(AdapterProblem::MissingDevicePath);
            }
            return Ok(AdapterSpec::Serial {
                path: PathBuf::from(path),
                baud,
                rtscts,
            });
        }
        if let Some(rest) = s.strip_prefix("replay:") {
            if rest.is_empty() {
                return bad(AdapterProblem::MissingFile);
            }
            return Ok(AdapterSpec::Replay(PathBuf::from(rest)));
        }
        let idx = s.strip_prefix("hci").unwrap_or(s);
        if !idx.is_empty() && idx.bytes().all(|b| b.is_ascii_digit()) {
            return match idx.parse::<u16>() {
                Ok(i) if i < 0xFFFF => Ok(AdapterSpec::Index(i)),
                _ => bad(AdapterProblem::IndexOutOfRange),
            };
        }
        if let Some(a) = Addr::parse(s) {
            return Ok(AdapterSpec::Mac(a));
        }
        bad(AdapterProblem::NotRecognised)
    }

    /// The kernel-shared raw socket (no Reset, no event masks: the kernel owns those).
    pub fn is_raw_socket(&self) -> bool {
        matches!(self, AdapterSpec::Index(_) | AdapterSpec::Mac(_))
    }
}

impl Default for AdapterSpec {
    fn default() -> Self {
        AdapterSpec::Index(0)
    }
}

impl fmt::Display for AdapterSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterSpec::Index(i) => write!(f, "hci{i}"),
            AdapterSpec::Mac(a) => write!(f, "adapter {a}"),
            AdapterSpec::Tcp(hp) => write!(f, "tcp:{hp}"),
            AdapterSpec::Serial { path, baud, rtscts } => {
                write!(
                    f,
                    "serial:{}@{baud}{}",
                    path.display(),
                    if *rtscts { ",rtscts" } else { "" }
                )
            }
            AdapterSpec::Replay(p) => write!(f, "replay:{}", p.display()),
        }
    }
}

/// What one read brought.
#[derive(Clone, Copy, Debug)]
pub struct Filled {
    pub bytes: usize,
    /// The read came back short: the kernel had nothing more queued, so reading again now would
    /// only return WouldBlock (edge-triggered readiness fires again on new data).
    pub drained: bool,
}

fn stream_fill<R: io::Read>(d: &mut Deframer, r: &mut R) -> io::Result<Filled> {
    let room = d.spare().len();
    let n = h4::fill_from(d, r)?;
    Ok(Filled {
        bytes: n,
        drained: n < room,
    })
}

/// An open link to a controller.
pub enum Transport {
    Tcp(mio::net::TcpStream),
    Serial(Serial),
    Raw(HciSocket),
}

impl Transport {
    /// Opens a live transport (not `replay:`). A TCP connect completes later (first writable).
    pub fn open(spec: &AdapterSpec) -> Result<Transport, OpenError> {
        match spec {
            AdapterSpec::Index(i) => HciSocket::open(Which::Index(*i)).map(Transport::Raw),
            AdapterSpec::Mac(a) => HciSocket::open(Which::Mac(*a)).map(Transport::Raw),
            AdapterSpec::Tcp(hp) => h4::tcp_connect(hp)
                .map(Transport::Tcp)
                .map_err(|e| OpenError::new(format!("tcp:{hp}: {e}"), true)),
            AdapterSpec::Serial { path, baud, rtscts } => Serial::open(path, *baud, *rtscts)
                .map(Transport::Serial)
                .map_err(|e| {
                    let hint = match e.raw_os_error() {
                        Some(libc::EACCES) => " (add the user to the dialout group)",
                        Some(libc::ENOENT) => " (device not plugged in?)",
                        Some(libc::EBUSY) => " (used by another program)",
                        _ => "",
                    };
                    // A directory, a non-tty or an impossible baud rate never starts working;
                    // a missing, busy or forbidden tty may (plugged in, freed, group added).
                    let never = e.kind() == std::io::ErrorKind::InvalidInput
                        || e.raw_os_error() == Some(libc::EISDIR);
                    OpenError::new(format!("{}: {e}{hint}", path.display()), !never)
                }),
            AdapterSpec::Replay(p) => Err(OpenError::new(
                format!("replay:{} is not a live transport", p.display()),
                false,
            )),
        }
    }

    /// Reads what is available into the deframer, as much as it has room for in one system
    /// call. `bytes == 0` on a stream means the peer closed it.
    pub fn read_into(&mut self, d: &mut Deframer) -> io::Result<Filled> {
        match self {
            Transport::Tcp(s) => stream_fill(d, s),
            Transport::Serial(s) => stream_fill(d, s),
            Transport::Raw(s) => {
                // Many datagrams per system call; concatenated they are a valid H4 stream.
                let (n, count) = s.recv_batch(d.spare())?;
                if count == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                d.commit(n);
                Ok(Filled {
                    bytes: n,
                    drained: count < socket::BATCH,
                })
            }
        }
    }

    pub fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.write(b),
            Transport::Serial(s) => s.write(b),
            Transport::Raw(s) => s.send(b),
        }
    }

    pub fn register(&mut self, r: &mio::Registry, t: mio::Token) -> io::Result<()> {
        let i = mio::Interest::READABLE | mio::Interest::WRITABLE;
        match self {
            Transport::Tcp(s) => r.register(s, t, i),
            Transport::Serial(s) => r.register(&mut mio::unix::SourceFd(&s.as_raw_fd()), t, i),
            Transport::Raw(s) => r.register(&mut mio::unix::SourceFd(&s.as_raw_fd()), t, i),
        }
    }

    pub fn deregister(&mut self, r: &mio::Registry) {
        let _ = match self {
            Transport::Tcp(s) => r.deregister(s),
            Transport::Serial(s) => r.deregister(&mut mio::unix::SourceFd(&s.as_raw_fd())),
            Transport::Raw(s) => r.deregister(&mut mio::unix::SourceFd(&s.as_raw_fd())),
        };
    }

    /// For TCP: the connect finished (`Ok(true)`), is pending (`Ok(false)`) or failed.
    pub fn connected(&mut self) -> io::Result<bool> {
        match self {
            Transport::Tcp(s) => {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                }
            }
            _ => Ok(true),
        }
    }

    /// A sentence for an I/O error on this transport.
    pub fn explain(&self, e: &io::Error) -> String {
        match self {
            Transport::Raw(s) => socket::explain_io_error(&s.name, e),
            Transport::Tcp(_) => format!("TCP controller connection lost: {e}"),
            Transport::Serial(_) => format!("serial controller: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(AdapterSpec::parse("hci0"), Ok(AdapterSpec::Index(0)));
        assert_eq!(AdapterSpec::parse("hci12"), Ok(AdapterSpec::Index(12)));
        assert_eq!(AdapterSpec::parse("1"), Ok(AdapterSpec::Index(1)));
        assert_eq!(
            AdapterSpec::parse("b8:27:eb:01:02:03"),
            Ok(AdapterSpec::Mac(Addr([0xB8, 0x27, 0xEB, 1, 2, 3])))
        );
        assert_eq!(
            AdapterSpec::parse("tcp:127.0.0.1:9000"),
            Ok(AdapterSpec::Tcp("127.0.0.1:9000".into()))
        );
        assert_eq!(
            AdapterSpec::parse("tcp:[::1]:9000"),
            Ok(AdapterSpec::Tcp("[::1]:9000".into()))
        );
        assert_eq!(
            AdapterSpec::parse("serial:/dev/ttyACM0"),
            Ok(AdapterSpec::Serial {
                path: "/dev/ttyACM0".into(),
                baud: DEFAULT_BAUD,
                rtscts: false
            })
        );
        assert_eq!(
            AdapterSpec::parse("serial:/dev/ttyUSB0@115200,rtscts"),
            Ok(AdapterSpec::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: 115200,
                rtscts: true
            })
        );
        assert_eq!(
            AdapterSpec::parse("replay:cap.btsnoop"),
            Ok(AdapterSpec::Replay("cap.btsnoop".into()))
        );
        assert!(AdapterSpec::parse("hci0").unwrap().is_raw_socket());
        assert!(!AdapterSpec::parse("tcp:h:1").unwrap().is_raw_socket());
    }

    #[test]
    fn rejects_with_reasons() {
        for (s, why, problem) in [
            ("tcp:127.0.0.1", "PORT", AdapterProblem::MissingPort),
            ("tcp::9000", "host", AdapterProblem::MissingHost),
            ("tcp:h:0", "port", AdapterProblem::BadPort),
            ("tcp:h:99999", "port", AdapterProblem::BadPort),
            (
                "serial:/dev/ttyS0@12345",
                "baud",
                AdapterProblem::UnsupportedBaud,
            ),
            ("serial:@115200", "path", AdapterProblem::MissingDevicePath),
            ("replay:", "file", AdapterProblem::MissingFile),
            ("hci65535", "range", AdapterProblem::IndexOutOfRange),
            ("hcix", "not recognised", AdapterProblem::NotRecognised),
            ("", "not recognised", AdapterProblem::NotRecognised),
            (
                "AA:BB:CC:DD:EE",
                "not recognised",
                AdapterProblem::NotRecognised,
            ),
        ] {
            let e = AdapterSpec::parse(s).expect_err(s);
            assert_eq!(e.problem, problem, "{s}");
            let m = e.to_string();
            assert!(m.contains(why) && m.contains("tcp:HOST:PORT"), "{s}: {m}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "hci3",
            "tcp:localhost:1234",
            "serial:/dev/ttyACM0@1000000,rtscts",
            "replay:x.log",
        ] {
            let a = AdapterSpec::parse(s).unwrap();
            assert_eq!(AdapterSpec::parse(&a.to_string()), Ok(a.clone()), "{s}");
        }
    }

    #[test]
    fn tcp_transport_connects_and_reports_refusal() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mut t = Transport::open(&AdapterSpec::parse(&format!("tcp:127.0.0.1:{port}")).unwrap())
            .expect("connect");
        let (mut peer, _) = l.accept().unwrap();
        let mut ok = false;
        for _ in 0..100 {
            if t.connected().unwrap() {
                ok = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(ok);
        peer.write_all(&[0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00])
            .unwrap();
        let mut d = Deframer::new();
        for _ in 0..100 {
            match t.read_into(&mut d) {
                Ok(_) if d.buffered() == 7 => break,
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert_eq!(
            d.next_packet(),
            Some(&[0x04, 0x0e, 0x04, 0x01, 0x03, 0x0c, 0x00][..])
        );
        drop(peer);
        drop(l);
        // Nobody listens there any more: the refusal shows up on the connect check.
        let mut t = Transport::open(&AdapterSpec::Tcp(format!("127.0.0.1:{port}")))
            .expect("connect starts");
        let mut refused = false;
        for _ in 0..100 {
            match t.connected() {
                Err(e) => {
                    refused = e.kind() == io::ErrorKind::ConnectionRefused;
                    break;
                }
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert!(refused);
    }
}
