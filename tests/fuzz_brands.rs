//! Seeded-random robustness test for the brand decoders (Qingping, Govee, Inkbird, SwitchBot,
//! ThermoPro, Thermobeacon, Ruuvi, SensorPush, beacons): random and mutated payloads must never
//! panic, neither through the pipeline (matchers + decoders) nor when a decoder is called
//! directly with bytes its matcher would have refused.
//!
//! Deterministic (xorshift64, fixed seed) so a failure is reproducible; the iteration count
//! can be raised with `FUZZ_BRANDS_ITERS`.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Reading};
use hci2mqtt_core::pipeline::{Options, Pipeline};
use support::rng::Rng;
use support::{ad, vectors};

/// Names, UUIDs and company ids the matchers look at, so random adverts reach the decoders.
const NAMES: &[&[u8]] = &[
    b"sps",
    b"tps",
    b"xBBQ",
    b"iBBQ",
    b"IBS-P02B",
    b"ITH-11-B",
    b"GVH5075_1234",
    b"GVH5106_4B99",
    b"GV5112AC3D",
    b"GV5140303A",
    b"GV51230B3D",
    b"H5127",
    b"B5178C545",
    b"TP357 (2142)",
    b"TP962R (0000)",
    b"TP972S",
    b"s",
    b"SensorPush HT.w 0CA1",
    b"Ruuvi Air",
];
const UUID16: &[u16] = &[
    0xFFF0, 0xEC88, 0x8151, 0x8251, 0x8351, 0x8451, 0x8551, 0x9151, 0x9851, 0x5550, 0xFEAA,
];
const SVC: &[u16] = &[0xFDCD, 0xFD3D, 0x0D00, 0xFEAA];
const CIDS: &[u16] = &[
    0x0001, 0xEC88, 0x8801, 0xEF88, 0x8803, 0x2449, 0x3254, 0x0000, 0x0010, 0xAA55, 0x0499, 0x0969,
    0x004C, 0xAC63, 0x3022, 0x1B36, 0xF182,
];

fn random_ad(r: &mut Rng) -> Vec<u8> {
    let mut ad = Vec::new();
    for _ in 0..1 + r.below(4) {
        let mut payload = Vec::new();
        let ty = match r.below(6) {
            0 => {
                payload.extend_from_slice(NAMES[r.below(NAMES.len())]);
                0x09
            }
            1 => {
                for _ in 0..1 + r.below(3) {
                    payload.extend_from_slice(&UUID16[r.below(UUID16.len())].to_le_bytes());
                }
                0x03
            }
            2 => {
                // SensorPush 128-bit UUIDs (v2 / HT1 differ in the first byte)
                payload.push(if r.below(2) == 0 { 0xB0 } else { 0xA9 });
                payload.extend_from_slice(&[
                    0x0A, 0x09, 0xEC, 0xD7, 0x9D, 0xB8, 0x93, 0xBA, 0x42, 0xD6, 0x11, 0, 0, 0x09,
                    0xEF,
                ]);
                0x07
            }
            3 => {
                payload.extend_from_slice(&SVC[r.below(SVC.len())].to_le_bytes());
                (0..r.below(30)).for_each(|_| payload.push(r.byte()));
                0x16
            }
            _ => {
                payload.extend_from_slice(&CIDS[r.below(CIDS.len())].to_le_bytes());
                if r.below(4) == 0 {
                    payload.extend_from_slice(&[0x02, 0x15]);
                }
                (0..r.below(45)).for_each(|_| payload.push(r.byte()));
                0xFF
            }
        };
        ad.push(payload.len() as u8 + 1);
        ad.push(ty);
        ad.extend(payload);
    }
    ad
}

fn mutate(r: &mut Rng, ad: &mut Vec<u8>) {
    for _ in 0..1 + r.below(4) {
        match r.below(5) {
            0 if !ad.is_empty() => {
                let i = r.below(ad.len());
                ad[i] ^= 1 << r.below(8);
            }
            1 if !ad.is_empty() => {
                let i = r.below(ad.len());
                ad[i] = r.byte();
            }
            2 => ad.truncate(r.below(ad.len() + 1)),
            3 => (0..r.below(8)).for_each(|_| ad.push(r.byte())),
            _ if !ad.is_empty() => {
                // break a length byte
                let i = r.below(ad.len());
                ad[i] = ad[i].wrapping_add(1 + r.below(3) as u8);
            }
            _ => {}
        }
    }
}

#[test]
fn random_and_mutated_payloads_never_panic() {
    let iters: usize = std::env::var("FUZZ_BRANDS_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60_000);
    let mut r = Rng::new(0x9E37_79B9_7F4A_7C15);
    // Seeds: the AD bytes of every brand vector.
    let seeds: Vec<Vec<u8>> = vectors::load("brands.jsonl")
        .iter()
        .flat_map(vectors::ads)
        .collect();
    assert!(seeds.len() >= 200);
    let mut p = Pipeline::new(KeyStore::default(), Options::default());
    let keys = KeyStore::default();
    let mut reading = Reading::default();
    let (mut decoded, mut direct_ok) = (0u64, 0u64);
    for i in 0..iters {
        let mut ad = if i % 2 == 0 {
            seeds[r.below(seeds.len())].clone()
        } else {
            random_ad(&mut r)
        };
        mutate(&mut r, &mut ad);
        ad.truncate(240);
        let addr = Addr([r.byte(), r.byte(), r.byte(), r.byte(), r.byte(), r.byte()]);
        let ev = ad::event(addr, -50, &ad);
        p.handle_packet(&ev, &mut |_: &Reading| decoded += 1);
        // Direct calls: each structure of the advert through `claim` and the claiming
        // decoder, without the pipeline's duplicate filter in front.
        let advert = Advert::new(addr, 0, Some(-50), &ad);
        for s in hci2mqtt_core::adv::structures(&ad).valid() {
            let Some((f, claim)) = decode::claim(&s, &advert) else {
                continue;
            };
            let mut mem = DeviceMemory::default();
            let mut ctx = Ctx {
                keys: &keys,
                memory: &mut mem,
            };
            reading.clear(addr, Some(-50));
            if (f.decode)(&mut ctx, &advert, claim, &mut reading).is_ok() {
                direct_ok += 1;
                for (_, v) in reading.values() {
                    if let Some(x) = v.as_f64() {
                        assert!(
                            x.is_finite(),
                            "{}: non-finite value from {:02x?}",
                            f.name,
                            s.payload
                        );
                    }
                }
            }
        }
    }
    println!(
        "{iters} adverts: {decoded} readings through the pipeline, {direct_ok} direct decodes ok"
    );
    // The seeds are real frames: a good share of the mutated ones must still decode, or the
    // test is not reaching the decoders.
    assert!(decoded > iters as u64 / 20, "only {decoded} readings");
}
