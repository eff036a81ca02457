//! Matching and decoding do not allocate, for every entry of [`decode::FORMATS`]: the adverts
//! of every corpus vector (with the vectors' keys) are grouped by the format that claims
//! them; every format must have at least one advert it decodes, and claiming + decoding its
//! adverts (1000 times) must make zero allocations under the counting allocator.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, Format, KeyStore, Reading};
use support::alloc::{allocations_in, Counting};
use support::vectors;

#[global_allocator]
static A: Counting = Counting;

/// Claims and decodes every structure of `ad` like the pipeline (first claim wins), with a
/// fresh device memory (it is `Copy`: no allocation), so that vectors sharing an address do
/// not trip each other's replay/downgrade protection; returns the claiming format and
/// whether it decoded.
fn claim_and_decode(
    addr: Addr,
    ad: &[u8],
    keys: &KeyStore,
    reading: &mut Reading,
) -> Option<(&'static Format, bool)> {
    let adv = Advert::new(addr, 0, Some(-60), ad);
    for s in hci2mqtt_core::adv::structures(ad).valid() {
        if let Some((f, payload)) = decode::claim(&s, &adv) {
            reading.clear(addr, adv.rssi);
            let mut mem = DeviceMemory::default();
            let mut ctx = Ctx {
                keys,
                memory: &mut mem,
            };
            return Some((f, (f.decode)(&mut ctx, &adv, payload, reading).is_ok()));
        }
    }
    None
}

#[test]
fn every_format_claims_and_decodes_without_allocating() {
    // Each vector with its own key only: a key configured for an address makes that
    // address's plaintext frames a downgrade, and vectors share addresses.
    let vectors = vectors::load_all();
    let stores: Vec<KeyStore> = vectors
        .iter()
        .map(|v| {
            let mut keys = KeyStore::default();
            if let (Some(k), Some(m)) = (v["key_hex"].as_str(), v["mac"].as_str()) {
                let _ = keys.insert_str(m, k);
            }
            keys
        })
        .collect();
    // (advertiser, AD data, its vector's keys): the address matters for keys and for the
    // formats that check it.
    let mut ads: Vec<(Addr, Vec<u8>, &KeyStore)> = Vec::new();
    for (v, keys) in vectors.iter().zip(&stores) {
        let addr = v["mac"]
            .as_str()
            .and_then(|m| Addr::parse(&m.to_ascii_uppercase()))
            .unwrap_or(Addr([0xA4, 0xC1, 0x38, 0x01, 0x02, 0x03]));
        ads.extend(vectors::ads(v).into_iter().map(|ad| (addr, ad, keys)));
    }
    let mut reading = Reading::default();
    // The counter itself works: one allocation is seen.
    let ((), one) = allocations_in(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(one, 1);
    // Group the adverts by the format that claims and decodes them (this also warms up the
    // dispatch table, built once on first use: a start-up cost, not a per-report one).
    let mut by_format: Vec<Vec<(Addr, &[u8], &KeyStore)>> = vec![Vec::new(); decode::FORMATS.len()];
    for (addr, ad, keys) in &ads {
        if let Some((f, true)) = claim_and_decode(*addr, ad, keys, &mut reading) {
            if let Some(i) = decode::FORMATS.iter().position(|g| std::ptr::eq(*g, f)) {
                by_format[i].push((*addr, ad, keys));
            }
        }
    }
    let mut missing = Vec::new();
    let mut allocating = Vec::new();
    for (f, ads) in decode::FORMATS.iter().zip(&by_format) {
        if ads.is_empty() {
            missing.push(f.name);
            continue;
        }
        let mut decoded = 0u64;
        let ((), n) = allocations_in(|| {
            for _ in 0..1000 {
                for (addr, ad, keys) in ads {
                    if let Some((_, true)) = claim_and_decode(*addr, ad, keys, &mut reading) {
                        decoded += 1;
                    }
                }
            }
        });
        println!(
            "{:>14}: {} adverts, {decoded} decodes, {n} allocations",
            f.name,
            ads.len()
        );
        assert!(decoded >= 1000, "{}: {decoded} decodes", f.name);
        if n != 0 {
            allocating.push((f.name, n));
        }
    }
    assert!(
        missing.is_empty(),
        "formats without a decoding corpus vector: {missing:?}"
    );
    assert!(
        allocating.is_empty(),
        "allocations in claim/decode: {allocating:?}"
    );
}
