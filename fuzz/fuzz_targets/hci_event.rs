//! Any bytes into the HCI event view and the AD iterator of every report.
#![no_main]
use hci2mqtt_core::adv;
use hci2mqtt_core::hci::event::{Event, EventKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = Event::new_checked(data) {
        match ev.kind() {
            Ok(EventKind::AdvReports(r)) => r
                .iter()
                .for_each(|rep| adv::structures(rep.data).for_each(drop)),
            Ok(EventKind::ExtAdvReports(r)) => r
                .iter()
                .for_each(|rep| adv::structures(rep.data).for_each(drop)),
            _ => {}
        }
    }
    adv::structures(data).for_each(drop);
});
