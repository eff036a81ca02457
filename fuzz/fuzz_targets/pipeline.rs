//! A stream of packets (split on a length prefix) through the whole pipeline.
#![no_main]
use hci2mqtt_core::decode::{KeyStore, Reading};
use hci2mqtt_core::pipeline::{Options, Pipeline};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = Pipeline::new(
        KeyStore::new(),
        Options {
            device_cap: 8,
            ..Options::default()
        },
    );
    let mut sink = |_: &Reading| {};
    let mut rest = data;
    while let Some((&n, tail)) = rest.split_first() {
        let n = (n as usize).min(tail.len());
        p.handle_packet(&tail[..n], &mut sink);
        rest = &tail[n..];
    }
});
