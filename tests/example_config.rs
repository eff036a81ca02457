//! `hci2mqtt.example.toml` (installed as /etc/hci2mqtt.toml by deploy/install.sh) must stay
//! in step with `src/config.rs`: it parses as it is, it still parses with every optional
//! `# name = value` line switched on, and it documents every field the parser accepts.

use hci2mqtt::config::Config;
use hci2mqtt_core::addr::Addr;

const EXAMPLE: &str = include_str!("../hci2mqtt.example.toml");
/// The config's structs: the file sections in config.rs, `[publish]`'s policy in the core.
const CONFIG_RS: &str = concat!(
    include_str!("../src/config.rs"),
    include_str!("../core/src/publish/mod.rs")
);

/// A commented-out setting: `# name = value` (prose never has that shape).
fn optional_setting(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("# ")?;
    let (name, _) = rest.split_once(" = ")?;
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        Some(rest)
    } else {
        None
    }
}

/// The example with every optional setting switched on.
fn all_on() -> String {
    EXAMPLE
        .lines()
        .map(|l| optional_setting(l).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn example_parses_as_shipped() {
    let c = Config::parse(EXAMPLE, "hci2mqtt.example.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(c.discover_all);
    let m = c.mqtt.as_ref().expect("[mqtt] section");
    assert_eq!((m.host.as_str(), m.port()), ("localhost", 1883));
    assert!(
        m.password.is_none(),
        "the shipped example must not carry a password"
    );
    assert_eq!(c.sensors.len(), 1);
    assert_eq!(
        c.sensors[0].mac.0,
        Addr::parse("A4:C1:38:00:00:01").unwrap()
    );
    assert!(
        c.sensors[0].key.is_none(),
        "the shipped example must not carry a key"
    );
    assert_eq!(c.trackers.len(), 1);
}

#[test]
fn example_parses_with_every_option_on() {
    let text = all_on();
    let n = EXAMPLE
        .lines()
        .filter(|l| optional_setting(l).is_some())
        .count();
    assert!(n >= 20, "only {n} optional settings recognised");
    // password and password_file are exclusive: check each alone.
    let with_password: String = text
        .lines()
        .filter(|l| !l.starts_with("password_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let with_file: String = text
        .lines()
        .filter(|l| !l.starts_with("password ="))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        Config::parse(&text, "all").is_err(),
        "password + password_file must be rejected"
    );
    for (what, t) in [("password", &with_password), ("password_file", &with_file)] {
        let c = Config::parse(t, what).unwrap_or_else(|e| panic!("{what}: {e}"));
        let m = c.mqtt.as_ref().unwrap();
        assert_eq!(m.keepalive, 60);
        assert_eq!(m.base_topic, "hci2mqtt");
        assert_eq!(m.discovery_prefix, "homeassistant");
        assert_eq!(c.scan.adapter.as_deref(), Some("hci0"));
        assert_eq!(c.scan.watchdog_s, Some(300));
        let a = c.sensors[0].mac.0;
        assert!(c.sensors[0].key.is_some());
        assert_eq!(c.keystore().len(), 1);
        let p = c.policy(&a);
        assert_eq!((p.min_interval_s(), p.max_interval_s()), (30.0, 600.0));
        assert_eq!(c.trackers[0].timeout, Some(300));
    }
}

/// Field names of `pub struct NAME { ... }` in config.rs, with the serde attribute (if any)
/// written just before each field.
fn struct_fields(name: &str) -> Vec<(String, String)> {
    let start = CONFIG_RS
        .find(&format!("pub struct {name} {{"))
        .unwrap_or_else(|| {
            panic!("struct {name} not found in src/config.rs or core/src/publish/mod.rs")
        });
    let body = &CONFIG_RS[start..];
    let body = &body[..body.find("\n}").expect("struct end")];
    let mut out = Vec::new();
    let mut attr = String::new();
    for l in body.lines().skip(1) {
        let l = l.trim();
        if l.starts_with("#[serde") {
            attr = l.to_string();
        } else if let Some(rest) = l.strip_prefix("pub ") {
            if let Some((field, _)) = rest.split_once(':') {
                out.push((field.trim().to_string(), std::mem::take(&mut attr)));
            }
        }
    }
    assert!(!out.is_empty(), "no fields parsed in {name}");
    out
}

#[test]
fn example_documents_every_field() {
    let text = all_on();
    let mut missing = Vec::new();
    for s in [
        "Config",
        "MqttConfig",
        "ScanConfig",
        "PublishPolicy",
        "SensorConfig",
        "TrackerConfig",
    ] {
        for (field, attr) in struct_fields(s) {
            if attr.contains("skip") || attr.contains("flatten") {
                continue; // not in the file / inlined from PublishPolicy
            }
            let key = match attr.split("rename = \"").nth(1) {
                Some(r) => r.split('"').next().unwrap_or(&field).to_string(),
                None => field.clone(),
            };
            let present = text.lines().any(|l| {
                let l = l.trim();
                l.starts_with(&format!("{key} ="))
                    || l == format!("[{key}]")
                    || l == format!("[[{key}]]")
            });
            if !present {
                missing.push(format!("{s}.{field} (`{key}`)"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "hci2mqtt.example.toml does not show: {missing:?}"
    );
}
