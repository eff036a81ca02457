//! The Linux kernel's Bluetooth management interface (BlueZ `doc/mgmt-api.txt`), the few
//! messages hci2mqtt uses to let the kernel scan for it instead of configuring the controller
//! behind bluetoothd's back: Read Controller Information (is LE on, is it powered?), Add
//! Advertisement Patterns Monitor (while a monitor exists the kernel keeps a passive scan running
//! with the duplicate filter off, and every raw HCI socket sees its reports) and Remove
//! Advertisement Monitor.
//!
//! Every message is `opcode le16 | controller index le16 | parameter length le16 | parameters`.
//! [`Command`] encodes into a fixed buffer; [`Event::new_checked`] is a checked view over what the
//! control socket returns. Offsets are named once here; nothing allocates.

/// Header: opcode, index, parameter length.
pub const HEADER_LEN: usize = 6;
/// "No controller" index (commands addressed to the interface itself).
pub const INDEX_NONE: u16 = 0xFFFF;

/// Command opcodes.
pub mod opcode {
    pub const READ_CONTROLLER_INFO: u16 = 0x0004;
    pub const ADD_ADV_PATTERNS_MONITOR: u16 = 0x0052;
    pub const REMOVE_ADV_MONITOR: u16 = 0x0053;
}

/// Event codes.
pub mod event_code {
    pub const COMMAND_COMPLETE: u16 = 0x0001;
    pub const COMMAND_STATUS: u16 = 0x0002;
}

/// Current-settings bits of Read Controller Information.
pub mod setting {
    pub const POWERED: u32 = 1 << 0;
    pub const LE: u32 = 1 << 9;
}

/// Management status codes (mgmt-api.txt, "Command Complete Event").
pub mod status {
    pub const SUCCESS: u8 = 0x00;
    pub const UNKNOWN_COMMAND: u8 = 0x01;
    pub const BUSY: u8 = 0x0A;
    pub const NOT_SUPPORTED: u8 = 0x0C;
    pub const INVALID_PARAMETERS: u8 = 0x0D;
    pub const NOT_POWERED: u8 = 0x0F;
    pub const INVALID_INDEX: u8 = 0x11;
    pub const PERMISSION_DENIED: u8 = 0x14;

    pub fn name(s: u8) -> &'static str {
        match s {
            SUCCESS => "Success",
            UNKNOWN_COMMAND => "Unknown Command",
            BUSY => "Busy",
            NOT_SUPPORTED => "Not Supported",
            INVALID_PARAMETERS => "Invalid Parameters",
            NOT_POWERED => "Not Powered",
            INVALID_INDEX => "Invalid Index",
            PERMISSION_DENIED => "Permission Denied",
            _ => "error",
        }
    }
}

/// One pattern of an advertisement monitor: `AD_Type | Offset | Length | Value[31]`.
const PATTERN_LEN: usize = 34;
/// Largest value of a pattern (the legacy AD data length).
pub const PATTERN_VALUE_MAX: usize = 31;

/// Read Controller Information reply: `address[6] | version | manufacturer[2] |
/// supported_settings[4] | current_settings[4] | class[3] | name[249] | short_name[11]`.
mod info {
    pub const CURRENT_SETTINGS: usize = 13;
    pub const MIN_LEN: usize = CURRENT_SETTINGS + 4;
}

/// A pattern the monitor matches: AD structure type, offset in its data, bytes there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pattern<'a> {
    pub ad_type: u8,
    pub offset: u8,
    pub value: &'a [u8],
}

/// The pattern hci2mqtt registers. The kernel does not filter the reports raw sockets receive
/// by it (without controller offload it only filters its own Device Found events), so any valid
/// pattern keeps the passive scan on; this one names the Flags structure of a general
/// discoverable LE-only device, which is what most sensors send.
pub const MONITOR_PATTERN: Pattern<'static> = Pattern {
    ad_type: 0x01,
    offset: 0,
    value: &[0x06],
};

/// The commands hci2mqtt sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command<'a> {
    ReadControllerInfo { index: u16 },
    AddPatternsMonitor { index: u16, pattern: Pattern<'a> },
    RemoveMonitor { index: u16, handle: u16 },
}

/// An encoded command: a fixed buffer and its length.
#[derive(Clone, Copy, Debug)]
pub struct Packet {
    buf: [u8; HEADER_LEN + 1 + PATTERN_LEN],
    len: usize,
}

impl Packet {
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// A command whose parameters cannot be encoded (a pattern longer than 31 bytes, or one that
/// would reach past the 31 bytes of AD data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPattern;

impl<'a> Command<'a> {
    pub fn opcode(&self) -> u16 {
        match self {
            Command::ReadControllerInfo { .. } => opcode::READ_CONTROLLER_INFO,
            Command::AddPatternsMonitor { .. } => opcode::ADD_ADV_PATTERNS_MONITOR,
            Command::RemoveMonitor { .. } => opcode::REMOVE_ADV_MONITOR,
        }
    }

    pub fn encode(&self) -> Result<Packet, BadPattern> {
        let mut p = Packet {
            buf: [0; HEADER_LEN + 1 + PATTERN_LEN],
            len: HEADER_LEN,
        };
        let index = match *self {
            Command::ReadControllerInfo { index } => index,
            Command::AddPatternsMonitor { index, pattern } => {
                let n = pattern.value.len();
                if n == 0
                    || n > PATTERN_VALUE_MAX
                    || pattern.offset as usize + n > PATTERN_VALUE_MAX
                {
                    return Err(BadPattern);
                }
                let b = &mut p.buf[HEADER_LEN..];
                b[0] = 1; // Pattern_Count
                b[1] = pattern.ad_type;
                b[2] = pattern.offset;
                b[3] = n as u8;
                b[4..4 + n].copy_from_slice(pattern.value);
                p.len += 1 + PATTERN_LEN;
                index
            }
            Command::RemoveMonitor { index, handle } => {
                p.buf[HEADER_LEN..HEADER_LEN + 2].copy_from_slice(&handle.to_le_bytes());
                p.len += 2;
                index
            }
        };
        let plen = (p.len - HEADER_LEN) as u16;
        p.buf[0..2].copy_from_slice(&self.opcode().to_le_bytes());
        p.buf[2..4].copy_from_slice(&index.to_le_bytes());
        p.buf[4..6].copy_from_slice(&plen.to_le_bytes());
        Ok(p)
    }
}

/// A management message that is shorter than its header or its declared length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncated;

/// A checked view over one management event.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    bytes: &'a [u8],
}

/// What an event says about a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// Command Complete: opcode, status, return parameters.
    Complete {
        opcode: u16,
        status: u8,
        params: &'a [u8],
    },
    /// Command Status (a failure without return parameters).
    Status { opcode: u16, status: u8 },
}

impl<'a> Event<'a> {
    /// Checks that the header is whole and the declared parameters are present.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Event<'a>, Truncated> {
        if bytes.len() < HEADER_LEN {
            return Err(Truncated);
        }
        let plen = u16::from_le_bytes([bytes[4], bytes[5]]) as usize;
        if bytes.len() < HEADER_LEN + plen {
            return Err(Truncated);
        }
        Ok(Event {
            bytes: &bytes[..HEADER_LEN + plen],
        })
    }

    pub fn code(&self) -> u16 {
        u16::from_le_bytes([self.bytes[0], self.bytes[1]])
    }

    pub fn index(&self) -> u16 {
        u16::from_le_bytes([self.bytes[2], self.bytes[3]])
    }

    pub fn params(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..]
    }

    /// The command reply this event carries, if it is one (and whole).
    pub fn reply(&self) -> Option<Reply<'a>> {
        let p = self.params();
        if p.len() < 3 {
            return None;
        }
        let opcode = u16::from_le_bytes([p[0], p[1]]);
        let status = p[2];
        match self.code() {
            event_code::COMMAND_COMPLETE => Some(Reply::Complete {
                opcode,
                status,
                params: &p[3..],
            }),
            event_code::COMMAND_STATUS => Some(Reply::Status { opcode, status }),
            _ => None,
        }
    }
}

/// The current settings in a Read Controller Information reply.
pub fn current_settings(info: &[u8]) -> Option<u32> {
    if info.len() < info::MIN_LEN {
        return None;
    }
    let s = &info[info::CURRENT_SETTINGS..info::CURRENT_SETTINGS + 4];
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The monitor handle in an Add / Remove Advertisement Monitor reply.
pub fn monitor_handle(params: &[u8]) -> Option<u16> {
    match params {
        [a, b, ..] => Some(u16::from_le_bytes([*a, *b])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_have_the_documented_layout() {
        let p = Command::ReadControllerInfo { index: 1 }.encode().unwrap();
        assert_eq!(p.as_bytes(), &[0x04, 0x00, 0x01, 0x00, 0x00, 0x00]);
        let p = Command::RemoveMonitor {
            index: 0,
            handle: 0x0102,
        }
        .encode()
        .unwrap();
        assert_eq!(p.as_bytes(), &[0x53, 0x00, 0, 0, 2, 0, 0x02, 0x01]);
        let p = Command::AddPatternsMonitor {
            index: 2,
            pattern: MONITOR_PATTERN,
        }
        .encode()
        .unwrap();
        let b = p.as_bytes();
        // Header + Pattern_Count + one 34-byte pattern (the kernel checks this exact size).
        assert_eq!(b.len(), 6 + 1 + 34);
        assert_eq!(&b[..6], &[0x52, 0x00, 2, 0, 35, 0]);
        assert_eq!(&b[6..11], &[1, 0x01, 0, 1, 0x06]);
        assert!(b[11..].iter().all(|&x| x == 0));
    }

    #[test]
    fn patterns_the_kernel_would_refuse_are_refused_here() {
        let long = [0u8; 32];
        for pattern in [
            Pattern {
                ad_type: 0x16,
                offset: 0,
                value: &[],
            },
            Pattern {
                ad_type: 0x16,
                offset: 0,
                value: &long,
            },
            Pattern {
                ad_type: 0x16,
                offset: 30,
                value: &[1, 2],
            },
        ] {
            assert_eq!(
                Command::AddPatternsMonitor { index: 0, pattern }
                    .encode()
                    .err(),
                Some(BadPattern)
            );
        }
    }

    #[test]
    fn replies_are_checked_views() {
        // Command Complete for Add Advertisement Patterns Monitor, handle 7, on hci0.
        let cc = [0x01, 0x00, 0, 0, 5, 0, 0x52, 0x00, 0x00, 7, 0];
        let ev = Event::new_checked(&cc).unwrap();
        assert_eq!(ev.index(), 0);
        let Some(Reply::Complete {
            opcode,
            status,
            params,
        }) = ev.reply()
        else {
            panic!("not a reply")
        };
        assert_eq!((opcode, status), (opcode::ADD_ADV_PATTERNS_MONITOR, 0));
        assert_eq!(monitor_handle(params), Some(7));
        let cs = [
            0x02,
            0x00,
            0,
            0,
            3,
            0,
            0x52,
            0x00,
            status::PERMISSION_DENIED,
        ];
        assert_eq!(
            Event::new_checked(&cs).unwrap().reply(),
            Some(Reply::Status {
                opcode: opcode::ADD_ADV_PATTERNS_MONITOR,
                status: status::PERMISSION_DENIED
            })
        );
        // Declared length past the end; another event; too short a reply.
        assert_eq!(Event::new_checked(&cc[..10]).err(), Some(Truncated));
        assert_eq!(Event::new_checked(&[1, 0, 0]).err(), Some(Truncated));
        let added = [0x2B, 0x00, 0, 0, 2, 0, 7, 0];
        assert_eq!(Event::new_checked(&added).unwrap().reply(), None);
        assert_eq!(
            Event::new_checked(&[1, 0, 0, 0, 2, 0, 0x52, 0])
                .unwrap()
                .reply(),
            None
        );
    }

    #[test]
    fn controller_settings_are_read_at_their_offset() {
        let mut info = [0u8; 280];
        info[13..17].copy_from_slice(&(setting::POWERED | setting::LE).to_le_bytes());
        assert_eq!(
            current_settings(&info),
            Some(setting::POWERED | setting::LE)
        );
        assert_eq!(current_settings(&info[..16]), None);
        assert_eq!(monitor_handle(&[1]), None);
    }
}
