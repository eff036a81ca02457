//! The two H4 stream transports: TCP (`tcp:HOST:PORT`, virtual controllers such as Bumble's)
//! and serial (`serial:/dev/ttyX[@BAUD][,rtscts]`: nRF52840 with Zephyr's hci_uart, ESP32 HCI
//! firmware). Framing is the core's [`Deframer`].

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use hci2mqtt_core::hci::h4::Deframer;

/// Reads once from `r` into the deframer. `Ok(0)` means end of stream.
pub fn fill_from<R: Read>(d: &mut Deframer, r: &mut R) -> io::Result<usize> {
    let n = r.read(d.spare())?;
    d.commit(n);
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// TCP

/// Starts a non-blocking connect to `host:port` (`tcp:` already stripped). Name resolution is
/// done here, synchronously (it is a local name or an address in practice).
pub fn tcp_connect(hostport: &str) -> io::Result<mio::net::TcpStream> {
    use std::net::ToSocketAddrs;
    let addr = hostport.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, format!("{hostport}: no address"))
    })?;
    let s = mio::net::TcpStream::connect(addr)?;
    // Commands are a few bytes each: do not let Nagle hold them back.
    s.set_nodelay(true)?;
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// Serial

/// A serial port in raw mode, non-blocking.
pub struct Serial {
    fd: OwnedFd,
}

impl Serial {
    /// Opens `path` at `baud` (8N1, raw), with RTS/CTS hardware flow control if asked.
    pub fn open(path: &Path, baud: u32, rtscts: bool) -> io::Result<Serial> {
        use nix::fcntl::{open, OFlag};
        use nix::sys::stat::Mode;
        use nix::sys::termios::{self, ControlFlags, SetArg};
        let fd = open(
            path,
            OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io::Error::from)?;
        let speed = baud_rate(baud).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsupported baud rate {baud}"),
            )
        })?;
        // InvalidInput: this path can never work (a file, /dev/null), unlike a tty not yet there.
        let mut t = termios::tcgetattr(fd.as_fd()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a serial port ({e})"),
            )
        })?;
        termios::cfmakeraw(&mut t);
        termios::cfsetspeed(&mut t, speed).map_err(io::Error::from)?;
        t.control_flags |= ControlFlags::CLOCAL | ControlFlags::CREAD;
        t.control_flags &= !(ControlFlags::CSTOPB | ControlFlags::PARENB);
        if rtscts {
            t.control_flags |= ControlFlags::CRTSCTS;
        } else {
            t.control_flags &= !ControlFlags::CRTSCTS;
        }
        // VMIN 1 (not 0): with MIN = TIME = 0 a read with nothing to read returns 0, which looks
        // like end of file, instead of EAGAIN.
        t.control_chars[termios::SpecialCharacterIndices::VMIN as usize] = 1;
        t.control_chars[termios::SpecialCharacterIndices::VTIME as usize] = 0;
        termios::tcsetattr(fd.as_fd(), SetArg::TCSANOW, &t).map_err(io::Error::from)?;
        // Drop whatever the controller sent before we configured the line.
        let _ = termios::tcflush(fd.as_fd(), termios::FlushArg::TCIOFLUSH);
        Ok(Serial { fd })
    }
}

impl Read for Serial {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        nix::unistd::read(self.fd.as_fd(), buf).map_err(io::Error::from)
    }
}

impl io::Write for Serial {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        nix::unistd::write(self.fd.as_fd(), buf).map_err(io::Error::from)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Serial {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Standard Linux baud rates.
fn baud_rate(b: u32) -> Option<nix::sys::termios::BaudRate> {
    use nix::sys::termios::BaudRate::*;
    Some(match b {
        9600 => B9600,
        19200 => B19200,
        38400 => B38400,
        57600 => B57600,
        115200 => B115200,
        230400 => B230400,
        460800 => B460800,
        500000 => B500000,
        576000 => B576000,
        921600 => B921600,
        1000000 => B1000000,
        1152000 => B1152000,
        1500000 => B1500000,
        2000000 => B2000000,
        2500000 => B2500000,
        3000000 => B3000000,
        3500000 => B3500000,
        4000000 => B4000000,
        _ => return None,
    })
}

/// Whether `b` is a baud rate [`Serial::open`] accepts.
pub fn is_supported_baud(b: u32) -> bool {
    baud_rate(b).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    const ADV: &str = "04 3e 0c 02 01 00 00 11 22 33 44 55 66 00 c4";

    #[test]
    fn serial_over_a_pty() {
        use std::io::Write;
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let path = nix::unistd::ttyname(pty.slave.as_fd()).expect("ttyname");
        let mut port = Serial::open(&path, 1_000_000, true).expect("open pty as serial");
        let t = nix::sys::termios::tcgetattr(pty.slave.as_fd()).unwrap();
        assert!(t
            .control_flags
            .contains(nix::sys::termios::ControlFlags::CRTSCTS));
        assert_eq!(
            nix::sys::termios::cfgetospeed(&t),
            nix::sys::termios::BaudRate::B1000000
        );
        // Nothing to read yet: non-blocking.
        let mut d = Deframer::new();
        assert_eq!(
            fill_from(&mut d, &mut port).map_err(|e| e.kind()),
            Err(io::ErrorKind::WouldBlock)
        );
        let mut master = std::fs::File::from(pty.master);
        master.write_all(&hex(ADV)).unwrap();
        let mut got = None;
        for _ in 0..100 {
            match fill_from(&mut d, &mut port) {
                Ok(_) => {
                    if let Some(p) = d.next_packet() {
                        got = Some(p.to_vec());
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, Some(hex(ADV)));
        port.write_all(&hex("01 03 0c 00")).unwrap();
        let mut b = [0u8; 4];
        std::io::Read::read_exact(&mut master, &mut b).unwrap();
        assert_eq!(b.to_vec(), hex("01 03 0c 00"));
        assert!(
            Serial::open(Path::new("/dev/null"), 115200, false).is_err(),
            "not a tty"
        );
        assert!(Serial::open(&path, 12345, false).is_err(), "odd baud");
    }
}
