//! Per-device state is bounded: a flood of adverts from ever-new random addresses (phones
//! rotate addresses) must not grow memory. 1 M MiBeacon-shaped adverts from 1 M addresses go
//! through the pipeline; the device table stays at its cap, evictions are counted, and the
//! process's resident memory does not grow with the number of addresses.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::KeyStore;
use hci2mqtt_core::pipeline::{Options, Pipeline};
use support::ad;
use support::rng::Rng;

fn vm_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// An ADV_IND from `addr` (random address) carrying an encrypted MiBeacon v5 frame.
fn mibeacon_event(addr: Addr, counter: u8) -> Vec<u8> {
    // MiBeacon v5, encrypted + object + MAC-less: frame control 0x5858, product 0x055B.
    let frame: [u8; 18] = [
        0x58, 0x58, 0x5B, 0x05, counter, 0xD6, 0x1E, 0x94, 0x6A, 0x1F, 0x00, 0x00, 0x00, 0x3A,
        0x3C, 0xA3, 0x0D, 0xEE,
    ];
    let mut data = Vec::with_capacity(22);
    ad::service_data16(&mut data, 0xFE95, &frame);
    ad::event_typed(addr, 0x01, 0x00, -64, &data)
}

#[derive(Default)]
struct Count(u64);
impl hci2mqtt_core::Sink for Count {
    fn outcome(&mut self, _seen: &hci2mqtt_core::Seen<'_>, o: hci2mqtt_core::Outcome<'_>) {
        if let hci2mqtt_core::Outcome::Decoded(_) = o {
            self.0 += 1;
        }
    }
}

#[test]
fn million_random_addresses_stay_bounded() {
    let cap = 4096;
    let mut p = Pipeline::new(
        KeyStore::new(),
        Options {
            device_cap: cap,
            ..Options::default()
        },
    );
    let mut sink = Count::default();
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let mut rss_at_100k = 0;
    let n = 1_000_000u64;
    for i in 0..n {
        let b = rng.next().to_le_bytes();
        // A static random address: the two most significant bits set.
        let addr = Addr([b[0] | 0xC0, b[1], b[2], b[3], b[4], b[5]]);
        let ev = mibeacon_event(addr, i as u8);
        p.handle_packet(&ev, &mut sink);
        if i == 100_000 {
            rss_at_100k = vm_rss_kb();
        }
    }
    let s = p.stats();
    assert_eq!(s.packets, n);
    assert_eq!(s.reports, n, "every event parsed: {s:?}");
    assert_eq!(p.devices().len(), cap);
    assert!(
        s.evicted >= n - cap as u64 - 100,
        "evictions counted: {}",
        s.evicted
    );
    let rss_end = vm_rss_kb();
    // After the table filled (well before 100k), memory must not grow with more addresses.
    assert!(
        rss_end <= rss_at_100k + 1024,
        "RSS grew from {rss_at_100k} kB at 100k adverts to {rss_end} kB at 1M"
    );
}

/// The pipeline flags a reading whose sensor address is private (rotating), so the publisher
/// does not discover a new device each time a phone's iBeacon app changes address; a random
/// static address and a public one are not flagged.
#[test]
fn private_addresses_are_flagged_on_readings() {
    // An iBeacon (Apple company id, 0x02 0x15, UUID, major, minor, power).
    let mut mfr = vec![0x02, 0x15];
    mfr.extend_from_slice(&[0x11; 16]);
    mfr.extend_from_slice(&[0, 1, 0, 2, 0xC5]);
    let mut data = Vec::new();
    ad::manufacturer(&mut data, 0x004C, &mfr);
    for (addr, addr_type, private) in [
        ([0x5A, 1, 2, 3, 4, 5], 1u8, true), // resolvable private
        ([0x1A, 1, 2, 3, 4, 6], 1, true),   // non-resolvable private
        ([0xDA, 1, 2, 3, 4, 7], 1, false),  // random static
        ([0x5A, 1, 2, 3, 4, 8], 0, false),  // public
    ] {
        let mut p = Pipeline::new(KeyStore::new(), Options::default());
        let ev = ad::event_typed(Addr(addr), addr_type, 0x00, -60, &data);
        let mut got = None;
        p.handle_packet(&ev, &mut |r: &hci2mqtt_core::decode::Reading| {
            got = Some(r.private_address)
        });
        assert_eq!(got, Some(private), "{addr:02x?} type {addr_type}");
    }
}
