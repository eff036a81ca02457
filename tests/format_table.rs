//! What each entry of the format table declares against what the format does, for every
//! entry of `FORMATS`, so a new format is checked as soon as it is in the table:
//! * its prefilter against its own matcher: whatever a custom matcher claims, the prefilter
//!   the dispatch table checks first must let through, or that frame is lost without a trace
//!   (every advert of every corpus vector and seeded mutations of them: other lengths, names,
//!   UUID lists and company ids);
//! * its slugs: every reading's `format` is the claiming entry's name or a declared variant,
//!   and `format_of_slug` maps it back to that entry.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::adv::{self, ad_type, AdStructure};
use hci2mqtt_core::decode::{self, Advert, Matcher, Needs, Prefilter};
use support::rng::Rng;
use support::vectors;

/// Why `pre` would refuse `s` in `adv`, if it would.
fn refusal(pre: &Prefilter, s: &AdStructure<'_>, adv: &Advert<'_>) -> Option<String> {
    let len = s.payload.len().min(63);
    if pre.lens >> len & 1 == 0 {
        return Some(format!(
            "payload length {} not in the length mask",
            s.payload.len()
        ));
    }
    let cid = match s.payload {
        [lo, hi, ..] => u16::from_le_bytes([*lo, *hi]),
        _ => return Some("no company id".into()),
    };
    if cid == 0x004C && !pre.apple {
        return Some("Apple's company id".into());
    }
    let h = &adv.hints;
    let ok = match pre.needs {
        Needs::Nothing => true,
        Needs::Name => !h.name.is_empty(),
        Needs::NameOrUuid128 => !h.name.is_empty() || !h.uuid128.is_empty(),
        Needs::NameOrUuid16OrCompany(ids) => {
            !h.name.is_empty() || !h.uuid16.is_empty() || ids.contains(&cid)
        }
    };
    (!ok).then(|| format!("needs {:?}", pre.needs))
}

/// Checks every custom matcher of the table on every structure of `ad` sent by `addr`;
/// counts claims.
fn check(addr: Addr, ad: &[u8], claims: &mut [u64]) {
    let adv = Advert::new(addr, 0, Some(-60), ad);
    for s in adv::structures(ad).valid() {
        for (i, f) in decode::FORMATS.iter().enumerate() {
            match f.matcher {
                Matcher::Filtered(pre, matches) => {
                    if s.ad_type != ad_type::MANUFACTURER || matches(&s, &adv).is_none() {
                        continue;
                    }
                    claims[i] += 1;
                    if let Some(why) = refusal(&pre, &s, &adv) {
                        panic!(
                            "{}: the matcher claims {} but the prefilter refuses it ({why})",
                            f.name,
                            support::hex::to_hex(ad)
                        );
                    }
                }
                Matcher::Custom(t, keys, matches) => {
                    if matches(&s, &adv).is_none() {
                        continue;
                    }
                    claims[i] += 1;
                    let key = match s.payload {
                        [lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
                        _ => None,
                    };
                    assert_eq!(s.ad_type, t, "{}: claims another AD type", f.name);
                    assert!(
                        keys.is_empty() || key.is_some_and(|k| keys.contains(&k)),
                        "{}: claims key {key:04x?}, not among its declared {keys:04x?}",
                        f.name
                    );
                }
                Matcher::ServiceData16(_) | Matcher::Manufacturer(_) => {}
            }
        }
    }
}

/// The AD data with one change a real advert could show: a byte flipped, a structure
/// shortened or lengthened, a name or UUID list added, another company id.
fn mutate(rng: &mut Rng, ad: &[u8]) -> Vec<u8> {
    const NAMES: &[&str] = &[
        "sps",
        "tps",
        "iBBQ",
        "GVH5075_1234",
        "TP357 (2B54)",
        "SensorPush HT.w 1A2B",
        "Govee_H5181",
        "",
    ];
    let mut out = Vec::with_capacity(ad.len() + 32);
    for s in adv::structures(ad).valid() {
        let mut body = s.payload.to_vec();
        match rng.below(8) {
            0 if !body.is_empty() => {
                let i = rng.below(body.len());
                body[i] ^= 1 << rng.below(8);
            }
            1 if body.len() > 2 => body.truncate(2 + rng.below(body.len() - 2)),
            2 => body.push(rng.byte()),
            3 if body.len() >= 2 && s.ad_type == ad_type::MANUFACTURER => {
                body[..2].copy_from_slice(&[rng.byte(), rng.byte()]);
            }
            _ => {}
        }
        support::ad::push(&mut out, s.ad_type, &body);
    }
    match rng.below(4) {
        0 => {
            let n = NAMES[rng.below(NAMES.len())];
            if !n.is_empty() {
                support::ad::name(&mut out, n);
            }
        }
        1 => support::ad::uuid16_list(&mut out, &[0xFFF0, 0x8151, 0xEC88][..1 + rng.below(3)]),
        _ => {}
    }
    out
}

#[test]
fn every_prefilter_admits_what_its_matcher_claims() {
    let mut claims = vec![0u64; decode::FORMATS.len()];
    let mut rng = Rng::new(0x9F1E_7E25_0000_0001);
    let mut n = 0u64;
    for file in ["mibeacon.jsonl", "bthome-atc.jsonl", "brands.jsonl"] {
        for v in vectors::load(file) {
            // The vector's own address (Sonoff's remotes are told by theirs).
            let addr = v["mac"]
                .as_str()
                .and_then(Addr::parse)
                .unwrap_or(Addr([0xA4, 0xC1, 0x38, 1, 2, 3]));
            for ad in vectors::ads(&v) {
                check(addr, &ad, &mut claims);
                for _ in 0..50 {
                    check(addr, &mutate(&mut rng, &ad), &mut claims);
                }
                n += 51;
            }
        }
    }
    // Every custom matcher claimed something: an entry nothing reaches checks nothing.
    for (f, c) in decode::FORMATS.iter().zip(&claims) {
        if matches!(f.matcher, Matcher::Filtered(..) | Matcher::Custom(..)) {
            assert!(
                *c > 0,
                "{}: its matcher claimed none of {n} adverts",
                f.name
            );
        }
    }
    println!("{n} adverts, claims per format: {claims:?}");
}

#[test]
fn every_reading_names_a_declared_slug_of_its_format() {
    let mut seen = std::collections::BTreeSet::new();
    for file in ["mibeacon.jsonl", "bthome-atc.jsonl", "brands.jsonl"] {
        for v in vectors::load(file) {
            for r in vectors::run(&v).readings {
                let f = r.source;
                assert!(
                    r.format == f.name || f.variants.contains(&r.format),
                    "{}: {:?} is not declared by {}",
                    vectors::id(&v),
                    r.format,
                    f.name
                );
                let back = decode::format_of_slug(r.format).map(|g| g.name);
                assert_eq!(back, Some(f.name), "{}", vectors::id(&v));
                seen.insert(r.format);
            }
        }
    }
    assert!(seen.len() >= 20, "{seen:?}");
    println!("slugs seen: {seen:?}");
}
