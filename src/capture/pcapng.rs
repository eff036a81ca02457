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
            .frame_to_h4(iface.link_type, buf, start, cap, packets)?
            .map(|rx| (ts.and_then(|t| iface.unix_us(t)), rx)))
    }

    /// The link-layer frame at `buf[start..start + cap]` → H4 packet in `buf`: received, or
    /// `None` when skipped.
    fn frame_to_h4(
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
                let Some((t, rx)) =
                    super::btsnoop::monitor_opcode(u16::from_be_bytes([h[2], h[3]]))
                else {
                    self.skipped += 1;
                    return Ok(None);
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
            if let Some(rx) = self.frame_to_h4(iface.link_type, buf, 0, cap, packets)? {
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

#[cfg(test)]
mod tests {
    use super::super::reader::{Kind, Reader};
    use super::*;

    const EV: [u8; 7] = [0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00];

    /// pcapng bytes, built block by block in one byte order.
    struct File {
        be: bool,
        b: Vec<u8>,
    }

    impl File {
        fn new() -> File {
            File {
                be: false,
                b: Vec::new(),
            }
        }
        fn u16(&self, v: u16) -> [u8; 2] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn u32(&self, v: u32) -> [u8; 4] {
            if self.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        }
        fn block(&mut self, ty: u32, body: &[u8]) -> &mut File {
            let total = (12 + body.len().next_multiple_of(4)) as u32;
            self.b.extend_from_slice(&self.u32(ty));
            self.b.extend_from_slice(&self.u32(total));
            self.b.extend_from_slice(body);
            self.b.resize(
                self.b.len() + body.len().next_multiple_of(4) - body.len(),
                0,
            );
            self.b.extend_from_slice(&self.u32(total));
            self
        }
        fn shb(&mut self, be: bool) -> &mut File {
            self.be = be;
            let mut body = self.u32(BYTE_ORDER).to_vec();
            body.extend_from_slice(&self.u16(1));
            body.extend_from_slice(&self.u16(0));
            body.extend_from_slice(&[0xFF; 8]);
            self.block(SHB, &body)
        }
        fn idb(&mut self, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut File {
            let mut body = self.u16(link).to_vec();
            body.extend_from_slice(&[0, 0]);
            body.extend_from_slice(&self.u32(snaplen));
            for (code, v) in opts {
                body.extend_from_slice(&self.u16(*code));
                body.extend_from_slice(&self.u16(v.len() as u16));
                body.extend_from_slice(v);
                body.resize(body.len().next_multiple_of(4), 0);
            }
            body.extend_from_slice(&[0; 4]);
            self.block(IDB, &body)
        }
        fn epb(&mut self, iface: u32, ts: u64, data: &[u8]) -> &mut File {
            let mut body = self.u32(iface).to_vec();
            body.extend_from_slice(&self.u32((ts >> 32) as u32));
            body.extend_from_slice(&self.u32(ts as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(&self.u32(data.len() as u32));
            body.extend_from_slice(data);
            self.block(EPB, &body)
        }
    }

    /// Packets, timestamps, received flags, error.
    type Got = (Vec<Vec<u8>>, Vec<Option<i64>>, Vec<bool>, Option<String>);

    fn read(b: &[u8]) -> Got {
        let mut r = Reader::new(b).unwrap();
        assert!(matches!(r.kind(), Kind::Pcapng | Kind::Pcap));
        let (mut v, mut t, mut d, mut err) = (Vec::new(), Vec::new(), Vec::new(), None);
        while let Some(p) = r.next_packet() {
            match p {
                Ok(p) => {
                    v.push(p.data.to_vec());
                    t.push(p.ts_us);
                    d.push(p.received);
                }
                Err(e) => err = Some(e.to_string()),
            }
        }
        (v, t, d, err)
    }

    fn phdr(rx: bool, h4: &[u8]) -> Vec<u8> {
        let mut v = u32::from(rx).to_be_bytes().to_vec();
        v.extend_from_slice(h4);
        v
    }

    #[test]
    fn big_endian_section_and_phdr_direction() {
        let mut f = File::new();
        f.shb(true).idb(LINKTYPE_H4_WITH_PHDR, 0, &[]);
        f.epb(0, 1_700_000_000_000_001, &phdr(true, &EV));
        f.epb(0, 5, &phdr(false, &[1, 3, 0x0C, 0]));
        let (v, t, d, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(v, vec![EV.to_vec(), vec![1, 3, 0x0C, 0]]);
        assert_eq!(t, vec![Some(1_700_000_000_000_001), Some(5)]);
        assert_eq!(d, vec![true, false]);
    }

    #[test]
    fn sections_reset_interfaces_and_byte_order() {
        let mut f = File::new();
        f.shb(false).idb(0, 0, &[]).idb(LINKTYPE_H4, 0, &[]);
        f.epb(1, 0, &EV).epb(0, 0, &EV);
        f.shb(true).idb(LINKTYPE_H4, 0, &[]).epb(0, 0, &EV);
        let (v, _, _, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        // Interface 0 of the first section is LINKTYPE 0: skipped, not an error.
        assert_eq!(v.len(), 2);
        let mut r = Reader::new(&f.b[..]).unwrap();
        while r.next_packet().is_some() {}
        assert_eq!(r.skipped(), 1);
        // The second section's interface 1 does not exist.
        f.epb(1, 0, &EV);
        let (v, _, _, e) = read(&f.b);
        assert_eq!(v.len(), 2);
        assert!(e.unwrap().contains("interface"));
    }

    #[test]
    fn tsresol_decimal_binary_and_offset() {
        let mut f = File::new();
        f.shb(false)
            .idb(LINKTYPE_H4, 0, &[(OPT_IF_TSRESOL, &[9])])
            .idb(LINKTYPE_H4, 0, &[(OPT_IF_TSRESOL, &[0x80 | 10])])
            .idb(LINKTYPE_H4, 0, &[(OPT_IF_TSOFFSET, &100i64.to_le_bytes())]);
        f.epb(0, 3_000_000_123_000, &EV)
            .epb(1, 1024 * 7, &EV)
            .epb(2, 1, &EV);
        let (_, t, _, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(
            t,
            vec![Some(3_000_000_123), Some(7_000_000), Some(100_000_001)]
        );
    }

    #[test]
    fn simple_and_obsolete_packet_blocks() {
        let mut f = File::new();
        f.shb(false).idb(LINKTYPE_H4, 5, &[]);
        // SPB: original length 7, snaplen 5.
        let mut spb = f.u32(7).to_vec();
        spb.extend_from_slice(&EV);
        f.block(SPB, &spb);
        // PB: 16-bit interface, 16-bit drops, timestamp, lengths, data.
        let mut pb = f.u16(0).to_vec();
        pb.extend_from_slice(&f.u16(0));
        pb.extend_from_slice(&f.u32(0));
        pb.extend_from_slice(&f.u32(42));
        pb.extend_from_slice(&f.u32(7));
        pb.extend_from_slice(&f.u32(7));
        pb.extend_from_slice(&EV);
        f.block(PB, &pb);
        let (v, t, _, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(v, vec![EV[..5].to_vec(), EV.to_vec()]);
        assert_eq!(t, vec![None, Some(42)]);
    }

    #[test]
    fn unknown_blocks_are_skipped() {
        let mut f = File::new();
        f.shb(false).idb(LINKTYPE_H4, 0, &[]);
        f.block(4, &[1, 0, 0, 0])
            .block(5, &[0; 12])
            .block(0x0BAD, &[0; 9]);
        f.block(0x8000_0001, &[]).epb(0, 0, &EV);
        let (v, _, _, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(v, vec![EV.to_vec()]);
    }

    #[test]
    fn broken_files_give_typed_errors() {
        let mut f = File::new();
        f.shb(false).idb(LINKTYPE_H4, 0, &[]).epb(0, 0, &EV);
        let good = f.b.clone();
        // Trailing length differs.
        let mut b = good.clone();
        let n = b.len();
        b[n - 4] ^= 4;
        assert!(read(&b).3.unwrap().contains("trailing"));
        // Truncated inside the last block: the earlier packets are still delivered.
        let mut b = good.clone();
        f.epb(0, 0, &EV);
        b.extend_from_slice(&f.b[good.len()..f.b.len() - 3]);
        let (v, _, _, e) = read(&b);
        assert_eq!(v.len(), 1);
        assert!(e.unwrap().contains("truncated"));
        // Oversized block: refused before allocating.
        let mut b = good.clone();
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&(MAX_BLOCK as u32 + 4).to_le_bytes());
        let mut r = Reader::new(&b[..]).unwrap();
        assert!(r.next_packet().unwrap().is_ok());
        let e = r.next_packet().unwrap().unwrap_err();
        assert!(matches!(e, CaptureError::BlockTooLarge { .. }), "{e}");
        // Length not a multiple of 4, or below 12.
        for len in [10u32, 13] {
            let mut b = good.clone();
            b.extend_from_slice(&6u32.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(&[0; 16]);
            assert!(read(&b).3.unwrap().contains("multiple of 4"));
        }
        // Captured length larger than the block.
        let mut b = good.clone();
        let cap_at = b.len() - 4 - 8 - 8;
        b[cap_at] = 200;
        assert!(read(&b).3.unwrap().contains("exceeds"), "{:?}", read(&b).3);
        // Wrong major version.
        let mut b = good;
        b[12] = 2;
        assert!(read(&b).3.unwrap().contains("major"));
    }

    #[test]
    fn linux_monitor_opcodes() {
        let mut f = File::new();
        f.shb(false).idb(LINKTYPE_MONITOR, 0, &[]);
        let mon = |op: u16, payload: &[u8]| {
            let mut v = 0u16.to_be_bytes().to_vec();
            v.extend_from_slice(&op.to_be_bytes());
            v.extend_from_slice(payload);
            v
        };
        f.epb(0, 0, &mon(0, &[0; 16])); // NEW_INDEX: skipped
        f.epb(0, 0, &mon(3, &EV[1..])); // EVENT_PKT
        f.epb(0, 0, &mon(2, &[3, 0x0C, 0])); // COMMAND_PKT
        f.epb(0, 0, &mon(5, &[1, 0, 0, 0])); // ACL_RX_PKT
        f.epb(0, 0, &mon(12, b"note\0")); // SYSTEM_NOTE: skipped
        let (v, _, d, e) = read(&f.b);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(
            v,
            vec![EV.to_vec(), vec![1, 3, 0x0C, 0], vec![2, 1, 0, 0, 0]]
        );
        assert_eq!(d, vec![true, false, true]);
    }

    #[test]
    fn writer_output_reads_back() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write_packet(&EV, 1_700_000_000_000_001, true).unwrap();
        w.write_packet(&[1, 3, 0x0C, 0], 2, false).unwrap();
        let (v, t, d, e) = read(&w.into_inner());
        assert!(e.is_none(), "{e:?}");
        assert_eq!(v, vec![EV.to_vec(), vec![1, 3, 0x0C, 0]]);
        assert_eq!(t, vec![Some(1_700_000_000_000_001), Some(2)]);
        assert_eq!(d, vec![true, false]);
    }

    #[test]
    fn classic_pcap_both_byte_orders() {
        for be in [false, true] {
            let f = File { be, b: Vec::new() };
            let mut b = f.u32(0xA1B2_C3D4).to_vec();
            b.extend_from_slice(&f.u16(2));
            b.extend_from_slice(&f.u16(4));
            b.extend_from_slice(&[0; 8]);
            b.extend_from_slice(&f.u32(65535));
            b.extend_from_slice(&f.u32(u32::from(LINKTYPE_H4_WITH_PHDR)));
            for rx in [true, false] {
                let d = phdr(rx, &EV);
                b.extend_from_slice(&f.u32(10));
                b.extend_from_slice(&f.u32(5));
                b.extend_from_slice(&f.u32(d.len() as u32));
                b.extend_from_slice(&f.u32(d.len() as u32));
                b.extend_from_slice(&d);
            }
            let (v, t, d, e) = read(&b);
            assert!(e.is_none(), "{e:?}");
            assert_eq!(v, vec![EV.to_vec(), EV.to_vec()]);
            assert_eq!(t, vec![Some(10_000_005), Some(10_000_005)]);
            assert_eq!(d, vec![true, false]);
        }
    }
}
