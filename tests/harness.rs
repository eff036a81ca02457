//! The shared test support checks itself: the comparison rule every vector test uses, and
//! the AD and report builders against the parsers they feed.

mod support;

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::adv;
use hci2mqtt_core::hci::event::{single_adv_report, single_ext_adv_report};
use serde_json::Value as J;
use support::ad;
use support::compare::{matches, Got};
use support::hex::{hex, to_hex};

#[test]
fn the_comparison_rule() {
    let j = |s: &str| serde_json::from_str::<J>(s).unwrap();
    assert!(matches(&j("23.2"), Some(Got::Num(23.200000762939453))).is_ok());
    assert!(matches(&j("23.2"), Some(Got::Num(23.21))).is_err());
    assert!(matches(&j("0"), Some(Got::Num(1e-7))).is_ok());
    assert!(matches(&j("true"), Some(Got::Num(1.0))).is_ok());
    assert!(matches(&j("false"), Some(Got::Num(1.0))).is_err());
    assert!(matches(&j("null"), None).is_ok());
    assert!(matches(&j("\"error\""), Some(Got::Num(3.0))).is_err());
    assert!(matches(&j("\"press\""), Some(Got::Text("press"))).is_ok());
    assert!(matches(&j("\"press\""), Some(Got::Text("long press"))).is_err());
    assert!(matches(&j(r#"{"approx": 3.5, "abs": 0.05}"#), Some(Got::Num(3.54))).is_ok());
    assert!(matches(&j(r#"{"approx": 3.5, "abs": 0.01}"#), Some(Got::Num(3.54))).is_err());
    assert!(matches(&j("1"), None).is_err());
}

#[test]
fn built_adverts_parse_back() {
    let mut data = Vec::new();
    ad::name(&mut data, "ATC_0001");
    ad::uuid16_list(&mut data, &[0xFE95, 0x181A]);
    ad::service_data16(&mut data, 0xFCD2, &hex("4002ca09"));
    ad::manufacturer(&mut data, 0x004C, &hex("0215"));
    let s: Vec<_> = adv::structures(&data).valid().collect();
    assert_eq!(s.len(), 4);
    assert_eq!(s[0].name(), Some(&b"ATC_0001"[..]));
    assert_eq!(to_hex(s[2].payload), "d2fc4002ca09");
    let addr = Addr::parse("A4:C1:38:00:00:01").unwrap();
    let ev = ad::event(addr, -50, &data);
    let r = single_adv_report(&ev).expect("a legacy report: 31 bytes or fewer");
    assert_eq!((r.addr, r.rssi, r.data), (addr, Some(-50), &data[..]));
    // Longer data needs an extended report.
    ad::manufacturer(&mut data, 0x0499, &[0u8; 20]);
    let ev = ad::event(addr, -50, &data);
    assert!(single_adv_report(&ev).is_none());
    let r = single_ext_adv_report(&ev).expect("an extended report");
    assert_eq!(r.data, &data[..]);
    assert!(
        r.is_legacy(),
        "still an ADV_IND, carried by the extended event"
    );
    assert_eq!(
        ad::uuid16("0000fcd2-0000-1000-8000-00805f9b34fb"),
        Some(0xFCD2)
    );
    assert_eq!(ad::uuid16("fcd2"), Some(0xFCD2));
    assert_eq!(
        ad::uuid128_le("ebe0ccb0-7a0a-4b0c-8a1a-6ff2997da3a6").map(|u| u[0]),
        Some(0xA6)
    );
}

#[test]
#[should_panic(expected = "bad hex digit")]
fn bad_hex_in_test_data_is_a_broken_file() {
    hex("04zz");
}
