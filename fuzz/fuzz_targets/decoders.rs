//! Any payload into every decoder of the format table, with keys configured so the
//! decryption paths run too. The first byte picks a format, the rest becomes the data of a
//! structure that format's matcher looks at; decoders only ever get their matcher's claim,
//! so the structure goes through `decode::claim` as in the pipeline. A new format is covered
//! as soon as it is in `FORMATS`.
#![no_main]
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::adv;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Matcher, Reading};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let f = decode::FORMATS[pick as usize % decode::FORMATS.len()];
    // The structure's AD type and the key (UUID or company id) its matcher wants, if any.
    let (ad_type, head): (u8, Vec<u8>) = match f.matcher {
        Matcher::ServiceData16(u) => (0x16, u.to_le_bytes().to_vec()),
        Matcher::Manufacturer(c) => (0xFF, c.to_le_bytes().to_vec()),
        Matcher::Custom(t, keys, _) => match keys.first() {
            Some(k) if pick & 0x80 == 0 => (t, k.to_le_bytes().to_vec()),
            _ => (t, Vec::new()),
        },
        Matcher::Filtered(..) => (0xFF, Vec::new()),
    };
    // The wrapped structure first, then the input itself as more AD data (names, UUID lists).
    let n = (head.len() + rest.len()).min(254);
    let mut ad = vec![n as u8 + 1, ad_type];
    ad.extend(head.iter().chain(rest).take(n));
    ad.extend_from_slice(rest);
    let mut keys = KeyStore::new();
    let _ = keys.insert_str("5A:58:2D:34:12:5F", "814aac74c4f17b6c1581e1ab87816b99");
    // The keyed sensor's address, and the fixed one Sonoff's remotes share (its matcher
    // claims nothing from any other).
    for addr in [
        Addr::parse("5A:58:2D:34:12:5F").unwrap_or_default(),
        Addr([0x66, 0x55, 0x44, 0x33, 0x22, 0x11]),
    ] {
        let advert = Advert::new(addr, 0, Some(-50), &ad);
        for s in adv::structures(&ad).flatten() {
            if let Some((f, claim)) = decode::claim(&s, &advert) {
                let mut mem = DeviceMemory::default();
                let mut ctx = Ctx {
                    keys: &keys,
                    memory: &mut mem,
                };
                let mut r = Reading::default();
                r.clear(addr, Some(-50));
                let _ = (f.decode)(&mut ctx, &advert, claim, &mut r);
            }
        }
    }
});
