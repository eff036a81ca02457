//! Seeded random inputs (and mutations of real vectors) into every parser: the HCI event view,
//! the AD iterator, every decoder in the format table, the whole pipeline and the capture
//! readers. Nothing may panic or read out of bounds. `fuzz/` has the coverage-guided versions.

use hci2mqtt::capture::Reader;
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::adv;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Reading};
use hci2mqtt_core::hci::event::{Event, EventKind};
use hci2mqtt_core::pipeline::{Options, Pipeline};

mod support;

use support::rng::Rng;
use support::vectors;

/// Every H4 packet of every corpus vector (given events and the ones built from fields).
fn seeds() -> Vec<Vec<u8>> {
    ["mibeacon.jsonl", "bthome-atc.jsonl", "brands.jsonl"]
        .iter()
        .flat_map(|f| vectors::load(f))
        .flat_map(|v| vectors::packets(&v))
        .collect()
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.next() % 4 {
        if v.is_empty() {
            break;
        }
        let i = (rng.next() as usize) % v.len();
        match rng.next() % 4 {
            0 => v[i] ^= 1 << (rng.next() % 8),
            1 => v[i] = rng.next() as u8,
            2 => v.truncate(i),
            _ => v.insert(i, rng.next() as u8),
        }
    }
    v
}

fn keys() -> KeyStore {
    let mut k = KeyStore::new();
    k.insert_str("5A:58:2D:34:12:5F", "814aac74c4f17b6c1581e1ab87816b99")
        .unwrap();
    k.insert_str("F8:24:41:C5:98:8B", "b853075158487ca39a5b5ea9")
        .unwrap();
    k
}

fn exercise_event(pkt: &[u8]) {
    if let Ok(ev) = Event::new_checked(pkt) {
        match ev.kind() {
            Ok(EventKind::AdvReports(r)) => r.iter().for_each(|rep| exercise_ad(rep.data)),
            Ok(EventKind::ExtAdvReports(r)) => r.iter().for_each(|rep| exercise_ad(rep.data)),
            _ => {}
        }
    }
}

fn exercise_ad(data: &[u8]) {
    for s in adv::structures(data).flatten() {
        let _ = (s.service_data16(), s.manufacturer(), s.name(), s.flags());
    }
}

/// `payload` as the data of every structure a format can claim (service data of each UUID,
/// manufacturer data of each company id, and as a whole manufacturer payload), decoded by
/// whichever format claims it: decoders only ever get their matcher's claim.
fn exercise_decoders(payload: &[u8], ks: &KeyStore) {
    let mut ads: Vec<Vec<u8>> = Vec::new();
    let mut push = |ad_type: u8, head: &[u8]| {
        let n = (head.len() + payload.len()).min(254);
        let mut ad = vec![n as u8 + 1, ad_type];
        ad.extend(head.iter().chain(payload).take(n));
        ads.push(ad);
    };
    for f in decode::FORMATS {
        match f.matcher {
            decode::Matcher::ServiceData16(u) => push(0x16, &u.to_le_bytes()),
            decode::Matcher::Manufacturer(c) => push(0xFF, &c.to_le_bytes()),
            decode::Matcher::Custom(t, keys, _) => {
                for k in keys {
                    push(t, &k.to_le_bytes());
                }
                push(t, &[]);
            }
            decode::Matcher::Filtered(..) => push(0xFF, &[]),
        }
    }
    for addr in [
        Addr::parse("5A:58:2D:34:12:5F").unwrap(),
        Addr::parse("F8:24:41:C5:98:8B").unwrap(),
    ] {
        for ad in &ads {
            let adv = Advert::new(addr, 0, Some(-50), ad);
            for s in adv::structures(ad).flatten() {
                if let Some((f, claim)) = decode::claim(&s, &adv) {
                    let mut mem = DeviceMemory::default();
                    let mut ctx = Ctx {
                        keys: ks,
                        memory: &mut mem,
                    };
                    let mut r = Reading::default();
                    r.clear(addr, Some(-50));
                    let _ = (f.decode)(&mut ctx, &adv, claim, &mut r);
                }
            }
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    let ks = keys();
    let mut pipe = Pipeline::new(keys(), Options::default());
    let mut sink = |_: &Reading| {};
    for i in 0..200_000 {
        let mut b = rng.bytes(300);
        if i % 3 == 0 && b.len() > 4 {
            // Make it look like an LE Meta event so the deeper parsers get exercised.
            b[0] = 0x04;
            b[1] = 0x3E;
            b[2] = (b.len() - 3) as u8;
            b[3] = if i % 2 == 0 { 0x02 } else { 0x0D };
        }
        exercise_event(&b);
        exercise_ad(&b);
        if i % 4 == 0 {
            exercise_decoders(&b, &ks);
        }
        pipe.handle_packet(&b, &mut sink);
    }
    assert!(pipe.stats().packets == 200_000);
}

#[test]
fn mutated_vectors_never_panic() {
    let mut rng = Rng::new(0xD1B5_4A32_D192_ED03);
    let ks = keys();
    let seeds = seeds();
    assert!(seeds.len() > 30);
    let mut pipe = Pipeline::new(
        keys(),
        Options {
            filter_duplicates: false,
            ..Options::default()
        },
    );
    let mut n = 0u64;
    let mut sink = |_: &Reading| n += 1;
    for _ in 0..100_000 {
        let s = &seeds[(rng.next() as usize) % seeds.len()];
        let m = mutate(&mut rng, s);
        exercise_event(&m);
        // The MiBeacon payload inside, mutated on its own too.
        if m.len() > 20 {
            exercise_decoders(&m[m.len() / 3..], &ks);
        }
        pipe.handle_packet(&m, &mut sink);
    }
    let st = pipe.stats();
    assert_eq!(st.packets, 100_000);
    // Mutations are mostly small: many frames must still decode, many must be rejected.
    assert!(n > 1000, "decoded {n}");
    assert!(
        st.malformed + st.decrypt_failures + st.undecodable > 1000,
        "{st:?}"
    );
}

#[test]
fn random_capture_files_never_panic() {
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let demo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/flat.btsnoop")).unwrap();
    let prefixes: [&[u8]; 4] = [
        b"",
        b"btsnoop\0\0\0\0\x01\0\0\x03\xea",
        b"> 04 3E ",
        b"043E",
    ];
    for i in 0..3000 {
        let mut b = prefixes[i % 4].to_vec();
        if i % 5 == 0 {
            b = mutate(&mut rng, &demo[..demo.len().min(2000)]);
        } else {
            b.extend(rng.bytes(400));
        }
        if let Ok(mut r) = Reader::new(&b[..]) {
            while let Some(p) = r.next_packet() {
                if p.is_err() {
                    break;
                }
            }
        }
    }
}
