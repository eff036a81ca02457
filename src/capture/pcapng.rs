//! pcapng (draft-ietf-opsawg-pcapng), Wireshark's default save format, with the Bluetooth HCI
//! link types. Read block by block into one bounded buffer; every section may switch byte
//! order and starts its own interface numbering. Classic libpcap files (what `editcap -F pcap`
//! writes) share the link-type handling.

use std::io::{self, Read, Write};

use super::reader::CaptureError;

/// Section Header Block type; a palindrome, so it reads the same in either byte order.
pub const SHB: u32 = 0x0A0D_0D0A;
pub const MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];
/// Byte-order magic inside the SHB, as written by the section's writer.
const BYTE_ORDER: u32 = 0x1A2B_3C4D;
const IDB: u32 = 1;
/// Obsolete Packet Block (pcapng before EPB existed; still written by old tools).
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

/// Classic libpcap magic as written big-endian: microsecond and nanosecond timestamps.
const PCAP_US: [u8; 4] = [0xA1, 0xB2, 0xC3, 0xD4];
const PCAP_NS: [u8; 4] = [0xA1, 0xB2, 0x3C, 0x4D];
/// libpcap file header: magic, version, zone, sigfigs, snaplen, link type (offset 20).
pub const PCAP_HEADER_LEN: usize = 24;
/// libpcap record header: seconds, sub-seconds, captured length, original length.
const PCAP_RECORD_LEN: usize = 16;

/// Largest block accepted: far above any HCI packet (65 KB ACL) plus options, far below
/// what a corrupt length could make us allocate.
pub const MAX_BLOCK: usize = 256 * 1024;
/// Interfaces per section; more is a corrupt or hostile file.
const MAX_INTERFACES: usize = 1024;

/// Block header: type and total length; the body follows, then the length again.
const BLOCK_HEADER_LEN: usize = 8;
const BLOCK_TRAILER_LEN: usize = 4;
/// SHB body: byte-order magic, major, minor, section length (i64).
const SHB_BODY_MIN: usize = 16;

/// H4: the first byte is the packet type.
pub const LINKTYPE_H4: u16 = 187;
/// 4-byte big-endian direction (bit 0: 1 = received) then H4.
pub const LINKTYPE_H4_WITH_PHDR: u16 = 201;
/// Linux monitor: 2-byte adapter index and 2-byte opcode, both big-endian, then the payload.
pub const LINKTYPE_MONITOR: u16 = 254;
const PHDR_LEN: usize = 4;
const MONITOR_HDR_LEN: usize = 4;

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: u16,
    /// 0: no limit.
    snaplen: u32,
    /// if_tsresol byte: bit 7 clear = 10^-n seconds, set = 2^-n seconds.
    tsresol: u8,
    tsoffset_s: i64,
}

impl Interface {
    /// Timestamp units to microseconds since the Unix epoch.
    fn unix_us(&self, ts: u64) -> Option<i64> {
        let n = u32::from(self.tsresol & 0x7F);
        let us: u128 = if self.tsresol & 0x80 == 0 {
            if n >= 6 {
                u128::from(ts) / 10u128.checked_pow(n - 6)?
            } else {
                u128::from(ts) * 10u128.pow(6 - n)
            }
        } else if n < 64 {
            (u128::from(ts) * 1_000_000) >> n
        } else {
            return None;
        };
        i64::try_from(us)
            .ok()?
            .checked_add(self.tsoffset_s.checked_mul(1_000_000)?)
    }
}

/// Reader state across blocks.
#[derive(Debug, Default)]
pub struct State {
    big_endian: bool,
    ifaces: Vec<Interface>,
    /// Packets skipped: link types we do not read, monitor notes that are not HCI traffic.
    pub skipped: u64,
    /// Classic libpcap: its one link type and time unit.
    pcap: Option<Interface>,
}

fn bad(packets: u64, reason: &'static str) -> CaptureError {
    CaptureError::Malformed { packets, reason }
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` on a clean EOF before the first byte.
fn fill<R: Read>(src: &mut R, buf: &mut [u8], packets: u64) -> Result<bool, CaptureError> {
    let mut got = 0;
    while got < buf.len() {
        match src.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(CaptureError::Truncated { packets }),
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

impl State {
    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.big_endian {
            u16::from_be_bytes(a)
        } else {
            u16::from_le_bytes(a)
        }
    }

    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    /// The next HCI packet into `buf` (H4 form): (timestamp, received). `Ok(None)` at EOF.
    pub fn next<R: Read>(
        &mut self,
        src: &mut R,
        buf: &mut Vec<u8>,
        packets: u64,
    ) -> Result<Option<(Option<i64>, bool)>, CaptureError> {
        loop {
            let mut head = [0u8; BLOCK_HEADER_LEN];
            if !fill(src, &mut head, packets)? {
                return Ok(None);
            }
            let ty_raw = [head[0], head[1], head[2], head[3]];
            buf.clear();
            if ty_raw == MAGIC {
                // The byte order is known only after the magic that follows the length.
                let mut bom = [0u8; 4];
                if !fill(src, &mut bom, packets)? {
                    return Err(CaptureError::Truncated { packets });
                }
                self.big_endian = match (u32::from_be_bytes(bom), u32::from_le_bytes(bom)) {
                    (BYTE_ORDER, _) => true,
                    (_, BYTE_ORDER) => false,
                    _ => return Err(bad(packets, "section header without byte-order magic")),
                };
                buf.extend_from_slice(&bom);
            }
            let ty = self.u32(&head);
            let total = self.u32(&head[4..]) as usize;
            if total % 4 != 0 || total < BLOCK_HEADER_LEN + BLOCK_TRAILER_LEN {
                return Err(bad(packets, "block length not a multiple of 4 or below 12"));
            }
            if total > MAX_BLOCK {
                return Err(CaptureError::BlockTooLarge { len: total });
            }
            let at = buf.len();
            buf.resize(total - BLOCK_HEADER_LEN, 0);
            if !fill(src, &mut buf[at..], packets)? && at < buf.len() {
                return Err(CaptureError::Truncated { packets });
            }
            let body_len = buf.len() - BLOCK_TRAILER_LEN;
            if self.u32(&buf[body_len..]) as usize != total {
                return Err(bad(
                    packets,
                    "trailing block length differs from the leading",
                ));
            }
            buf.truncate(body_len);
            match ty {
                SHB => self.section(buf, packets)?,
                IDB => self.interface(buf, packets)?,
                EPB | PB | SPB => {
                    if let Some(r) = self.packet(ty, buf, packets)? {
                        return Ok(Some(r));
                    }
                }
                // NRB, ISB, DSB, custom and future blocks: nothing for us.
                _ => {}
            }
        }
    }

    fn section(&mut self, b: &[u8], packets: u64) -> Result<(), CaptureError> {
        if b.len() < SHB_BODY_MIN {
            return Err(bad(packets, "section header block too short"));
        }
        if self.u16(&b[4..]) != 1 {
            return Err(bad(packets, "pcapng major version is not 1"));
        }
        // Section length (may be -1, unknown) is not needed when reading block by block.
        self.ifaces.clear();
        Ok(())
    }

    fn interface(&mut self, b: &[u8], packets: u64) -> Result<(), CaptureError> {
        if b.len() < 8 {
            return Err(bad(packets, "interface description block too short"));
        }
        if self.ifaces.len() >= MAX_INTERFACES {
            return Err(bad(packets, "more than 1024 interfaces in one section"));
        }
        let mut i = Interface {
            link_type: self.u16(b),
            snaplen: self.u32(&b[4..]),
            tsresol: 6,
            tsoffset_s: 0,
        };
        let mut o = &b[8..];
        while o.len() >= 4 {
            let code = self.u16(o);
            let len = self.u16(&o[2..]) as usize;
            let v = o
                .get(4..4 + len)
                .ok_or(bad(packets, "option runs past its block"))?;
            match code {
                OPT_END => break,
                OPT_IF_TSRESOL if len == 1 => i.tsresol = v[0],
                OPT_IF_TSOFFSET if len == 8 => {
                    let a = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
                    i.tsoffset_s = if self.big_endian {
                        i64::from_be_bytes(a)
                    } else {
                        i64::from_le_bytes(a)
                    };
                }
                _ => {}
            }
            o = o.get((4 + len).next_multiple_of(4)..).unwrap_or(&[]);
        }
        self.ifaces.push(i);
        Ok(())
    }

    /// EPB, PB or SPB body in `buf` → H4 packet in `buf`; `None` when skipped.
    fn packet(
        &mut self,
        ty: u32,
        buf: &mut Vec<u8>,
        packets: u64,
    ) -> Result<Option<(Option<i64>, bool)>, CaptureError> {
        let (if_id, ts, start, cap) = match ty {
            SPB => {
                if buf.len() < 4 {
                    return Err(bad(packets, "simple packet block too short"));
                }
                let orig = self.u32(buf) as usize;
                let snap = match self.ifaces.first() {
                    Some(i) if i.snaplen != 0 => i.snaplen as usize,
                    _ => usize::MAX,
                };
                (0, None, 4, orig.min(snap).min(buf.len() - 4))
            }
            _ => {
                if buf.len() < 20 {
                    return Err(bad(packets, "packet block too short"));
                }
                let id = if ty == EPB {
                    self.u32(buf) as usize
                } else {
                    self.u16(buf) as usize
                };
                let ts = u64::from(self.u32(&buf[4..])) << 32 | u64::from(self.u32(&buf[8..]));
                (id, Some(ts), 20, self.u32(&buf[12..]) as usize)
            }
        };
        if buf.len() - start < cap {
            return Err(bad(packets, "captured length exceeds its block"));
        }
        let iface = *self.ifaces.get(if_id).ok_or(bad(
            packets,
            "packet names an interface not described in its section",
        ))?;
        Ok(self
            .to_h4(iface.link_type, buf, start, cap, packets)?
            .map(|rx| (ts.and_then(|t| iface.unix_us(t)), rx)))
    }

    /// The link-layer frame at `buf[start..start + cap]` → H4 packet in `buf`: received, or
    /// `None` when skipped.
    fn to_h4(
        &mut self,
        link_type: u16,
        buf: &mut Vec<u8>,
        start: usize,
        cap: usize,
        packets: u64,
    ) -> Result<Option<bool>, CaptureError> {
        let data = &buf[start..start + cap];
        let (skip, ty_byte, rx) = match link_type {
            LINKTYPE_H4 => match data.first() {
                Some(&t) => (0, None, t != 0x01),
                None => return Err(bad(packets, "empty H4 packet")),
            },
            LINKTYPE_H4_WITH_PHDR => {
                let d = data
                    .get(..PHDR_LEN)
                    .ok_or(bad(packets, "H4 packet shorter than its direction header"))?;
                (PHDR_LEN, None, d[3] & 1 == 1)
            }
            LINKTYPE_MONITOR => {
                let h = data
                    .get(..MONITOR_HDR_LEN)
                    .ok_or(bad(packets, "monitor packet shorter than its header"))?;
                // Opcodes as in BlueZ's btsnoop.h; the others (index, notes) are not HCI.
                let (t, rx) = match u16::from_be_bytes([h[2], h[3]]) {
                    2 => (0x01, false),
                    3 => (0x04, true),
                    4 => (0x02, false),
                    5 => (0x02, true),
                    6 => (0x03, false),
                    7 => (0x03, true),
                    18 => (0x05, false),
                    19 => (0x05, true),
                    _ => {
                        self.skipped += 1;
                        return Ok(None);
                    }
                };
                (MONITOR_HDR_LEN - 1, Some(t), rx)
            }
            _ => {
                self.skipped += 1;
                return Ok(None);
            }
        };
        let from = start + skip;
        buf.copy_within(from..start + cap, 0);
        buf.truncate(start + cap - from);
        if let Some(t) = ty_byte {
            buf[0] = t;
        }
        if buf.is_empty() {
            return Err(bad(packets, "empty H4 packet"));
        }
        Ok(Some(rx))
    }

    /// Classic libpcap: checks the file header and remembers byte order, time unit and link
    /// type. `None`: not a pcap file.
    pub fn pcap(head: &[u8]) -> Option<State> {
        let m = head.get(..4)?;
        let (big_endian, nanos) = match [m[0], m[1], m[2], m[3]] {
            PCAP_US => (true, false),
            PCAP_NS => (true, true),
            [a, b, c, d] if [d, c, b, a] == PCAP_US => (false, false),
            [a, b, c, d] if [d, c, b, a] == PCAP_NS => (false, true),
            _ => return None,
        };
        let mut st = State {
            big_endian,
            ..State::default()
        };
        let h = head.get(..PCAP_HEADER_LEN)?;
        st.pcap = Some(Interface {
            link_type: st.u32(&h[20..]) as u16,
            snaplen: 0,
            tsresol: if nanos { 9 } else { 6 },
            tsoffset_s: 0,
        });
        Some(st)
    }

    /// Classic libpcap: the next packet, as [`State::next`].
    pub fn next_pcap<R: Read>(
        &mut self,
        src: &mut R,
        buf: &mut Vec<u8>,
        packets: u64,
    ) -> Result<Option<(Option<i64>, bool)>, CaptureError> {
        let Some(iface) = self.pcap else {
            return Ok(None);
        };
        loop {
            let mut h = [0u8; PCAP_RECORD_LEN];
            if !fill(src, &mut h, packets)? {
                return Ok(None);
            }
            let cap = self.u32(&h[8..]) as usize;
            if cap > MAX_BLOCK {
                return Err(CaptureError::BlockTooLarge { len: cap });
            }
            buf.clear();
            buf.resize(cap, 0);
            if cap > 0 && !fill(src, buf, packets)? {
                return Err(CaptureError::Truncated { packets });
            }
            let sub = u64::from(self.u32(&h[4..]));
            let unit = if iface.tsresol == 9 {
                1_000_000_000
            } else {
                1_000_000
            };
            let ts = u64::from(self.u32(&h)) * unit + sub;
            if let Some(rx) = self.to_h4(iface.link_type, buf, 0, cap, packets)? {
                return Ok(Some((iface.unix_us(ts), rx)));
            }
        }
    }
}

/// Streaming pcapng writer: one little-endian section, one LINKTYPE 201 interface with the
/// default microsecond resolution, one EPB per packet (the direction header says which way).
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the section header and the interface description.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut shb = [0u8; 28];
        shb[0..4].copy_from_slice(&SHB.to_le_bytes());
        shb[4..8].copy_from_slice(&28u32.to_le_bytes());
        shb[8..12].copy_from_slice(&BYTE_ORDER.to_le_bytes());
        shb[12..14].copy_from_slice(&1u16.to_le_bytes());
        // Minor 0; section length -1: not known while streaming.
        shb[16..24].copy_from_slice(&(-1i64).to_le_bytes());
        shb[24..28].copy_from_slice(&28u32.to_le_bytes());
        out.write_all(&shb)?;
        let mut idb = [0u8; 20];
        idb[0..4].copy_from_slice(&IDB.to_le_bytes());
        idb[4..8].copy_from_slice(&20u32.to_le_bytes());
        idb[8..10].copy_from_slice(&LINKTYPE_H4_WITH_PHDR.to_le_bytes());
        // Snaplen 0: no limit.
        idb[16..20].copy_from_slice(&20u32.to_le_bytes());
        out.write_all(&idb)?;
        Ok(Writer { out })
    }

    /// Appends one H4 packet (type byte first). `received` is true for controller → host.
    pub fn write_packet(&mut self, h4: &[u8], unix_us: i64, received: bool) -> io::Result<()> {
        let cap = PHDR_LEN + h4.len();
        let pad = cap.next_multiple_of(4) - cap;
        let total = BLOCK_HEADER_LEN + 20 + cap + pad + BLOCK_TRAILER_LEN;
        let total32 = u32::try_from(total).map_err(|_| io::ErrorKind::InvalidInput)?;
        let ts = unix_us.max(0) as u64;
        let mut h = [0u8; BLOCK_HEADER_LEN + 20 + PHDR_LEN];
        h[0..4].copy_from_slice(&EPB.to_le_bytes());
        h[4..8].copy_from_slice(&total32.to_le_bytes());
        // Interface 0 at bytes 8..12.
        h[12..16].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
        h[16..20].copy_from_slice(&(ts as u32).to_le_bytes());
        h[20..24].copy_from_slice(&(cap as u32).to_le_bytes());
        h[24..28].copy_from_slice(&(cap as u32).to_le_bytes());
        h[28..32].copy_from_slice(&u32::from(received).to_be_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(h4)?;
        self.out.write_all(&[0u8; 3][..pad])?;
        self.out.write_all(&total32.to_le_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}
