//! With active scanning the controller reports an advertisement and its scan response
//! separately. Formats recognised by their local name (ThermoPro here, whose data is in the
//! advertisement and whose name is in the scan response) decode once the address's scan
//! response was heard: the pipeline remembers the name each address sent last.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{KeyStore, Reading};
use hci2mqtt_core::pipeline::{Options, Pipeline};
use support::ad;
use support::hex::hex;

/// ADV_IND and SCAN_RSP PDU types (legacy).
const ADV_IND: u8 = 0x00;
const SCAN_RSP: u8 = 0x04;

/// A pipeline that sees every report (no duplicate filter), with the scan-response memory of
/// active scanning or without it.
fn pipeline(active: bool) -> Pipeline {
    Pipeline::new(
        KeyStore::new(),
        Options {
            filter_duplicates: false,
            remember_names: active,
            ..Options::default()
        },
    )
}

#[test]
fn a_name_from_the_scan_response_decodes_the_next_advertisement() {
    // bleparser's TP359 vector (temperature 25.5, humidity 53), split in its two halves.
    let addr = Addr::parse("48:7E:48:F2:0C:87").expect("mac");
    let mut adv = Vec::new();
    ad::push(&mut adv, 0x01, &[0x05]);
    ad::push(&mut adv, 0xFF, &hex("c2ff0035012c"));
    let mut rsp = Vec::new();
    ad::name(&mut rsp, "TP359 (0C87)");
    let adv_ev = ad::event_typed(addr, 0, ADV_IND, -40, &adv);
    let rsp_ev = ad::event_typed(addr, 0, SCAN_RSP, -40, &rsp);
    let mut p = pipeline(true);
    let mut got: Vec<Reading> = Vec::new();
    p.handle_packet(&adv_ev, &mut |r: &Reading| got.push(r.clone()));
    assert!(got.is_empty(), "no name heard yet: not recognisable");
    p.handle_packet(&rsp_ev, &mut |r: &Reading| got.push(r.clone()));
    p.handle_packet(&adv_ev, &mut |r: &Reading| got.push(r.clone()));
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!((r.format, r.model), ("thermopro", "TP359"));
    assert_eq!(r.get("temperature").and_then(|v| v.as_f64()), Some(25.5));
    assert_eq!(r.get("humidity").and_then(|v| v.as_f64()), Some(53.0));
    // Another address's name does not apply.
    let other = ad::event_typed(Addr([0x48, 0x7E, 0x48, 0, 0, 1]), 0, ADV_IND, -40, &adv);
    p.handle_packet(&other, &mut |r: &Reading| got.push(r.clone()));
    assert_eq!(got.len(), 1);
}

#[test]
fn a_uuid_from_the_scan_response_decodes_the_next_advertisement() {
    // sensorpush-ble's HT1 (test_ht1_large_data_set): the data is in the manufacturer data's
    // company id and payload, recognised by its 128-bit service UUID and its name "s", which
    // an HT1 heard actively sends in its scan response. Last entry of the test: 13.79 °C,
    // 58.42 %.
    let addr = Addr::parse("A4:34:F1:00:00:01").expect("mac");
    let mut adv = Vec::new();
    ad::push(&mut adv, 0x01, &[0x06]);
    ad::manufacturer(&mut adv, 26687, &hex("6105"));
    let uuid = ad::uuid128_le("ef090000-11d6-42ba-93b8-9dd7ec090aa9").expect("uuid");
    let mut rsp = Vec::new();
    ad::uuid128_list(&mut rsp, &[uuid]);
    ad::name(&mut rsp, "s");
    let adv_ev = ad::event_typed(addr, 0, ADV_IND, -60, &adv);
    let rsp_ev = ad::event_typed(addr, 0, SCAN_RSP, -60, &rsp);
    let mut p = pipeline(true);
    let mut got: Vec<Reading> = Vec::new();
    p.handle_packet(&adv_ev, &mut |r: &Reading| got.push(r.clone()));
    assert!(got.is_empty(), "no UUID heard yet: not recognisable");
    p.handle_packet(&rsp_ev, &mut |r: &Reading| got.push(r.clone()));
    p.handle_packet(&adv_ev, &mut |r: &Reading| got.push(r.clone()));
    assert_eq!(got.len(), 1, "{got:?}");
    let r = &got[0];
    assert_eq!(r.format, "sensorpush");
    assert_eq!(r.get("temperature").and_then(|v| v.as_f64()), Some(13.79));
    assert_eq!(r.get("humidity").and_then(|v| v.as_f64()), Some(58.42));
    // Passive scanning keeps no memory: the same halves give nothing.
    let mut passive = pipeline(false);
    let mut none: Vec<Reading> = Vec::new();
    passive.handle_packet(&rsp_ev, &mut |r: &Reading| none.push(r.clone()));
    passive.handle_packet(&adv_ev, &mut |r: &Reading| none.push(r.clone()));
    assert!(none.is_empty(), "{none:?}");
}
