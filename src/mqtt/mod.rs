//! The MQTT session to the broker: [`conn`] is the [`crate::service::Service`] the
//! single-threaded mio loop drives: one non-blocking TCP socket, rumqttc's `MqttState` and
//! `mqttbytes::v4` codec (see there why not rumqttc's `Client`). What is published is decided
//! by the core's `publish` module.

pub mod conn;
pub mod tls;

pub use conn::{ConnSettings, ConnStats, MqttConfigError, MqttService};
pub use hci2mqtt_core::publish::{Message, Outbox, Publisher, PublisherStats, Settings};
