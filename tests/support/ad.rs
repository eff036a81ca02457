//! AD structures (Core Supplement Part A) and the advertising-report events that carry them.

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::hci::event::{legacy_to_ext, Report};

pub const FLAGS: u8 = 0x01;
pub const UUID16_COMPLETE: u8 = 0x03;
pub const UUID128_COMPLETE: u8 = 0x07;
pub const NAME_COMPLETE: u8 = 0x09;
pub const SERVICE_DATA16: u8 = 0x16;
pub const MANUFACTURER: u8 = 0xFF;

/// Appends one AD structure: length, type, body.
pub fn push(out: &mut Vec<u8>, ad_type: u8, body: &[u8]) {
    out.push(body.len() as u8 + 1);
    out.push(ad_type);
    out.extend_from_slice(body);
}

pub fn name(out: &mut Vec<u8>, name: &str) {
    push(out, NAME_COMPLETE, name.as_bytes());
}

/// 16-bit service data: UUID little-endian, then the data.
pub fn service_data16(out: &mut Vec<u8>, uuid: u16, data: &[u8]) {
    let mut body = uuid.to_le_bytes().to_vec();
    body.extend_from_slice(data);
    push(out, SERVICE_DATA16, &body);
}

/// Manufacturer-specific data: company id little-endian, then the data.
pub fn manufacturer(out: &mut Vec<u8>, company: u16, data: &[u8]) {
    let mut body = company.to_le_bytes().to_vec();
    body.extend_from_slice(data);
    push(out, MANUFACTURER, &body);
}

pub fn uuid16_list(out: &mut Vec<u8>, uuids: &[u16]) {
    let body: Vec<u8> = uuids.iter().flat_map(|u| u.to_le_bytes()).collect();
    push(out, UUID16_COMPLETE, &body);
}

pub fn uuid128_list(out: &mut Vec<u8>, uuids: &[[u8; 16]]) {
    push(out, UUID128_COMPLETE, &uuids.concat());
}

/// `0000fcd2-0000-1000-8000-00805f9b34fb` → its little-endian wire form.
pub fn uuid128_le(s: &str) -> Option<[u8; 16]> {
    let h: String = s.chars().filter(|c| *c != '-').collect();
    if h.len() != 32 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let b = super::hex::hex(&h);
    let mut out = [0u8; 16];
    for (o, x) in out.iter_mut().zip(b.iter().rev()) {
        *o = *x;
    }
    Some(out)
}

/// A 16-bit UUID written as `fcd2` or as the full Bluetooth-base form
/// `0000fcd2-0000-1000-8000-00805f9b34fb`.
pub fn uuid16(s: &str) -> Option<u16> {
    let short = match s.len() {
        4 => s,
        36 if s
            .to_ascii_lowercase()
            .ends_with("-0000-1000-8000-00805f9b34fb") =>
        {
            s.get(4..8)?
        }
        _ => return None,
    };
    u16::from_str_radix(short, 16).ok()
}

/// The H4 event of an ADV_IND from a public address (legacy when the data fits one, else
/// extended), built by the code that parses it.
pub fn event(addr: Addr, rssi: i8, ad: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    Report::adv_ind(addr, rssi, ad).emit(&mut out);
    out
}

/// Like [`event`] with the legacy PDU type (0 ADV_IND … 4 SCAN_RSP) and address type given.
pub fn event_typed(addr: Addr, addr_type: u8, pdu: u8, rssi: i8, ad: &[u8]) -> Vec<u8> {
    let mut r = Report::adv_ind(addr, rssi, ad);
    r.addr_type = addr_type;
    r.event_type = legacy_to_ext(pdu);
    let mut out = Vec::new();
    r.emit(&mut out);
    out
}
