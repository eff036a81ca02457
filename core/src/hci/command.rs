//! HCI command encoding (Core 5.x Vol 4 Part E 7.3/7.4/7.8): the few commands scan setup uses.
//!
//! Opcodes are named once, in [`opcode`]. A [`Command`] encodes into a fixed stack buffer
//! ([`Packet`]) in H4 form (`01 | opcode le16 | plen | params`), ready for a UART, a TCP peer or,
//! the same bytes, a raw HCI socket. Nothing here allocates.

use core::fmt;

/// H4 packet type of an HCI command.
pub const H4_COMMAND: u8 = 0x01;

/// Opcodes (OGF << 10 | OCF), named in one place.
pub mod opcode {
    /// Controller & Baseband (OGF 0x03).
    pub const SET_EVENT_MASK: u16 = 0x0C01;
    pub const RESET: u16 = 0x0C03;
    /// Informational (OGF 0x04).
    pub const READ_LOCAL_SUPPORTED_COMMANDS: u16 = 0x1002;
    /// LE Controller (OGF 0x08).
    pub const LE_SET_EVENT_MASK: u16 = 0x2001;
    pub const LE_READ_LOCAL_SUPPORTED_FEATURES: u16 = 0x2003;
    pub const LE_SET_SCAN_PARAMETERS: u16 = 0x200B;
    pub const LE_SET_SCAN_ENABLE: u16 = 0x200C;
    pub const LE_SET_EXTENDED_SCAN_PARAMETERS: u16 = 0x2041;
    pub const LE_SET_EXTENDED_SCAN_ENABLE: u16 = 0x2042;

    /// Human name for logs.
    pub fn name(op: u16) -> &'static str {
        match op {
            SET_EVENT_MASK => "Set Event Mask",
            RESET => "Reset",
            READ_LOCAL_SUPPORTED_COMMANDS => "Read Local Supported Commands",
            LE_SET_EVENT_MASK => "LE Set Event Mask",
            LE_READ_LOCAL_SUPPORTED_FEATURES => "LE Read Local Supported Features",
            LE_SET_SCAN_PARAMETERS => "LE Set Scan Parameters",
            LE_SET_SCAN_ENABLE => "LE Set Scan Enable",
            LE_SET_EXTENDED_SCAN_PARAMETERS => "LE Set Extended Scan Parameters",
            LE_SET_EXTENDED_SCAN_ENABLE => "LE Set Extended Scan Enable",
            _ => "unknown command",
        }
    }
}

/// HCI status codes the scan setup looks at (Core Vol 1 Part F).
pub mod status {
    pub const SUCCESS: u8 = 0x00;
    pub const UNKNOWN_COMMAND: u8 = 0x01;
    pub const COMMAND_DISALLOWED: u8 = 0x0C;
    pub const INVALID_PARAMETERS: u8 = 0x12;
    pub const UNSUPPORTED_FEATURE: u8 = 0x11;

    pub fn name(s: u8) -> &'static str {
        match s {
            SUCCESS => "Success",
            UNKNOWN_COMMAND => "Unknown HCI Command",
            COMMAND_DISALLOWED => "Command Disallowed",
            UNSUPPORTED_FEATURE => "Unsupported Feature or Parameter Value",
            INVALID_PARAMETERS => "Invalid HCI Command Parameters",
            _ => "error",
        }
    }
}

/// Event Mask with LE Meta (bit 61) on top of the controller default `0x00001FFFFFFFFFFF`
/// (which leaves LE Meta off). Command Complete/Status are delivered regardless of the mask.
pub const EVENT_MASK: u64 = 0x0000_1FFF_FFFF_FFFF | (1 << 61);
/// LE Event Mask: subevent n is bit n-1. Advertising Report (0x02) and Extended Advertising
/// Report (0x0D); the default 0x1F leaves 0x0D off, so extended scanning would be silent.
pub const LE_EVENT_MASK: u64 = (1 << (0x02 - 1)) | (1 << (0x0D - 1));

/// Supported-commands octet and bits (Read Local Supported Commands) for LE Set Extended Scan
/// Parameters (bit 5) and Enable (bit 6): the kernel's `use_ext_scan()` test.
pub const EXT_SCAN_COMMANDS_OCTET: usize = 37;
pub const EXT_SCAN_COMMANDS_BITS: u8 = 0x60;
/// LE feature bit 12, LE Extended Advertising (octet 1, bit 4).
pub const LE_FEATURE_EXT_ADV_OCTET: usize = 1;
pub const LE_FEATURE_EXT_ADV_BIT: u8 = 0x10;

/// Scan interval / window in 0.625 ms units.
pub const SCAN_UNIT_US: u32 = 625;
pub const SCAN_INTERVAL_MIN: u16 = 0x0004;
/// Legacy limit; the extended command allows up to 0xFFFF.
pub const SCAN_INTERVAL_MAX: u16 = 0x4000;

/// Converts milliseconds to 0.625 ms units, clamped to the legacy range (valid for both).
pub fn ms_to_units(ms: f64) -> u16 {
    if !ms.is_finite() {
        return SCAN_INTERVAL_MIN;
    }
    let u = (ms * 1000.0 / SCAN_UNIT_US as f64).round();
    u.clamp(SCAN_INTERVAL_MIN as f64, SCAN_INTERVAL_MAX as f64) as u16
}

/// Scan parameters shared by the legacy and extended commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScanParams {
    /// Active scanning sends scan requests (scan responses carry Govee/SwitchBot data).
    pub active: bool,
    /// 0.625 ms units.
    pub interval: u16,
    /// 0.625 ms units, ≤ interval.
    pub window: u16,
}

impl Default for ScanParams {
    /// Passive, 10 ms interval = window: listens all the time (as aioblescan and BlueZ do).
    fn default() -> Self {
        ScanParams {
            active: false,
            interval: 0x0010,
            window: 0x0010,
        }
    }
}

impl ScanParams {
    /// From config milliseconds; the window is clamped to the interval.
    pub fn from_ms(active: bool, interval_ms: Option<f64>, window_ms: Option<f64>) -> ScanParams {
        let d = ScanParams::default();
        let interval = interval_ms.map(ms_to_units).unwrap_or(d.interval);
        let window = window_ms.map(ms_to_units).unwrap_or(interval).min(interval);
        ScanParams {
            active,
            interval,
            window,
        }
    }
}

/// The commands hci2mqtt sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Reset,
    SetEventMask(u64),
    LeSetEventMask(u64),
    ReadLocalSupportedCommands,
    LeReadLocalSupportedFeatures,
    LeSetScanParameters(ScanParams),
    /// Enable flag; controller duplicate filtering is always off (repeated readings must arrive).
    LeSetScanEnable(bool),
    /// 1M PHY only.
    LeSetExtendedScanParameters(ScanParams),
    /// Enable flag; duplicates off, duration 0 (until disabled), period 0.
    LeSetExtendedScanEnable(bool),
}

/// Own address type: public. Filter policy: accept all (0).
const OWN_ADDR_PUBLIC: u8 = 0x00;
const FILTER_ACCEPT_ALL: u8 = 0x00;
const PHY_1M: u8 = 0x01;
const FILTER_DUPLICATES_OFF: u8 = 0x00;

/// Largest encoding: Set Event Mask = 4 + 8 bytes.
pub const MAX_COMMAND_LEN: usize = 16;

/// An encoded command (H4 type byte first).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    buf: [u8; MAX_COMMAND_LEN],
    len: u8,
}

impl Packet {
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

struct Enc {
    p: Packet,
}

impl Enc {
    fn new(op: u16) -> Enc {
        let mut p = Packet {
            buf: [0; MAX_COMMAND_LEN],
            len: 4,
        };
        p.buf[0] = H4_COMMAND;
        p.buf[1..3].copy_from_slice(&op.to_le_bytes());
        Enc { p }
    }
    fn u8(mut self, v: u8) -> Enc {
        self.p.buf[self.p.len as usize] = v;
        self.p.len += 1;
        self
    }
    fn u16(self, v: u16) -> Enc {
        let [a, b] = v.to_le_bytes();
        self.u8(a).u8(b)
    }
    fn u64(mut self, v: u64) -> Enc {
        for b in v.to_le_bytes() {
            self = self.u8(b);
        }
        self
    }
    fn done(mut self) -> Packet {
        self.p.buf[3] = self.p.len - 4;
        self.p
    }
}

impl Command {
    pub fn opcode(&self) -> u16 {
        match self {
            Command::Reset => opcode::RESET,
            Command::SetEventMask(_) => opcode::SET_EVENT_MASK,
            Command::LeSetEventMask(_) => opcode::LE_SET_EVENT_MASK,
            Command::ReadLocalSupportedCommands => opcode::READ_LOCAL_SUPPORTED_COMMANDS,
            Command::LeReadLocalSupportedFeatures => opcode::LE_READ_LOCAL_SUPPORTED_FEATURES,
            Command::LeSetScanParameters(_) => opcode::LE_SET_SCAN_PARAMETERS,
            Command::LeSetScanEnable(_) => opcode::LE_SET_SCAN_ENABLE,
            Command::LeSetExtendedScanParameters(_) => opcode::LE_SET_EXTENDED_SCAN_PARAMETERS,
            Command::LeSetExtendedScanEnable(_) => opcode::LE_SET_EXTENDED_SCAN_ENABLE,
        }
    }

    pub fn name(&self) -> &'static str {
        opcode::name(self.opcode())
    }

    /// H4 encoding.
    pub fn encode(&self) -> Packet {
        let e = Enc::new(self.opcode());
        match *self {
            Command::Reset
            | Command::ReadLocalSupportedCommands
            | Command::LeReadLocalSupportedFeatures => e.done(),
            Command::SetEventMask(m) | Command::LeSetEventMask(m) => e.u64(m).done(),
            Command::LeSetScanParameters(p) => e
                .u8(p.active as u8)
                .u16(p.interval)
                .u16(p.window)
                .u8(OWN_ADDR_PUBLIC)
                .u8(FILTER_ACCEPT_ALL)
                .done(),
            Command::LeSetScanEnable(on) => e.u8(on as u8).u8(FILTER_DUPLICATES_OFF).done(),
            Command::LeSetExtendedScanParameters(p) => e
                .u8(OWN_ADDR_PUBLIC)
                .u8(FILTER_ACCEPT_ALL)
                .u8(PHY_1M)
                .u8(p.active as u8)
                .u16(p.interval)
                .u16(p.window)
                .done(),
            Command::LeSetExtendedScanEnable(on) => e
                .u8(on as u8)
                .u8(FILTER_DUPLICATES_OFF)
                .u16(0)
                .u16(0)
                .done(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(p: Packet) -> String {
        format!("{p:?}")
    }

    #[test]
    fn encodings_match_the_spec_and_aioblescan() {
        // Reference bytes: aioblescan's own encoders (see notes) and Core Vol 4 Part E.
        assert_eq!(hex(Command::Reset.encode()), "01 03 0c 00");
        assert_eq!(
            hex(Command::ReadLocalSupportedCommands.encode()),
            "01 02 10 00"
        );
        assert_eq!(
            hex(Command::LeReadLocalSupportedFeatures.encode()),
            "01 03 20 00"
        );
        let p = ScanParams::default();
        assert_eq!(
            hex(Command::LeSetScanParameters(p).encode()),
            "01 0b 20 07 00 10 00 10 00 00 00"
        );
        assert_eq!(
            hex(Command::LeSetScanEnable(true).encode()),
            "01 0c 20 02 01 00"
        );
        assert_eq!(
            hex(Command::LeSetScanEnable(false).encode()),
            "01 0c 20 02 00 00"
        );
        assert_eq!(
            hex(Command::LeSetExtendedScanParameters(p).encode()),
            "01 41 20 08 00 00 01 00 10 00 10 00"
        );
        assert_eq!(
            hex(Command::LeSetExtendedScanEnable(true).encode()),
            "01 42 20 06 01 00 00 00 00 00"
        );
        assert_eq!(
            hex(Command::LeSetExtendedScanEnable(false).encode()),
            "01 42 20 06 00 00 00 00 00 00"
        );
        let active = ScanParams {
            active: true,
            interval: 0x00A0,
            window: 0x0050,
        };
        assert_eq!(
            hex(Command::LeSetScanParameters(active).encode()),
            "01 0b 20 07 01 a0 00 50 00 00 00"
        );
    }

    #[test]
    fn event_masks() {
        assert_eq!(
            hex(Command::SetEventMask(EVENT_MASK).encode()),
            "01 01 0c 08 ff ff ff ff ff 1f 00 20"
        );
        // LE subevents 0x02 (bit 1) and 0x0D (bit 12).
        assert_eq!(LE_EVENT_MASK, 0x1002);
        assert_eq!(
            hex(Command::LeSetEventMask(LE_EVENT_MASK).encode()),
            "01 01 20 08 02 10 00 00 00 00 00 00"
        );
    }

    #[test]
    fn plen_matches_params() {
        for c in [
            Command::Reset,
            Command::SetEventMask(1),
            Command::LeSetScanParameters(ScanParams::default()),
            Command::LeSetExtendedScanEnable(true),
        ] {
            let p = c.encode();
            assert_eq!(p.as_bytes()[3] as usize, p.as_bytes().len() - 4, "{c:?}");
            assert_eq!(
                u16::from_le_bytes([p.as_bytes()[1], p.as_bytes()[2]]),
                c.opcode()
            );
        }
    }

    #[test]
    fn ms_conversion_and_clamping() {
        assert_eq!(ms_to_units(10.0), 16);
        assert_eq!(ms_to_units(100.0), 160);
        assert_eq!(ms_to_units(0.0), SCAN_INTERVAL_MIN);
        assert_eq!(ms_to_units(1e9), SCAN_INTERVAL_MAX);
        assert_eq!(ms_to_units(f64::NAN), SCAN_INTERVAL_MIN);
        let p = ScanParams::from_ms(true, Some(100.0), Some(200.0));
        assert_eq!((p.active, p.interval, p.window), (true, 160, 160));
        let p = ScanParams::from_ms(false, Some(100.0), Some(50.0));
        assert_eq!((p.interval, p.window), (160, 80));
        assert_eq!(
            ScanParams::from_ms(false, None, None),
            ScanParams::default()
        );
    }
}
