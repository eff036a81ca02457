//! The sans-IO MQTT core: readings in, messages into the [`Outbox`] out.
//!
//! No socket and no clock: every call gets the loop's `now` (and, for `last_seen`, the unix time
//! the caller read). It keeps per device the merged latest value of every field seen, applies
//! the publish policy, builds discovery configs the first time a field shows up, and tracks
//! `[[tracker]]` presence. The connection ([`super::conn`]) only moves outbox messages to the
//! socket and tells the core when a session starts ([`Publisher::on_connected`]) or Home
//! Assistant comes online ([`Publisher::on_ha_status`]).

use std::time::{Duration, Instant};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as Json;

use super::discovery::{self, DeviceInfo, Topics};
use super::outbox::Outbox;
use super::{PublishPolicy, DEFAULT_BASE_TOPIC, DEFAULT_DISCOVERY_PREFIX};
use crate::addr::{Addr, AddrHashBuilder, AddrMap};
use crate::decode::field::{self, Field};
use crate::decode::{Reading, Value, MAX_VALUES};

/// Default bound on devices kept (least recently heard evicted beyond it).
pub const DEFAULT_MAX_DEVICES: usize = 1024;
/// Default bound on devices discovered by themselves (`[mqtt] max_devices`).
pub const DEFAULT_MAX_DISCOVERED: usize = 256;
/// Default `[mqtt] forget_after`: a week.
pub const DEFAULT_FORGET_AFTER: Duration = Duration::from_secs(7 * 86_400);
/// Most fields kept per device.
const MAX_FIELDS: usize = 2 * MAX_VALUES;
/// Outbox room a resync wants before queueing one more device: its configs (one per field,
/// the RSSI ones) and its two state messages, with room to spare for live readings.
const RESYNC_PAGE_ENTRIES: usize = MAX_FIELDS + 8;
const RESYNC_PAGE_BYTES: usize = 64 * 1024;
/// Most gateways in a shared entity's availability list (learned from `<base>/+/status`).
pub const MAX_GATEWAYS: usize = 32;
/// Retained states of sensors this gateway has not heard yet, kept to merge when it does.
pub const MAX_PENDING: usize = 256;
/// Longest text value taken over from the retained state.
const MAX_ADOPTED_TEXT: usize = 64;
/// How long a new session waits for its own `online` to come back (the sign that the
/// broker's retained states and gateway statuses have all arrived) before it publishes
/// anyway (a broker ACL may forbid the subscriptions).
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(3);
/// Keys of the state JSON that are not fields.
const META_KEYS: [&str; 3] = ["rssi", "model", "last_seen"];

/// Everything the core needs from the config file.
#[derive(Clone, Debug)]
pub struct Settings {
    pub topics: Topics,
    pub discovery: bool,
    pub discover_all: bool,
    pub policy: PublishPolicy,
    /// `[[sensor]]`: MAC, name, own policy (already merged with the default).
    pub sensors: Vec<(Addr, Option<String>, PublishPolicy)>,
    /// `[[tracker]]`: MAC, name, timeout.
    pub trackers: Vec<(Addr, Option<String>, Duration)>,
    pub max_devices: usize,
    /// Devices discovered by themselves (not `[[sensor]]`s) at most; later ones are ignored
    /// until one leaves the table, so a flat full of beacons cannot fill the broker.
    pub max_discovered: usize,
    /// A device discovered by itself and silent this long is forgotten: its retained configs,
    /// state and RSSI topics are cleared (empty retained payloads) and it leaves the table.
    /// `None`: never.
    pub forget_after: Option<Duration>,
    /// Publish the raw adverts of devices no format decodes ([`super::unknown`]).
    pub publish_unknown: bool,
    /// Outbox bounds.
    pub outbox_entries: usize,
    pub outbox_bytes: usize,
    /// Key of the device map's address hash (addresses come from the air: the binary passes a
    /// per-process random key).
    pub hash_key: u64,
}

impl Settings {
    /// The defaults of an empty config file (`[mqtt]` with nothing set), for `gateway`.
    pub fn new(gateway: &str) -> Settings {
        Settings {
            topics: Topics {
                base: DEFAULT_BASE_TOPIC.to_string(),
                prefix: DEFAULT_DISCOVERY_PREFIX.to_string(),
                gateway: discovery::sanitize_id(gateway),
            },
            discovery: true,
            discover_all: true,
            policy: PublishPolicy::default(),
            sensors: Vec::new(),
            trackers: Vec::new(),
            max_devices: DEFAULT_MAX_DEVICES,
            max_discovered: DEFAULT_MAX_DISCOVERED,
            forget_after: Some(DEFAULT_FORGET_AFTER),
            publish_unknown: false,
            outbox_entries: 4 * DEFAULT_MAX_DEVICES + 64,
            outbox_bytes: 4 << 20,
            hash_key: crate::addr::FIXED_HASH_KEY,
        }
    }
}

/// Counters for tests and the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublisherStats {
    pub readings: u64,
    /// Readings ignored because `discover_all = false` and the MAC is not a `[[sensor]]`.
    pub ignored: u64,
    /// Readings of unconfigured devices with a private (rotating) address, ignored.
    pub private_ignored: u64,
    /// Readings of new unconfigured devices beyond `max_discovered`, ignored.
    pub over_cap: u64,
    /// Devices forgotten after `forget_after` of silence (their retained topics cleared).
    pub forgotten: u64,
    pub states: u64,
    pub configs: u64,
    pub evicted: u64,
    /// Unknown-device reports queued.
    pub unknown: u64,
}

struct Device {
    name: String,
    model: &'static str,
    manufacturer: &'static str,
    firmware: &'static str,
    format: &'static str,
    /// The format's broadcast interval (sets `expire_after`).
    interval_s: u32,
    values: Vec<(&'static Field, Value)>,
    /// Fields this gateway has not heard but the shared state topic has (another gateway's,
    /// or the retained state from before our start): published with ours so that our state
    /// never lacks a field the retained one had. Refreshed from every state message on the
    /// topic; dropped for a key once we hear it ourselves. At most [`MAX_FIELDS`].
    adopted: Vec<(&'static Field, Json)>,
    /// Fields whose discovery config was built.
    announced: Vec<&'static Field>,
    rssi: Option<i8>,
    last_seen_unix: u64,
    last_heard: Instant,
    /// Another gateway published this sensor's state (it is heard: not to be forgotten).
    last_shared: Option<Instant>,
    /// The shared RSSI entity of earlier versions was cleared (once per process).
    legacy_cleared: bool,
    last_pub: Option<Instant>,
    /// When this device should be published next (something new is waiting).
    due: Option<Instant>,
    policy: PublishPolicy,
}

struct Tracker {
    addr: Addr,
    name: String,
    timeout: Duration,
    last_seen: Option<Instant>,
    /// Last published state (`Some(true)` = home).
    home: Option<bool>,
}

pub struct Publisher {
    s: Settings,
    devices: AddrMap<Device>,
    trackers: Vec<Tracker>,
    pub outbox: Outbox,
    started: Instant,
    pub stats: PublisherStats,
    /// The outbox overflowed: re-queue everything once it drains.
    resync: bool,
    unknown: super::unknown::Limiter,
    /// Every gateway known from `<base>/+/status` (this one included), sorted: the shared
    /// entities' availability list.
    gateways: Vec<String>,
    /// This session's retained messages have arrived (our own `online` came back, or
    /// [`SYNC_TIMEOUT`] passed): until then nothing but statuses and trackers is published.
    synced: bool,
    /// When an unsynced session publishes anyway.
    sync_deadline: Option<Instant>,
    /// The shared `<base>/status` of earlier versions was cleared.
    legacy_status_cleared: bool,
    /// Retained states of sensors not in the table yet (bounded by [`MAX_PENDING`]).
    pending: AddrMap<Vec<(&'static Field, Json)>>,
    /// Devices a resync has still to queue (last = next).
    resync_queue: Vec<Addr>,
    /// A resync has still to queue the trackers' states.
    resync_trackers: bool,
}

/// JSON state of one device: merged fields, then `rssi`, `model`, `last_seen`.
struct StateJson<'a>(&'a Device);

impl Serialize for StateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        for (f, v) in &d.values {
            // The reading's RSSI is written below; never the same key twice.
            if f.key == "rssi" && d.rssi.is_some() {
                continue;
            }
            match v {
                // JSON has no NaN/inf: publish null rather than fail the whole state.
                Value::Float(x) if !x.is_finite() => m.serialize_entry(f.key, &())?,
                _ => m.serialize_entry(f.key, v)?,
            }
        }
        for (f, v) in &d.adopted {
            m.serialize_entry(f.key, v)?;
        }
        if let Some(r) = d.rssi {
            m.serialize_entry("rssi", &r)?;
        }
        m.serialize_entry("model", d.model)?;
        m.serialize_entry("last_seen", &d.last_seen_unix)?;
        m.end()
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() {
        s.clamp(0.0, 1e9)
    } else {
        0.0
    })
}

impl Publisher {
    pub fn new(s: Settings, now: Instant) -> Publisher {
        let trackers = s
            .trackers
            .iter()
            .map(|(a, n, t)| Tracker {
                addr: *a,
                name: n
                    .clone()
                    .unwrap_or_else(|| format!("Tracker {}", &discovery::mac12(a)[6..])),
                timeout: *t,
                last_seen: None,
                home: None,
            })
            .collect();
        Publisher {
            outbox: Outbox::new(s.outbox_entries, s.outbox_bytes),
            devices: AddrMap::with_hasher(AddrHashBuilder::with_key(s.hash_key)),
            trackers,
            started: now,
            stats: PublisherStats::default(),
            resync: false,
            unknown: super::unknown::Limiter::new(s.hash_key),
            gateways: vec![s.topics.gateway.clone()],
            synced: false,
            sync_deadline: None,
            legacy_status_cleared: false,
            pending: AddrMap::with_hasher(AddrHashBuilder::with_key(s.hash_key)),
            resync_queue: Vec::new(),
            resync_trackers: false,
            s,
        }
    }

    pub fn topics(&self) -> &Topics {
        &self.s.topics
    }

    pub fn device_count(&self) -> usize {
        self.devices.len()
    }

    /// The gateways the shared entities' availability lists name (sorted, this one included).
    pub fn gateways(&self) -> &[String] {
        &self.gateways
    }

    /// This session's retained messages are in (see [`SYNC_TIMEOUT`]): states and configs
    /// flow. Replay runs wait for it before they exit.
    pub fn synced(&self) -> bool {
        self.synced
    }

    /// Synced, and nothing is queued or still to be queued (no resync page left): what a
    /// replay run waits for before it exits.
    pub fn settled(&self) -> bool {
        self.synced
            && self.outbox.is_empty()
            && self.resync_queue.is_empty()
            && !self.resync_trackers
            && !self.resync
    }

    /// Whether `a` is a `[[sensor]]`.
    fn is_sensor(&self, a: &Addr) -> bool {
        self.s.sensors.iter().any(|(s, _, _)| s == a)
    }

    /// Devices in the table that are not `[[sensor]]`s.
    fn discovered(&self) -> usize {
        self.devices.keys().filter(|a| !self.is_sensor(a)).count()
    }

    fn push(&mut self, topic: &str, payload: Vec<u8>, retain: bool) {
        if self.outbox.push(topic, payload, retain) == super::outbox::Pushed::Dropped {
            self.resync = true;
        }
    }

    /// A decoded reading. `unix` is the wall-clock time for `last_seen`.
    pub fn on_reading(&mut self, r: &Reading, now: Instant, unix: u64) {
        self.on_seen(&r.addr, now);
        let sensor = self
            .s
            .sensors
            .iter()
            .find(|(a, _, _)| *a == r.addr)
            .cloned();
        if sensor.is_none() {
            if !self.s.discover_all {
                self.stats.ignored += 1;
                return;
            }
            // A rotating address would be a new device every few minutes, for ever.
            if r.private_address {
                self.stats.private_ignored += 1;
                return;
            }
            if !self.devices.contains_key(&r.addr) && self.discovered() >= self.s.max_discovered {
                self.stats.over_cap += 1;
                return;
            }
        }
        self.stats.readings += 1;
        if !self.devices.contains_key(&r.addr) && self.devices.len() >= self.s.max_devices.max(1) {
            self.evict_one();
        }
        let policy = sensor.as_ref().map(|s| s.2).unwrap_or(self.s.policy);
        let pending = if self.devices.contains_key(&r.addr) {
            None
        } else {
            self.pending.remove(&r.addr)
        };
        let dev = self.devices.entry(r.addr).or_insert_with(|| Device {
            name: String::new(),
            model: "",
            manufacturer: "",
            firmware: "",
            format: "",
            interval_s: 0,
            values: Vec::new(),
            adopted: Vec::new(),
            announced: Vec::new(),
            rssi: None,
            last_seen_unix: 0,
            last_heard: now,
            last_shared: None,
            legacy_cleared: false,
            last_pub: None,
            due: None,
            policy,
        });
        let mut changed = false;
        let mut rediscover = false;
        if dev.model != r.model || dev.format.is_empty() {
            rediscover = !dev.announced.is_empty() && dev.model != r.model;
            changed |= dev.model != r.model;
            dev.model = r.model;
            dev.manufacturer = r.source.manufacturer;
            dev.firmware = r.firmware;
            dev.name = match sensor.as_ref().and_then(|s| s.1.clone()) {
                Some(n) => n,
                None if r.model.is_empty() => format!("BLE {}", &discovery::mac12(&r.addr)[6..]),
                None => format!("{} {}", r.model, &discovery::mac12(&r.addr)[6..]),
            };
        }
        dev.format = r.format;
        dev.interval_s = r.source.interval_s;
        for (f, v) in r.values() {
            let n = dev.values.len();
            // By key, as `Reading::push` merges (one key, one JSON member).
            match dev
                .values
                .iter_mut()
                .find(|(g, _)| core::ptr::eq(*g, *f) || g.key == f.key)
            {
                Some(slot) if slot.1 != *v || !core::ptr::eq(slot.0, *f) => {
                    *slot = (*f, *v);
                    changed = true;
                }
                Some(_) => {}
                None if n < MAX_FIELDS => {
                    dev.values.push((*f, *v));
                    changed = true;
                }
                None => {}
            }
        }
        if let Some(p) = pending {
            dev.adopted = p;
        }
        // What we hear ourselves replaces what we took over.
        let values = &dev.values;
        dev.adopted
            .retain(|(f, _)| !values.iter().any(|(g, _)| g.key == f.key));
        if r.rssi.is_some() {
            dev.rssi = r.rssi;
        }
        dev.last_seen_unix = unix;
        dev.last_heard = now;
        // When to publish: first time now; a change per on_change/min_interval; otherwise a
        // refresh (rssi, last_seen) once max_interval has passed since the last publish.
        let min = secs(dev.policy.min_interval_s());
        let max = secs(dev.policy.max_interval_s()).max(min);
        let due = match dev.last_pub {
            None => now,
            Some(t) if changed && dev.policy.on_change() => t + min,
            Some(t) => t + max,
        };
        dev.due = Some(dev.due.map_or(due, |d| d.min(due)));
        if rediscover {
            dev.announced.clear();
        }
        let addr = r.addr;
        if self.s.discovery {
            self.announce_new_fields(&addr);
        }
        if self
            .devices
            .get(&addr)
            .and_then(|d| d.due)
            .is_some_and(|d| d <= now)
        {
            self.publish_state(&addr, now);
        }
    }

    fn evict_one(&mut self) {
        let oldest = self
            .devices
            .iter()
            .min_by_key(|(_, d)| d.last_heard)
            .map(|(a, _)| *a);
        if let Some(a) = oldest {
            self.devices.remove(&a);
            self.stats.evicted += 1;
        }
    }

    fn info(dev: &Device, addr: Addr) -> DeviceInfo<'_> {
        DeviceInfo {
            addr,
            name: &dev.name,
            model: dev.model,
            manufacturer: dev.manufacturer,
            sw_version: dev.firmware,
            format: dev.format,
        }
    }

    /// Fields of a device that get a discovery config: those we heard and those we took
    /// over (so that every gateway re-sends every config with the current availability
    /// list, not only the ones for the fields it hears itself), less `rssi` (each gateway
    /// announces its own RSSI entity instead) and less taken-over keys that two fields share
    /// ([`field::SAME_KEY`]: which one the other gateway meant is unknown, and a wrong guess
    /// would make the configs differ).
    fn announceable(dev: &Device) -> impl Iterator<Item = &'static Field> + '_ {
        let adopted = dev
            .adopted
            .iter()
            .map(|(f, _)| *f)
            .filter(|f| !field::SAME_KEY.contains(&f.key));
        dev.values
            .iter()
            .map(|(f, _)| *f)
            .chain(adopted)
            .filter(|f| f.key != field::RSSI.key)
    }

    /// Discovery configs for fields not announced yet (and, with the first, this gateway's
    /// RSSI entity). Nothing before the session is synced: the availability list needs the
    /// gateways' retained statuses.
    fn announce_new_fields(&mut self, addr: &Addr) {
        if !self.synced {
            return;
        }
        let Some(dev) = self.devices.get_mut(addr) else {
            return;
        };
        let first = dev.announced.is_empty();
        let new: Vec<&'static Field> = Self::announceable(dev)
            .filter(|f| !dev.announced.iter().any(|g| core::ptr::eq(*g, *f)))
            .collect();
        if new.is_empty() && !(first && dev.rssi.is_some()) {
            return;
        }
        dev.announced.extend(new.iter().copied());
        // An RSSI-only device still counts as announced (its RSSI entity).
        if dev.announced.is_empty() {
            dev.announced.push(&field::RSSI);
        }
        let exp = discovery::expire_after_s(dev.interval_s, dev.policy.max_interval_s());
        let clear_legacy = !std::mem::replace(&mut dev.legacy_cleared, true);
        let info = Self::info(dev, *addr);
        let mut msgs = Vec::with_capacity(new.len() + 2);
        for f in new {
            msgs.push(discovery::field_config(
                &self.s.topics,
                &self.gateways,
                &info,
                f,
                exp,
            ));
        }
        if first && dev.rssi.is_some() {
            msgs.push(discovery::gateway_rssi_config(&self.s.topics, &info, exp));
        }
        if clear_legacy {
            msgs.push((
                discovery::legacy_rssi_config_topic(&self.s.topics, addr),
                Vec::new(),
            ));
        }
        for (t, p) in msgs {
            self.stats.configs += 1;
            self.push(&t, p, true);
        }
    }

    /// The discovery configs of one device (every field heard, this gateway's RSSI), marking
    /// them announced; once per process also the empty config that removes the shared RSSI
    /// entity of earlier versions.
    fn device_configs(&mut self, a: &Addr) -> Vec<(String, Vec<u8>)> {
        let mut msgs = Vec::new();
        if !self.s.discovery {
            return msgs;
        }
        let Some(dev) = self.devices.get_mut(a) else {
            return msgs;
        };
        let fields: Vec<&'static Field> = Self::announceable(dev).collect();
        dev.announced = fields.clone();
        if dev.announced.is_empty() && dev.rssi.is_some() {
            dev.announced.push(&field::RSSI);
        }
        let clear_legacy = !std::mem::replace(&mut dev.legacy_cleared, true);
        let exp = discovery::expire_after_s(dev.interval_s, dev.policy.max_interval_s());
        let info = Self::info(dev, *a);
        for f in fields {
            msgs.push(discovery::field_config(
                &self.s.topics,
                &self.gateways,
                &info,
                f,
                exp,
            ));
        }
        if dev.rssi.is_some() {
            msgs.push(discovery::gateway_rssi_config(&self.s.topics, &info, exp));
        }
        if clear_legacy {
            msgs.push((
                discovery::legacy_rssi_config_topic(&self.s.topics, a),
                Vec::new(),
            ));
        }
        msgs
    }

    /// Starts a full re-publish (a session synced, Home Assistant's `online`, a gateway
    /// joined or left, or after the outbox dropped something): the gateway's and trackers'
    /// configs now, then every device's configs and state page by page as the outbox drains
    /// ([`Self::continue_resync`]), so a resync of every device completes however small the
    /// outbox. Waits for the session to be synced.
    fn queue_all_states(&mut self, now: Instant) {
        if !self.synced {
            self.resync = true;
            return;
        }
        self.resync = false;
        if self.s.discovery {
            let mut msgs = vec![discovery::gateway_config(&self.s.topics)];
            for t in &self.trackers {
                msgs.push(discovery::tracker_config(
                    &self.s.topics,
                    &self.gateways,
                    &t.addr,
                    &t.name,
                ));
            }
            for (t, p) in msgs {
                self.stats.configs += 1;
                self.push(&t, p, true);
            }
        }
        let mut addrs: Vec<Addr> = self.devices.keys().copied().collect();
        addrs.sort_unstable_by(|a, b| b.cmp(a));
        self.resync_queue = addrs;
        self.resync_trackers = true;
        self.continue_resync(now);
    }

    /// Queues the next devices of a resync while the outbox has room for a whole device.
    fn continue_resync(&mut self, now: Instant) {
        while let Some(a) = self.resync_queue.last().copied() {
            let (entries, bytes) = self.outbox.room();
            if entries < RESYNC_PAGE_ENTRIES || bytes < RESYNC_PAGE_BYTES {
                return;
            }
            self.resync_queue.pop();
            for (t, p) in self.device_configs(&a) {
                self.stats.configs += 1;
                self.push(&t, p, true);
            }
            self.publish_state(&a, now);
        }
        if std::mem::take(&mut self.resync_trackers) {
            for i in 0..self.trackers.len() {
                if let Some(h) = self.trackers[i].home {
                    let t = self.s.topics.tracker(&self.trackers[i].addr);
                    let v: &[u8] = if h { b"home" } else { b"not_home" };
                    self.push(&t, v.to_vec(), true);
                }
            }
        }
    }

    /// Publishes a device's state (held, still due, until the session is synced: a state
    /// built before the retained one arrived would lack its fields).
    fn publish_state(&mut self, addr: &Addr, now: Instant) {
        if !self.synced {
            return;
        }
        let Some(dev) = self.devices.get_mut(addr) else {
            return;
        };
        dev.due = None;
        dev.last_pub = Some(now);
        let payload = serde_json::to_vec(&StateJson(dev)).unwrap_or_default();
        let rssi = dev.rssi;
        let topic = self.s.topics.state(addr);
        self.stats.states += 1;
        self.push(&topic, payload, true);
        if let Some(r) = rssi {
            let t = self.s.topics.gateway_rssi(addr);
            self.push(&t, r.to_string().into_bytes(), true);
        }
    }

    /// An advert no format claimed: with `publish_unknown`, its raw structures go to
    /// `<base>/unknown/<mac12>` (not retained), within [`super::unknown::Limiter`]'s limits.
    pub fn on_unknown(
        &mut self,
        addr: &Addr,
        addr_type: u8,
        rssi: Option<i8>,
        data: &[u8],
        now: Instant,
    ) {
        if !self.s.publish_unknown
            || !super::unknown::worth_reporting(data)
            || !self.unknown.allow(addr, now)
        {
            return;
        }
        let topic = format!("{}/unknown/{}", self.s.topics.base, discovery::mac12(addr));
        let payload = super::unknown::json(addr, addr_type, rssi, data);
        self.stats.unknown += 1;
        // Straight to the outbox: a dropped report is just dropped, no resync for it.
        let _ = self.outbox.push(&topic, payload, false);
    }

    /// Any advertisement from `addr` (decoded or not): tracker presence.
    pub fn on_seen(&mut self, addr: &Addr, now: Instant) {
        let Some(i) = self.trackers.iter().position(|t| t.addr == *addr) else {
            return;
        };
        self.trackers[i].last_seen = Some(now);
        if self.trackers[i].home != Some(true) {
            self.trackers[i].home = Some(true);
            let t = self.s.topics.tracker(addr);
            self.push(&t, b"home".to_vec(), true);
        }
    }

    /// Home Assistant's birth/will message on `<prefix>/status`.
    pub fn on_ha_status(&mut self, payload: &[u8]) {
        // Home Assistant (re)started: it wants every config, and every state too (it reset
        // each entity's `expire_after`). Paged once the outbox drains, like any resync.
        if payload == b"online" {
            self.resync = true;
        }
    }

    /// A message from the broker on one of our subscriptions: Home Assistant's status
    /// (`<prefix>/status`), a gateway's status (`<base>/+/status`) or a sensor's shared state
    /// (`<base>/+`). `retained`: the broker sent it because we subscribed (MQTT's retain flag
    /// on delivery), not because it was just published.
    pub fn on_message(&mut self, topic: &str, payload: &[u8], retained: bool, now: Instant) {
        if topic == self.s.topics.ha_status() {
            self.on_ha_status(payload);
        } else if let Some(gw) = self.s.topics.gateway_of_status(topic) {
            let gw = gw.to_owned();
            self.on_gateway_status(&gw, payload, retained, now);
        } else if let Some(a) = self.s.topics.addr_of_state(topic) {
            self.on_shared_state(&a, payload, now);
        }
    }

    /// A gateway's status. Ours, live and `online`: the echo of the `online` this session
    /// sent after subscribing, so every retained message is in and the session is synced.
    /// Ours and `offline` (a will of an earlier session of ours arriving late): re-assert
    /// `online`. Another gateway's, any payload: it is known (a dead gateway stays in the
    /// lists, `offline`, so lists do not change when one dies); an empty retained payload
    /// removes it (how a retired gateway is taken out). A change of the list re-sends every
    /// config.
    fn on_gateway_status(&mut self, gw: &str, payload: &[u8], retained: bool, now: Instant) {
        if gw == self.s.topics.gateway {
            if payload != b"online" {
                self.push(&self.s.topics.status(), b"online".to_vec(), true);
            } else if !retained && !self.synced && self.sync_deadline.is_some() {
                self.sync(now);
            }
            return;
        }
        let at = self.gateways.binary_search_by(|g| g.as_str().cmp(gw));
        let changed = match (at, payload.is_empty()) {
            (Ok(i), true) => {
                self.gateways.remove(i);
                true
            }
            (Err(i), false) if self.gateways.len() < MAX_GATEWAYS => {
                self.gateways.insert(i, gw.to_owned());
                true
            }
            _ => false,
        };
        if changed && self.synced {
            // Queued configs and states with the old list are replaced (the outbox
            // coalesces by topic).
            self.queue_all_states(now);
        }
    }

    /// The session's retained messages are in: publish everything.
    fn sync(&mut self, now: Instant) {
        self.synced = true;
        self.sync_deadline = None;
        self.queue_all_states(now);
    }

    /// A state message on a sensor's shared topic (another gateway's, the retained one, or
    /// our own coming back). Fields we do not hear ourselves are taken over, so that our
    /// next state carries them too; for a sensor not in the table yet they wait in a bounded
    /// table until we hear it. Only keys of known fields with plain values are taken.
    fn on_shared_state(&mut self, a: &Addr, payload: &[u8], now: Instant) {
        if payload.is_empty() {
            // Cleared (a gateway forgot the sensor).
            self.pending.remove(a);
            return;
        }
        let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<Json>(payload) else {
            return;
        };
        let mut fields: Vec<(&'static Field, Json)> = Vec::new();
        for (k, v) in m {
            if fields.len() >= MAX_FIELDS {
                break;
            }
            if META_KEYS.contains(&k.as_str()) || fields.iter().any(|(f, _)| f.key == k) {
                continue;
            }
            let plain = match &v {
                Json::Null | Json::Bool(_) | Json::Number(_) => true,
                Json::String(t) => t.len() <= MAX_ADOPTED_TEXT,
                Json::Array(_) | Json::Object(_) => false,
            };
            if let (true, Some(f)) = (plain, field::by_key(&k)) {
                fields.push((f, v));
            }
        }
        match self.devices.get_mut(a) {
            Some(dev) => {
                let values = &dev.values;
                fields.retain(|(f, _)| !values.iter().any(|(g, _)| g.key == f.key));
                dev.adopted = fields;
                dev.last_shared = Some(now);
                if self.s.discovery {
                    self.announce_new_fields(a);
                }
            }
            None if self.pending.len() < MAX_PENDING || self.pending.contains_key(a) => {
                self.pending.insert(*a, fields);
            }
            None => {}
        }
    }

    /// A new MQTT session (the subscriptions are sent right after): this gateway's `online`,
    /// then nothing else (bar trackers) until it is synced ([`Self::on_message`]), at most
    /// [`SYNC_TIMEOUT`] later. The first session also clears the shared status topic of
    /// earlier versions.
    pub fn on_connected(&mut self, now: Instant) {
        if !std::mem::replace(&mut self.legacy_status_cleared, true) {
            self.push(&self.s.topics.legacy_status(), Vec::new(), true);
        }
        self.push(&self.s.topics.status(), b"online".to_vec(), true);
        self.synced = false;
        self.sync_deadline = Some(now + SYNC_TIMEOUT);
        self.resync_queue.clear();
        self.resync_trackers = false;
    }

    /// When [`Publisher::on_timeout`] has work (pending publishes, tracker timeouts, the
    /// look for devices to forget).
    pub fn deadline(&self) -> Option<Instant> {
        // Unsynced, due states wait for the sync, not for their time.
        let held = !self.synced;
        let d = self
            .devices
            .iter()
            .filter_map(|(a, d)| {
                d.due
                    .filter(|_| !held)
                    .into_iter()
                    .chain(self.forget_at(a, d))
                    .min()
            })
            .chain(self.sync_deadline.filter(|_| held))
            // Resync work waiting on an outbox that is already empty: at once (the
            // socket has nothing left to drain that would call `after_drain`).
            .chain((!held && self.outbox.is_empty() && !self.settled()).then_some(self.started))
            .min();
        let t = self
            .trackers
            .iter()
            .filter(|t| t.home != Some(false))
            .map(|t| t.last_seen.unwrap_or(self.started) + t.timeout)
            .min();
        match (d, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Publishes now every state that waits only for its time (a change inside
    /// `min_interval`, a `max_interval` refresh): the end of a replay's capture, whose last
    /// values would otherwise never go out. Held states of an unsynced session stay held.
    pub fn publish_waiting(&mut self, now: Instant) {
        self.publish_due(now, None);
    }

    /// Publishes every device with a state due by `by` (any due state when `None`).
    fn publish_due(&mut self, now: Instant, by: Option<Instant>) {
        let due: Vec<Addr> = self
            .devices
            .iter()
            .filter(|(_, d)| d.due.is_some_and(|t| by.is_none_or(|by| t <= by)))
            .map(|(a, _)| *a)
            .collect();
        for a in due {
            self.publish_state(&a, now);
        }
    }

    pub fn on_timeout(&mut self, now: Instant) {
        if !self.synced && self.sync_deadline.is_some_and(|t| t <= now) {
            self.sync(now);
        }
        self.publish_due(now, Some(now));
        for i in 0..self.trackers.len() {
            let t = &self.trackers[i];
            if t.home != Some(false) && t.last_seen.unwrap_or(self.started) + t.timeout <= now {
                self.trackers[i].home = Some(false);
                let topic = self.s.topics.tracker(&self.trackers[i].addr);
                self.push(&topic, b"not_home".to_vec(), true);
            }
        }
        self.forget_silent(now);
        self.after_drain(now);
    }

    /// When a device discovered by itself is forgotten unless heard again (`None` for a
    /// `[[sensor]]`, or when nothing is ever forgotten).
    fn forget_at(&self, a: &Addr, d: &Device) -> Option<Instant> {
        let after = self.s.forget_after?;
        if self.is_sensor(a) {
            return None;
        }
        // Heard by another gateway: kept (forgetting clears the shared topics).
        let last = d.last_shared.map_or(d.last_heard, |t| t.max(d.last_heard));
        last.checked_add(after)
    }

    /// Clears the retained topics of every device discovered by itself and silent for
    /// `forget_after` (an empty retained payload removes a retained message, and Home
    /// Assistant removes an entity whose config is emptied), and drops it from the table.
    fn forget_silent(&mut self, now: Instant) {
        let mut gone: Vec<Addr> = self
            .devices
            .iter()
            .filter(|(a, d)| self.forget_at(a, d).is_some_and(|t| t <= now))
            .map(|(a, _)| *a)
            .collect();
        gone.sort();
        for a in gone {
            let Some(dev) = self.devices.remove(&a) else {
                continue;
            };
            let mut topics: Vec<String> = dev
                .announced
                .iter()
                .map(|f| discovery::field_config_topic(&self.s.topics, &a, f))
                .collect();
            if !dev.announced.is_empty() {
                let info = Self::info(&dev, a);
                topics.push(discovery::gateway_rssi_config(&self.s.topics, &info, 0).0);
            }
            topics.push(self.s.topics.state(&a));
            topics.push(self.s.topics.gateway_rssi(&a));
            for t in topics {
                self.push(&t, Vec::new(), true);
            }
            self.stats.forgotten += 1;
        }
    }

    /// After the outbox drained: the next page of a resync, or a new resync if something
    /// was dropped meanwhile or Home Assistant came online.
    pub fn after_drain(&mut self, now: Instant) {
        if !self.resync_queue.is_empty() || self.resync_trackers {
            self.continue_resync(now);
        } else if self.resync && self.synced && self.outbox.is_empty() {
            self.queue_all_states(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(policy: PublishPolicy) -> Settings {
        Settings {
            policy,
            ..Settings::new("gw1")
        }
    }

    const A: Addr = Addr([0xA4, 0xC1, 0x38, 0x00, 0x00, 0x01]);

    /// A publisher whose session is up and synced (its own `online` came back), drained.
    fn synced(s: Settings, t0: Instant) -> Publisher {
        let mut p = Publisher::new(s, t0);
        p.on_connected(t0);
        p.on_message("hci2mqtt/gw1/status", b"online", false, t0);
        drain(&mut p);
        p
    }

    fn reading(addr: Addr, rssi: i8, vals: &[(&'static Field, Value)]) -> Reading {
        let mut r = Reading::default();
        r.clear(addr, Some(rssi));
        r.format = "atc1441";
        r.source = &crate::decode::atc::FORMAT;
        r.firmware = "ATC (Custom)";
        r.model = "LYWSD03MMC";
        for (f, v) in vals {
            r.push(f, *v);
        }
        r
    }

    fn drain(p: &mut Publisher) -> Vec<(String, String)> {
        let mut v = Vec::new();
        while let Some(m) = p.outbox.pop() {
            v.push((m.topic, String::from_utf8(m.payload).unwrap()));
        }
        v
    }

    fn state_of(msgs: &[(String, String)], topic: &str) -> Option<serde_json::Value> {
        msgs.iter()
            .rev()
            .find(|(t, _)| t == topic)
            .map(|(_, p)| serde_json::from_str(p).unwrap())
    }

    #[test]
    fn merges_fields_and_publishes_configs_before_state() {
        let t0 = Instant::now();
        let mut p = synced(settings(PublishPolicy::default()), t0);
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.5))]),
            t0,
            1000,
        );
        let m = drain(&mut p);
        let topics: Vec<&str> = m.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            topics,
            [
                "homeassistant/sensor/a4c138000001/temperature/config",
                "homeassistant/sensor/a4c138000001/rssi_gw1/config",
                // The shared RSSI entity of earlier versions, removed.
                "homeassistant/sensor/a4c138000001/rssi/config",
                "hci2mqtt/a4c138000001",
                "hci2mqtt/gw1/a4c138000001/rssi",
            ]
        );
        assert_eq!(m[2].1, "", "cleared");
        // humidity in a separate frame (LYWSD02MMC style): merged
        p.on_reading(
            &reading(A, -61, &[(&field::HUMIDITY, Value::Int(48))]),
            t0 + Duration::from_secs(1),
            1001,
        );
        let m = drain(&mut p);
        assert_eq!(m[0].0, "homeassistant/sensor/a4c138000001/humidity/config");
        let s = state_of(&m, "hci2mqtt/a4c138000001").unwrap();
        assert_eq!(s["temperature"], 21.5);
        assert_eq!(s["humidity"], 48);
        assert_eq!(s["rssi"], -61);
        assert_eq!(s["model"], "LYWSD03MMC");
        assert_eq!(s["last_seen"], 1001);
        assert_eq!(state_of(&m, "hci2mqtt/gw1/a4c138000001/rssi").unwrap(), -61);
    }

    /// Readings heard before the session is synced publish nothing (a state built before
    /// the retained one arrived would lack its fields; a config built before the gateways'
    /// statuses arrived would name too few gateways). The session's `online` comes back
    /// live (retain flag clear): then the gateway's config, every config and state follow.
    /// A retained `online` of ours (from before) is not that sign; without the echo the
    /// session publishes anyway after SYNC_TIMEOUT.
    #[test]
    fn nothing_but_the_status_before_the_session_is_synced() {
        let t0 = Instant::now();
        let b = Addr([0xA4, 0xC1, 0x38, 0x00, 0x00, 0x02]);
        for echo in [true, false] {
            let mut p = Publisher::new(settings(PublishPolicy::default()), t0);
            p.on_reading(
                &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.5))]),
                t0,
                1,
            );
            assert!(drain(&mut p).is_empty());
            p.on_connected(t0);
            p.on_reading(
                &reading(b, -70, &[(&field::HUMIDITY, Value::Int(40))]),
                t0,
                1,
            );
            let m = drain(&mut p);
            assert_eq!(
                m,
                [
                    ("hci2mqtt/status".to_string(), String::new()),
                    ("hci2mqtt/gw1/status".to_string(), "online".to_string())
                ]
            );
            assert!(!p.synced());
            assert_eq!(p.deadline(), Some(t0 + SYNC_TIMEOUT));
            p.on_message("hci2mqtt/gw1/status", b"online", true, t0);
            assert!(!p.synced(), "a retained online is an earlier session's");
            let t1 = t0 + Duration::from_millis(20);
            if echo {
                p.on_message("hci2mqtt/gw1/status", b"online", false, t1);
            } else {
                p.on_timeout(t1);
                assert!(!p.synced());
                p.on_timeout(t0 + SYNC_TIMEOUT);
            }
            assert!(p.synced());
            let m = drain(&mut p);
            let topics: Vec<&str> = m.iter().map(|(t, _)| t.as_str()).collect();
            assert_eq!(
                topics[0],
                "homeassistant/binary_sensor/hci2mqtt_gw1/status/config"
            );
            for t in [
                "homeassistant/sensor/a4c138000001/temperature/config",
                "homeassistant/sensor/a4c138000002/humidity/config",
                "hci2mqtt/a4c138000001",
                "hci2mqtt/a4c138000002",
            ] {
                assert!(topics.contains(&t), "{t} missing: {topics:?}");
            }
            // Later readings publish at once.
            p.on_reading(
                &reading(b, -70, &[(&field::HUMIDITY, Value::Int(41))]),
                t0 + SYNC_TIMEOUT,
                2,
            );
            assert!(drain(&mut p)
                .iter()
                .any(|(t, _)| t == "hci2mqtt/a4c138000002"));
        }
    }

    /// Gateways learn each other from the status topics: each one heard joins the sorted
    /// availability list of every shared config (re-sent at once), a gateway going
    /// `offline` stays in it (lists do not change when a gateway dies), an empty retained
    /// status removes it. Our own `offline` (a late will of ours) is answered with `online`.
    #[test]
    fn gateways_learn_each_other_from_their_status_topics() {
        let t0 = Instant::now();
        let mut p = synced(settings(PublishPolicy::default()), t0);
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.5))]),
            t0,
            1,
        );
        drain(&mut p);
        let cfg = "homeassistant/sensor/a4c138000001/temperature/config";
        let avail = |m: &[(String, String)]| -> Vec<String> {
            let c: serde_json::Value = serde_json::from_str(
                &m.iter()
                    .rev()
                    .find(|(t, _)| t == cfg)
                    .expect("config re-sent")
                    .1,
            )
            .unwrap();
            assert_eq!(c["availability_mode"], "any");
            c["availability"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["topic"].as_str().unwrap().to_string())
                .collect()
        };
        p.on_message("hci2mqtt/zz/status", b"online", true, t0);
        p.on_message("hci2mqtt/aa/status", b"offline", true, t0);
        let m = drain(&mut p);
        assert_eq!(
            avail(&m),
            [
                "hci2mqtt/aa/status",
                "hci2mqtt/gw1/status",
                "hci2mqtt/zz/status"
            ]
        );
        assert!(
            m.iter().any(|(t, _)| t == "hci2mqtt/a4c138000001"),
            "states too"
        );
        assert_eq!(p.gateways(), ["aa", "gw1", "zz"]);
        // A gateway dying changes nothing.
        p.on_message("hci2mqtt/zz/status", b"offline", false, t0);
        assert!(drain(&mut p).is_empty());
        // Retired: its status cleared.
        p.on_message("hci2mqtt/aa/status", b"", false, t0);
        assert_eq!(
            avail(&drain(&mut p)),
            ["hci2mqtt/gw1/status", "hci2mqtt/zz/status"]
        );
        // Not a gateway name, or not a status topic: ignored.
        p.on_message("hci2mqtt/a b/status", b"online", false, t0);
        p.on_message("hci2mqtt/x/y/status", b"online", false, t0);
        assert!(drain(&mut p).is_empty());
        p.on_message("hci2mqtt/gw1/status", b"offline", false, t0);
        assert_eq!(
            drain(&mut p),
            [("hci2mqtt/gw1/status".to_string(), "online".to_string())]
        );
        // Bounded.
        for i in 0..100 {
            p.on_message(&format!("hci2mqtt/g{i}/status"), b"online", true, t0);
        }
        assert_eq!(p.gateways().len(), MAX_GATEWAYS);
    }

    /// A gateway that starts after another published a full state never publishes a state
    /// lacking a field the retained one had: it takes over the fields it does not hear
    /// (the retained state arrives before the session is synced; for a sensor it has not
    /// heard yet it waits in the pending table), keeps refreshing them from the other
    /// gateway's states, and its own readings win for the fields it hears.
    #[test]
    fn states_merge_the_fields_of_the_retained_state() {
        let t0 = Instant::now();
        let mut p = Publisher::new(settings(PublishPolicy::default()), t0);
        p.on_connected(t0);
        let full = r#"{"temperature":21.5,"humidity":48,"battery":87,"button":"single press","rssi":-50,"model":"LYWSD03MMC","last_seen":5,"bogus key":1,"voltage":[1]}"#;
        p.on_message("hci2mqtt/a4c138000001", full.as_bytes(), true, t0);
        p.on_message("hci2mqtt/gw1/status", b"online", false, t0);
        drain(&mut p);
        // Heard for the first time, temperature only.
        p.on_reading(
            &reading(A, -70, &[(&field::TEMPERATURE, Value::Float(22.0))]),
            t0,
            10,
        );
        let m = drain(&mut p);
        let s = state_of(&m, "hci2mqtt/a4c138000001").unwrap();
        assert_eq!(s["temperature"], 22.0, "ours wins");
        assert_eq!(s["humidity"], 48);
        assert_eq!(s["battery"], 87);
        assert_eq!(s["button"], "single press");
        assert_eq!(s["rssi"], -70, "rssi is ours");
        assert_eq!(s["last_seen"], 10);
        assert!(
            s.get("bogus key").is_none() && s.get("voltage").is_none(),
            "{s}"
        );
        // Taken-over fields get a config from us too, the same as the other gateway's.
        let battery = "homeassistant/sensor/a4c138000001/battery/config";
        let (_, c) = m
            .iter()
            .find(|(t, _)| t == battery)
            .unwrap_or_else(|| panic!("no battery config: {m:?}"));
        let c: serde_json::Value = serde_json::from_str(c).unwrap();
        assert_eq!(c["unit_of_measurement"], "%");
        assert_eq!(c["device_class"], "battery");
        // The other gateway publishes newer values: taken for the fields we do not hear,
        // not for the one we do.
        let newer = r#"{"temperature":30.0,"humidity":50,"battery":86,"rssi":-50,"model":"LYWSD03MMC","last_seen":20}"#;
        p.on_message("hci2mqtt/a4c138000001", newer.as_bytes(), false, t0);
        // Our next state (the max_interval refresh of an unchanged reading).
        p.on_reading(
            &reading(A, -70, &[(&field::TEMPERATURE, Value::Float(22.0))]),
            t0 + Duration::from_secs(300),
            25,
        );
        let s = state_of(&drain(&mut p), "hci2mqtt/a4c138000001").unwrap();
        assert_eq!(
            (
                s["temperature"].as_f64(),
                s["humidity"].as_i64(),
                s["battery"].as_i64()
            ),
            (Some(22.0), Some(50), Some(86)),
            "{s}"
        );
        assert!(
            s.get("button").is_none(),
            "the shared state no longer has it"
        );
        // Heard ourselves now: ours from then on.
        p.on_reading(
            &reading(A, -70, &[(&field::HUMIDITY, Value::Int(40))]),
            t0 + Duration::from_secs(301),
            30,
        );
        drain(&mut p);
        p.on_message("hci2mqtt/a4c138000001", newer.as_bytes(), false, t0);
        p.on_reading(
            &reading(A, -70, &[(&field::TEMPERATURE, Value::Float(22.0))]),
            t0 + Duration::from_secs(700),
            35,
        );
        let s = state_of(&drain(&mut p), "hci2mqtt/a4c138000001").unwrap();
        assert_eq!(s["humidity"], 40);
        // The pending table is bounded.
        for i in 0..(MAX_PENDING + 50) as u16 {
            let b = i.to_be_bytes();
            let a = Addr([0xC0, 0, 0, 0, b[0], b[1]]);
            p.on_message(&p.topics().state(&a), br#"{"temperature":1}"#, true, t0);
        }
        assert_eq!(p.pending.len(), MAX_PENDING);
    }

    #[test]
    fn state_floats_carry_no_binary_noise() {
        let t0 = Instant::now();
        let mut p = synced(settings(PublishPolicy::default()), t0);
        let v = 2.2 + (3.1 - 2.2) * (64.0 / 100.0); // bleparser's voltage estimate
        assert_eq!(v.to_string(), "2.7760000000000002");
        // As decoders give them: through Reading::push, the one place values are rounded.
        let mut r = reading(A, -60, &[]);
        r.float(&field::VOLTAGE, v);
        let t = 0.1 * 219.0; // a 0.1 °C raw value scaled
        assert_eq!(t.to_string(), "21.900000000000002");
        r.float(&field::TEMPERATURE, t);
        r.float(&field::HUMIDITY, -0.1 - 0.2);
        r.float(&field::PRESSURE, 12_345_678.9);
        // The JSON line shows the same values as the MQTT state.
        let mut line = Vec::new();
        serde_json::to_writer(&mut line, &crate::output::JsonReading(&r)).unwrap();
        let line = String::from_utf8(line).unwrap();
        assert!(line.contains("\"voltage\":2.776,"), "{line}");
        assert!(line.contains("\"humidity\":-0.3,"), "{line}");
        assert!(line.contains("\"temperature\":21.9,"), "{line}");
        p.on_reading(&r, t0, 1);
        let m = drain(&mut p);
        let raw = &m
            .iter()
            .find(|(t, _)| t == "hci2mqtt/a4c138000001")
            .unwrap()
            .1;
        assert!(raw.contains("\"voltage\":2.776,"), "{raw}");
        assert!(raw.contains("\"temperature\":21.9,"), "{raw}");
        assert!(raw.contains("\"humidity\":-0.3,"), "{raw}");
        assert!(raw.contains("\"pressure\":12345678.9,"), "{raw}");
    }

    #[test]
    fn unchanged_values_wait_for_max_interval() {
        let t0 = Instant::now();
        let mut p = synced(
            settings(PublishPolicy {
                max_interval: Some(60.0),
                ..PublishPolicy::default()
            }),
            t0,
        );
        let r = reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.5))]);
        p.on_reading(&r, t0, 1);
        drain(&mut p);
        for i in 1..59 {
            p.on_reading(&r, t0 + Duration::from_secs(i), 1 + i);
        }
        assert!(p.outbox.is_empty(), "unchanged state republished early");
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(60)));
        p.on_timeout(t0 + Duration::from_secs(60));
        let m = drain(&mut p);
        assert_eq!(
            state_of(&m, "hci2mqtt/a4c138000001").unwrap()["last_seen"],
            59
        );
        // No readings since: nothing more until it is forgotten, a week after it was heard.
        assert_eq!(
            p.deadline(),
            Some(t0 + Duration::from_secs(58) + DEFAULT_FORGET_AFTER)
        );
    }

    #[test]
    fn min_interval_delays_changes() {
        let t0 = Instant::now();
        let mut p = synced(
            settings(PublishPolicy {
                min_interval: Some(10.0),
                ..PublishPolicy::default()
            }),
            t0,
        );
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.5))]),
            t0,
            1,
        );
        drain(&mut p);
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.6))]),
            t0 + Duration::from_secs(2),
            3,
        );
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(21.7))]),
            t0 + Duration::from_secs(3),
            4,
        );
        assert!(p.outbox.is_empty());
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(10)));
        p.on_timeout(t0 + Duration::from_secs(10));
        let m = drain(&mut p);
        assert_eq!(m.len(), 2);
        assert_eq!(
            state_of(&m, "hci2mqtt/a4c138000001").unwrap()["temperature"],
            21.7
        );
    }

    #[test]
    fn whitelist_trackers_and_reconnect() {
        let t0 = Instant::now();
        // discover_all = false, [[sensor]] A4:C1:38:00:00:01 "Kitchen", [[tracker]] timeout 30.
        let s = Settings {
            discover_all: false,
            sensors: vec![(A, Some("Kitchen".into()), PublishPolicy::default())],
            trackers: vec![(
                Addr([0xC4, 0x7C, 0x8D, 0, 0, 9]),
                None,
                Duration::from_secs(30),
            )],
            ..Settings::new("gw1")
        };
        let mut p = synced(s, t0);
        let other = Addr([1, 2, 3, 4, 5, 6]);
        p.on_reading(
            &reading(other, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]),
            t0,
            1,
        );
        assert!(p.outbox.is_empty());
        assert_eq!(p.stats.ignored, 1);
        p.on_reading(
            &reading(A, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]),
            t0,
            1,
        );
        let m = drain(&mut p);
        let c: serde_json::Value = serde_json::from_str(&m[1].1).unwrap();
        assert_eq!(c["device"]["name"], "Kitchen");
        let tr = Addr([0xC4, 0x7C, 0x8D, 0, 0, 9]);
        p.on_seen(&tr, t0 + Duration::from_secs(1));
        p.on_seen(&tr, t0 + Duration::from_secs(2));
        let m = drain(&mut p);
        assert_eq!(
            m,
            [(
                "hci2mqtt/c47c8d000009/tracker".to_string(),
                "home".to_string()
            )]
        );
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(32)));
        p.on_timeout(t0 + Duration::from_secs(32));
        assert_eq!(drain(&mut p)[0].1, "not_home");
        // reconnect: status, all configs (gateway, sensor fields, tracker), states
        p.on_connected(t0 + Duration::from_secs(40));
        p.on_message(
            "hci2mqtt/gw1/status",
            b"online",
            false,
            t0 + Duration::from_secs(40),
        );
        let m = drain(&mut p);
        let topics: Vec<&str> = m.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(topics[0], "hci2mqtt/gw1/status");
        assert!(topics.contains(&"homeassistant/binary_sensor/hci2mqtt_gw1/status/config"));
        assert!(topics.contains(&"homeassistant/device_tracker/c47c8d000009/tracker/config"));
        assert!(topics.contains(&"homeassistant/sensor/a4c138000001/temperature/config"));
        assert!(topics.contains(&"hci2mqtt/a4c138000001"));
        assert!(topics.contains(&"hci2mqtt/c47c8d000009/tracker"));
        assert!(!topics.contains(&"hci2mqtt/010203040506"));
    }

    /// A private (rotating) address is not discovered unless it is a `[[sensor]]`; devices
    /// that discover themselves stop at `max_discovered`, configured ones always count.
    #[test]
    fn rotating_addresses_and_the_discovery_cap() {
        let t0 = Instant::now();
        let cfgd = Addr([0x5A, 0, 0, 0, 0, 0xEE]);
        let mut s = settings(PublishPolicy::default());
        s.max_discovered = 3;
        s.sensors.push((cfgd, None, PublishPolicy::default()));
        let mut p = synced(s, t0);
        let feed = |p: &mut Publisher, a: Addr, private: bool| {
            let mut r = reading(a, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]);
            r.private_address = private;
            p.on_reading(&r, t0, 1);
            drain(p)
        };
        assert!(feed(&mut p, Addr([0x5A, 0, 0, 0, 0, 1]), true).is_empty());
        assert_eq!(p.stats.private_ignored, 1);
        assert!(
            !feed(&mut p, cfgd, true).is_empty(),
            "a [[sensor]] is published"
        );
        for i in 0..10u8 {
            feed(&mut p, Addr([0xC0, 0, 0, 0, 1, i]), false);
        }
        assert_eq!(p.device_count(), 1 + 3);
        assert_eq!(p.stats.over_cap, 7);
        // A device already in the table keeps being published.
        let kept = Addr([0xC0, 0, 0, 0, 1, 0]);
        let mut r = reading(kept, -60, &[(&field::TEMPERATURE, Value::Float(2.0))]);
        r.private_address = false;
        p.on_reading(&r, t0 + Duration::from_secs(1), 2);
        let m = drain(&mut p);
        assert!(m.iter().any(|(t, _)| t == "hci2mqtt/c00000000100"), "{m:?}");
    }

    /// A device discovered by itself and silent for `forget_after` has every retained topic
    /// it left emptied (configs, state, this gateway's RSSI) and leaves the table; a
    /// `[[sensor]]` is kept, and so is a device heard meanwhile.
    #[test]
    fn silent_devices_are_forgotten_and_their_topics_cleared() {
        let t0 = Instant::now();
        let cfgd = Addr([0xA4, 0xC1, 0x38, 0, 0, 0xEE]);
        let heard = Addr([0xA4, 0xC1, 0x38, 0, 0, 0x02]);
        let mut s = settings(PublishPolicy::default());
        s.forget_after = Some(Duration::from_secs(100));
        s.sensors.push((cfgd, None, PublishPolicy::default()));
        let mut p = synced(s, t0);
        for a in [A, cfgd, heard] {
            p.on_reading(
                &reading(a, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]),
                t0,
                1,
            );
        }
        p.on_connected(t0);
        p.on_message("hci2mqtt/gw1/status", b"online", false, t0);
        drain(&mut p);
        let later = t0 + Duration::from_secs(60);
        p.on_reading(
            &reading(heard, -60, &[(&field::TEMPERATURE, Value::Float(2.0))]),
            later,
            2,
        );
        drain(&mut p);
        // The deadline is A's forgetting, 100 s after it was heard.
        assert_eq!(p.deadline(), Some(t0 + Duration::from_secs(100)));
        p.on_timeout(t0 + Duration::from_secs(100));
        let m = drain(&mut p);
        assert_eq!(p.stats.forgotten, 1, "{m:?}");
        assert_eq!(p.device_count(), 2);
        let cleared: Vec<&str> = m
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(t, _)| t.as_str())
            .collect();
        for topic in [
            "homeassistant/sensor/a4c138000001/temperature/config",
            "homeassistant/sensor/a4c138000001/rssi_gw1/config",
            "hci2mqtt/a4c138000001",
            "hci2mqtt/gw1/a4c138000001/rssi",
        ] {
            assert!(cleared.contains(&topic), "{topic} not cleared: {cleared:?}");
        }
        assert!(
            cleared.iter().all(|t| t.contains("a4c138000001")),
            "{cleared:?}"
        );
    }

    /// A resync of many devices through a small outbox completes, page by page, with
    /// nothing dropped: every state and every per-gateway RSSI comes back (a restarted broker
    /// used to get 579 of 1,000 states and no RSSI topic). Home Assistant's `online` resyncs
    /// states too, not only configs.
    #[test]
    fn a_resync_of_a_thousand_devices_loses_none() {
        let t0 = Instant::now();
        let mut s = settings(PublishPolicy::default());
        s.max_discovered = 2000;
        s.max_devices = 2000;
        s.outbox_entries = 300;
        let mut p = synced(s, t0);
        let addrs: Vec<Addr> = (0..1000u16)
            .map(|i| {
                let b = i.to_be_bytes();
                Addr([0xA4, 0xC1, 0x38, 0, b[0], b[1]])
            })
            .collect();
        let mut drained = std::collections::BTreeMap::new();
        // Drain as the MQTT service does: pop, and `after_drain` whenever it runs dry.
        let mut pump = |p: &mut Publisher, t: Instant| {
            drained.clear();
            loop {
                match p.outbox.pop() {
                    Some(m) => {
                        drained.insert(m.topic, m.payload);
                    }
                    None => {
                        p.after_drain(t);
                        if p.outbox.is_empty() {
                            break;
                        }
                    }
                }
            }
            drained.clone()
        };
        for a in &addrs {
            p.on_reading(
                &reading(*a, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]),
                t0,
                1,
            );
            pump(&mut p, t0);
        }
        for (what, t) in [("new session", 1), ("HA online", 2)] {
            let t = t0 + Duration::from_secs(t);
            let dropped = p.outbox.dropped;
            if what == "new session" {
                p.on_connected(t);
                p.on_message("hci2mqtt/gw1/status", b"online", false, t);
            } else {
                p.on_ha_status(b"online");
            }
            let m = pump(&mut p, t);
            assert_eq!(p.outbox.dropped, dropped, "{what}: nothing dropped");
            for a in &addrs {
                let m12 = discovery::mac12(a);
                assert!(
                    m.contains_key(&format!("hci2mqtt/{m12}")),
                    "{what}: state {m12}"
                );
                assert!(
                    m.contains_key(&format!("hci2mqtt/gw1/{m12}/rssi")),
                    "{what}: rssi"
                );
                assert!(
                    m.contains_key(&format!("homeassistant/sensor/{m12}/temperature/config")),
                    "{what}: config {m12}"
                );
            }
        }
    }

    #[test]
    fn bounded_devices() {
        let t0 = Instant::now();
        let mut s = settings(PublishPolicy::default());
        s.max_devices = 8;
        s.max_discovered = usize::MAX;
        let mut p = synced(s, t0);
        for i in 0..100u8 {
            let a = Addr([0, 0, 0, 0, 0, i]);
            p.on_reading(
                &reading(a, -60, &[(&field::TEMPERATURE, Value::Float(1.0))]),
                t0,
                1,
            );
            drain(&mut p);
        }
        assert_eq!(p.device_count(), 8);
        assert_eq!(p.stats.evicted, 92);
    }
}
