//! The kernel's Bluetooth management socket (HCI_CHANNEL_CONTROL), used for one thing: letting
//! the kernel run the scan, so that hci2mqtt never reconfigures or disables a scan that
//! bluetoothd (or anyone discovering through it) relies on.
//!
//! While an advertisement monitor exists the kernel keeps a passive scan running with the
//! duplicate filter off (and switches to discovery's active scan and back by itself when a
//! client discovers); every raw HCI socket receives the reports. Removing the monitor at exit
//! hands the scan back to the kernel's own bookkeeping. See capabilities.md ("Beside bluetoothd").
//!
//! Requests are synchronous with a short timeout: they happen only when a link is set up or
//! closed, and the kernel answers at once.

use std::fmt;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use hci2mqtt_core::hci::mgmt::{self, Command, Event, Reply};

use super::raw_socket::{SockaddrHci, BTPROTO_HCI, HCI_DEV_NONE};

/// `HCI_CHANNEL_CONTROL`.
const HCI_CHANNEL_CONTROL: u16 = 3;
/// How long a request may wait for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(1);
/// Other events (index added, settings changed…) read past while waiting, at most.
const MAX_SKIPPED: usize = 64;

/// Why a management request did not succeed.
#[derive(Debug)]
pub enum MgmtError {
    /// The socket could not be opened, bound, written or read.
    Io(io::Error),
    /// The kernel answered with this status (e.g. Permission Denied on an untrusted socket,
    /// Unknown Command before Linux 5.10).
    Status { opcode: u16, status: u8 },
    /// No reply within the timeout.
    Timeout,
    /// A reply too short for what it must carry.
    Malformed,
}

impl fmt::Display for MgmtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MgmtError::Io(e) => write!(f, "management socket: {e}"),
            MgmtError::Status { opcode, status } => write!(
                f,
                "management command 0x{opcode:04x}: {} (0x{status:02x})",
                mgmt::status::name(*status)
            ),
            MgmtError::Timeout => f.write_str("management socket: no reply"),
            MgmtError::Malformed => f.write_str("management socket: malformed reply"),
        }
    }
}

impl std::error::Error for MgmtError {}

/// An open management socket.
pub struct Mgmt {
    fd: OwnedFd,
}

impl Mgmt {
    /// Opens and binds a control socket. The kernel marks it trusted (all commands allowed)
    /// only if CAP_NET_ADMIN is effective at bind time, so it is raised for the bind alone.
    pub fn open() -> Result<Mgmt, MgmtError> {
        // SAFETY: plain socket(2); the fd is owned immediately.
        let fd = unsafe {
            libc::socket(
                libc::AF_BLUETOOTH,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                BTPROTO_HCI,
            )
        };
        if fd < 0 {
            return Err(MgmtError::Io(io::Error::last_os_error()));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let sa = SockaddrHci {
            family: libc::AF_BLUETOOTH as libc::sa_family_t,
            dev: HCI_DEV_NONE,
            channel: HCI_CHANNEL_CONTROL,
        };
        let r = crate::sys::caps::with_net_admin(|| {
            // SAFETY: sa is a valid sockaddr_hci of the size given.
            unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    &sa as *const SockaddrHci as *const libc::sockaddr,
                    size_of::<SockaddrHci>() as u32,
                )
            }
        });
        if r < 0 {
            return Err(MgmtError::Io(io::Error::last_os_error()));
        }
        Ok(Mgmt { fd })
    }

    /// Sends `cmd` and returns its reply's parameters (copied into `buf`).
    fn request<'b>(&self, cmd: Command<'_>, buf: &'b mut [u8]) -> Result<&'b [u8], MgmtError> {
        let pkt = cmd.encode().map_err(|_| MgmtError::Malformed)?;
        let bytes = pkt.as_bytes();
        // SAFETY: bytes is valid for reads of its length.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                bytes.as_ptr() as *const libc::c_void,
                bytes.len(),
                0,
            )
        };
        if n < 0 {
            return Err(MgmtError::Io(io::Error::last_os_error()));
        }
        let want = cmd.opcode();
        let deadline = Instant::now() + REPLY_TIMEOUT;
        for _ in 0..MAX_SKIPPED {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.wait_readable(left)? {
                return Err(MgmtError::Timeout);
            }
            // SAFETY: buf is valid for writes of its length.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(MgmtError::Io(e));
            }
            let n = n as usize;
            let Ok(ev) = Event::new_checked(&buf[..n]) else {
                continue;
            };
            match ev.reply() {
                Some(Reply::Complete { opcode, status, .. }) if opcode == want => {
                    if status != mgmt::status::SUCCESS {
                        return Err(MgmtError::Status { opcode, status });
                    }
                    // Return parameters start after the header and opcode + status.
                    let start = mgmt::HEADER_LEN + 3;
                    return Ok(&buf[start.min(n)..n]);
                }
                Some(Reply::Status { opcode, status }) if opcode == want => {
                    return Err(MgmtError::Status { opcode, status });
                }
                _ => continue,
            }
        }
        Err(MgmtError::Timeout)
    }

    fn wait_readable(&self, timeout: Duration) -> Result<bool, MgmtError> {
        let mut p = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(MgmtError::Io(e));
        }
        Ok(r > 0)
    }

    /// The controller's current settings ([`mgmt::setting`] bits).
    pub fn settings(&self, index: u16) -> Result<u32, MgmtError> {
        let mut buf = [0u8; 512];
        let info = self.request(Command::ReadControllerInfo { index }, &mut buf)?;
        mgmt::current_settings(info).ok_or(MgmtError::Malformed)
    }

    /// Adds hci2mqtt's advertisement monitor; returns its handle.
    pub fn add_monitor(&self, index: u16) -> Result<u16, MgmtError> {
        let mut buf = [0u8; 64];
        let p = self.request(
            Command::AddPatternsMonitor {
                index,
                pattern: mgmt::MONITOR_PATTERN,
            },
            &mut buf,
        )?;
        mgmt::monitor_handle(p).ok_or(MgmtError::Malformed)
    }

    /// Removes the monitor `handle`.
    pub fn remove_monitor(&self, index: u16, handle: u16) -> Result<(), MgmtError> {
        let mut buf = [0u8; 64];
        self.request(Command::RemoveMonitor { index, handle }, &mut buf)
            .map(|_| ())
    }
}
