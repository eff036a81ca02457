//! What is published over MQTT, decided without a socket: merged JSON state per sensor, Home
//! Assistant discovery, availability, trackers, multi-gateway RSSI. The binary's `mqtt` module
//! carries the messages to the broker.
//!
//! * [`publisher`]: state merge, publish policy, discovery, trackers; fills a coalescing
//!   [`outbox`]; unit-tested without sockets or clocks (time is passed in).
//! * [`discovery`]: topics and discovery payloads.
//!
//! Topics (`<base>` = `[mqtt] base_topic`, `<prefix>` = `discovery_prefix`):
//! * `<base>/<gateway>/status`: this gateway's `online` / `offline` (will), retained. Every
//!   gateway subscribes to `<base>/+/status` and lists every gateway it has seen there in the
//!   availability of the shared entities (`availability_mode: any`).
//! * `<base>/<mac12>`: retained JSON, merged latest value of every field seen, plus `rssi`,
//!   `model`, `last_seen` (unix seconds), published by every gateway that hears the sensor.
//!   Every gateway subscribes to `<base>/+` and publishes the fields it does not hear itself
//!   as the topic last had them, so no gateway writes a partial state over a complete one.
//! * `<base>/<gateway>/<mac12>/rssi`: this gateway's RSSI for the sensor, retained.
//! * `<base>/<mac12>/tracker`: `home` / `not_home` for `[[tracker]]`s, retained.
//! * `<base>/unknown/<mac12>`: the raw AD structures of a device no format decodes, opt-in,
//!   rate-limited, never retained ([`unknown`]).
//! * `<prefix>/<component>/<mac12>/<field>/config`: discovery, retained, the same bytes from
//!   every gateway; re-sent with every state when Home Assistant publishes `online` on
//!   `<prefix>/status`, on every new session and when a gateway joins or leaves.
//! * Cleared on start (empty retained), from earlier versions: `<base>/status` (one status
//!   all gateways shared) and `<prefix>/sensor/<mac12>/rssi/config` (a shared RSSI entity).

use serde::Deserialize;

pub mod discovery;
pub mod outbox;
pub mod publisher;
pub mod unknown;

pub use outbox::{Message, Outbox};
pub use publisher::{Publisher, PublisherStats, Settings};

/// `[mqtt] base_topic` when unset.
pub const DEFAULT_BASE_TOPIC: &str = "hci2mqtt";
/// `[mqtt] discovery_prefix` when unset: Home Assistant's default.
pub const DEFAULT_DISCOVERY_PREFIX: &str = "homeassistant";

/// When a device's state is published.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PublishPolicy {
    /// Publish as soon as a value changes (default true).
    pub on_change: Option<bool>,
    /// Never publish a device more often than this (seconds; default 0).
    pub min_interval: Option<f64>,
    /// Re-publish unchanged state at least this often (seconds; default 300).
    pub max_interval: Option<f64>,
}

impl PublishPolicy {
    /// Fills unset fields from `base`.
    pub fn or(self, base: PublishPolicy) -> PublishPolicy {
        PublishPolicy {
            on_change: self.on_change.or(base.on_change),
            min_interval: self.min_interval.or(base.min_interval),
            max_interval: self.max_interval.or(base.max_interval),
        }
    }
    pub fn on_change(&self) -> bool {
        self.on_change.unwrap_or(true)
    }
    pub fn min_interval_s(&self) -> f64 {
        self.min_interval.unwrap_or(0.0).max(0.0)
    }
    pub fn max_interval_s(&self) -> f64 {
        self.max_interval.unwrap_or(300.0).max(0.0)
    }
}
