//! Linux raw HCI socket (`AF_BLUETOOTH`/`BTPROTO_HCI`, RAW channel), kept thin: open, find the
//! adapter, bring it up, set the event filter, and turn every kernel error into a sentence.
//!
//! Kernel facts this relies on (net/bluetooth/hci_sock.c):
//! * `socket()` and `bind()` need no capability; `HCIGETDEVLIST`/`HCIGETDEVINFO` neither.
//! * Without CAP_NET_RAW the kernel *silently* ANDs `HCI_FILTER` with its security filter, which
//!   has no LE Meta event: nothing useful would ever arrive. We read the filter back and say so.
//! * Without CAP_NET_RAW every LE command (OGF 0x08) sent is refused with EPERM.
//! * `HCIDEVUP` needs CAP_NET_ADMIN (only used if the adapter is down).
//! * Unplug: EPOLLERR and one `recv` with EPIPE; adapter down: silence, `send` gives ENETDOWN.
//!
//! The structures passed to the kernel are declared here with the kernel's layouts; tests check
//! their sizes and field offsets. This machine's kernel has no AF_BLUETOOTH, so only those tests
//! and the error mapping run here; the rest is exercised on a real adapter.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::hci::event::{
    EVT_COMMAND_COMPLETE, EVT_COMMAND_STATUS, EVT_HARDWARE_ERROR, EVT_LE_META,
};

pub const BTPROTO_HCI: libc::c_int = 1;
pub const SOL_HCI: libc::c_int = 0;
pub const HCI_FILTER: libc::c_int = 2;
pub const HCI_CHANNEL_RAW: u16 = 0;
pub const HCI_DEV_NONE: u16 = 0xFFFF;
pub const HCI_MAX_DEV: usize = 16;
/// `hci_dev_info.flags` bit: adapter is up.
pub const HCI_UP: u32 = 0;

/// `_IOW('H', 201, int)`: bring an adapter up (CAP_NET_ADMIN).
pub const HCIDEVUP: libc::c_ulong = 0x4004_48C9;
/// `_IOR('H', 210, int)`: list adapters.
pub const HCIGETDEVLIST: libc::c_ulong = 0x8004_48D2;
/// `_IOR('H', 211, int)`: one adapter's info.
pub const HCIGETDEVINFO: libc::c_ulong = 0x8004_48D3;

/// `struct sockaddr_hci` (6 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SockaddrHci {
    pub family: libc::sa_family_t,
    pub dev: u16,
    pub channel: u16,
}

/// `struct hci_filter` (16 bytes with tail padding).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HciFilter {
    pub type_mask: u32,
    pub event_mask: [u32; 2],
    pub opcode: u16,
}

/// `struct hci_dev_req` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HciDevReq {
    pub dev_id: u16,
    pub dev_opt: u32,
}

/// `struct hci_dev_list_req` with room for `HCI_MAX_DEV` entries.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HciDevListReq {
    pub dev_num: u16,
    pub dev_req: [HciDevReq; HCI_MAX_DEV],
}

/// `struct hci_dev_stats` (10 × u32).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HciDevStats {
    pub counters: [u32; 10],
}

/// `struct hci_dev_info` (92 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HciDevInfo {
    pub dev_id: u16,
    pub name: [u8; 8],
    /// Little-endian (wire order).
    pub bdaddr: [u8; 6],
    pub flags: u32,
    pub dev_type: u8,
    pub features: [u8; 8],
    pub pkt_type: u32,
    pub link_policy: u32,
    pub link_mode: u32,
    pub acl_mtu: u16,
    pub acl_pkts: u16,
    pub sco_mtu: u16,
    pub sco_pkts: u16,
    pub stat: HciDevStats,
}

impl HciDevInfo {
    pub fn is_up(&self) -> bool {
        self.flags & (1 << HCI_UP) != 0
    }
    pub fn addr(&self) -> Addr {
        Addr::from_le(&self.bdaddr)
    }
    pub fn name(&self) -> String {
        let end = self
            .name
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.name.len());
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// H4 type bit for events in `type_mask`.
const TYPE_EVENT: u32 = 1 << hci2mqtt_core::hci::h4::H4_EVENT;

/// The filter hci2mqtt sets: events only, and only the ones used: Command Complete, Command
/// Status, Hardware Error, LE Meta.
pub fn wanted_filter() -> HciFilter {
    let mut f = HciFilter {
        type_mask: TYPE_EVENT,
        ..HciFilter::default()
    };
    for code in [
        EVT_COMMAND_COMPLETE,
        EVT_COMMAND_STATUS,
        EVT_HARDWARE_ERROR,
        EVT_LE_META,
    ] {
        f.event_mask[(code >> 5) as usize] |= 1 << (code & 31);
    }
    f
}

/// Whether the filter read back from the kernel still passes LE Meta events.
pub fn passes_le_meta(f: &HciFilter) -> bool {
    f.type_mask & TYPE_EVENT != 0 && f.event_mask[1] & (1 << (EVT_LE_META & 31)) != 0
}

/// The exact command that grants the capabilities, for error messages.
pub fn setcap_hint() -> String {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "/path/to/hci2mqtt".into());
    format!("setcap cap_net_raw,cap_net_admin+ep {exe}")
}

/// Which adapter to bind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Index(u16),
    Mac(Addr),
}

/// Why the raw socket could not be opened; `retry` tells the loop whether trying again later
/// can help (adapter absent or busy) or not (no Bluetooth in this kernel, no capability).
#[derive(Debug)]
pub struct OpenError {
    pub message: String,
    pub retry: bool,
    /// The capability whose absence caused this (the message names the `setcap` line): exit
    /// status [`crate::cli::exit::NO_PERMISSION`] rather than "adapter unavailable", and for
    /// CAP_NET_ADMIN the loop adds what to do once it has dropped that capability.
    pub missing: Option<Capability>,
}

/// A capability the raw socket path may lack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// LE commands and LE Meta events in the socket filter.
    NetRaw,
    /// Bringing a down adapter up (HCIDEVUP).
    NetAdmin,
}

impl OpenError {
    pub fn new(message: String, retry: bool) -> OpenError {
        OpenError {
            message,
            retry,
            missing: None,
        }
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn err(message: String, retry: bool) -> OpenError {
    OpenError::new(message, retry)
}

/// Maps `socket()` errors.
pub fn explain_socket_error(e: &io::Error) -> OpenError {
    match e.raw_os_error() {
        Some(libc::EAFNOSUPPORT) | Some(libc::EPROTONOSUPPORT) => err(
            "this kernel has no Bluetooth sockets (AF_BLUETOOTH: address family not supported). Load the \
             bluetooth module, or run outside a container / network namespace (Bluetooth sockets exist only \
             in the initial network namespace). A UART or TCP controller works without it: --adapter \
             serial:/dev/ttyACM0 or tcp:HOST:PORT"
                .into(),
            false,
        ),
        _ => err(format!("cannot create a Bluetooth HCI socket: {e}"), false),
    }
}

/// Maps `HCIDEVUP` errors.
pub fn explain_devup_error(name: &str, e: &io::Error) -> OpenError {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => OpenError {
            missing: Some(Capability::NetAdmin),
            ..err(
                format!("{name} is down and bringing it up needs CAP_NET_ADMIN; run `{}` (or `sudo hciconfig {name} up`)", setcap_hint()),
                false,
            )
        },
        Some(libc::ERFKILL) => {
            err(format!("{name} is blocked by rfkill; run `rfkill unblock bluetooth`"), true)
        }
        Some(libc::EBUSY) | Some(libc::EUSERS) => err(
            format!("{name} is busy: another program holds it exclusively (HCI user channel, e.g. a Bumble or btproxy instance)"),
            true,
        ),
        Some(libc::EOPNOTSUPP) => err(format!("{name} is not configured (unconfigured controller: missing firmware or address?)"), true),
        Some(libc::ENODEV) => err(format!("no Bluetooth adapter {name}"), true),
        _ => err(format!("cannot bring {name} up: {e}"), true),
    }
}

/// Maps `bind()` errors.
pub fn explain_bind_error(name: &str, e: &io::Error) -> OpenError {
    match e.raw_os_error() {
        Some(libc::ENODEV) => err(format!("no Bluetooth adapter {name}"), true),
        Some(libc::EBUSY) | Some(libc::EUSERS) => err(
            format!("{name} is busy (taken through the exclusive HCI user channel)"),
            true,
        ),
        _ => err(format!("cannot bind to {name}: {e}"), true),
    }
}

/// The message for a filter the kernel stripped of LE Meta.
pub fn filter_stripped_message(name: &str) -> String {
    format!(
        "the kernel removed LE Meta events from the HCI filter on {name}: this process lacks CAP_NET_RAW, so no \
         advertisement would ever arrive (and every LE command would fail with EPERM). Run `{}`",
        setcap_hint()
    )
}

/// Maps errors from sending a command or receiving, for the log.
pub fn explain_io_error(name: &str, e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EPERM) => format!(
            "{name}: the kernel refused an LE command (missing CAP_NET_RAW); run `{}`",
            setcap_hint()
        ),
        Some(libc::ENETDOWN) => {
            format!("{name} is down (powered off by bluetoothd, hciconfig or rfkill)")
        }
        Some(libc::EPIPE) | Some(libc::EBADFD) | Some(libc::ENODEV) => {
            format!("{name} was removed")
        }
        _ => format!("{name}: {e}"),
    }
}

/// Datagrams read per `recvmmsg`: a 100 ms hold-off at 1,000 reports/s gathers ~100, so one
/// call takes them all (with 32 it took four).
pub const BATCH: usize = 128;
/// Room per datagram: the largest HCI event (type byte, 2-byte header, 255 parameter bytes).
const SLOT: usize = 1 + 2 + 255;

/// A bound, filtered, non-blocking raw HCI socket.
pub struct HciSocket {
    fd: OwnedFd,
    pub dev_id: u16,
    pub name: String,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn hci_socket() -> Result<OwnedFd, OpenError> {
    // SAFETY: plain socket(2); the fd is owned immediately.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_BLUETOOTH,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            BTPROTO_HCI,
        )
    })
    .map_err(|e| explain_socket_error(&e))?;
    // SAFETY: fd is a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn dev_info(fd: RawFd, dev_id: u16) -> io::Result<HciDevInfo> {
    let mut di = HciDevInfo {
        dev_id,
        ..HciDevInfo::default()
    };
    // SAFETY: HCIGETDEVINFO reads dev_id and fills a struct hci_dev_info, which `di` is.
    cvt(unsafe { libc::ioctl(fd, HCIGETDEVINFO as _, &mut di as *mut HciDevInfo) })?;
    Ok(di)
}

/// Every adapter the kernel knows.
pub fn list_adapters() -> Result<Vec<HciDevInfo>, OpenError> {
    let fd = hci_socket()?;
    let mut req = HciDevListReq {
        dev_num: HCI_MAX_DEV as u16,
        ..HciDevListReq::default()
    };
    // SAFETY: the kernel writes at most dev_num entries into dev_req, which has room for them.
    cvt(unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            HCIGETDEVLIST as _,
            &mut req as *mut HciDevListReq,
        )
    })
    .map_err(|e| err(format!("cannot list Bluetooth adapters: {e}"), true))?;
    let n = (req.dev_num as usize).min(HCI_MAX_DEV);
    Ok(req.dev_req[..n]
        .iter()
        .filter_map(|r| dev_info(fd.as_raw_fd(), r.dev_id).ok())
        .collect())
}

fn describe(list: &[HciDevInfo]) -> String {
    if list.is_empty() {
        return "no adapters found".into();
    }
    let v: Vec<String> = list
        .iter()
        .map(|d| format!("{} {}", d.name(), d.addr()))
        .collect();
    format!("adapters: {}", v.join(", "))
}

/// Receive buffer asked for: the loop reads in bursts (see `event_loop::READ_HOLDOFF`), and an
/// HCI event queued on a raw socket costs about a kilobyte of buffer (USB adapters allocate
/// each event at its maximal size), so the kernel default (`rmem_default`, 208 KiB on Debian)
/// holds only ~165 of them.
const RCVBUF: libc::c_int = 1 << 20;

/// Raises the socket's receive buffer: SO_RCVBUFFORCE (CAP_NET_ADMIN, raised for the call) may
/// exceed `rmem_max`; without it SO_RCVBUF gets what `rmem_max` allows. Best effort.
fn set_receive_buffer(fd: RawFd) {
    let set = |opt: libc::c_int| {
        // SAFETY: SO_RCVBUF(FORCE) takes an int.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                &RCVBUF as *const libc::c_int as *const libc::c_void,
                size_of::<libc::c_int>() as u32,
            )
        }
    };
    if crate::sys::caps::with_net_admin(|| set(libc::SO_RCVBUFFORCE)) != 0 {
        set(libc::SO_RCVBUF);
    }
}

impl HciSocket {
    /// Opens the adapter, brings it up if needed, binds the RAW channel and sets the filter.
    pub fn open(which: Which) -> Result<HciSocket, OpenError> {
        let fd = hci_socket()?;
        let raw = fd.as_raw_fd();
        let info = match which {
            Which::Index(i) => dev_info(raw, i).map_err(|e| match e.raw_os_error() {
                Some(libc::ENODEV) => err(
                    format!(
                        "no Bluetooth adapter hci{i} ({})",
                        list_adapters().map(|l| describe(&l)).unwrap_or_default()
                    ),
                    true,
                ),
                _ => err(format!("hci{i}: {e}"), true),
            })?,
            Which::Mac(a) => {
                let list = list_adapters()?;
                *list.iter().find(|d| d.addr() == a).ok_or_else(|| {
                    err(
                        format!(
                            "no Bluetooth adapter with address {a} ({})",
                            describe(&list)
                        ),
                        true,
                    )
                })?
            }
        };
        let name = format!("hci{}", info.dev_id);
        if !info.is_up() {
            // CAP_NET_ADMIN is permitted but not effective after the start-up drop: raised
            // for this one call (an adapter that came back down recovers by itself).
            // SAFETY: HCIDEVUP takes the device id as its integer argument.
            if let Err(e) = crate::sys::caps::with_net_admin(|| {
                cvt(unsafe { libc::ioctl(raw, HCIDEVUP as _, info.dev_id as libc::c_ulong) })
            }) {
                if e.raw_os_error() != Some(libc::EALREADY) {
                    return Err(explain_devup_error(&name, &e));
                }
            }
        }
        let sa = SockaddrHci {
            family: libc::AF_BLUETOOTH as libc::sa_family_t,
            dev: info.dev_id,
            channel: HCI_CHANNEL_RAW,
        };
        // SAFETY: sa is a valid sockaddr_hci of the size given.
        cvt(unsafe {
            libc::bind(
                raw,
                &sa as *const SockaddrHci as *const libc::sockaddr,
                size_of::<SockaddrHci>() as u32,
            )
        })
        .map_err(|e| explain_bind_error(&name, &e))?;
        let want = wanted_filter();
        // SAFETY: HCI_FILTER takes a struct hci_filter.
        cvt(unsafe {
            libc::setsockopt(
                raw,
                SOL_HCI,
                HCI_FILTER,
                &want as *const HciFilter as *const libc::c_void,
                size_of::<HciFilter>() as u32,
            )
        })
        .map_err(|e| err(format!("{name}: cannot set the HCI filter: {e}"), false))?;
        let mut got = MaybeUninit::<HciFilter>::zeroed();
        let mut len = size_of::<HciFilter>() as libc::socklen_t;
        // SAFETY: the kernel writes at most `len` bytes of a struct hci_filter.
        cvt(unsafe {
            libc::getsockopt(
                raw,
                SOL_HCI,
                HCI_FILTER,
                got.as_mut_ptr() as *mut libc::c_void,
                &mut len,
            )
        })
        .map_err(|e| {
            err(
                format!("{name}: cannot read the HCI filter back: {e}"),
                false,
            )
        })?;
        // SAFETY: zero-initialised and possibly filled by the kernel; every bit pattern is valid.
        let got = unsafe { got.assume_init() };
        if !passes_le_meta(&got) {
            return Err(OpenError {
                missing: Some(Capability::NetRaw),
                ..err(filter_stripped_message(&name), false)
            });
        }
        set_receive_buffer(raw);
        Ok(HciSocket {
            fd,
            dev_id: info.dev_id,
            name,
        })
    }

    /// Reads up to [`BATCH`] datagrams with one `recvmmsg` into `buf`, packed one after the
    /// other (one datagram = one H4 packet, so the result is a valid H4 stream). Returns the
    /// bytes written and the datagrams read; fewer datagrams than slots means the queue was
    /// empty (edge-triggered readiness fires again on the next one).
    pub fn recv_batch(&self, buf: &mut [u8]) -> io::Result<(usize, usize)> {
        let slots = (buf.len() / SLOT).min(BATCH);
        if slots == 0 {
            return Ok((0, 0));
        }
        let base = buf.as_mut_ptr();
        let mut iov = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        // SAFETY: mmsghdr is plain data; all-zero is a valid empty header.
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for i in 0..slots {
            // SAFETY: slot i lies inside buf (slots * SLOT <= buf.len()).
            iov[i].iov_base = unsafe { base.add(i * SLOT) } as *mut libc::c_void;
            iov[i].iov_len = SLOT;
            msgs[i].msg_hdr.msg_iov = &mut iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: msgs[..slots] point at disjoint slots of buf; the kernel fills msg_len.
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT as _,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        // Pack the datagrams together (slot 0 is already in place). A truncated datagram
        // (longer than a slot: no event is) keeps its first SLOT bytes and the deframer's
        // length check rejects it.
        let mut end = 0;
        for (i, m) in msgs.iter().enumerate().take(n) {
            let len = (m.msg_len as usize).min(SLOT);
            buf.copy_within(i * SLOT..i * SLOT + len, end);
            end += len;
        }
        Ok((end, n))
    }

    /// One datagram = one H4 packet (type byte first).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
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
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Sends one H4 packet (a command).
    pub fn send(&self, pkt: &[u8]) -> io::Result<usize> {
        // SAFETY: pkt is valid for reads of its length.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                pkt.as_ptr() as *const libc::c_void,
                pkt.len(),
                0,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl AsRawFd for HciSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{align_of, offset_of};

    #[test]
    fn structures_have_the_kernel_layouts() {
        // include/net/bluetooth/hci_sock.h and hci.h.
        assert_eq!(size_of::<SockaddrHci>(), 6);
        assert_eq!(
            (
                offset_of!(SockaddrHci, dev),
                offset_of!(SockaddrHci, channel)
            ),
            (2, 4)
        );
        assert_eq!(size_of::<HciFilter>(), 16);
        assert_eq!(
            (
                offset_of!(HciFilter, type_mask),
                offset_of!(HciFilter, event_mask),
                offset_of!(HciFilter, opcode)
            ),
            (0, 4, 12)
        );
        assert_eq!(size_of::<HciDevReq>(), 8);
        assert_eq!(offset_of!(HciDevReq, dev_opt), 4);
        assert_eq!(offset_of!(HciDevListReq, dev_req), 4);
        assert_eq!(size_of::<HciDevListReq>(), 4 + 8 * HCI_MAX_DEV);
        assert_eq!(size_of::<HciDevStats>(), 40);
        assert_eq!(size_of::<HciDevInfo>(), 92);
        assert_eq!(align_of::<HciDevInfo>(), 4);
        assert_eq!(offset_of!(HciDevInfo, name), 2);
        assert_eq!(offset_of!(HciDevInfo, bdaddr), 10);
        assert_eq!(offset_of!(HciDevInfo, flags), 16);
        assert_eq!(offset_of!(HciDevInfo, dev_type), 20);
        assert_eq!(offset_of!(HciDevInfo, features), 21);
        assert_eq!(offset_of!(HciDevInfo, pkt_type), 32);
        assert_eq!(offset_of!(HciDevInfo, acl_mtu), 44);
        assert_eq!(offset_of!(HciDevInfo, stat), 52);
    }

    #[test]
    fn ioctl_numbers_match_the_kernel_macros() {
        let int = size_of::<libc::c_int>();
        assert_eq!(
            HCIDEVUP,
            nix::request_code_write!(b'H', 201, int) as libc::c_ulong
        );
        assert_eq!(
            HCIGETDEVLIST,
            nix::request_code_read!(b'H', 210, int) as libc::c_ulong
        );
        assert_eq!(
            HCIGETDEVINFO,
            nix::request_code_read!(b'H', 211, int) as libc::c_ulong
        );
    }

    #[test]
    fn filter_is_exactly_the_events_used() {
        let f = wanted_filter();
        // Notes: type_mask 0x10, event_mask [0x0001C000 (0E 0F 10), 0x40000000 (3E)].
        assert_eq!(
            f,
            HciFilter {
                type_mask: 0x10,
                event_mask: [0x0001_C000, 0x4000_0000],
                opcode: 0
            }
        );
        assert!(passes_le_meta(&f));
        // What the kernel leaves without CAP_NET_RAW: f AND hci_sec_filter {0x1000d9fe, 0x0000b00c}.
        let stripped = HciFilter {
            type_mask: f.type_mask & 0x10,
            event_mask: [f.event_mask[0] & 0x1000_d9fe, f.event_mask[1] & 0x0000_b00c],
            opcode: 0,
        };
        assert!(!passes_le_meta(&stripped));
        assert!(filter_stripped_message("hci0").contains("setcap cap_net_raw,cap_net_admin+ep "));
    }

    #[test]
    fn errors_become_sentences() {
        let e = io::Error::from_raw_os_error(libc::EAFNOSUPPORT);
        let o = explain_socket_error(&e);
        assert!(
            !o.retry && o.message.contains("no Bluetooth sockets"),
            "{o}"
        );
        let o = explain_devup_error("hci0", &io::Error::from_raw_os_error(libc::ERFKILL));
        assert!(
            o.retry && o.message.contains("rfkill unblock bluetooth"),
            "{o}"
        );
        let o = explain_devup_error("hci0", &io::Error::from_raw_os_error(libc::EPERM));
        assert!(
            !o.retry && o.message.contains("setcap cap_net_raw,cap_net_admin+ep"),
            "{o}"
        );
        let o = explain_devup_error("hci0", &io::Error::from_raw_os_error(libc::EBUSY));
        assert!(o.message.contains("busy"), "{o}");
        let o = explain_bind_error("hci3", &io::Error::from_raw_os_error(libc::ENODEV));
        assert!(
            o.retry && o.message.contains("no Bluetooth adapter hci3"),
            "{o}"
        );
        let m = explain_io_error("hci0", &io::Error::from_raw_os_error(libc::EPERM));
        assert!(m.contains("CAP_NET_RAW") && m.contains("setcap"), "{m}");
        assert!(
            explain_io_error("hci0", &io::Error::from_raw_os_error(libc::ENETDOWN))
                .contains("down")
        );
        assert!(
            explain_io_error("hci0", &io::Error::from_raw_os_error(libc::EPIPE))
                .contains("removed")
        );
    }

    #[test]
    fn opening_here_gives_the_clear_no_bluetooth_error() {
        // This machine's kernel has no AF_BLUETOOTH; where it has, the adapter is probably absent.
        match HciSocket::open(Which::Index(99)) {
            Ok(_) => panic!("hci99 should not exist"),
            Err(e) => assert!(
                e.message.contains("no Bluetooth sockets")
                    || e.message.contains("no Bluetooth adapter hci99"),
                "{e}"
            ),
        }
    }

    #[test]
    fn dev_info_accessors() {
        let mut d = HciDevInfo::default();
        d.name[..4].copy_from_slice(b"hci1");
        d.bdaddr = [0x66, 0x55, 0x44, 0x33, 0x22, 0x11];
        d.flags = 1;
        assert_eq!(d.name(), "hci1");
        assert_eq!(d.addr().to_string(), "11:22:33:44:55:66");
        assert!(d.is_up());
    }
}
