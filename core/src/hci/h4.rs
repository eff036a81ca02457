//! H4 (UART transport, Core Vol 4 Part A) framing over a byte stream: the packet types and a
//! deframer fed by whatever reads the stream (the binary's TCP and serial transports, tests).
//!
//! A packet is `type | header | payload`, the header giving the payload length. Bytes that do not
//! start a plausible packet (line noise, a controller's boot banner, a half packet after a
//! reconnect) are skipped one at a time until a plausible header is found again; skipped bytes
//! and resynchronisations are counted.

use super::event::Event;

pub const H4_COMMAND: u8 = 0x01;
pub const H4_ACL: u8 = 0x02;
pub const H4_SCO: u8 = 0x03;
pub const H4_EVENT: u8 = 0x04;
pub const H4_ISO: u8 = 0x05;

/// Largest ACL/ISO payload accepted as plausible (controllers use ≤ 1021; larger values are
/// almost certainly garbage and would stall the stream waiting for bytes that never come).
pub const MAX_DATA_PAYLOAD: usize = 2048;
/// Buffer: room for several maximal packets, and for a raw socket's whole `recvmmsg` batch
/// (128 events of at most 258 bytes) in one read.
const BUF_CAP: usize = 40 * 1024;

/// Framing counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FramerStats {
    pub packets: u64,
    /// Bytes skipped because they did not start a plausible packet.
    pub garbage_bytes: u64,
    /// Times the framer found a packet again after skipping garbage.
    pub resyncs: u64,
}

/// Splits a byte stream into H4 packets. Read straight into [`Deframer::spare`], then
/// [`Deframer::commit`] and drain [`Deframer::next_packet`]: no copy, no allocation per packet.
pub struct Deframer {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    in_garbage: bool,
    pub stats: FramerStats,
}

impl Default for Deframer {
    fn default() -> Self {
        Deframer::new()
    }
}

/// Header length (after the type byte) and total packet length if the header is complete.
enum Header {
    /// Not a plausible packet start.
    Bad,
    /// Need more bytes to tell.
    Partial,
    Len(usize),
}

/// Controller-to-host types only (a controller never sends commands); after garbage only
/// events, the one type whose body can be checked.
fn header(b: &[u8], in_garbage: bool) -> Header {
    let Some(&t) = b.first() else {
        return Header::Partial;
    };
    let hdr = match t {
        H4_EVENT => 2,
        _ if in_garbage => return Header::Bad,
        H4_SCO => 3,
        H4_ACL | H4_ISO => 4,
        _ => return Header::Bad,
    };
    if b.len() < 1 + hdr {
        // Event code can be judged from one byte already.
        if t == H4_EVENT && b.len() >= 2 && !plausible_event_code(b[1]) {
            return Header::Bad;
        }
        return Header::Partial;
    }
    let payload = match t {
        H4_EVENT => {
            if !plausible_event_code(b[1]) {
                return Header::Bad;
            }
            b[2] as usize
        }
        H4_SCO => b[3] as usize,
        H4_ACL => u16::from_le_bytes([b[3], b[4]]) as usize,
        _ => (u16::from_le_bytes([b[3], b[4]]) & 0x3FFF) as usize,
    };
    if payload > MAX_DATA_PAYLOAD {
        return Header::Bad;
    }
    Header::Len(1 + hdr + payload)
}

/// Event codes defined by the Core spec (0x01..=0x59 as of 5.4) and vendor 0xFF.
fn plausible_event_code(c: u8) -> bool {
    (0x01..=0x59).contains(&c) || c == 0xFF
}

impl Deframer {
    pub fn new() -> Deframer {
        Deframer {
            buf: vec![0u8; BUF_CAP].into_boxed_slice(),
            start: 0,
            end: 0,
            in_garbage: false,
            stats: FramerStats::default(),
        }
    }

    /// Free space to read into (compacts first). Never empty.
    pub fn spare(&mut self) -> &mut [u8] {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Cannot happen with plausible headers (≤ 4101 bytes); drop the oldest byte anyway.
            self.skip(1);
            return self.spare();
        }
        &mut self.buf[self.end..]
    }

    /// `n` bytes were written into [`Deframer::spare`].
    pub fn commit(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Copies bytes in (tests, replays).
    pub fn push(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let s = self.spare();
            let n = s.len().min(data.len());
            s[..n].copy_from_slice(&data[..n]);
            self.commit(n);
            data = &data[n..];
        }
    }

    /// Drops buffered bytes (the stream was reconnected).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.in_garbage = false;
    }

    /// Bytes waiting for the rest of their packet.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    fn skip(&mut self, n: usize) {
        self.start += n;
        self.stats.garbage_bytes += n as u64;
        self.in_garbage = true;
    }

    /// The next complete packet (type byte first), if any.
    pub fn next_packet(&mut self) -> Option<&[u8]> {
        loop {
            let avail = &self.buf[self.start..self.end];
            if avail.is_empty() {
                return None;
            }
            match header(avail, self.in_garbage) {
                Header::Bad => self.skip(1),
                Header::Partial => return None,
                Header::Len(len) => {
                    if avail.len() < len {
                        return None;
                    }
                    // After garbage, demand more than a plausible header: the event must parse
                    // (lengths of every report consistent), else keep skipping.
                    if self.in_garbage && avail[0] == H4_EVENT {
                        let ok = Event::new_checked(&avail[..len])
                            .and_then(|e| e.kind())
                            .is_ok();
                        if !ok {
                            self.skip(1);
                            continue;
                        }
                    }
                    if self.in_garbage {
                        self.stats.resyncs += 1;
                        self.in_garbage = false;
                    }
                    let s = self.start;
                    self.start += len;
                    self.stats.packets += 1;
                    return Some(&self.buf[s..s + len]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    const CC_RESET: &str = "04 0e 04 01 03 0c 00";
    const ADV: &str = "04 3e 0c 02 01 00 00 11 22 33 44 55 66 00 c4";

    fn drain(d: &mut Deframer) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        while let Some(p) = d.next_packet() {
            v.push(p.to_vec());
        }
        v
    }

    #[test]
    fn splits_packets_fed_byte_by_byte() {
        let mut stream = hex(CC_RESET);
        stream.extend(hex(ADV));
        stream.extend(hex("02 01 20 03 00 aa bb cc")); // ACL
        let mut d = Deframer::new();
        let mut got = Vec::new();
        for b in &stream {
            d.push(&[*b]);
            got.extend(drain(&mut d));
        }
        assert_eq!(
            got,
            vec![hex(CC_RESET), hex(ADV), hex("02 01 20 03 00 aa bb cc")]
        );
        assert_eq!(
            d.stats,
            FramerStats {
                packets: 3,
                garbage_bytes: 0,
                resyncs: 0
            }
        );
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn resyncs_after_garbage() {
        let mut stream = b"boot banner\r\n".to_vec();
        stream.extend(hex(CC_RESET));
        stream.extend([0x04, 0x00]); // event code 0 is not plausible
        stream.extend(hex(ADV));
        let mut d = Deframer::new();
        d.push(&stream);
        let got = drain(&mut d);
        assert_eq!(got, vec![hex(CC_RESET), hex(ADV)]);
        assert_eq!(d.stats.garbage_bytes, 13 + 2);
        assert_eq!(d.stats.resyncs, 2);
    }

    #[test]
    fn resync_rejects_a_plausible_header_whose_body_does_not_parse() {
        // After garbage, "04 3e 03 02 ff ff" looks like an event header but its reports are
        // inconsistent; it must be skipped, not delivered.
        let mut stream = vec![0xAA];
        stream.extend(hex("04 3e 03 02 05 ff"));
        stream.extend(hex(ADV));
        let mut d = Deframer::new();
        d.push(&stream);
        assert_eq!(drain(&mut d), vec![hex(ADV)]);
        assert_eq!(d.stats.resyncs, 1);
        assert_eq!(d.stats.garbage_bytes, 7);
    }

    #[test]
    fn partial_packet_waits_and_implausible_lengths_are_garbage() {
        let mut d = Deframer::new();
        d.push(&hex("04 3e 0c 02 01"));
        assert!(d.next_packet().is_none());
        assert_eq!(d.buffered(), 5);
        d.clear();
        // ACL claiming 60000 bytes: garbage, not a 60 kB wait; a command (never sent by a
        // controller) is garbage too.
        d.push(&hex("02 01 20 60 ea"));
        d.push(&hex("01 03 0c 00"));
        d.push(&hex(CC_RESET));
        assert_eq!(drain(&mut d), vec![hex(CC_RESET)]);
        assert_eq!(d.stats.garbage_bytes, 9);
    }

    #[test]
    fn long_streams_do_not_grow_the_buffer() {
        let mut d = Deframer::new();
        let adv = hex(ADV);
        for _ in 0..10_000 {
            d.push(&adv);
            assert_eq!(d.next_packet().map(|p| p.len()), Some(adv.len()));
        }
        assert_eq!(d.stats.packets, 10_000);
        // Random garbage never panics and never yields an invalid event after a resync.
        let mut x: u32 = 12345;
        let mut noise = Vec::new();
        for _ in 0..100_000 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            noise.push((x >> 16) as u8);
        }
        d.push(&noise);
        while d.next_packet().is_some() {}
        d.push(&[0xFF; 300]);
        // A false header at the end of the noise may hold back up to one maximal packet.
        for _ in 0..200 {
            d.push(&adv);
        }
        let mut last = None;
        while let Some(p) = d.next_packet() {
            last = Some(p.to_vec());
        }
        assert_eq!(last, Some(adv));
    }
}
