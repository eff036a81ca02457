//! Any payload into every decoder of the format table, with keys configured so the
//! decryption paths run too. A new format is covered as soon as it is in `FORMATS`.
#![no_main]
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Reading};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut keys = KeyStore::new();
    let _ = keys.insert_str("5A:58:2D:34:12:5F", "814aac74c4f17b6c1581e1ab87816b99");
    let addr = Addr::parse("5A:58:2D:34:12:5F").unwrap_or_default();
    for f in decode::FORMATS {
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let adv = Advert::new(addr, 0, Some(-50), data);
        let mut r = Reading::default();
        r.clear(addr, Some(-50));
        let _ = (f.decode)(&mut ctx, &adv, data, &mut r);
    }
});
