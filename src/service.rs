//! The contract between the single-threaded event loop and what it drives besides the radio
//! (the MQTT publisher, the stdout JSON writer). Implementations do no blocking I/O: the loop
//! owns `mio::Poll` and moves readiness and time into them.

use std::io;
use std::time::{Duration, Instant};

use hci2mqtt_core::decode::Reading;
use hci2mqtt_core::pipeline::Notice;

/// Tokens at or above this value belong to services; the loop keeps the ones below.
pub const SERVICE_TOKEN_BASE: usize = 1 << 16;

/// Whether a service can deliver what it is given (what a replay run checks: it stops on
/// [`Health::Fatal`] and exits non-zero when something was left undelivered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    Fine,
    /// Failing for now and retrying (broker down); the text says why.
    Failing(String),
    /// Failing in a way retrying cannot mend (the broker refused our login).
    Fatal(String),
}

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
    /// Ready to be given readings without holding them back (MQTT: its session has every
    /// retained message in). A replay waits for it, a bounded time, before it starts.
    fn ready(&self) -> bool {
        true
    }
    fn health(&self) -> Health {
        Health::Fine
    }
    /// A replay reads its capture faster than it was recorded: the capture's clock is `ahead`
    /// of the wall clock (never less than before). The publish policy (intervals,
    /// `forget_after`, tracker timeouts) then follows the capture's clock, as it would have
    /// live; connection timers (keepalive, retries) stay on the wall clock.
    fn follow_capture_clock(&mut self, _ahead: Duration) {}
    /// A replay's capture has ended: what waits only for its time (a change inside
    /// `min_interval`) goes now, so the capture's last values are not left unsent.
    fn end_of_input(&mut self, _registry: &mio::Registry, _now: Instant) {}
}
