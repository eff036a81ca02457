//! A byte stream, split into chunks at points the input chooses, through the H4 deframer.
//! Every packet must be whole by its own header, and chunking must not change what comes out
//! (resync decisions only look at buffered bytes, never at read boundaries).
#![no_main]
use hci2mqtt_core::hci::h4::{Deframer, H4_ACL, H4_EVENT, H4_ISO, H4_SCO};
use libfuzzer_sys::fuzz_target;

/// Total length a packet's own header claims.
fn claimed_len(p: &[u8]) -> usize {
    match p[0] {
        H4_EVENT => 3 + p[2] as usize,
        H4_SCO => 4 + p[3] as usize,
        H4_ACL => 5 + u16::from_le_bytes([p[3], p[4]]) as usize,
        H4_ISO => 5 + (u16::from_le_bytes([p[3], p[4]]) & 0x3FFF) as usize,
        t => panic!("packet of type {t:#04x}"),
    }
}

fn drain(d: &mut Deframer, out: &mut Vec<Vec<u8>>) {
    while let Some(p) = d.next_packet() {
        assert_eq!(p.len(), claimed_len(p), "{p:02x?}");
        out.push(p.to_vec());
    }
}

fuzz_target!(|data: &[u8]| {
    // First byte: chunk-size seed; the rest is the stream.
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    // One `push` of it all must fit the deframer's 16 KiB buffer, or the oldest bytes drop.
    let stream = &stream[..stream.len().min(8192)];
    let mut whole = Deframer::new();
    let mut expect = Vec::new();
    whole.push(stream);
    drain(&mut whole, &mut expect);

    let mut chunked = Deframer::new();
    let mut got = Vec::new();
    let mut rest = stream;
    let mut x = u32::from(seed) | 1;
    while !rest.is_empty() {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        let n = ((x >> 16) as usize % 64 + 1).min(rest.len());
        chunked.push(&rest[..n]);
        drain(&mut chunked, &mut got);
        rest = &rest[n..];
    }
    assert_eq!(got, expect);
    assert_eq!(chunked.stats, whole.stats);
    assert_eq!(chunked.buffered(), whole.buffered());
});
