//! Capture readers: btsnoop (datalink 1001, 1002, 2001), `hcidump -R` text, plain hex lines
//! (one HCI packet per line, `#` comments), and raw H4 byte streams. The format is detected
//! from the content, never from the file name.
//!
//! Every reader streams with bounded memory (one read buffer and one packet buffer, reused),
//! so replaying a capture of any size stays within the RSS budget. Packets come out in H4 form: packet-type
//! byte first (0x01 command, 0x02 ACL, 0x04 event…), as the raw socket and H4 deliver them.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek};
use std::path::Path;

use super::btsnoop::{self, DATALINK_H1, DATALINK_H4, DATALINK_MONITOR};
use super::{pcapng, zip};

/// What the reader recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Btsnoop(u32),
    Pcapng,
    Pcap,
    Hcidump,
    HexLines,
    H4Stream,
}

impl core::fmt::Display for Kind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Kind::Btsnoop(d) => write!(f, "btsnoop (datalink {d})"),
            Kind::Pcapng => f.write_str("pcapng"),
            Kind::Pcap => f.write_str("pcap"),
            Kind::Hcidump => f.write_str("hcidump -R text"),
            Kind::HexLines => f.write_str("hex lines"),
            Kind::H4Stream => f.write_str("raw H4 stream"),
        }
    }
}

/// The formats `replay` accepts, for error messages.
pub const ACCEPTED: &str = "btsnoop (datalink 1001, 1002 or btmon's 2001), \
pcapng or pcap (link types 187, 201, 254), \
an Android bug report zip (its btsnoop_hci.log), `hcidump -R` text output, \
plain text with one hex HCI packet per line (e.g. `043E…`, `#` comments allowed), or a raw H4 byte stream";

#[derive(Debug)]
pub enum CaptureError {
    Io(io::Error),
    /// Nothing recognisable.
    UnknownFormat,
    /// A btsnoop datalink we cannot read.
    UnsupportedDatalink(u32),
    /// The file ends in the middle of a packet (a capture cut short, e.g. by a crash).
    Truncated {
        packets: u64,
    },
    /// A text line that is not hex (line number, 1-based).
    BadLine {
        line: u64,
        reason: &'static str,
    },
    /// A pcapng structure that breaks the format's rules.
    Malformed {
        packets: u64,
        reason: &'static str,
    },
    /// A zip without a readable btsnoop log.
    Zip(&'static str),
    /// A pcapng block longer than [`pcapng::MAX_BLOCK`]: refused rather than allocated.
    BlockTooLarge {
        len: usize,
    },
}

impl core::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CaptureError::Io(e) => write!(f, "read error: {e}"),
            CaptureError::UnknownFormat => {
                write!(f, "not a capture format I know; accepted: {ACCEPTED}")
            }
            CaptureError::UnsupportedDatalink(d) => {
                write!(
                    f,
                    "btsnoop datalink {d} is not supported (1001, 1002 and 2001 are)"
                )
            }
            CaptureError::Truncated { packets } => {
                write!(f, "capture is truncated: it ends inside a packet after {packets} complete packets")
            }
            CaptureError::BadLine { line, reason } => write!(f, "line {line}: {reason}"),
            CaptureError::Malformed { packets, reason } => {
                write!(f, "malformed pcapng after {packets} packets: {reason}")
            }
            CaptureError::Zip(reason) => write!(f, "zip: {reason}"),
            CaptureError::BlockTooLarge { len } => write!(
                f,
                "pcapng block of {len} bytes is larger than the {} accepted",
                pcapng::MAX_BLOCK
            ),
        }
    }
}

impl std::error::Error for CaptureError {}

impl From<io::Error> for CaptureError {
    fn from(e: io::Error) -> Self {
        CaptureError::Io(e)
    }
}

/// One packet: H4 bytes (type byte first), timestamp when the format has one.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub data: &'a [u8],
    /// Microseconds since the Unix epoch.
    pub ts_us: Option<i64>,
    /// Controller → host.
    pub received: bool,
}

/// Longest text line accepted (a hex HCI packet of the largest event, with spaces and a
/// comment, is under 2 KB).
pub const MAX_LINE: usize = 16 * 1024;

/// Largest packet an hcidump record may assemble from continuation lines: H4 type, ACL header
/// and a 16-bit length.
const MAX_PACKET: usize = 1 + 4 + 65535;

/// A streaming capture reader.
pub struct Reader<R: Read> {
    src: Input<R>,
    kind: Kind,
    buf: Vec<u8>,
    line: String,
    line_no: u64,
    packets: u64,
    done: bool,
    /// hcidump: the first line of the next packet, already read.
    pending: Option<String>,
    pcapng: pcapng::State,
}

/// Where a reader left the packet it read.
enum At {
    /// In `Reader::buf` (decoded text, pcapng, H4 streams).
    Buf,
    /// In place in the read buffer (btsnoop records): `Input::buf[start..end]`.
    Input(usize, usize),
}

/// Size of the read buffer.
const READ_BUF: usize = 64 * 1024;

/// The read buffer. Unlike `BufReader`'s, it can be asked to hold `n` bytes at once, so a
/// whole btsnoop record can be handed out in place.
struct Input<R> {
    src: R,
    buf: Vec<u8>,
    /// Unread bytes: `buf[pos..end]`.
    pos: usize,
    end: usize,
}

impl<R: Read> Input<R> {
    fn new(src: R) -> Self {
        Input {
            src,
            buf: vec![0; READ_BUF],
            pos: 0,
            end: 0,
        }
    }

    /// The unread bytes, at least `n` of them unless the source ends first.
    #[inline]
    fn fill(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.pos < n {
            self.refill(n)?;
        }
        Ok(&self.buf[self.pos..self.end])
    }

    /// Moves the unread bytes to the front (growing the buffer if `n` does not fit) and
    /// reads until `n` are buffered or the source ends.
    fn refill(&mut self, n: usize) -> io::Result<()> {
        self.buf.copy_within(self.pos..self.end, 0);
        self.end -= self.pos;
        self.pos = 0;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => break,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let b = self.fill(1)?;
        let n = b.len().min(out.len());
        out[..n].copy_from_slice(&b[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read> BufRead for Input<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.fill(1)
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }
}

/// Opens and detects a capture file.
/// Opens and detects a capture file; in a zip (an Android bug report), its btsnoop log.
pub fn open(path: &Path) -> Result<Reader<Source>, CaptureError> {
    let mut f = File::open(path)?;
    let mut head = [0u8; 4];
    let n = f.read(&mut head)?;
    if head[..n] == zip::MAGIC[..] {
        let log = zip::btsnoop_log(&mut f)?;
        return Reader::new(Source::Memory(io::Cursor::new(log)));
    }
    f.seek(io::SeekFrom::Start(0))?;
    Reader::new(Source::File(f))
}

/// What [`open`] reads from: the file, or a log inflated from a zip.
pub enum Source {
    File(File),
    Memory(io::Cursor<Vec<u8>>),
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(f) => f.read(out),
            Source::Memory(m) => m.read(out),
        }
    }
}

fn is_hex_token(t: &str) -> bool {
    !t.is_empty() && t.len() % 2 == 0 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Where the direction marker of an hcidump line is: `> 04 3E …`, optionally preceded by a
/// `-t` timestamp (`2024-01-01 12:00:00.123456 > …`).
fn hcidump_start(line: &str) -> Option<(bool, &str)> {
    let t = line.trim_end();
    for (i, c) in t.char_indices() {
        if c == '>' || c == '<' {
            let rest = &t[i + 1..];
            if rest.starts_with(' ') && rest.split_whitespace().next().is_some_and(is_hex_token) {
                return Some((c == '>', rest));
            }
            return None;
        }
        if i > 40 {
            return None;
        }
    }
    None
}

impl<R: Read> Reader<R> {
    pub fn new(src: R) -> Result<Self, CaptureError> {
        let mut src = Input::new(src);
        let head = src.fill(btsnoop::HEADER_LEN)?;
        let mut pcap = None;
        let kind = if head.len() >= btsnoop::HEADER_LEN && head.starts_with(btsnoop::MAGIC) {
            let dl = u32::from_be_bytes([head[12], head[13], head[14], head[15]]);
            if !matches!(dl, DATALINK_H1 | DATALINK_H4 | DATALINK_MONITOR) {
                return Err(CaptureError::UnsupportedDatalink(dl));
            }
            src.consume(btsnoop::HEADER_LEN);
            Kind::Btsnoop(dl)
        } else if head.starts_with(&pcapng::MAGIC) {
            Kind::Pcapng
        } else if let Some(st) = pcapng::State::pcap(head) {
            pcap = Some(st);
            src.consume(pcapng::PCAP_HEADER_LEN);
            Kind::Pcap
        } else if head.starts_with(btsnoop::MAGIC) {
            return Err(CaptureError::Truncated { packets: 0 });
        } else if head
            .first()
            .is_some_and(|b| matches!(b, 0x01 | 0x02 | 0x04))
            && head.len() >= 3
        {
            Kind::H4Stream
        } else {
            let text = match core::str::from_utf8(head) {
                Ok(t) => t,
                // The buffer may end inside a multi-byte character.
                Err(e) if e.valid_up_to() > head.len().saturating_sub(4) => {
                    core::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or("")
                }
                Err(_) => return Err(CaptureError::UnknownFormat),
            };
            let mut kind = None;
            for l in text.lines() {
                let t = l.trim();
                if t.is_empty() || t.starts_with('#') {
                    continue;
                }
                if t.starts_with("HCI sniffer")
                    || t.starts_with("device:")
                    || hcidump_start(t).is_some()
                {
                    kind = Some(Kind::Hcidump);
                    break;
                }
                if t.split_whitespace().all(is_hex_token) {
                    kind = Some(Kind::HexLines);
                    break;
                }
                return Err(CaptureError::UnknownFormat);
            }
            kind.ok_or(CaptureError::UnknownFormat)?
        };
        Ok(Reader {
            src,
            kind,
            buf: Vec::with_capacity(2048),
            line: String::new(),
            line_no: 0,
            packets: 0,
            done: false,
            pending: None,
            pcapng: pcap.unwrap_or_default(),
        })
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Packets skipped as not HCI traffic (pcapng link types and monitor notes we do not read).
    pub fn skipped(&self) -> u64 {
        self.pcapng.skipped
    }

    /// Complete packets returned so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The next packet; `None` at the end. After an error the reader is finished.
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        let r = match self.kind {
            Kind::Btsnoop(dl) => self.next_btsnoop(dl),
            Kind::Pcapng => self
                .pcapng
                .next(&mut self.src, &mut self.buf, self.packets)
                .map(|p| p.map(|(ts, rx)| (At::Buf, ts, rx))),
            Kind::Pcap => self
                .pcapng
                .next_pcap(&mut self.src, &mut self.buf, self.packets)
                .map(|p| p.map(|(ts, rx)| (At::Buf, ts, rx))),
            Kind::H4Stream => self.next_h4(),
            Kind::HexLines => self.next_hex_line(),
            Kind::Hcidump => self.next_hcidump(),
        };
        match r {
            Ok(Some((at, ts, rx))) => {
                self.packets += 1;
                let data = match at {
                    At::Buf => &self.buf[..],
                    At::Input(start, end) => &self.src.buf[start..end],
                };
                Some(Ok(Packet {
                    data,
                    ts_us: ts,
                    received: rx,
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Reads exactly `n` bytes into `self.buf[at..]`; `Ok(false)` on a clean EOF at byte 0.
    fn read_exact_or_eof(&mut self, at: usize, n: usize) -> Result<bool, CaptureError> {
        self.buf.resize(at + n, 0);
        let mut got = 0;
        while got < n {
            match self.src.read(&mut self.buf[at + got..at + n]) {
                Ok(0) if got == 0 => return Ok(false),
                Ok(0) => {
                    return Err(CaptureError::Truncated {
                        packets: self.packets,
                    })
                }
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }

    /// One record, handed out in place in the read buffer. H4 records carry their type
    /// byte; for the other datalinks it is written over the last byte of the record header
    /// (already parsed), in front of the data.
    fn next_btsnoop(&mut self, dl: u32) -> Result<Option<(At, Option<i64>, bool)>, CaptureError> {
        let packets = self.packets;
        loop {
            let head = self.src.fill(btsnoop::RECORD_HEADER_LEN)?;
            let Some(h) = head.first_chunk() else {
                return if head.is_empty() {
                    Ok(None)
                } else {
                    Err(CaptureError::Truncated { packets })
                };
            };
            let h = btsnoop::RecordHeader::from_array(h);
            if h.incl_len > 65_535 + 8 {
                // A corrupt length: nothing after it can be trusted.
                return Err(CaptureError::Truncated { packets });
            }
            let len = btsnoop::RECORD_HEADER_LEN + h.incl_len;
            if self.src.fill(len)?.len() < len {
                return Err(CaptureError::Truncated { packets });
            }
            // Consumed now: the bytes stay in the buffer until the next `fill`.
            let start = self.src.pos + btsnoop::RECORD_HEADER_LEN;
            let end = self.src.pos + len;
            self.src.pos = end;
            let rx = h.flags & btsnoop::FLAG_RECEIVED != 0;
            let (ty, rx) = match dl {
                DATALINK_H4 => return Ok(Some((At::Input(start, end), h.unix_us, rx))),
                DATALINK_H1 => match (h.flags & btsnoop::FLAG_CMD_EVT != 0, rx) {
                    (true, true) => (0x04, rx),
                    (true, false) => (0x01, rx),
                    (false, _) => (0x02, rx),
                },
                // btmon: opcode in the low 16 bits of the flags; keep HCI traffic only.
                _ => match btsnoop::monitor_opcode((h.flags & 0xFFFF) as u16) {
                    Some(t) => t,
                    None => continue,
                },
            };
            self.src.buf[start - 1] = ty;
            return Ok(Some((At::Input(start - 1, end), h.unix_us, rx)));
        }
    }

    fn next_h4(&mut self) -> Result<Option<(At, Option<i64>, bool)>, CaptureError> {
        self.buf.clear();
        if !self.read_exact_or_eof(0, 1)? {
            return Ok(None);
        }
        let ty = self.buf[0];
        let (hdr, len_of): (usize, fn(&[u8]) -> usize) = match ty {
            0x04 => (2, |h| h[1] as usize),
            0x01 => (3, |h| h[2] as usize),
            0x02 => (4, |h| u16::from_le_bytes([h[2], h[3]]) as usize),
            0x03 => (3, |h| h[2] as usize),
            _ => {
                return Err(CaptureError::BadLine {
                    line: self.packets + 1,
                    reason: "unknown H4 packet type",
                })
            }
        };
        if !self.read_exact_or_eof(1, hdr)? {
            return Err(CaptureError::Truncated {
                packets: self.packets,
            });
        }
        let n = len_of(&self.buf[1..]);
        if n > 0 && !self.read_exact_or_eof(1 + hdr, n)? {
            return Err(CaptureError::Truncated {
                packets: self.packets,
            });
        }
        Ok(Some((At::Buf, None, ty != 0x01)))
    }

    /// Reads one text line of at most [`MAX_LINE`] bytes; a longer one is a malformed line
    /// (a hex file without newlines must not grow memory without bound).
    fn read_line(&mut self) -> Result<bool, CaptureError> {
        let mut bytes = std::mem::take(&mut self.line).into_bytes();
        bytes.clear();
        let n = Read::take(&mut self.src, MAX_LINE as u64 + 1).read_until(b'\n', &mut bytes)?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        let line = self.line_no;
        if n > MAX_LINE {
            return Err(CaptureError::BadLine {
                line,
                reason: "line longer than 16384 bytes",
            });
        }
        self.line = String::from_utf8(bytes).map_err(|_| CaptureError::BadLine {
            line,
            reason: "not UTF-8 text",
        })?;
        Ok(true)
    }

    /// Appends the hex bytes of `s` to `buf`.
    fn push_hex(buf: &mut Vec<u8>, s: &str) -> Result<(), &'static str> {
        let mut hi: Option<u8> = None;
        for c in s.bytes() {
            if c.is_ascii_whitespace() {
                if hi.is_some() {
                    return Err("odd number of hex digits");
                }
                continue;
            }
            let d = (c as char).to_digit(16).ok_or("not hexadecimal")? as u8;
            match hi.take() {
                None => hi = Some(d),
                Some(h) => buf.push(h << 4 | d),
            }
        }
        if hi.is_some() {
            return Err("odd number of hex digits");
        }
        Ok(())
    }

    fn next_hex_line(&mut self) -> Result<Option<(At, Option<i64>, bool)>, CaptureError> {
        loop {
            if !self.read_line()? {
                return Ok(None);
            }
            let t = self.line.split('#').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            self.buf.clear();
            let line = self.line_no;
            Self::push_hex(&mut self.buf, t)
                .map_err(|reason| CaptureError::BadLine { line, reason })?;
            let rx = self.buf.first() != Some(&0x01);
            return Ok(Some((At::Buf, None, rx)));
        }
    }

    fn next_hcidump(&mut self) -> Result<Option<(At, Option<i64>, bool)>, CaptureError> {
        // Find the start of the next packet.
        let first = match self.pending.take() {
            Some(l) => l,
            None => loop {
                if !self.read_line()? {
                    return Ok(None);
                }
                if hcidump_start(&self.line).is_some() {
                    break self.line.clone();
                }
            },
        };
        let (rx, rest) = hcidump_start(&first).ok_or(CaptureError::UnknownFormat)?;
        self.buf.clear();
        let line = self.line_no;
        Self::push_hex(&mut self.buf, rest)
            .map_err(|reason| CaptureError::BadLine { line, reason })?;
        // Continuation lines are indented hex.
        loop {
            if !self.read_line()? {
                break;
            }
            if hcidump_start(&self.line).is_some() {
                self.pending = Some(self.line.clone());
                break;
            }
            let t = self.line.trim();
            if t.is_empty() || !self.line.starts_with(char::is_whitespace) {
                continue;
            }
            let line = self.line_no;
            Self::push_hex(&mut self.buf, t)
                .map_err(|reason| CaptureError::BadLine { line, reason })?;
            if self.buf.len() > MAX_PACKET {
                return Err(CaptureError::BadLine {
                    line,
                    reason: "packet longer than any HCI packet",
                });
            }
        }
        // hcidump prints the H4 type byte first (`> 04 3E …`).
        Ok(Some((At::Buf, None, rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV: [u8; 7] = [0x04, 0x0E, 0x04, 0x01, 0x03, 0x0C, 0x00];

    fn all(bytes: &[u8]) -> (Kind, Vec<Vec<u8>>, Option<String>) {
        let mut r = Reader::new(bytes).unwrap();
        let mut v = Vec::new();
        let mut err = None;
        while let Some(p) = r.next_packet() {
            match p {
                Ok(p) => v.push(p.data.to_vec()),
                Err(e) => err = Some(e.to_string()),
            }
        }
        (r.kind(), v, err)
    }

    #[test]
    fn btsnoop_roundtrip_and_truncation() {
        let mut w = btsnoop::Writer::new(Vec::new()).unwrap();
        w.write_packet(&EV, 1_700_000_000_000_000, true).unwrap();
        w.write_packet(&EV, 1_700_000_000_000_001, true).unwrap();
        let b = w.into_inner();
        let (k, v, e) = all(&b);
        assert_eq!(k, Kind::Btsnoop(1002));
        assert_eq!(v, vec![EV.to_vec(), EV.to_vec()]);
        assert!(e.is_none());
        let (_, v, e) = all(&b[..b.len() - 3]);
        assert_eq!(v.len(), 1);
        assert!(e.unwrap().contains("truncated"));
    }

    #[test]
    fn btsnoop_h1_and_monitor() {
        for (dl, flags) in [(1001u32, 3u32), (2001, 3)] {
            let mut b = btsnoop::MAGIC.to_vec();
            b.extend_from_slice(&1u32.to_be_bytes());
            b.extend_from_slice(&dl.to_be_bytes());
            for f in [flags, 12] {
                let body = &EV[1..];
                b.extend_from_slice(&(body.len() as u32).to_be_bytes());
                b.extend_from_slice(&(body.len() as u32).to_be_bytes());
                b.extend_from_slice(&f.to_be_bytes());
                b.extend_from_slice(&[0; 12]);
                b.extend_from_slice(body);
            }
            let (k, v, e) = all(&b);
            assert_eq!(k, Kind::Btsnoop(dl));
            assert!(e.is_none(), "{e:?}");
            // 1001 flags 12 = ACL sent (kept as type 2); 2001 opcode 12 = system note (skipped).
            assert_eq!(v[0], EV.to_vec());
            assert_eq!(v.len(), if dl == 1001 { 2 } else { 1 });
        }
    }

    /// An endless source of `pattern` repeated.
    struct Cycle(&'static [u8], usize);
    impl io::Read for Cycle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            for b in out.iter_mut() {
                *b = self.0[self.1 % self.0.len()];
                self.1 += 1;
            }
            Ok(out.len())
        }
    }

    #[test]
    fn endless_text_is_bounded() {
        // A hex "line" that never ends: one malformed-line error, not unbounded memory.
        let mut r = Reader::new(io::repeat(b'a')).unwrap();
        assert_eq!(r.kind(), Kind::HexLines);
        let e = r.next_packet().unwrap().unwrap_err().to_string();
        assert!(e.contains(&MAX_LINE.to_string()), "{e}");
        assert!(r.next_packet().is_none());
        // hcidump continuation lines that never end: stopped at the largest HCI packet.
        let src = io::Cursor::new(b"> 04 3E 0C\n".to_vec()).chain(Cycle(b"  00 01 02 03\n", 0));
        let mut r = Reader::new(src).unwrap();
        assert_eq!(r.kind(), Kind::Hcidump);
        let e = r.next_packet().unwrap().unwrap_err().to_string();
        assert!(e.contains("longer than any HCI packet"), "{e}");
    }

    #[test]
    fn hex_lines_and_hcidump() {
        let (k, v, _) = all(b"# comment\n040e0401030c00\n\n04 0E 04 01 03 0C 00 # trailing\n");
        assert_eq!(k, Kind::HexLines);
        assert_eq!(v, vec![EV.to_vec(), EV.to_vec()]);
        let dump = b"HCI sniffer - Bluetooth packet analyzer ver 5.66\ndevice: hci0 snap_len: 1500 filter: 0xffffffff\n< 01 03 0C 00\n> 04 0E 04 01 03\n  0C 00\n2024-01-01 10:00:00.000001 > 04 0E 04 01 03 0C 00\n";
        let (k, v, e) = all(dump);
        assert_eq!(k, Kind::Hcidump);
        assert!(e.is_none());
        assert_eq!(v, vec![vec![1, 3, 0x0C, 0], EV.to_vec(), EV.to_vec()]);
        let (_, v, e) = all(b"040e04\n04zz\n");
        assert_eq!(v.len(), 1);
        assert!(e.unwrap().contains("line 2"));
    }

    #[test]
    fn unknown_formats_say_what_is_accepted() {
        let e = Reader::new(&b"hello world\n"[..])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("btsnoop") && e.contains("hcidump"), "{e}");
        assert!(Reader::new(&[0xFFu8, 0xFE, 0x00][..]).is_err());
    }

    #[test]
    fn h4_stream() {
        let mut b = EV.to_vec();
        b.extend_from_slice(&EV);
        let (k, v, e) = all(&b);
        assert_eq!(k, Kind::H4Stream);
        assert_eq!(v.len(), 2);
        assert!(e.is_none());
        let (_, v, e) = all(&b[..10]);
        assert_eq!(v.len(), 1);
        assert!(e.is_some());
    }
}
