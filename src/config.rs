//! The TOML configuration file (`--config PATH`, default `/etc/hci2mqtt.toml`).
//!
//! One parser for every subcommand: `replay` takes only the keys, `run` everything. Errors come
//! from the `toml` crate with the line, column and field of the problem; values are validated
//! while deserialising (MACs, keys, adapter strings) so those errors carry the line too. Keys and
//! passwords never appear in an error or in `Debug` output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use hci2mqtt_core::addr::Addr;
use hci2mqtt_core::decode::{DeviceKey, KeyStore};
use hci2mqtt_core::publish::{self, Settings};

/// Default location of the config file.
pub const DEFAULT_PATH: &str = "/etc/hci2mqtt.toml";

/// A MAC address field (`AA:BB:CC:DD:EE:FF`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mac(pub Addr);

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Addr::parse(&s).map(Mac).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid MAC address {}, expected AA:BB:CC:DD:EE:FF",
                hci2mqtt_core::decode::keys::mac_for_message(&s)
            ))
        })
    }
}

/// A bindkey field: 32 hex digits, or 24 for legacy MiBeacon v2/v3. Never printed.
#[derive(Clone)]
pub struct Key(pub DeviceKey);

impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Key(redacted)")
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DeviceKey::parse_hex("this [[sensor]]", &s)
            .map(Key)
            .map_err(serde::de::Error::custom)
    }
}

/// A secret string (password). Never printed.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

pub use hci2mqtt_core::publish::PublishPolicy;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    #[serde(default = "default_host")]
    pub host: String,
    /// Default 1883, or 8883 with `tls = true` (see [`MqttConfig::port`]).
    pub port: Option<u16>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// File holding the password (first line), so the config can be world-readable.
    pub password_file: Option<PathBuf>,
    pub client_id: Option<String>,
    /// Seconds.
    #[serde(default = "default_keepalive")]
    pub keepalive: u16,
    #[serde(default = "default_base_topic")]
    pub base_topic: String,
    #[serde(default = "default_discovery_prefix")]
    pub discovery_prefix: String,
    /// Publish the raw adverts of devices no format decodes to `<base>/unknown/<mac12>`
    /// (default false; rate-limited, never retained).
    #[serde(default)]
    pub publish_unknown: bool,
    /// Devices discovered by themselves (not `[[sensor]]`s) at most (default 256).
    pub max_devices: Option<usize>,
    /// Seconds of silence after which a device discovered by itself is forgotten and its
    /// retained topics cleared (default 604800 = 7 days; 0: never).
    pub forget_after: Option<u64>,
    /// Publish Home Assistant discovery configs (default true).
    #[serde(default = "default_true")]
    pub discovery: bool,
    /// This gateway's name for multi-gateway RSSI topics (default: host name).
    pub gateway: Option<String>,
    /// MQTT over TLS (default false).
    #[serde(default)]
    pub tls: bool,
    /// PEM file of the CA certificate(s) the broker's certificate must chain to (default: the
    /// system's CA bundle, `/etc/ssl/certs/ca-certificates.crt` on Debian/Raspberry Pi OS).
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate (chain) for brokers that require one (`require_certificate`).
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert` (PKCS#8, PKCS#1 or SEC1, unencrypted); mode 0600.
    pub client_key: Option<PathBuf>,
    /// The name the broker's certificate must be valid for (default: `host`).
    pub tls_server_name: Option<String>,
}

impl MqttConfig {
    /// `port`, else 8883 with `tls = true` and 1883 without.
    pub fn port(&self) -> u16 {
        self.port
            .unwrap_or(if self.tls { TLS_PORT } else { PLAIN_PORT })
    }
}

/// The IANA ports of MQTT and MQTT over TLS.
pub const PLAIN_PORT: u16 = 1883;
pub const TLS_PORT: u16 = 8883;

fn default_host() -> String {
    "localhost".into()
}
fn default_keepalive() -> u16 {
    60
}
fn default_base_topic() -> String {
    publish::DEFAULT_BASE_TOPIC.into()
}
fn default_discovery_prefix() -> String {
    publish::DEFAULT_DISCOVERY_PREFIX.into()
}
fn default_true() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Same strings as `--adapter`: `hci0`, an index, an adapter MAC, `tcp:HOST:PORT`,
    /// `serial:/dev/ttyX[@BAUD]`, `replay:FILE`.
    pub adapter: Option<String>,
    /// Active scanning (scan requests; Govee and SwitchBot put data in scan responses).
    #[serde(default)]
    pub active: bool,
    /// Scan interval and window in milliseconds (0.625 ms units on the wire).
    pub interval_ms: Option<f64>,
    pub window_ms: Option<f64>,
    /// Restart the scan when no report arrived for this many seconds (default 300).
    pub watchdog_s: Option<u64>,
    /// Send no HCI command at all; only listen (bluetoothd already scans).
    #[serde(default)]
    pub listen_only: bool,
    /// Send HCI Reset before configuring (default: only on H4 transports).
    pub reset: Option<bool>,
    /// Who runs the scan on a raw-socket adapter (see [`Scanner`]).
    #[serde(default)]
    pub scanner: Scanner,
}

/// Who runs the scan on a raw-socket adapter (`[scan] scanner`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    /// The kernel when it can (an advertisement monitor through the management socket: never
    /// disturbs bluetoothd), else hci2mqtt's own scan commands.
    #[default]
    Auto,
    /// Only the kernel; if it cannot, listen without sending anything.
    Kernel,
    /// hci2mqtt's own scan commands (active scanning, own interval and window); for an adapter
    /// nobody else uses.
    Hci2mqtt,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensorConfig {
    pub mac: Mac,
    pub name: Option<String>,
    pub key: Option<Key>,
    #[serde(flatten)]
    pub publish: PublishPolicy,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrackerConfig {
    pub mac: Mac,
    pub name: Option<String>,
    /// Seconds without an advertisement before `not_home` (default 300).
    pub timeout: Option<u64>,
}

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Publish every decodable device (true) or only `[[sensor]]` entries (false).
    #[serde(default = "default_true_opt")]
    pub discover_all: bool,
    pub mqtt: Option<MqttConfig>,
    #[serde(default)]
    pub scan: ScanConfig,
    /// Default publish policy for every device.
    #[serde(default)]
    pub publish: PublishPolicy,
    #[serde(default, rename = "sensor")]
    pub sensors: Vec<SensorConfig>,
    #[serde(default, rename = "tracker")]
    pub trackers: Vec<TrackerConfig>,
    /// Where it was read from (not part of the file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// Non-fatal problems (file permissions…), for the caller to log.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

fn default_true_opt() -> bool {
    true
}

/// A config that could not be used. The message names the file, line and field.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses TOML text; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| located(text, origin, &e))?;
        cfg.validate(text, origin)?;
        Ok(cfg)
    }

    /// Reads and parses a file, adding a warning when it holds secrets and others can read it.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{origin}: cannot read: {e}")))?;
        let mut cfg = Config::parse(&text, &origin)?;
        cfg.path = Some(path.to_path_buf());
        let has_secrets = cfg.sensors.iter().any(|s| s.key.is_some())
            || cfg.mqtt.as_ref().is_some_and(|m| m.password.is_some());
        if has_secrets {
            if let Some(mode) = readable_by_others(path) {
                cfg.warnings.push(format!(
                    "{origin} holds keys or passwords and is readable by others (mode {mode:o}); run: chmod 600 {origin}"
                ));
            }
        }
        let m = cfg.mqtt.as_ref();
        for (name, f) in [
            ("password_file", m.and_then(|m| m.password_file.as_ref())),
            ("client_key", m.and_then(|m| m.client_key.as_ref())),
        ] {
            let Some(f) = f else { continue };
            if let Some(mode) = readable_by_others(f) {
                cfg.warnings.push(format!(
                    "[mqtt] {name} {} is readable by others (mode {mode:o}); run: chmod 600 {}",
                    f.display(),
                    f.display()
                ));
            }
        }
        Ok(cfg)
    }

    /// Checks that serde cannot express; errors name the line of the offending entry.
    fn validate(&self, text: &str, origin: &str) -> Result<(), ConfigError> {
        let mut seen: Vec<Addr> = Vec::new();
        for (i, s) in self.sensors.iter().enumerate() {
            if seen.contains(&s.mac.0) {
                let line = nth_table_line(text, "sensor", i).unwrap_or(0);
                return Err(ConfigError(format!(
                    "{origin}: line {line}: [[sensor]] mac {} is listed twice",
                    s.mac.0
                )));
            }
            seen.push(s.mac.0);
        }
        if let Some(m) = &self.mqtt {
            if m.password.is_some() && m.password_file.is_some() {
                return Err(ConfigError(format!(
                    "{origin}: [mqtt]: set either password or password_file, not both"
                )));
            }
            if !m.tls {
                let set = [
                    ("ca_file", m.ca_file.is_some()),
                    ("client_cert", m.client_cert.is_some()),
                    ("client_key", m.client_key.is_some()),
                    ("tls_server_name", m.tls_server_name.is_some()),
                ];
                if let Some((name, _)) = set.iter().find(|(_, on)| *on) {
                    return Err(ConfigError(format!(
                        "{origin}: [mqtt] {name} is set but tls is not: add tls = true (or remove {name})"
                    )));
                }
            }
            if m.client_cert.is_some() != m.client_key.is_some() {
                return Err(ConfigError(format!(
                    "{origin}: [mqtt]: client_cert and client_key go together: set both or neither"
                )));
            }
            if let Some(n) = &m.tls_server_name {
                if rustls_pki_types::ServerName::try_from(n.as_str()).is_err() {
                    return Err(ConfigError(format!(
                        "{origin}: [mqtt] tls_server_name = {n:?}: not a DNS name or IP address"
                    )));
                }
            }
            for (name, v) in [
                ("base_topic", &m.base_topic),
                ("discovery_prefix", &m.discovery_prefix),
            ] {
                if v.is_empty() || v.contains(['+', '#']) || v.starts_with('/') || v.ends_with('/')
                {
                    return Err(ConfigError(format!(
                        "{origin}: [mqtt] {name} = {v:?}: must be a non-empty topic without + # or leading/trailing /"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Keys of every `[[sensor]]` that has one.
    pub fn keystore(&self) -> KeyStore {
        let mut ks = KeyStore::new();
        for s in &self.sensors {
            if let Some(k) = &s.key {
                ks.insert(s.mac.0, k.0.clone());
            }
        }
        ks
    }

    /// The `[[sensor]]` entry for a device, if any.
    pub fn sensor(&self, addr: &Addr) -> Option<&SensorConfig> {
        self.sensors.iter().find(|s| s.mac.0 == *addr)
    }

    /// The effective publish policy for a device.
    pub fn policy(&self, addr: &Addr) -> PublishPolicy {
        match self.sensor(addr) {
            Some(s) => s.publish.or(self.publish),
            None => self.publish,
        }
    }

    /// The MQTT password, from `password` or the first line of `password_file`.
    pub fn mqtt_password(&self) -> Result<Option<String>, ConfigError> {
        let Some(m) = &self.mqtt else { return Ok(None) };
        if let Some(p) = &m.password {
            return Ok(Some(p.0.clone()));
        }
        if let Some(f) = &m.password_file {
            let t = std::fs::read_to_string(f)
                .map_err(|e| ConfigError(format!("[mqtt] password_file {}: {e}", f.display())))?;
            return Ok(Some(t.lines().next().unwrap_or("").to_string()));
        }
        Ok(None)
    }
}

/// `file: line L, column C, field `name`: message`, without toml's source snippet (which would
/// echo a key or password back into logs).
fn located(text: &str, origin: &str, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().trim();
    let Some(span) = e.span() else {
        return ConfigError(format!("{origin}: {msg}"));
    };
    let start = span.start.min(text.len());
    let before = &text[..start];
    let line_no = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = text[line_start..start].chars().count() + 1;
    let line = text[line_start..].lines().next().unwrap_or("");
    let field = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    // serde quotes the offending value (`invalid type: integer `31415926535``); for a secret
    // field that value is the secret, so only the kind of mistake is kept.
    let scrubbed;
    let msg = match field {
        Some(f) if SECRET_FIELDS.contains(&f) => {
            scrubbed = scrub_values(msg);
            scrubbed.as_str()
        }
        _ => msg,
    };
    match field {
        Some(f) => ConfigError(format!(
            "{origin}: line {line_no}, column {col}, field `{f}`: {msg}"
        )),
        None => ConfigError(format!("{origin}: line {line_no}, column {col}: {msg}")),
    }
}

/// The permission bits of `path` when group or others may access it (secrets must be 0600).
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Fields whose value is never repeated in an error.
const SECRET_FIELDS: &[&str] = &["password", "key", "username"];

/// `msg` with every backtick- or double-quoted part replaced by `(value not shown)`.
fn scrub_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut inside: Option<char> = None;
    for c in msg.chars() {
        match inside {
            Some(q) if c == q => inside = None,
            Some(_) => {}
            None if c == '`' || c == '"' => {
                inside = Some(c);
                out.push_str("(value not shown)");
            }
            None => out.push(c),
        }
    }
    out
}

/// Line (1-based) of the `n`-th `[[table]]` header, for errors serde cannot locate.
fn nth_table_line(text: &str, table: &str, n: usize) -> Option<usize> {
    let header = format!("[[{table}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(&header))
        .nth(n)
        .map(|(i, _)| i + 1)
}

impl Config {
    /// From the config's `[mqtt]`, `[publish]`, `[[sensor]]` and `[[tracker]]` sections;
    /// `gateway` is the name to use when `[mqtt] gateway` is unset (the host name).
    pub fn publish_settings(&self, default_gateway: &str) -> Settings {
        let cfg = self;
        let Some(m) = cfg.mqtt.as_ref() else {
            return Settings {
                discover_all: cfg.discover_all,
                policy: cfg.publish,
                ..Settings::new(default_gateway)
            };
        };
        let gateway =
            publish::discovery::sanitize_id(m.gateway.as_deref().unwrap_or(default_gateway));
        Settings {
            topics: publish::discovery::Topics {
                base: m.base_topic.clone(),
                prefix: m.discovery_prefix.clone(),
                gateway,
            },
            discovery: m.discovery,
            publish_unknown: m.publish_unknown,
            max_discovered: m
                .max_devices
                .unwrap_or(publish::publisher::DEFAULT_MAX_DISCOVERED),
            forget_after: match m.forget_after {
                None => Some(publish::publisher::DEFAULT_FORGET_AFTER),
                Some(0) => None,
                Some(s) => Some(std::time::Duration::from_secs(s)),
            },
            discover_all: cfg.discover_all,
            policy: cfg.publish,
            sensors: cfg
                .sensors
                .iter()
                .map(|s| (s.mac.0, s.name.clone(), s.publish.or(cfg.publish)))
                .collect(),
            trackers: cfg
                .trackers
                .iter()
                .map(|t| {
                    (
                        t.mac.0,
                        t.name.clone(),
                        Duration::from_secs(t.timeout.unwrap_or(300).max(1)),
                    )
                })
                .collect(),
            ..Settings::new(default_gateway)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
discover_all = false

[mqtt]
host = "127.0.0.1"
port = 1884
username = "u"
password = "hunter2"

[scan]
adapter = "tcp:127.0.0.1:9000"
active = true

[publish]
min_interval = 10

[[sensor]]
mac = "A4:C1:38:B4:94:4C"
name = "Kitchen"
key = "814aac74c4f17b6c1581e1ab87816b99"
max_interval = 60

[[sensor]]
mac = "A4:C1:38:00:00:02"
key = "b853075158487ca39a5b5ea9"

[[tracker]]
mac = "C4:7C:8D:00:00:01"
timeout = 120
"#;

    #[test]
    fn world_readable_password_file_warns() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hci2mqtt-pwfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pw = dir.join("pw");
        std::fs::write(&pw, "secret\n").unwrap();
        let cfg_path = dir.join("c.toml");
        std::fs::write(
            &cfg_path,
            format!("[mqtt]\npassword_file = {:?}\n", pw.display().to_string()),
        )
        .unwrap();
        std::fs::set_permissions(&cfg_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = Config::load(&cfg_path).unwrap();
        assert!(
            cfg.warnings
                .iter()
                .any(|w| w.contains("password_file") && w.contains("chmod 600")),
            "{:?}",
            cfg.warnings
        );
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg = Config::load(&cfg_path).unwrap();
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        assert!(!format!("{:?}", cfg.warnings).contains("secret"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn secrets_not_echoed_in_errors() {
        // An unquoted numeric password is a type error whose serde message quotes the value.
        let e = err("[mqtt]\nhost = \"h\"\npassword = 31415926535\n");
        assert!(e.contains("line 3") && e.contains("password"), "{e}");
        assert!(!e.contains("31415926535"), "password echoed: {e}");
        // A key pasted into a mac field.
        let e = err("[[sensor]]\nmac = \"0c7a9f3e5b2d4c6a8e1f0b9d7c5a3e21\"\n");
        assert!(e.contains("line 2") && e.contains("mac"), "{e}");
        assert!(!e.contains("0c7a9f3e"), "key echoed: {e}");
        // A mistyped MAC is still shown, so the user can find it.
        let e = err("[[sensor]]\nmac = \"A4:C1:38:B4:94\"\n");
        assert!(e.contains("A4:C1:38:B4:94"), "{e}");
    }

    #[test]
    fn parses_full_file() {
        let c = Config::parse(GOOD, "t.toml").unwrap();
        assert!(!c.discover_all);
        let m = c.mqtt.as_ref().unwrap();
        assert_eq!(
            (m.host.as_str(), m.port(), m.keepalive),
            ("127.0.0.1", 1884, 60)
        );
        assert_eq!(m.base_topic, "hci2mqtt");
        assert_eq!(c.scan.adapter.as_deref(), Some("tcp:127.0.0.1:9000"));
        assert_eq!(c.sensors.len(), 2);
        assert_eq!(c.keystore().len(), 2);
        let a = Addr::parse("A4:C1:38:B4:94:4C").unwrap();
        let p = c.policy(&a);
        assert_eq!((p.min_interval_s(), p.max_interval_s()), (10.0, 60.0));
        assert_eq!(c.trackers[0].timeout, Some(120));
        // secrets never in Debug
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2") && !d.contains("814aac"), "{d}");
    }

    fn err(text: &str) -> String {
        Config::parse(text, "t.toml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = err("[mqtt]\nhost = \"x\"\nprot = 1\n");
        assert!(e.contains("line 3") && e.contains("prot"), "{e}");
        let e = err("[[sensor]]\nmac = \"A4:C1:38:B4:94:4C\"\nkey = \"abc\"\n");
        assert!(
            e.contains("line 3") && e.contains("key") && e.contains("expected 32"),
            "{e}"
        );
        assert!(!e.contains("\"abc\""), "key material echoed: {e}");
        let e = err("[[sensor]]\nmac = \"A4:C1:38:B4:94\"\n");
        assert!(e.contains("line 2") && e.contains("invalid MAC"), "{e}");
        let e = err("[mqtt]\nport = \"x\"\n");
        assert!(e.contains("line 2") && e.contains("port"), "{e}");
        let e = err(
            "[[sensor]]\nmac = \"A4:C1:38:B4:94:4C\"\n[[sensor]]\nmac = \"a4:c1:38:b4:94:4c\"\n",
        );
        assert!(e.contains("line 3") && e.contains("twice"), "{e}");
        let e = err("[mqtt]\nbase_topic = \"a/#\"\n");
        assert!(e.contains("base_topic"), "{e}");
    }

    #[test]
    fn warns_on_readable_secrets() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hci2mqtt-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("c.toml");
        std::fs::write(&p, GOOD).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("chmod 600"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&p).unwrap().warnings.is_empty());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn tls_settings_default_port_and_consistency() {
        let port = |t: &str| Config::parse(t, "t").unwrap().mqtt.unwrap().port();
        assert_eq!(port("[mqtt]\n"), 1883);
        assert_eq!(port("[mqtt]\ntls = true\n"), 8883);
        assert_eq!(port("[mqtt]\ntls = true\nport = 1884\n"), 1884);
        assert_eq!(port("[mqtt]\nport = 8884\n"), 8884);
        let e = err("[mqtt]\nca_file = \"/etc/ca.pem\"\n");
        assert!(e.contains("ca_file") && e.contains("tls = true"), "{e}");
        let e = err("[mqtt]\ntls = true\nclient_cert = \"/c.pem\"\n");
        assert!(e.contains("client_key"), "{e}");
        let e = err("[mqtt]\ntls = true\ntls_server_name = \"not a name\"\n");
        assert!(e.contains("tls_server_name"), "{e}");
        let c = Config::parse(
            "[mqtt]\ntls = true\nca_file = \"/a\"\nclient_cert = \"/b\"\nclient_key = \"/c\"\ntls_server_name = \"mqtt.lan\"\n",
            "t",
        )
        .unwrap();
        let m = c.mqtt.unwrap();
        assert_eq!(m.tls_server_name.as_deref(), Some("mqtt.lan"));
        assert_eq!(m.client_key.as_deref(), Some(Path::new("/c")));
    }

    #[test]
    fn world_readable_client_key_warns() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hci2mqtt-keyfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("client.key");
        std::fs::write(&key, "-----BEGIN PRIVATE KEY-----\n").unwrap();
        let cfg_path = dir.join("c.toml");
        std::fs::write(
            &cfg_path,
            format!(
                "[mqtt]\ntls = true\nclient_cert = \"/c.pem\"\nclient_key = {:?}\n",
                key.display().to_string()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = Config::load(&cfg_path).unwrap();
        assert!(
            cfg.warnings
                .iter()
                .any(|w| w.contains("client_key") && w.contains("chmod 600")),
            "{:?}",
            cfg.warnings
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&cfg_path).unwrap().warnings.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn empty_file_is_valid() {
        let c = Config::parse("", "t").unwrap();
        assert!(c.mqtt.is_none() && c.discover_all && c.sensors.is_empty());
    }
}
