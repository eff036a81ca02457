//! btsnoop files (BlueZ `src/shared/btsnoop.h`, Wireshark `wiretap/btsnoop.c`). All fields are
//! big-endian: header `"btsnoop\0" | version u32 = 1 | datalink u32`, then 24-byte records
//! `orig_len | incl_len | flags | drops | ts i64 (µs since year 0)`.

use std::io::{self, Write};

/// File magic.
pub const MAGIC: &[u8; 8] = b"btsnoop\0";
/// H1: no packet-type byte, direction and kind in the flags.
pub const DATALINK_H1: u32 = 1001;
/// H4: data begins with the packet-type byte (Android's btsnoop_hci.log).
pub const DATALINK_H4: u32 = 1002;
/// `btmon -w`: flags = index << 16 | opcode, data without the type byte.
pub const DATALINK_MONITOR: u32 = 2001;
/// btsnoop timestamps count µs from year 0; this is 1970-01-01.
pub const EPOCH_DELTA_US: i64 = 0x00DC_DDB3_0F2F_8000;
/// BlueZ refuses records larger than this.
pub const MAX_RECORD: usize = 1490;
pub const HEADER_LEN: usize = 16;
pub const RECORD_HEADER_LEN: usize = 24;

/// Flags bit 0: received (controller → host); bit 1: command/event (else data).
pub const FLAG_RECEIVED: u32 = 1;
pub const FLAG_CMD_EVT: u32 = 2;

/// The H4 packet type and direction (`true`: received) of a BlueZ monitor opcode (btsnoop
/// datalink 2001, pcap LINKTYPE_BLUETOOTH_LINUX_MONITOR), numbered as in BlueZ's btsnoop.h;
/// `None` for the opcodes that are not HCI traffic (index, notes).
pub fn monitor_opcode(op: u16) -> Option<(u8, bool)> {
    Some(match op {
        2 => (0x01, false),
        3 => (0x04, true),
        4 => (0x02, false),
        5 => (0x02, true),
        6 => (0x03, false),
        7 => (0x03, true),
        18 => (0x05, false),
        19 => (0x05, true),
        _ => return None,
    })
}

/// The fields of a record header that readers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Bytes of packet data stored in the record.
    pub incl_len: usize,
    pub flags: u32,
    /// Microseconds since the Unix epoch (`None` if the stored time is before it can be
    /// represented).
    pub unix_us: Option<i64>,
}

impl RecordHeader {
    /// From exactly one header: fixed offsets into an array, so no bounds checks.
    #[inline]
    pub fn from_array(h: &[u8; RECORD_HEADER_LEN]) -> RecordHeader {
        let be = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let ts = i64::from_be_bytes([h[16], h[17], h[18], h[19], h[20], h[21], h[22], h[23]]);
        RecordHeader {
            incl_len: be(4) as usize,
            flags: be(8),
            unix_us: ts.checked_sub(EPOCH_DELTA_US),
        }
    }
}

/// Streaming btsnoop writer, datalink 1002 (H4), which Wireshark/tshark open.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Writes the file header.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut h = [0u8; HEADER_LEN];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&1u32.to_be_bytes());
        h[12..16].copy_from_slice(&DATALINK_H4.to_be_bytes());
        out.write_all(&h)?;
        Ok(Writer { out })
    }

    /// Appends one H4 packet (type byte first). `received` is true for controller → host.
    /// Packets longer than BlueZ's limit are cut (orig_len keeps the real length).
    pub fn write_packet(&mut self, h4: &[u8], unix_us: i64, received: bool) -> io::Result<()> {
        let incl = h4.len().min(MAX_RECORD);
        let kind = match h4.first() {
            Some(0x01) | Some(0x04) => FLAG_CMD_EVT,
            _ => 0,
        };
        let flags = kind | if received { FLAG_RECEIVED } else { 0 };
        let mut r = [0u8; RECORD_HEADER_LEN];
        r[0..4].copy_from_slice(&(h4.len() as u32).to_be_bytes());
        r[4..8].copy_from_slice(&(incl as u32).to_be_bytes());
        r[8..12].copy_from_slice(&flags.to_be_bytes());
        r[12..16].copy_from_slice(&0u32.to_be_bytes());
        r[16..24].copy_from_slice(&(unix_us.saturating_add(EPOCH_DELTA_US)).to_be_bytes());
        self.out.write_all(&r)?;
        self.out.write_all(&h4[..incl])
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
    use super::*;

    #[test]
    fn writes_header_and_record() {
        let mut w = Writer::new(Vec::new()).unwrap();
        w.write_packet(&[4, 0x0e, 4, 1, 3, 0x0c, 0], 1_700_000_000_000_000, true)
            .unwrap();
        let b = w.into_inner();
        assert_eq!(&b[..8], MAGIC);
        assert_eq!(u32::from_be_bytes(b[12..16].try_into().unwrap()), 1002);
        assert_eq!(u32::from_be_bytes(b[16..20].try_into().unwrap()), 7);
        assert_eq!(u32::from_be_bytes(b[24..28].try_into().unwrap()), 3);
        let ts = i64::from_be_bytes(b[32..40].try_into().unwrap());
        assert_eq!(ts - EPOCH_DELTA_US, 1_700_000_000_000_000);
        assert_eq!(b.len(), 16 + 24 + 7);
    }
}
