//! Any bytes as the broker's side of an established session: decoded by the same
//! `Incoming` reader the socket path uses and handled by `handle_incoming` (HA status, acks,
//! replies). Never a panic; the inbound buffer never holds more than the input, and
//! oversized packets are skipped, not kept.
#![no_main]
use std::time::Instant;

use bytes::BytesMut;
use hci2mqtt::config::Config;
use hci2mqtt::mqtt::conn::{handle_incoming, Incoming};
use hci2mqtt::mqtt::Publisher;
use libfuzzer_sys::fuzz_target;
use rumqttc::MqttState;

fuzz_target!(|data: &[u8]| {
    let Ok(cfg) = Config::parse("[mqtt]\n", "fuzz") else {
        return;
    };
    let mut core = Publisher::new(cfg.publish_settings("fuzz"), Instant::now());
    let mut state = MqttState::new(100, false);
    let mut rbuf = Incoming::default();
    let mut wbuf = BytesMut::new();
    // Fed in 512-byte reads, as a socket would deliver them.
    for chunk in data.chunks(512) {
        rbuf.extend(chunk);
        loop {
            match rbuf.next_packet() {
                Ok(Some(p)) => {
                    if handle_incoming(&mut core, &mut state, &mut wbuf, p, Instant::now()).is_err()
                    {
                        return;
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(rbuf.buffered() <= data.len());
    }
    // Replies are acks: a few bytes per packet read.
    assert!(wbuf.len() <= 4 * data.len() + 64);
});
