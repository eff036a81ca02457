//! Matching and decoding do not allocate, for every format: every advert of every corpus
//! vector (with the vectors' keys) is claimed and decoded 1000 times under a counting
//! allocator, and the allocations made inside `claim` + `decode` must stay zero.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Reading};
use support::alloc::{allocations_in, Counting};
use support::vectors;

#[global_allocator]
static A: Counting = Counting;

#[test]
fn claim_and_decode_do_not_allocate() {
    let mut keys = KeyStore::default();
    let mut ads: Vec<Vec<u8>> = Vec::new();
    for file in ["mibeacon.jsonl", "bthome-atc.jsonl", "brands.jsonl"] {
        for v in vectors::load(file) {
            if let (Some(k), Some(m)) = (v["key_hex"].as_str(), v["mac"].as_str()) {
                let _ = keys.insert_str(m, k);
            }
            ads.extend(vectors::ads(&v));
        }
    }
    let mut mem = DeviceMemory::default();
    let mut reading = Reading::default();
    let addr = Addr([0xA4, 0xC1, 0x38, 0x01, 0x02, 0x03]);
    let mut decoded = 0u64;
    // The counter itself works: one allocation is seen.
    let ((), one) = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(one, 1);
    // Warm-up: the format dispatch table is built once, on first use (start-up cost, not
    // per report).
    if let Some(ad) = ads.first() {
        let adv = Advert::new(addr, 0, Some(-60), ad);
        for s in hci2mqtt_core::adv::structures(ad).valid() {
            let _ = decode::claim(&s, &adv);
        }
    }
    let ((), n) = allocations_in(|| {
        for _ in 0..1000 {
            for ad in &ads {
                let adv = Advert::new(addr, 0, Some(-60), ad);
                for s in hci2mqtt_core::adv::structures(ad).valid() {
                    if let Some((f, payload)) = decode::claim(&s, &adv) {
                        reading.clear(addr, adv.rssi);
                        let mut ctx = Ctx {
                            keys: &keys,
                            memory: &mut mem,
                        };
                        if (f.decode)(&mut ctx, &adv, payload, &mut reading).is_ok() {
                            decoded += 1;
                        }
                        break;
                    }
                }
            }
        }
    });
    println!("{decoded} decodes, {n} allocations");
    assert!(decoded > 100_000, "{decoded}");
    assert_eq!(n, 0, "allocations during claim/decode");
}
