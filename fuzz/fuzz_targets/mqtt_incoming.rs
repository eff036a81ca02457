//! Any bytes as the broker's side of an established session: decoded by the same
//! `next_incoming` the socket path uses and handled by `handle_incoming` (HA status, acks,
//! replies). Never a panic; the inbound buffer never holds more than the input.
#![no_main]
use std::time::Instant;

use bytes::BytesMut;
use hci2mqtt::config::Config;
use hci2mqtt::mqtt::conn::{handle_incoming, next_incoming};
use hci2mqtt::mqtt::{Publisher, Settings};
use libfuzzer_sys::fuzz_target;
use rumqttc::MqttState;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::parse("[mqtt]\n", "fuzz") else {
        return;
    };
    let mut core = Publisher::new(cfg.publish_settings("fuzz"), Instant::now());
    let mut state = MqttState::new(100, false);
    let mut rbuf = BytesMut::new();
    let mut wbuf = BytesMut::new();
    // Fed in 512-byte reads, as a socket would deliver them.
    for chunk in data.chunks(512) {
        rbuf.extend_from_slice(chunk);
        loop {
            match next_incoming(&mut rbuf) {
                Ok(Some(p)) => {
                    if handle_incoming(&mut core, &mut state, &mut wbuf, p).is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(rbuf.len() <= data.len());
    }
    // Replies are acks: a few bytes per packet read.
    assert!(wbuf.len() <= 4 * data.len() + 64);
});
