//! MQTT over TLS (`[mqtt] tls = true`): the rustls client configuration built once from the
//! config (CA roots, optional client certificate, the name the broker's certificate must be
//! valid for) and the typed, user-facing explanation of a failed handshake.
//!
//! rustls is sans-IO: [`rustls::ClientConnection`] takes the bytes [`super::conn`] reads from
//! the non-blocking socket (`read_tls` + `process_new_packets`), hands back the plaintext, and
//! gives the records to write (`write_tls`), so TLS runs in the same single-threaded mio loop.
//!
//! Roots: `ca_file` when set, else the system CA bundle read directly from the file Debian,
//! Raspberry Pi OS and Ubuntu keep it in (`/etc/ssl/certs/ca-certificates.crt`, maintained by
//! the `ca-certificates` package; the Fedora and Alpine/Arch paths are tried too). That is what
//! `rustls-native-certs` does on Linux as well, without its extra crates; `webpki-roots` would
//! compile a frozen copy of Mozilla's list into the binary, stale as soon as it ships.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, ClientConnection, RootCertStore};

use crate::config::MqttConfig;

/// System CA bundles; the first that exists is used.
pub const SYSTEM_BUNDLES: &[&str] = &[
    // Debian, Raspberry Pi OS, Ubuntu (ca-certificates); Alpine too.
    "/etc/ssl/certs/ca-certificates.crt",
    // Fedora, RHEL.
    "/etc/pki/tls/certs/ca-bundle.crt",
    // Arch, Alpine, macOS-style layouts.
    "/etc/ssl/cert.pem",
];

/// Where the trusted CA certificates came from (named in certificate errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// `[mqtt] ca_file`.
    CaFile(PathBuf),
    /// The system bundle at this path.
    System(PathBuf),
}

impl core::fmt::Display for Trust {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Trust::CaFile(p) => write!(f, "[mqtt] ca_file {}", p.display()),
            Trust::System(p) => write!(f, "the system CA bundle {}", p.display()),
        }
    }
}

/// What the TLS session needs, built once at start-up (files are read then, not per connect).
#[derive(Clone)]
pub struct TlsSettings {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    /// For messages: where the roots came from, the name checked and which setting gave it,
    /// the client certificate file.
    pub trust: Trust,
    pub name: String,
    pub name_setting: &'static str,
    pub client_cert: Option<PathBuf>,
}

impl core::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The client key is inside `config`: never printed.
        f.debug_struct("TlsSettings")
            .field("trust", &self.trust)
            .field("name", &self.name)
            .field("client_cert", &self.client_cert)
            .finish_non_exhaustive()
    }
}

/// Why the TLS settings could not be used. Display names the setting and file; a key file's
/// content never appears (not even the parser's detail about it).
#[derive(Debug)]
pub enum TlsConfigError {
    Read {
        setting: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    /// No usable certificate in a PEM file.
    NoCertificates {
        setting: &'static str,
        path: PathBuf,
    },
    /// A PEM file that does not parse.
    BadPem {
        setting: &'static str,
        path: PathBuf,
    },
    NoKey(PathBuf),
    EncryptedKey(PathBuf),
    /// `tls = true`, no `ca_file` and none of [`SYSTEM_BUNDLES`] exists.
    NoSystemBundle,
    /// rustls refused the key or certificate (e.g. the key does not belong to the certificate).
    ClientAuth(rustls::Error),
    Protocol(rustls::Error),
    ServerName(String),
}

impl core::fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use TlsConfigError::*;
        match self {
            Read {
                setting,
                path,
                error,
            } => write!(f, "[mqtt] {setting} {}: {error}", path.display()),
            NoCertificates { setting, path } => write!(
                f,
                "[mqtt] {setting} {}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
                path.display()
            ),
            BadPem { setting, path } => {
                write!(
                    f,
                    "[mqtt] {setting} {}: not a valid PEM file",
                    path.display()
                )
            }
            NoKey(p) => write!(
                f,
                "[mqtt] client_key {}: no PEM private key (PKCS#8, PKCS#1 or SEC1) in it",
                p.display()
            ),
            EncryptedKey(p) => write!(
                f,
                "[mqtt] client_key {}: the key is encrypted with a pass phrase, which hci2mqtt \
                 cannot ask for; store it decrypted with mode 0600 \
                 (openssl pkey -in KEY -out {})",
                p.display(),
                p.display()
            ),
            NoSystemBundle => write!(
                f,
                "[mqtt] tls = true without ca_file, and no system CA bundle ({}): install the \
                 ca-certificates package or set [mqtt] ca_file",
                SYSTEM_BUNDLES.join(", ")
            ),
            ClientAuth(e) => write!(f, "[mqtt] client_cert / client_key: {e}"),
            Protocol(e) => write!(f, "TLS setup: {e}"),
            ServerName(n) => write!(
                f,
                "[mqtt] host {n:?} is not a DNS name or IP address a certificate can name; set \
                 [mqtt] tls_server_name"
            ),
        }
    }
}

impl std::error::Error for TlsConfigError {}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|error| TlsConfigError::Read {
        setting,
        path: path.to_path_buf(),
        error,
    })
}

/// Every certificate in a PEM file (other sections, such as a key, are skipped).
fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let pem = read(setting, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| TlsConfigError::BadPem {
            setting,
            path: path.to_path_buf(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificates {
            setting,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let pem = read("client_key", path)?;
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    // PKCS#8 "ENCRYPTED PRIVATE KEY", or OpenSSL's legacy PEM encryption header.
    if has(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || has(b"Proc-Type: 4,ENCRYPTED") {
        return Err(TlsConfigError::EncryptedKey(path.to_path_buf()));
    }
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => TlsConfigError::NoKey(path.to_path_buf()),
        // The parser's detail could quote part of the key: not shown.
        _ => TlsConfigError::BadPem {
            setting: "client_key",
            path: path.to_path_buf(),
        },
    })
}

/// The roots: `ca_file`, else the first system bundle that exists.
fn roots(m: &MqttConfig) -> Result<(RootCertStore, Trust), TlsConfigError> {
    let (setting, path, trust) = match &m.ca_file {
        Some(p) => ("ca_file", p.clone(), Trust::CaFile(p.clone())),
        None => {
            let p = SYSTEM_BUNDLES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.exists())
                .ok_or(TlsConfigError::NoSystemBundle)?;
            (
                "ca_file (default: system bundle)",
                p.clone(),
                Trust::System(p),
            )
        }
    };
    let mut store = RootCertStore::empty();
    // A bundle can hold a certificate webpki cannot use (an old v1 root): skip it, keep the
    // others; a file with none usable is an error.
    let (added, _ignored) = store.add_parsable_certificates(certificates(setting, &path)?);
    if added == 0 {
        return Err(TlsConfigError::NoCertificates { setting, path });
    }
    Ok((store, trust))
}

impl TlsSettings {
    /// From `[mqtt]` (reads `ca_file`, `client_cert`, `client_key`).
    pub fn from_config(m: &MqttConfig) -> Result<TlsSettings, TlsConfigError> {
        let (name, name_setting) = match &m.tls_server_name {
            Some(n) => (n.clone(), "tls_server_name"),
            None => (m.host.clone(), "host"),
        };
        let server_name = ServerName::try_from(name.clone())
            .map_err(|_| TlsConfigError::ServerName(name.clone()))?;
        let (store, trust) = roots(m)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsConfigError::Protocol)?
            .with_root_certificates(store);
        let config = match (&m.client_cert, &m.client_key) {
            (Some(cert), Some(key)) => {
                let chain = certificates("client_cert", cert)?;
                builder
                    .with_client_auth_cert(chain, private_key(key)?)
                    .map_err(TlsConfigError::ClientAuth)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(TlsSettings {
            config: Arc::new(config),
            server_name,
            trust,
            name,
            name_setting,
            client_cert: m.client_cert.clone(),
        })
    }

    /// A new client session (one per TCP connection).
    pub fn connect(&self) -> Result<ClientConnection, rustls::Error> {
        ClientConnection::new(self.config.clone(), self.server_name.clone())
    }

    /// A handshake or record error of a session made by [`TlsSettings::connect`], with what
    /// its message needs to name the setting to fix.
    pub fn failure(&self, error: rustls::Error) -> TlsFailure {
        TlsFailure {
            error,
            trust: self.trust.clone(),
            name: self.name.clone(),
            name_setting: self.name_setting,
            client_cert: self.client_cert.clone(),
        }
    }
}

/// The bytes of a TLS ClientHello for `host` (a probe of a port that may speak TLS; see
/// `conn::Probe`). `None` only if rustls cannot make one.
pub fn client_hello(host: &str) -> Option<Vec<u8>> {
    let name = ServerName::try_from(host.to_string())
        .or_else(|_| ServerName::try_from("mqtt.invalid"))
        .ok()?;
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .ok()?
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
    let mut c = ClientConnection::new(Arc::new(config), name).ok()?;
    let mut out = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut out).ok()?;
    }
    Some(out)
}

/// A TLS session that failed, typed by rustls's error; Display says which setting to fix.
#[derive(Debug, PartialEq)]
pub struct TlsFailure {
    pub error: rustls::Error,
    pub trust: Trust,
    pub name: String,
    pub name_setting: &'static str,
    pub client_cert: Option<PathBuf>,
}

impl core::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use rustls::Error as E;
        match &self.error {
            E::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => write!(
                    f,
                    "the broker's TLS certificate is not signed by a CA in {}: set [mqtt] \
                     ca_file to the PEM file of the CA that signed it (Mosquitto: its cafile)",
                    self.trust
                ),
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    write!(
                        f,
                        "the broker's TLS certificate is not valid for {:?} ([mqtt] {})",
                        self.name, self.name_setting
                    )?;
                    if let CertificateError::NotValidForNameContext { presented, .. } = c {
                        if !presented.is_empty() {
                            write!(f, "; it is for {}", presented.join(", "))?;
                        }
                    }
                    write!(
                        f,
                        ": set [mqtt] host to a name the certificate is for, or set \
                         [mqtt] tls_server_name to it"
                    )
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => f.write_str(
                    "the broker's TLS certificate has expired: renew it on the broker \
                         (or check this machine's clock)",
                ),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => f
                    .write_str(
                        "the broker's TLS certificate is not valid yet: this machine's clock is \
                         probably behind (a Raspberry Pi has no real-time clock; wait for NTP \
                         time sync)",
                    ),
                _ => write!(
                    f,
                    "the broker's TLS certificate was rejected ({}); check it against {}",
                    self.error, self.trust
                ),
            },
            E::AlertReceived(a) => {
                let client_cert_alert = matches!(
                    a,
                    AlertDescription::CertificateRequired
                        | AlertDescription::BadCertificate
                        | AlertDescription::UnknownCA
                        | AlertDescription::CertificateUnknown
                        | AlertDescription::UnsupportedCertificate
                        | AlertDescription::CertificateExpired
                        | AlertDescription::AccessDenied
                        | AlertDescription::HandshakeFailure
                );
                match (&self.client_cert, client_cert_alert) {
                    (None, true) => write!(
                        f,
                        "the broker refused the TLS handshake ({a:?}): it probably requires a \
                         client certificate; set [mqtt] client_cert and client_key"
                    ),
                    (Some(p), true) => write!(
                        f,
                        "the broker refused our client certificate ({a:?}): [mqtt] client_cert \
                         {} must be signed by a CA the broker trusts (Mosquitto: its cafile) \
                         and be valid now",
                        p.display()
                    ),
                    _ => write!(f, "the broker ended the TLS session: {a:?}"),
                }
            }
            e => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for TlsFailure {}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hci2mqtt-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn key_file_errors_name_the_file_never_the_key() {
        let enc = tmp(
            "enc.key",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkq\n-----END ENCRYPTED PRIVATE KEY-----\n",
        );
        let e = private_key(&enc).unwrap_err();
        assert!(matches!(e, TlsConfigError::EncryptedKey(_)), "{e:?}");
        assert!(e.to_string().contains("enc.key") && e.to_string().contains("openssl pkey"));
        // A broken key body: the message names the file, not the bytes.
        let bad = tmp(
            "bad.key",
            "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw!!\n-----END PRIVATE KEY-----\n",
        );
        let e = private_key(&bad).unwrap_err().to_string();
        assert!(e.contains("client_key") && e.contains("bad.key"), "{e}");
        assert!(!e.contains("c2VjcmV0"), "key material in {e}");
        let none = tmp("none.key", "just text\n");
        assert!(matches!(private_key(&none), Err(TlsConfigError::NoKey(_))));
        let missing = Path::new("/nonexistent/hci2mqtt/ca.pem");
        let e = certificates("ca_file", missing).unwrap_err().to_string();
        assert!(
            e.contains("[mqtt] ca_file /nonexistent/hci2mqtt/ca.pem"),
            "{e}"
        );
        let e = certificates("ca_file", &none).unwrap_err().to_string();
        assert!(e.contains("no PEM certificate"), "{e}");
    }

    /// Without ca_file the roots are the system bundle (Debian's ca-certificates here).
    #[test]
    fn without_ca_file_the_system_bundle_is_used() {
        let m = crate::config::Config::parse("[mqtt]\ntls = true\n", "t")
            .unwrap()
            .mqtt
            .unwrap();
        let Some(bundle) = SYSTEM_BUNDLES.iter().find(|p| Path::new(p).exists()) else {
            assert!(matches!(roots(&m), Err(TlsConfigError::NoSystemBundle)));
            return;
        };
        let (store, trust) = roots(&m).expect("the system bundle loads");
        assert_eq!(trust, Trust::System(PathBuf::from(bundle)));
        assert!(store.len() > 50, "only {} roots from {bundle}", store.len());
        let t = TlsSettings::from_config(&m).expect("settings");
        assert_eq!((t.name.as_str(), t.name_setting), ("localhost", "host"));
    }

    #[test]
    fn failures_name_the_setting_to_fix() {
        let f = |error, client_cert: Option<&str>| {
            TlsFailure {
                error,
                trust: Trust::System(PathBuf::from("/etc/ssl/certs/ca-certificates.crt")),
                name: "mqtt.lan".into(),
                name_setting: "host",
                client_cert: client_cert.map(PathBuf::from),
            }
            .to_string()
        };
        let e = f(
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            None,
        );
        assert!(
            e.contains("the system CA bundle /etc/ssl/certs/ca-certificates.crt")
                && e.contains("set [mqtt] ca_file"),
            "{e}"
        );
        let e = f(
            rustls::Error::InvalidCertificate(CertificateError::Expired),
            None,
        );
        assert!(e.contains("expired"), "{e}");
        let e = f(
            rustls::Error::InvalidCertificate(CertificateError::NotValidYet),
            None,
        );
        assert!(e.contains("clock"), "{e}");
        let e = f(
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            None,
        );
        assert!(
            e.contains("\"mqtt.lan\" ([mqtt] host)") && e.contains("tls_server_name"),
            "{e}"
        );
        let e = f(
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
            None,
        );
        assert!(e.contains("set [mqtt] client_cert and client_key"), "{e}");
        let e = f(
            rustls::Error::AlertReceived(AlertDescription::UnknownCA),
            Some("/etc/hci2mqtt/client.crt"),
        );
        assert!(e.contains("client_cert /etc/hci2mqtt/client.crt"), "{e}");
    }
}
