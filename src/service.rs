//! The contract between the single-threaded event loop and what it drives besides the radio
//! (the MQTT publisher, the stdout JSON writer). Implementations do no blocking I/O: the loop
//! owns `mio::Poll` and moves readiness and time into them.

use std::io;
use std::time::Instant;

use hci2mqtt_core::decode::Reading;
use hci2mqtt_core::pipeline::Notice;

/// Tokens at or above this value belong to services; the loop keeps the ones below.
pub const SERVICE_TOKEN_BASE: usize = 1 << 16;

pub trait Service {
    /// Registers the service's own sources (sockets) with tokens `>= base`.
    fn register(
        &mut self,
        registry: &mio::Registry,
        base: mio::Token,
        now: Instant,
    ) -> io::Result<()>;
    /// A readiness event for one of the service's tokens.
    fn on_event(&mut self, registry: &mio::Registry, event: &mio::event::Event, now: Instant);
    /// When the service next wants [`Service::on_timeout`] (keepalive, retry, publish policy).
    fn deadline(&self) -> Option<Instant>;
    fn on_timeout(&mut self, registry: &mio::Registry, now: Instant);
    /// A decoded reading from the pipeline.
    fn on_reading(&mut self, registry: &mio::Registry, reading: &Reading, now: Instant);
    /// Any advertising report (decoded or not): presence for `[[tracker]]`s. The loop calls it
    /// from `Sink::report`; the default ignores it.
    fn on_advert(
        &mut self,
        _registry: &mio::Registry,
        _addr: &hci2mqtt_core::addr::Addr,
        _rssi: Option<i8>,
        _now: Instant,
    ) {
    }
    /// An advertising report no format claimed (for `[mqtt] publish_unknown`); the default
    /// ignores it.
    fn on_unknown(
        &mut self,
        _registry: &mio::Registry,
        _report: &hci2mqtt_core::hci::event::Report<'_>,
        _now: Instant,
    ) {
    }
    /// The loop has handed over everything one read from the radio brought (many reports):
    /// the moment to write what they produced, so that a burst costs one write, not one per
    /// reading. The default does nothing.
    fn after_batch(&mut self, _registry: &mio::Registry, _now: Instant) {}
    /// A one-off notice (wrong key…); the default ignores it.
    fn on_notice(&mut self, _notice: &Notice, _now: Instant) {}
    /// The loop is stopping: flush without blocking for more than `budget` in total.
    fn shutdown(&mut self, registry: &mio::Registry, budget: std::time::Duration);
    /// True when nothing is waiting to be sent (replay runs exit once this holds).
    fn idle(&self) -> bool {
        true
    }
}
