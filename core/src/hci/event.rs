//! Zero-copy, checked views over HCI event packets (Core 5.x Vol 4 Part E 7.7).
//!
//! Every view is built by a checked constructor that validates all lengths up front, so no
//! accessor can read out of bounds and any byte string is either a valid view or a typed
//! [`Error`]. Packets start with the H4 packet-type byte `0x04`, as both the raw HCI socket and
//! an H4 UART/TCP stream deliver them. Nothing here allocates.

use core::fmt;

use crate::addr::Addr;

/// Field offsets, named in one place (smoltcp style).
mod field {
    /// H4 packet type, event code, parameter length.
    pub const H4_TYPE: usize = 0;
    pub const EVENT_CODE: usize = 1;
    pub const PARAM_LEN: usize = 2;
    pub const PARAMS: usize = 3;

    // Relative to the event parameters.
    pub const CC_NUM_CMDS: usize = 0;
    pub const CC_OPCODE: core::ops::Range<usize> = 1..3;
    pub const CC_RETURN: usize = 3;
    pub const CS_STATUS: usize = 0;
    pub const CS_NUM_CMDS: usize = 1;
    pub const CS_OPCODE: core::ops::Range<usize> = 2..4;
    pub const LE_SUBEVENT: usize = 0;
    pub const LE_NUM_REPORTS: usize = 1;
    pub const LE_REPORTS: usize = 2;

    // Legacy report (subevent 0x02), relative to the report start.
    pub const ADV_EVT_TYPE: usize = 0;
    pub const ADV_ADDR_TYPE: usize = 1;
    pub const ADV_ADDR: core::ops::Range<usize> = 2..8;
    pub const ADV_DATA_LEN: usize = 8;
    pub const ADV_DATA: usize = 9;
    /// Fixed bytes of one legacy report besides its data: header (9) + RSSI (1).
    pub const ADV_FIXED: usize = 10;

    // Extended report (subevent 0x0D), relative to the report start.
    pub const EXT_EVT_TYPE: core::ops::Range<usize> = 0..2;
    pub const EXT_ADDR_TYPE: usize = 2;
    pub const EXT_ADDR: core::ops::Range<usize> = 3..9;
    pub const EXT_PRIMARY_PHY: usize = 9;
    pub const EXT_SECONDARY_PHY: usize = 10;
    pub const EXT_SID: usize = 11;
    pub const EXT_TX_POWER: usize = 12;
    pub const EXT_RSSI: usize = 13;
    pub const EXT_PERIODIC_INTERVAL: core::ops::Range<usize> = 14..16;
    pub const EXT_DIRECT_ADDR_TYPE: usize = 16;
    pub const EXT_DIRECT_ADDR: core::ops::Range<usize> = 17..23;
    pub const EXT_DATA_LEN: usize = 23;
    pub const EXT_DATA: usize = 24;
}

/// H4 packet type of an HCI event.
pub const H4_EVENT: u8 = 0x04;
pub const EVT_COMMAND_COMPLETE: u8 = 0x0E;
pub const EVT_COMMAND_STATUS: u8 = 0x0F;
pub const EVT_HARDWARE_ERROR: u8 = 0x10;
pub const EVT_LE_META: u8 = 0x3E;
pub const LE_ADVERTISING_REPORT: u8 = 0x02;
pub const LE_EXTENDED_ADVERTISING_REPORT: u8 = 0x0D;
/// RSSI / TX power value meaning "not available".
pub const RSSI_UNAVAILABLE: i8 = 127;

/// Why a byte string is not a valid HCI event view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the 3-byte event header.
    TooShort,
    /// First byte is not the H4 event type 0x04.
    NotAnEvent(u8),
    /// Parameter length byte disagrees with the bytes present.
    LengthMismatch { declared: usize, present: usize },
    /// Event parameters too short for the event's fixed fields.
    Truncated,
    /// A report inside an LE Meta event overruns the event or leaves junk behind.
    BadReport,
    /// num_reports is 0 or impossible.
    BadReportCount(u8),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooShort => write!(f, "HCI event shorter than its 3-byte header"),
            Error::NotAnEvent(t) => write!(f, "H4 packet type {t:#04x} is not an event"),
            Error::LengthMismatch { declared, present } => {
                write!(
                    f,
                    "HCI event declares {declared} parameter bytes, {present} present"
                )
            }
            Error::Truncated => write!(f, "HCI event parameters truncated"),
            Error::BadReport => write!(f, "advertising report overruns its event"),
            Error::BadReportCount(n) => write!(f, "invalid advertising report count {n}"),
        }
    }
}

impl std::error::Error for Error {}

/// A checked HCI event packet (H4 type byte included).
#[derive(Clone, Copy)]
pub struct Event<'a> {
    buf: &'a [u8],
}

impl<'a> Event<'a> {
    /// Checks the H4 type, the header and that the parameter length matches exactly.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, Error> {
        if buf.len() < field::PARAMS {
            return Err(Error::TooShort);
        }
        if buf[field::H4_TYPE] != H4_EVENT {
            return Err(Error::NotAnEvent(buf[field::H4_TYPE]));
        }
        let declared = buf[field::PARAM_LEN] as usize;
        let present = buf.len() - field::PARAMS;
        if declared != present {
            return Err(Error::LengthMismatch { declared, present });
        }
        Ok(Event { buf })
    }

    /// Like [`Event::new_checked`] for a buffer without the H4 type byte (btsnoop H1, monitor).
    pub fn code(&self) -> u8 {
        self.buf[field::EVENT_CODE]
    }

    pub fn params(&self) -> &'a [u8] {
        &self.buf[field::PARAMS..]
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Classifies the event; unknown events are returned as [`EventKind::Other`].
    pub fn kind(&self) -> Result<EventKind<'a>, Error> {
        let p = self.params();
        match self.code() {
            EVT_COMMAND_COMPLETE => {
                if p.len() < field::CC_RETURN {
                    return Err(Error::Truncated);
                }
                Ok(EventKind::CommandComplete(CommandComplete { params: p }))
            }
            EVT_COMMAND_STATUS => {
                if p.len() < field::CS_OPCODE.end {
                    return Err(Error::Truncated);
                }
                Ok(EventKind::CommandStatus(CommandStatus { params: p }))
            }
            EVT_HARDWARE_ERROR => match p.first() {
                Some(&code) => Ok(EventKind::HardwareError(code)),
                None => Err(Error::Truncated),
            },
            EVT_LE_META => {
                let sub = *p.get(field::LE_SUBEVENT).ok_or(Error::Truncated)?;
                match sub {
                    LE_ADVERTISING_REPORT => Ok(EventKind::AdvReports(AdvReports::new_checked(p)?)),
                    LE_EXTENDED_ADVERTISING_REPORT => {
                        Ok(EventKind::ExtAdvReports(ExtAdvReports::new_checked(p)?))
                    }
                    other => Ok(EventKind::LeMetaOther(other)),
                }
            }
            other => Ok(EventKind::Other(other)),
        }
    }
}

/// The events hci2mqtt understands.
#[derive(Clone, Copy)]
pub enum EventKind<'a> {
    CommandComplete(CommandComplete<'a>),
    CommandStatus(CommandStatus<'a>),
    HardwareError(u8),
    AdvReports(AdvReports<'a>),
    ExtAdvReports(ExtAdvReports<'a>),
    LeMetaOther(u8),
    Other(u8),
}

/// Command Complete (0x0E): `num_cmds | opcode le16 | return parameters`.
#[derive(Clone, Copy)]
pub struct CommandComplete<'a> {
    params: &'a [u8],
}

impl<'a> CommandComplete<'a> {
    pub fn num_commands(&self) -> u8 {
        self.params[field::CC_NUM_CMDS]
    }
    pub fn opcode(&self) -> u16 {
        u16::from_le_bytes([
            self.params[field::CC_OPCODE.start],
            self.params[field::CC_OPCODE.start + 1],
        ])
    }
    /// Return parameters; the first byte is the status for almost every command.
    pub fn return_params(&self) -> &'a [u8] {
        &self.params[field::CC_RETURN..]
    }
    /// Status byte (first return parameter), or `None` when the controller sent none (NOP).
    pub fn status(&self) -> Option<u8> {
        self.return_params().first().copied()
    }
}

/// Command Status (0x0F): `status | num_cmds | opcode le16`.
#[derive(Clone, Copy)]
pub struct CommandStatus<'a> {
    params: &'a [u8],
}

impl<'a> CommandStatus<'a> {
    pub fn status(&self) -> u8 {
        self.params[field::CS_STATUS]
    }
    pub fn num_commands(&self) -> u8 {
        self.params[field::CS_NUM_CMDS]
    }
    pub fn opcode(&self) -> u16 {
        u16::from_le_bytes([
            self.params[field::CS_OPCODE.start],
            self.params[field::CS_OPCODE.start + 1],
        ])
    }
}

/// Data status of an extended report (event type bits 5–6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataStatus {
    Complete,
    MoreToCome,
    Truncated,
    Reserved,
}

/// One advertising report, legacy or extended, normalised to what decoders need.
#[derive(Clone, Copy, Debug)]
pub struct Report<'a> {
    /// Extended event-type bits (legacy reports mapped onto them, legacy bit set).
    pub event_type: u16,
    pub addr_type: u8,
    pub addr: Addr,
    /// `None` when the controller says 127 (unavailable).
    pub rssi: Option<i8>,
    /// `None` when unavailable (always for legacy reports).
    pub tx_power: Option<i8>,
    pub primary_phy: u8,
    pub secondary_phy: u8,
    pub sid: u8,
    /// AD structures.
    pub data: &'a [u8],
}

impl<'a> Report<'a> {
    pub fn is_legacy(&self) -> bool {
        self.event_type & ext_evt::LEGACY != 0
    }
    pub fn is_scan_response(&self) -> bool {
        self.event_type & ext_evt::SCAN_RESPONSE != 0
    }
    pub fn is_connectable(&self) -> bool {
        self.event_type & ext_evt::CONNECTABLE != 0
    }
    pub fn data_status(&self) -> DataStatus {
        match (self.event_type >> 5) & 3 {
            0 => DataStatus::Complete,
            1 => DataStatus::MoreToCome,
            2 => DataStatus::Truncated,
            _ => DataStatus::Reserved,
        }
    }
}

impl Report<'_> {
    /// The largest AD data a legacy report carries (Core Vol 6 Part B 2.3.1).
    pub const LEGACY_MAX_DATA: usize = 31;

    /// Appends this report as one whole H4 event, through the same field offsets the views
    /// read: a legacy LE Advertising Report when the report is legacy and its data fits one,
    /// otherwise an LE Extended Advertising Report. For tests and generators, which then
    /// build packets with the code that parses them. Data longer than an event holds (255
    /// bytes of parameters) is cut to fit.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let rssi = self.rssi.unwrap_or(RSSI_UNAVAILABLE) as u8;
        let legacy = self.is_legacy() && self.data.len() <= Self::LEGACY_MAX_DATA;
        // Header bytes before the data, and all bytes besides it (a legacy report ends in RSSI).
        let (subevent, header, fixed) = if legacy {
            (LE_ADVERTISING_REPORT, field::ADV_DATA, field::ADV_FIXED)
        } else {
            (
                LE_EXTENDED_ADVERTISING_REPORT,
                field::EXT_DATA,
                field::EXT_DATA,
            )
        };
        let room = 255 - field::LE_REPORTS - fixed;
        let data = &self.data[..self.data.len().min(room)];
        out.extend_from_slice(&[H4_EVENT, EVT_LE_META, 0, subevent, 1]);
        let r = out.len();
        out.resize(r + header, 0);
        let rep = &mut out[r..];
        if legacy {
            rep[field::ADV_EVT_TYPE] = ext_to_legacy(self.event_type);
            rep[field::ADV_ADDR_TYPE] = self.addr_type;
            rep[field::ADV_ADDR].copy_from_slice(&self.addr.to_le());
            rep[field::ADV_DATA_LEN] = data.len() as u8;
            out.extend_from_slice(data);
            out.push(rssi);
        } else {
            rep[field::EXT_EVT_TYPE].copy_from_slice(&self.event_type.to_le_bytes());
            rep[field::EXT_ADDR_TYPE] = self.addr_type;
            rep[field::EXT_ADDR].copy_from_slice(&self.addr.to_le());
            rep[field::EXT_PRIMARY_PHY] = self.primary_phy;
            rep[field::EXT_SECONDARY_PHY] = self.secondary_phy;
            rep[field::EXT_SID] = self.sid;
            rep[field::EXT_TX_POWER] = self.tx_power.unwrap_or(RSSI_UNAVAILABLE) as u8;
            rep[field::EXT_RSSI] = rssi;
            rep[field::EXT_DIRECT_ADDR_TYPE] = 0;
            rep[field::EXT_DATA_LEN] = data.len() as u8;
            out.extend_from_slice(data);
        }
        out[start + field::PARAM_LEN] = (out.len() - start - field::PARAMS) as u8;
    }
}

/// A received report with defaults for what tests rarely care about: legacy ADV_IND
/// (connectable, scannable, undirected), public address, 1M PHY, no TX power.
impl<'a> Report<'a> {
    pub fn adv_ind(addr: Addr, rssi: i8, data: &'a [u8]) -> Report<'a> {
        Report {
            event_type: legacy_to_ext(0x00),
            addr_type: 0,
            addr,
            rssi: Some(rssi),
            tx_power: None,
            primary_phy: 1,
            secondary_phy: 0,
            sid: 0xFF,
            data,
        }
    }
}

/// Extended advertising report event-type bits (Core Vol 4 Part E 7.7.65.13).
pub mod ext_evt {
    pub const CONNECTABLE: u16 = 1 << 0;
    pub const SCANNABLE: u16 = 1 << 1;
    pub const DIRECTED: u16 = 1 << 2;
    pub const SCAN_RESPONSE: u16 = 1 << 3;
    pub const LEGACY: u16 = 1 << 4;
}

/// Legacy event type (ADV_IND…SCAN_RSP) to extended event-type bits, as controllers do when
/// they report legacy PDUs through subevent 0x0D.
pub fn legacy_to_ext(t: u8) -> u16 {
    match t {
        0x00 => 0x0013,
        0x01 => 0x0015,
        0x02 => 0x0012,
        0x03 => 0x0010,
        0x04 => 0x001B,
        _ => ext_evt::LEGACY,
    }
}

/// The legacy event type of extended event-type bits: the inverse of [`legacy_to_ext`] on
/// the five legacy PDUs (anything else reads as ADV_IND).
pub fn ext_to_legacy(t: u16) -> u8 {
    match t | ext_evt::LEGACY {
        0x0015 => 0x01,
        0x0012 => 0x02,
        0x0010 => 0x03,
        0x001B | 0x001A => 0x04,
        _ => 0x00,
    }
}

fn rssi_opt(b: u8) -> Option<i8> {
    let v = b as i8;
    if v == RSSI_UNAVAILABLE {
        None
    } else {
        Some(v)
    }
}

/// LE Advertising Report (subevent 0x02): all reports of the event, checked on construction.
///
/// Reports are laid out one whole report after another, which is how every host reads them
/// (kernel, btmon, Bumble), not as the spec's parallel arrays.
#[derive(Clone, Copy)]
pub struct AdvReports<'a> {
    count: u8,
    reports: &'a [u8],
}

impl<'a> AdvReports<'a> {
    /// `params` are the LE Meta parameters starting at the subevent byte.
    pub fn new_checked(params: &'a [u8]) -> Result<Self, Error> {
        let count = *params.get(field::LE_NUM_REPORTS).ok_or(Error::Truncated)?;
        if count == 0 || count > 25 {
            return Err(Error::BadReportCount(count));
        }
        let reports = &params[field::LE_REPORTS..];
        // Walk once to validate every report boundary.
        let mut off = 0usize;
        for _ in 0..count {
            let len = *reports
                .get(off + field::ADV_DATA_LEN)
                .ok_or(Error::BadReport)? as usize;
            off += field::ADV_FIXED + len;
            if off > reports.len() {
                return Err(Error::BadReport);
            }
        }
        if off != reports.len() {
            return Err(Error::BadReport);
        }
        Ok(AdvReports { count, reports })
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> AdvReportIter<'a> {
        AdvReportIter {
            left: self.count,
            rest: self.reports,
        }
    }
}

/// Iterator over legacy reports; bounds were checked by [`AdvReports::new_checked`].
pub struct AdvReportIter<'a> {
    left: u8,
    rest: &'a [u8],
}

impl<'a> Iterator for AdvReportIter<'a> {
    type Item = Report<'a>;
    fn next(&mut self) -> Option<Report<'a>> {
        if self.left == 0 {
            return None;
        }
        let r = self.rest;
        let len = *r.get(field::ADV_DATA_LEN)? as usize;
        let total = field::ADV_FIXED + len;
        if r.len() < total {
            self.left = 0;
            return None;
        }
        self.left -= 1;
        self.rest = &r[total..];
        Some(legacy_report(r, len))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// The legacy report at the start of `r`, whose data length `len` was checked to fit.
#[inline]
fn legacy_report(r: &[u8], len: usize) -> Report<'_> {
    Report {
        event_type: legacy_to_ext(r[field::ADV_EVT_TYPE]),
        addr_type: r[field::ADV_ADDR_TYPE],
        addr: match r.get(field::ADV_ADDR.start..field::ADV_ADDR.end + 2) {
            Some(&[a, b, c, d, e, f, g, h]) => Addr::from_le_padded(&[a, b, c, d, e, f, g, h]),
            _ => Addr::from_le(&r[field::ADV_ADDR]),
        },
        rssi: rssi_opt(r[field::ADV_DATA + len]),
        tx_power: None,
        primary_phy: 1,
        secondary_phy: 0,
        sid: 0xFF,
        data: &r[field::ADV_DATA..field::ADV_DATA + len],
    }
}

/// The report of an H4 LE Advertising Report event that carries exactly one, well-formed;
/// `None` for anything else, which [`Event::new_checked`] and [`Event::kind`] then handle
/// (errors included). Controllers send one report per event, and this checks what those
/// two check for it in a few compares.
#[inline]
pub fn single_adv_report(pkt: &[u8]) -> Option<Report<'_>> {
    // H4 type, event code, parameter length, subevent, report count, then the report.
    let [H4_EVENT, EVT_LE_META, plen, LE_ADVERTISING_REPORT, 1, r @ ..] = pkt else {
        return None;
    };
    if *plen as usize != pkt.len() - field::PARAMS {
        return None;
    }
    let len = *r.get(field::ADV_DATA_LEN)? as usize;
    if r.len() != field::ADV_FIXED + len {
        return None;
    }
    Some(legacy_report(r, len))
}

/// LE Extended Advertising Report (subevent 0x0D): all reports, checked on construction.
#[derive(Clone, Copy)]
pub struct ExtAdvReports<'a> {
    count: u8,
    reports: &'a [u8],
}

impl<'a> ExtAdvReports<'a> {
    pub fn new_checked(params: &'a [u8]) -> Result<Self, Error> {
        let count = *params.get(field::LE_NUM_REPORTS).ok_or(Error::Truncated)?;
        if count == 0 || count > 10 {
            return Err(Error::BadReportCount(count));
        }
        let reports = &params[field::LE_REPORTS..];
        let mut off = 0usize;
        for _ in 0..count {
            let len = *reports
                .get(off + field::EXT_DATA_LEN)
                .ok_or(Error::BadReport)? as usize;
            off += field::EXT_DATA + len;
            if off > reports.len() {
                return Err(Error::BadReport);
            }
        }
        if off != reports.len() {
            return Err(Error::BadReport);
        }
        Ok(ExtAdvReports { count, reports })
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn iter(&self) -> ExtAdvReportIter<'a> {
        ExtAdvReportIter {
            left: self.count,
            rest: self.reports,
        }
    }
}

pub struct ExtAdvReportIter<'a> {
    left: u8,
    rest: &'a [u8],
}

impl<'a> Iterator for ExtAdvReportIter<'a> {
    type Item = Report<'a>;
    fn next(&mut self) -> Option<Report<'a>> {
        if self.left == 0 {
            return None;
        }
        let r = self.rest;
        let len = *r.get(field::EXT_DATA_LEN)? as usize;
        let total = field::EXT_DATA + len;
        if r.len() < total {
            self.left = 0;
            return None;
        }
        self.left -= 1;
        self.rest = &r[total..];
        Some(ext_report(r, total))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// The extended report at the start of `r`, `total` bytes long (checked to fit).
#[inline]
fn ext_report(r: &[u8], total: usize) -> Report<'_> {
    let _ = (
        field::EXT_PERIODIC_INTERVAL,
        field::EXT_DIRECT_ADDR_TYPE,
        field::EXT_DIRECT_ADDR,
    );
    Report {
        event_type: u16::from_le_bytes([
            r[field::EXT_EVT_TYPE.start],
            r[field::EXT_EVT_TYPE.start + 1],
        ]),
        addr_type: r[field::EXT_ADDR_TYPE],
        addr: match r.get(field::EXT_ADDR.start..field::EXT_ADDR.end + 2) {
            Some(&[a, b, c, d, e, f, g, h]) => Addr::from_le_padded(&[a, b, c, d, e, f, g, h]),
            _ => Addr::from_le(&r[field::EXT_ADDR]),
        },
        rssi: rssi_opt(r[field::EXT_RSSI]),
        tx_power: rssi_opt(r[field::EXT_TX_POWER]),
        primary_phy: r[field::EXT_PRIMARY_PHY],
        secondary_phy: r[field::EXT_SECONDARY_PHY],
        sid: r[field::EXT_SID],
        data: &r[field::EXT_DATA..total],
    }
}

/// Like [`single_adv_report`] for an LE Extended Advertising Report event carrying one report.
#[inline]
pub fn single_ext_adv_report(pkt: &[u8]) -> Option<Report<'_>> {
    let [H4_EVENT, EVT_LE_META, plen, LE_EXTENDED_ADVERTISING_REPORT, 1, r @ ..] = pkt else {
        return None;
    };
    if *plen as usize != pkt.len() - field::PARAMS {
        return None;
    }
    let total = field::EXT_DATA + *r.get(field::EXT_DATA_LEN)? as usize;
    if r.len() != total {
        return None;
    }
    Some(ext_report(r, total))
}

/// Either report kind, for callers that only want reports.
#[derive(Clone, Copy)]
pub enum Reports<'a> {
    Legacy(AdvReports<'a>),
    Extended(ExtAdvReports<'a>),
}

impl<'a> Reports<'a> {
    pub fn iter(&self) -> ReportIter<'a> {
        match self {
            Reports::Legacy(r) => ReportIter::Legacy(r.iter()),
            Reports::Extended(r) => ReportIter::Extended(r.iter()),
        }
    }
}

pub enum ReportIter<'a> {
    Legacy(AdvReportIter<'a>),
    Extended(ExtAdvReportIter<'a>),
}

impl<'a> Iterator for ReportIter<'a> {
    type Item = Report<'a>;
    fn next(&mut self) -> Option<Report<'a>> {
        match self {
            ReportIter::Legacy(i) => i.next(),
            ReportIter::Extended(i) => i.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_from_padded_wire_bytes() {
        let b = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0xAB, 0xCD];
        assert_eq!(Addr::from_le_padded(&b), Addr::from_le(&b[..6]));
        assert_eq!(
            Addr::from_le_padded(&b),
            Addr([0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        );
    }

    /// Feeds `base` and 19,999 byte-level mutations of it to `fast` and `general`: both must
    /// accept the same packets and yield the same report. Returns how many were accepted.
    fn fast_path_agrees(
        base: &[u8],
        mut seed: u32,
        fast: for<'a> fn(&'a [u8]) -> Option<Report<'a>>,
        general: for<'a> fn(&'a [u8]) -> Option<Report<'a>>,
    ) -> usize {
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 8
        };
        let mut singles = 0;
        for n in 0..20_000 {
            let mut p = base.to_vec();
            if n > 0 {
                for _ in 0..1 + rnd() % 3 {
                    let i = rnd() as usize % p.len();
                    p[i] = if rnd() % 2 == 0 {
                        rnd() as u8
                    } else {
                        p[i] ^ 1
                    };
                }
                if rnd() % 8 == 0 {
                    p.truncate(rnd() as usize % p.len());
                }
            }
            match (fast(&p), general(&p)) {
                (Some(a), Some(b)) => {
                    assert_eq!(
                        (
                            a.event_type,
                            a.addr_type,
                            a.addr,
                            a.rssi,
                            a.tx_power,
                            a.data
                        ),
                        (
                            b.event_type,
                            b.addr_type,
                            b.addr,
                            b.rssi,
                            b.tx_power,
                            b.data
                        ),
                        "{p:02x?}"
                    );
                    assert_eq!(
                        (a.primary_phy, a.secondary_phy, a.sid),
                        (b.primary_phy, b.secondary_phy, b.sid),
                        "{p:02x?}"
                    );
                    singles += 1;
                }
                (None, None) => {}
                (f, g) => panic!(
                    "fast {:?} vs general {:?} for {p:02x?}",
                    f.is_some(),
                    g.is_some()
                ),
            }
        }
        singles
    }

    /// `single_adv_report` answers exactly when the general path finds one legacy report,
    /// with the same report, over valid events and byte-level mutations of them.
    #[test]
    fn single_report_fast_path_matches_general_path() {
        fn general(pkt: &[u8]) -> Option<Report<'_>> {
            match Event::new_checked(pkt).ok()?.kind().ok()? {
                EventKind::AdvReports(r) if r.len() == 1 => r.iter().next(),
                _ => None,
            }
        }
        let base = hex(
            "043e1a02010001112233445566 0e 0201060a0953656e736f72313233 c4"
                .replace(' ', "")
                .as_str(),
        );
        let singles = fast_path_agrees(&base, 0x1234_5678, single_adv_report, general);
        assert!(singles > 1000, "too few valid mutants: {singles}");
    }

    /// The same for `single_ext_adv_report`.
    #[test]
    fn single_ext_report_fast_path_matches_general_path() {
        fn general(pkt: &[u8]) -> Option<Report<'_>> {
            match Event::new_checked(pkt).ok()?.kind().ok()? {
                EventKind::ExtAdvReports(r) if r.len() == 1 => r.iter().next(),
                _ => None,
            }
        }
        // subevent 0x0D, 1 report: evt type 0x0013, addr type 0, addr, phys 1/0, sid ff,
        // tx 7f, rssi c4, interval 0, direct addr type 0 + addr, data len 3, data.
        let base = hex(
            &"043e1d 0d01 1300 00 112233445566 01 00 ff 7f c4 0000 00 000000000000 03 020106"
                .replace(' ', ""),
        );
        let singles = fast_path_agrees(&base, 0x0bad_cafe, single_ext_adv_report, general);
        assert!(singles > 1000, "too few valid mutants: {singles}");
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn emit_then_parse_gives_the_report_back() {
        // Re-emitting a parsed real event gives its bytes back.
        let real =
            hex("043e22020103013412b69009e01602010612ffc0ac916400160001000000000000000000c2");
        let r = single_adv_report(&real).unwrap();
        let mut out = Vec::new();
        r.emit(&mut out);
        assert_eq!(out, real);
        let long = [0x5Au8; 200];
        for legacy_type in 0u8..=4 {
            for data in [&long[..0], &long[..31], &long[..32], &long[..]] {
                let mut r = Report::adv_ind(Addr([1, 2, 3, 4, 5, 6]), -70, data);
                r.event_type = legacy_to_ext(legacy_type);
                r.tx_power = (data.len() > 31).then_some(-4);
                let mut out = Vec::new();
                r.emit(&mut out);
                let ev = Event::new_checked(&out).unwrap();
                let back: Vec<Report<'_>> = match ev.kind().unwrap() {
                    EventKind::AdvReports(x) => x.iter().collect(),
                    EventKind::ExtAdvReports(x) => x.iter().collect(),
                    _ => panic!("not a report: {out:02x?}"),
                };
                assert_eq!(back.len(), 1);
                let b = back[0];
                assert_eq!(
                    (b.event_type, b.addr, b.rssi, b.tx_power, b.data),
                    (r.event_type, r.addr, r.rssi, r.tx_power, data),
                    "type {legacy_type}, {} bytes",
                    data.len()
                );
                assert!(b.is_legacy());
                assert_eq!(out[3] == LE_ADVERTISING_REPORT, data.len() <= 31);
            }
        }
    }

    #[test]
    fn legacy_single_report() {
        let b = hex("043e22020103013412b69009e01602010612ffc0ac916400160001000000000000000000c2");
        let ev = Event::new_checked(&b).unwrap();
        let EventKind::AdvReports(r) = ev.kind().unwrap() else {
            panic!("kind")
        };
        let v: Vec<_> = r.iter().collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].addr.to_string(), "E0:09:90:B6:12:34");
        assert_eq!(v[0].rssi, Some(-62));
        assert_eq!(v[0].addr_type, 1);
        assert_eq!(v[0].data.len(), 0x16);
        assert!(v[0].is_legacy());
        assert_eq!(v[0].event_type, 0x0010); // ADV_NONCONN_IND
    }

    #[test]
    fn legacy_two_reports() {
        // two reports: (ADV_IND, 3 bytes data, rssi -10) then (SCAN_RSP, 0 bytes, rssi 127)
        let mut p = vec![0x02, 2];
        p.extend_from_slice(&[0, 0, 1, 2, 3, 4, 5, 6, 3, 2, 1, 6, 0xF6]);
        p.extend_from_slice(&[4, 1, 9, 9, 9, 9, 9, 9, 0, 0x7F]);
        let mut b = vec![0x04, 0x3E, p.len() as u8];
        b.extend_from_slice(&p);
        let ev = Event::new_checked(&b).unwrap();
        let EventKind::AdvReports(r) = ev.kind().unwrap() else {
            panic!()
        };
        let v: Vec<_> = r.iter().collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].addr.to_string(), "06:05:04:03:02:01");
        assert_eq!(v[0].data, &[2, 1, 6]);
        assert_eq!(v[0].rssi, Some(-10));
        assert_eq!(v[1].rssi, None);
        assert!(v[1].is_scan_response());
        // one byte short: typed error, not panic
        assert_eq!(
            Event::new_checked(&b[..b.len() - 1]).err(),
            Some(Error::LengthMismatch {
                declared: b[2] as usize,
                present: b.len() - 4
            })
        );
        let mut c = b.clone();
        c.pop();
        c[2] -= 1;
        assert_eq!(
            Event::new_checked(&c).unwrap().kind().err(),
            Some(Error::BadReport)
        );
    }

    #[test]
    fn extended_report() {
        let mut rep = vec![
            0x01, 0x00, 1, 1, 2, 3, 4, 5, 6, 1, 0, 0xFF, 0x7F, 0xCE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3,
            2, 1, 6,
        ];
        let mut p = vec![0x0D, 1];
        p.append(&mut rep);
        let mut b = vec![0x04, 0x3E, p.len() as u8];
        b.extend_from_slice(&p);
        let ev = Event::new_checked(&b).unwrap();
        let EventKind::ExtAdvReports(r) = ev.kind().unwrap() else {
            panic!()
        };
        let v: Vec<_> = r.iter().collect();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rssi, Some(-50));
        assert_eq!(v[0].tx_power, None);
        assert!(!v[0].is_legacy());
        assert!(v[0].is_connectable());
        assert_eq!(v[0].data_status(), DataStatus::Complete);
        assert_eq!(v[0].data, &[2, 1, 6]);
    }

    #[test]
    fn command_complete_and_status() {
        let b = hex("040e0401030c00");
        let EventKind::CommandComplete(cc) = Event::new_checked(&b).unwrap().kind().unwrap() else {
            panic!()
        };
        assert_eq!(cc.opcode(), 0x0C03);
        assert_eq!(cc.status(), Some(0));
        let b = hex("040f040c01 0c20".replace(' ', "").as_str());
        let EventKind::CommandStatus(cs) = Event::new_checked(&b).unwrap().kind().unwrap() else {
            panic!()
        };
        assert_eq!(cs.status(), 0x0C);
        assert_eq!(cs.opcode(), 0x200C);
        let b = hex("04100101");
        assert!(matches!(
            Event::new_checked(&b).unwrap().kind().unwrap(),
            EventKind::HardwareError(1)
        ));
    }

    #[test]
    fn addr_parse() {
        assert_eq!(
            Addr::parse("a4:c1:38:b4:94:4c").unwrap().to_string(),
            "A4:C1:38:B4:94:4C"
        );
        assert_eq!(
            Addr::parse("A4C138B4944C").unwrap().to_string(),
            "A4:C1:38:B4:94:4C"
        );
        assert!(Addr::parse("A4C138B4944").is_none());
        assert!(Addr::parse("zz:c1:38:b4:94:4c").is_none());
        assert_eq!(
            &Addr::parse("A4C138B4944C").unwrap().hex12(),
            b"a4c138b4944c"
        );
    }
}
