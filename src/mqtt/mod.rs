//! MQTT publishing: merged JSON state per sensor, Home Assistant discovery, availability,
//! trackers, multi-gateway RSSI.
//!
//! * [`publisher`]: the sans-IO core (state merge, publish policy, discovery, trackers) that
//!   fills a coalescing [`outbox`]; unit-tested without sockets or clocks.
//! * [`discovery`]: topics and discovery payloads.
//! * [`conn`]: the [`crate::service::Service`] the single-threaded mio loop drives: one
//!   non-blocking TCP socket, rumqttc's `MqttState` and `mqttbytes::v4` codec (see there why
//!   not rumqttc's `Client`).
//!
//! Topics (`<base>` = `[mqtt] base_topic`, `<prefix>` = `discovery_prefix`):
//! * `<base>/status`: `online` / `offline` (will), retained.
//! * `<base>/<mac12>`: retained JSON, merged latest value of every field seen, plus `rssi`,
//!   `model`, `last_seen` (unix seconds). The same from every gateway.
//! * `<base>/<gateway>/<mac12>/rssi`: this gateway's RSSI for the sensor, retained.
//! * `<base>/<mac12>/tracker`: `home` / `not_home` for `[[tracker]]`s, retained.
//! * `<prefix>/<component>/<mac12>/<field>/config`: discovery, retained; re-sent when Home
//!   Assistant publishes `online` on `<prefix>/status` and on every new session.

pub mod conn;
pub mod discovery;
pub mod outbox;
pub mod publisher;

pub use conn::{ConnSettings, ConnStats, MqttService};
pub use outbox::{Message, Outbox};
pub use publisher::{Publisher, PublisherStats, Settings};
