//! `mqtt_feed CONFIG [--linger SECS]`: publishes readings through the MQTT service, driven by
//! a minimal single-threaded mio loop (the way `hci2mqtt run` drives it).
//!
//! Readings come from stdin as JSON lines in the format `hci2mqtt replay` prints (`mac`,
//! `rssi`, `format`, `firmware`, `model`, then bleparser keys), so
//! `hci2mqtt replay capture.btsnoop | mqtt_feed hci2mqtt.toml` publishes a capture.
//! Unknown keys are skipped. After the input it stays connected `--linger` seconds (default
//! 3600; until killed), then shuts down cleanly (`offline`). Used by `scripts/ha-check`.

use std::collections::HashSet;
use std::io::BufRead;
use std::time::{Duration, Instant};

use hci2mqtt::config::Config;
use hci2mqtt::mqtt::MqttService;
use hci2mqtt::service::{Service, SERVICE_TOKEN_BASE};
use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{field, Reading, Value, UNCLAIMED};
use mio::{Events, Poll, Token};

/// Readings hold `&'static str`; a feeder tool may intern (leak) the few distinct strings.
fn intern(set: &mut HashSet<&'static str>, s: &str) -> &'static str {
    if let Some(x) = set.get(s) {
        return x;
    }
    let x: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(x);
    x
}

fn parse_line(line: &str, strs: &mut HashSet<&'static str>) -> Option<Reading> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let o = v.as_object()?;
    let addr = Addr::parse(o.get("mac")?.as_str()?)?;
    let rssi = o
        .get("rssi")
        .and_then(|r| r.as_i64())
        .and_then(|r| i8::try_from(r).ok());
    let mut r = Reading::default();
    r.clear(addr, rssi);
    let s = |k: &str| o.get(k).and_then(|x| x.as_str()).unwrap_or("");
    r.format = intern(strs, s("format"));
    // The table entry behind the slug: its manufacturer and interval go into discovery.
    r.source = hci2mqtt_core::decode::format_of_slug(r.format).unwrap_or(&UNCLAIMED);
    r.firmware = intern(strs, s("firmware"));
    r.model = intern(strs, s("model"));
    r.packet = o
        .get("packet")
        .and_then(|p| p.as_u64())
        .and_then(|p| u32::try_from(p).ok());
    for (k, val) in o {
        let Some(f) = field::by_key(k) else { continue };
        if k == "rssi" {
            continue;
        }
        let value = match val {
            serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64()?),
            serde_json::Value::Number(n) => Value::Float(n.as_f64()?),
            serde_json::Value::String(t) => Value::Text(intern(strs, t)),
            _ => continue,
        };
        r.push(f, value);
    }
    Some(r)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: mqtt_feed CONFIG [--linger SECS] < readings.jsonl");
        std::process::exit(2);
    };
    let linger = args
        .iter()
        .position(|a| a == "--linger")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(3600);
    let cfg = match Config::load(std::path::Path::new(path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mqtt_feed: {e}");
            std::process::exit(2);
        }
    };
    let mut strs = HashSet::new();
    let readings: Vec<Reading> = std::io::stdin()
        .lock()
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| parse_line(&l, &mut strs))
        .collect();
    let mut svc = match MqttService::from_config(&cfg, Instant::now()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mqtt_feed: {e}");
            std::process::exit(2);
        }
    };
    let mut poll = Poll::new().expect("epoll");
    let mut events = Events::with_capacity(64);
    svc.register(poll.registry(), Token(SERVICE_TOKEN_BASE), Instant::now())
        .expect("register");
    let mut next = 0usize;
    let mut done_at: Option<Instant> = None;
    loop {
        let now = Instant::now();
        // One reading every 20 ms once connected (configs first, then states).
        let feed_at = if next < readings.len() && svc.is_connected() {
            Some(now + Duration::from_millis(20))
        } else {
            None
        };
        let wake = [
            svc.deadline(),
            feed_at,
            done_at.map(|d| d + Duration::from_secs(linger)),
        ]
        .into_iter()
        .flatten()
        .min();
        let timeout = wake
            .map(|w| w.saturating_duration_since(now))
            .unwrap_or(Duration::from_secs(1));
        if let Err(e) = poll.poll(&mut events, Some(timeout)) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                eprintln!("mqtt_feed: poll: {e}");
                break;
            }
        }
        let now = Instant::now();
        for ev in events.iter() {
            svc.on_event(poll.registry(), ev, now);
        }
        if svc.deadline().is_some_and(|d| d <= now) {
            svc.on_timeout(poll.registry(), now);
        }
        if next < readings.len() && svc.is_connected() {
            svc.on_reading(poll.registry(), &readings[next], now);
            next += 1;
        }
        if next == readings.len() && done_at.is_none() && svc.idle() && svc.is_connected() {
            eprintln!("mqtt_feed: published {} readings", readings.len());
            done_at = Some(now);
        }
        if done_at.is_some_and(|d| now >= d + Duration::from_secs(linger)) {
            break;
        }
    }
    svc.shutdown(poll.registry(), Duration::from_secs(2));
}
