//! Seeded-random robustness test for the ATC/pvvx and BTHome decoders, plus a
//! no-allocation check.
//!
//! * Random byte strings and mutated vector payloads (bit flips, byte overwrites, truncation,
//!   extension, object-id swaps) go into every ATC/BTHome decoder, with and without a key, and
//!   through the pipeline as service data. Nothing may panic; every produced reading must
//!   render as a JSON object and carry only finite numbers.
//! * A counting global allocator checks that decoding (all vector payloads, both with and
//!   without keys) performs zero heap allocations.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{
    atc, bthome, Advert, Ctx, DeviceMemory, Format, KeyStore, Reading, Value,
};
use hci2mqtt_core::output::write_json_line;
use hci2mqtt_core::pipeline::{Options, Pipeline};
use serde_json::Value as Json;
use support::alloc::{allocations_in, Counting};
use support::rng::Rng;
use support::{ad, vectors};

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEY: &str = "231d39c1d7cc1ab1aee224cd096db932";

/// (format, UUID) of every ATC/BTHome decoder.
fn formats() -> [(&'static Format, &'static str); 4] {
    [
        (&atc::FORMAT, "181a"),
        (&bthome::FORMAT_V2, "fcd2"),
        (&bthome::FORMAT_V1, "181c"),
        (&bthome::FORMAT_V1_ENCRYPTED, "181e"),
    ]
}

fn uuid_format(uuid: &str) -> Option<&'static Format> {
    formats()
        .into_iter()
        .find(|(_, u)| *u == uuid)
        .map(|(f, _)| f)
}

/// (uuid, payload, advertiser MAC) of every vector with service data of our UUIDs.
fn vector_payloads() -> Vec<(String, Vec<u8>, [u8; 6])> {
    let mut out = Vec::new();
    for file in ["bthome-atc.jsonl", "bthome-atc-negative.jsonl"] {
        for v in vectors::load(file) {
            let mac = Addr::parse(v["mac"].as_str().unwrap_or("00:00:00:00:00:00"))
                .expect("vector mac")
                .0;
            for ad in vectors::ads(&v) {
                // Walk AD structures; keep 16-bit service data of our UUIDs.
                let mut i = 0;
                while i < ad.len() {
                    let len = ad[i] as usize;
                    if len == 0 || i + 1 + len > ad.len() {
                        break;
                    }
                    let s = &ad[i + 1..i + 1 + len];
                    if s[0] == 0x16 && s.len() >= 3 {
                        let uuid = format!("{:02x}{:02x}", s[2], s[1]);
                        if uuid_format(&uuid).is_some() {
                            out.push((uuid, s[3..].to_vec(), mac));
                        }
                    }
                    i += 1 + len;
                }
            }
        }
    }
    out
}

fn check_reading(r: &Reading) {
    for (f, v) in r.values() {
        if let Value::Float(x) = v {
            assert!(x.is_finite(), "{} = {x}", f.key);
        }
    }
    let mut line = Vec::new();
    write_json_line(&mut line, r);
    let j: Json = serde_json::from_slice(&line).expect("JSON");
    assert!(j.is_object(), "{j}");
}

fn decode_direct(
    f: &Format,
    keys: &KeyStore,
    mem: &mut DeviceMemory,
    addr: Addr,
    payload: &[u8],
    r: &mut Reading,
) -> bool {
    // The payload as service data of the format's UUID, claimed as the pipeline does.
    let uuid = match f.matcher {
        hci2mqtt_core::decode::Matcher::ServiceData16(u) => u,
        hci2mqtt_core::decode::Matcher::Custom(_, keys, _) => keys.first().copied().unwrap_or(0),
        _ => 0,
    };
    // On the stack: `decoders_do_not_allocate` counts every allocation in here.
    let n = (2 + payload.len()).min(254);
    let mut buf = [0u8; 256];
    buf[0] = n as u8 + 1;
    buf[1] = 0x16;
    for (d, s) in buf[2..]
        .iter_mut()
        .zip(uuid.to_le_bytes().iter().chain(payload).take(n))
    {
        *d = *s;
    }
    let ad = &buf[..2 + n];
    let adv = Advert::new(addr, 0, Some(-50), ad);
    r.clear(addr, Some(-50));
    let Some(s) = hci2mqtt_core::adv::structures(ad).valid().next() else {
        return false;
    };
    match hci2mqtt_core::decode::claim(&s, &adv) {
        Some((g, claim)) if core::ptr::eq(g, f) => {
            let mut ctx = Ctx { keys, memory: mem };
            (f.decode)(&mut ctx, &adv, claim, r).is_ok()
        }
        _ => false,
    }
}

#[test]
fn random_and_mutated_payloads_never_panic() {
    let mut rng = Rng::new(0x5EED_F0A7_1234_9876);
    let payloads = vector_payloads();
    assert!(payloads.len() > 100, "{}", payloads.len());
    let mut r = Reading::default();
    let mut decoded = 0u64;
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(300);
    for round in 0..60_000u32 {
        buf.clear();
        let (fmt, addr) = if round % 3 == 0 {
            // Pure random bytes, random length (0..=64), random format.
            let n = rng.below(65);
            for _ in 0..n {
                buf.push(rng.next() as u8);
            }
            let (f, _) = formats()[rng.below(4)];
            (f, Addr([0xA4, 0xC1, 0x38, 0, 0, rng.next() as u8]))
        } else {
            // Mutated vector payload.
            let (uuid, p, mac) = &payloads[rng.below(payloads.len())];
            buf.extend_from_slice(p);
            for _ in 0..1 + rng.below(3) {
                match rng.below(6) {
                    0 if !buf.is_empty() => {
                        let i = rng.below(buf.len());
                        buf[i] ^= 1 << rng.below(8);
                    }
                    1 if !buf.is_empty() => {
                        let i = rng.below(buf.len());
                        buf[i] = rng.next() as u8;
                    }
                    2 => {
                        let n = rng.below(buf.len() + 1);
                        buf.truncate(n);
                    }
                    3 => {
                        for _ in 0..rng.below(8) {
                            buf.push(rng.next() as u8);
                        }
                    }
                    4 if buf.len() > 1 => {
                        // plausible object id in a random position (v2 ids 0x00..0x64, 0xF0..)
                        let i = 1 + rng.below(buf.len() - 1);
                        buf[i] =
                            [0x00, 0x3A, 0x3C, 0x53, 0x54, 0x50, 0x58, 0xF1, 0x62][rng.below(9)];
                    }
                    _ => {
                        // device-info byte variations (encrypted / MAC / version bits)
                        if let Some(b) = buf.first_mut() {
                            *b = [0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x00, 0xE0][rng.below(8)];
                        }
                    }
                }
            }
            (uuid_format(uuid).expect("our uuid"), Addr(*mac))
        };
        // Direct, with and without key, fresh and shared memory.
        let mut keys = KeyStore::new();
        if round % 2 == 0 {
            keys.insert(
                addr,
                hci2mqtt_core::decode::DeviceKey::parse_hex("k", KEY).unwrap(),
            );
        }
        let mut mem = DeviceMemory::default();
        total += 1;
        if decode_direct(fmt, &keys, &mut mem, addr, &buf, &mut r) {
            decoded += 1;
            check_reading(&r);
        }
    }
    // Through the pipeline as service data (claims, dedup, notices), one pipeline for all.
    let mut keys = KeyStore::new();
    keys.insert_str("54:48:E6:8F:80:A5", KEY).unwrap();
    let mut p = Pipeline::new(keys, Options::default());
    let mut n_readings = 0u64;
    for round in 0..20_000u32 {
        let (uuid, base, mac) = &payloads[rng.below(payloads.len())];
        let mut pl = base.clone();
        if !pl.is_empty() {
            let i = rng.below(pl.len());
            pl[i] ^= rng.next() as u8;
        }
        if round % 5 == 0 {
            let n = rng.below(pl.len() + 1);
            pl.truncate(n);
        }
        let mut data = Vec::new();
        ad::service_data16(&mut data, ad::uuid16(uuid).expect("uuid"), &pl);
        let ev = ad::event(Addr(*mac), -40, &data);
        p.handle_packet(&ev, &mut |r: &Reading| {
            check_reading(r);
            n_readings += 1;
        });
    }
    eprintln!("fuzz: {total} direct inputs, {decoded} decoded; pipeline readings {n_readings}");
    // The mutations must still reach the value-producing paths, or the test proves nothing.
    assert!(decoded > 5_000, "{decoded}");
    assert!(n_readings > 1_000, "{n_readings}");
}

#[test]
fn decoders_do_not_allocate() {
    let payloads = vector_payloads();
    let mut with_key = KeyStore::new();
    let none = KeyStore::new();
    for (_, _, mac) in &payloads {
        with_key.insert(
            Addr(*mac),
            hci2mqtt_core::decode::DeviceKey::parse_hex("k", KEY).unwrap(),
        );
    }
    let mut r = Reading::default();
    let mut mems: Vec<DeviceMemory> = vec![DeviceMemory::default(); payloads.len()];
    let mut ok = 0;
    // The claim dispatch table is built on first use: build it before counting.
    if let Some((uuid, p, mac)) = payloads.first() {
        let f = uuid_format(uuid).expect("uuid");
        decode_direct(f, &with_key, &mut mems[0], Addr(*mac), p, &mut r);
        mems[0] = DeviceMemory::default();
    }
    let ((), allocations) = allocations_in(|| {
        for round in 0..3 {
            for (i, (uuid, p, mac)) in payloads.iter().enumerate() {
                let f = uuid_format(uuid).expect("uuid");
                let keys = if round == 1 { &none } else { &with_key };
                if decode_direct(f, keys, &mut mems[i], Addr(*mac), p, &mut r) {
                    ok += 1;
                }
            }
        }
    });
    assert!(ok > 100, "{ok}");
    assert_eq!(
        allocations,
        0,
        "decoders allocated {allocations} times over {} decodes",
        3 * payloads.len()
    );
    // The counter works (guards against a vacuous pass).
    let (v, n) = allocations_in(|| std::hint::black_box(Vec::<u8>::with_capacity(10)));
    assert!(n > 0 && v.capacity() >= 10);
}
