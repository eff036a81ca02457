//! Per-device state is bounded: a flood of adverts from ever-new random addresses (phones
//! rotate addresses) must not grow memory. 1 M MiBeacon-shaped adverts from 1 M addresses go
//! through the pipeline; the device table stays at its cap, evictions are counted, and the
//! process's resident memory does not grow with the number of addresses.

use hci2mqtt::decode::KeyStore;
use hci2mqtt::pipeline::{Options, Pipeline};
use hci2mqtt::Reading;

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

/// A legacy LE Advertising Report event carrying an (encrypted, v5) MiBeacon frame from `addr`.
fn mibeacon_event(addr: [u8; 6], counter: u8, out: &mut Vec<u8>) {
    // MiBeacon v5, encrypted + object + MAC-less: frame control 0x5858, product 0x055B.
    let svc: [u8; 20] = [
        0x95, 0xFE, 0x58, 0x58, 0x5B, 0x05, counter, 0xD6, 0x1E, 0x94, 0x6A, 0x1F, 0x00, 0x00,
        0x00, 0x3A, 0x3C, 0xA3, 0x0D, 0xEE,
    ];
    let ad_len = 2 + svc.len(); // len byte + type byte + svc
    out.clear();
    out.extend_from_slice(&[0x04, 0x3E, 0, 0x02, 1, 0x00, 0x01]);
    out.extend(addr.iter().rev());
    out.push(ad_len as u8);
    out.push(svc.len() as u8 + 1);
    out.push(0x16);
    out.extend_from_slice(&svc);
    out.push(0xC0); // rssi -64
    out[2] = (out.len() - 3) as u8;
}

#[derive(Default)]
struct Count(u64);
impl hci2mqtt::Sink for Count {
    fn reading(&mut self, _r: &Reading) {
        self.0 += 1;
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
    let mut ev = Vec::with_capacity(64);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rss_at_100k = 0;
    let n = 1_000_000u64;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        let addr = [b[0] | 0xC0, b[1], b[2], b[3], b[4], b[5]]; // static random address
        mibeacon_event(addr, i as u8, &mut ev);
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
