//! Builds the services `run` drives besides the radio: MQTT when `[mqtt]` is configured,
//! else JSON lines on stdout (exactly what `replay` prints).

use std::io::Write;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::service::Service;
use hci2mqtt_core::decode::Reading;
use hci2mqtt_core::output::write_json_line;
use hci2mqtt_core::pipeline::Notice;

/// The services for this configuration.
pub fn build(config: &Config) -> Result<Vec<Box<dyn Service>>, crate::mqtt::MqttConfigError> {
    if config.mqtt.is_some() {
        let mqtt = crate::mqtt::MqttService::from_config(config, Instant::now())?;
        return Ok(vec![Box::new(mqtt)]);
    }
    Ok(vec![Box::new(StdoutJson::default())])
}

/// JSON lines on stdout. Blocking writes to stdout are acceptable here: it is the user's
/// terminal or a pipe they chose; the MQTT path never blocks.
#[derive(Default)]
pub struct StdoutJson {
    buf: Vec<u8>,
}

impl Service for StdoutJson {
    fn register(
        &mut self,
        _r: &mio::Registry,
        _b: mio::Token,
        _now: Instant,
    ) -> std::io::Result<()> {
        Ok(())
    }
    fn on_event(&mut self, _r: &mio::Registry, _e: &mio::event::Event, _now: Instant) {}
    fn deadline(&self) -> Option<Instant> {
        None
    }
    fn on_timeout(&mut self, _r: &mio::Registry, _now: Instant) {}
    fn on_reading(&mut self, _r: &mio::Registry, reading: &Reading, _now: Instant) {
        // Written at the end of the batch (bounded: one radio read's worth of lines).
        write_json_line(&mut self.buf, reading);
    }
    fn after_batch(&mut self, _r: &mio::Registry, _now: Instant) {
        self.write_out();
    }
    fn on_notice(&mut self, notice: &Notice, _now: Instant) {
        eprintln!("hci2mqtt: {notice}");
    }
    fn shutdown(&mut self, _r: &mio::Registry, _budget: Duration) {
        self.write_out();
    }
}

impl StdoutJson {
    fn write_out(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not kill the radio loop.
        let _ = out.write_all(&self.buf).and_then(|_| out.flush());
        self.buf.clear();
    }
}
