//! BTHome replay / downgrade protection and nonce details, through the real pipeline.
//!
//! The encrypted frames below were made with Python `cryptography`'s AESCCM (an AES-CCM
//! implementation independent of the `ccm` crate we decrypt with), key
//! 231d39c1d7cc1ab1aee224cd096db932, objects `02 ca09 03 bf13` (25.06 °C, 50.55 %):
//! v2 nonce = MAC (display order) + `d2 fc` + device-info + counter LE; v1 nonce = MAC +
//! `1e 18` + counter, AAD 0x11.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{DecodeError, KeyStore};
use hci2mqtt_core::pipeline::{Options, Pipeline};
use support::ad;
use support::hex::hex;
use support::vectors::{feed as feed_packet, Outcome};

const KEY: &str = "231d39c1d7cc1ab1aee224cd096db932";
const DEV: &str = "A4:C1:38:00:00:01";

/// device-info 0x45 (v2, encrypted, trigger-based) — bleparser would use 0x41 and fail.
const V2_C1000_TRIGGER: &str = "45caf583c6435fe80300001a11d12d";
const V2_C1001: &str = "41e5c4cf775195e9030000155c94d3";
const V2_C999: &str = "414a222ad28243e70300003a344da3";
const V2_C1002: &str = "41c808f85af268ea0300008d772be0";
const V2_C50: &str = "4146781e9c3197320000002c0c4c19";
/// device-info 0x43 (encrypted + MAC 11:22:33:44:55:66 in frame), counter 256.
const V2_MAC_IN_FRAME: &str = "43665544332211bb48c5cebee600010000ce4a93d1";
const V1_C500: &str = "91dbd8d44a15e761f401000011c752b1";
const V1_C400: &str = "76854efd454afe7e900100006e721050";
const V2_PLAIN: &str = "4002ca09";

fn pipeline(key_for: Option<&str>) -> Pipeline {
    let mut keys = KeyStore::new();
    if let Some(mac) = key_for {
        keys.insert_str(mac, KEY).unwrap();
    }
    Pipeline::new(keys, Options::default())
}

fn feed(p: &mut Pipeline, adv_mac: &str, uuid: &str, payload_hex: &str) -> Outcome {
    let mut data = Vec::new();
    let uuid = ad::uuid16(uuid).expect("uuid");
    ad::service_data16(&mut data, uuid, &hex(payload_hex));
    let addr = Addr::parse(adv_mac).expect("mac");
    feed_packet(p, &ad::event(addr, -50, &data))
}

fn temp(o: &Outcome) -> Option<f64> {
    o.json.first()?.get("temperature")?.as_f64()
}

#[test]
fn fresh_device_accepted_and_nonce_uses_real_device_info() {
    let mut p = pipeline(Some(DEV));
    let o = feed(&mut p, DEV, "fcd2", V2_C1000_TRIGGER);
    assert_eq!(o.errors, vec![]);
    assert_eq!(temp(&o), Some(25.06));
    let r = &o.json[0];
    assert_eq!(r["packet"], 1000);
    assert_eq!(r["humidity"], 50.55);
    assert_eq!(r["format"], "bthome-v2-encrypted");
    assert_eq!(r["firmware"], "BTHome V2 (encrypted)");
}

#[test]
fn counter_backwards_rejected_equal_is_duplicate() {
    let mut p = pipeline(Some(DEV));
    assert_eq!(
        temp(&feed(&mut p, DEV, "fcd2", V2_C1000_TRIGGER)),
        Some(25.06)
    );
    assert_eq!(temp(&feed(&mut p, DEV, "fcd2", V2_C1001)), Some(25.06));
    // Same frame again: not a replay, dropped by the duplicate filter.
    let o = feed(&mut p, DEV, "fcd2", V2_C1001);
    assert!(o.json.is_empty() && o.errors.is_empty(), "{o:?}");
    assert_eq!(p.stats().duplicates, 1);
    // Authentic but older frame: replay.
    let o = feed(&mut p, DEV, "fcd2", V2_C999);
    assert!(o.json.is_empty());
    assert_eq!(o.errors, vec![DecodeError::Replay]);
    assert_eq!(p.stats().replays, 1);
    // The rejected frame did not move the reference: 1002 still accepted.
    assert_eq!(temp(&feed(&mut p, DEV, "fcd2", V2_C1002)), Some(25.06));
    // Restart window: a counter below 100 is a device restart (battery change), accepted.
    assert_eq!(temp(&feed(&mut p, DEV, "fcd2", V2_C50)), Some(25.06));
}

#[test]
fn counter_backwards_rejected_v1() {
    let mut p = pipeline(Some(DEV));
    assert_eq!(temp(&feed(&mut p, DEV, "181e", V1_C500)), Some(25.06));
    let o = feed(&mut p, DEV, "181e", V1_C400);
    assert_eq!(o.errors, vec![DecodeError::Replay]);
    assert!(o.json.is_empty());
    // A device that never sent 500 accepts 400 (fresh device).
    let mut p = pipeline(Some(DEV));
    assert_eq!(temp(&feed(&mut p, DEV, "181e", V1_C400)), Some(25.06));
}

#[test]
fn plaintext_after_encrypted_rejected() {
    // Two rules, checked separately below: the device has sent authenticated encrypted
    // frames (`seen_encrypted`), or a key is configured for it.
    let mut p = pipeline(Some(DEV));
    assert_eq!(
        temp(&feed(&mut p, DEV, "fcd2", V2_C1000_TRIGGER)),
        Some(25.06)
    );
    let o = feed(&mut p, DEV, "fcd2", V2_PLAIN);
    assert_eq!(o.errors, vec![DecodeError::Replay]);
    assert!(o.json.is_empty());
    let o = feed(&mut p, DEV, "181c", "2302ca09");
    assert_eq!(o.errors, vec![DecodeError::Replay]);

    // Key configured, nothing seen yet: plaintext is a downgrade, rejected.
    let mut p = pipeline(Some(DEV));
    assert_eq!(
        feed(&mut p, DEV, "fcd2", V2_PLAIN).errors,
        vec![DecodeError::Replay]
    );

    // seen_encrypted alone (no key for this advertiser: the key is for the in-frame MAC).
    let mut p = pipeline(Some("11:22:33:44:55:66"));
    let adv = "C0:11:22:33:44:55";
    let o = feed(&mut p, adv, "fcd2", V2_MAC_IN_FRAME);
    assert_eq!(temp(&o), Some(25.06));
    assert_eq!(o.json[0]["mac"], "11:22:33:44:55:66");
    let o = feed(&mut p, adv, "fcd2", V2_PLAIN);
    assert_eq!(o.errors, vec![DecodeError::Replay]);
}

#[test]
fn fresh_device_plaintext_accepted() {
    let mut p = pipeline(None);
    let o = feed(&mut p, DEV, "fcd2", V2_PLAIN);
    assert_eq!(temp(&o), Some(25.06));
    assert_eq!(o.json[0]["format"], "bthome-v2");
    assert!(o.json[0].get("packet").is_none());
}

#[test]
fn encrypted_without_key_is_nokey_with_notice() {
    let mut p = pipeline(None);
    let o = feed(&mut p, DEV, "fcd2", V2_C1001);
    assert_eq!(o.errors, vec![DecodeError::NoKey]);
    assert_eq!(o.notices.len(), 1);
    // Wrong key: DecryptFailed (a forged/unauthenticated frame never counts as a replay).
    let mut keys = KeyStore::new();
    keys.insert_str(DEV, "331d39c1d7cc1ab1aee224cd096db932")
        .unwrap();
    let mut p = Pipeline::new(keys, Options::default());
    assert_eq!(
        feed(&mut p, DEV, "fcd2", V2_C1001).errors,
        vec![DecodeError::DecryptFailed]
    );
    assert_eq!(
        feed(&mut p, DEV, "fcd2", V2_PLAIN).errors,
        vec![DecodeError::Replay]
    ); // key configured
}
