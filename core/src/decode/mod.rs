//! Sensor formats. One file per format, each exporting a [`Format`] table entry that declares
//! everything about it; [`FORMATS`] lists them. Adding a format = its file + one line in
//! [`FORMATS`] + its vectors (`docs/architecture.md`).
//!
//! Decoders are plain functions over borrowed bytes: no I/O, no clock, no allocation. A decoder
//! fills a caller-owned [`Reading`] (fixed capacity) and returns a typed [`DecodeError`].

pub mod acconeer;
pub mod airmentor;
pub mod almendo;
pub mod amazfit;
pub mod aranet;
pub mod atc;
pub mod beckett;
pub mod bluemaestro;
pub mod blustream;
pub mod bparasite;
pub mod bthome;
pub mod bytes;
pub mod chefiq;
pub mod eddystone;
pub mod field;
pub mod govee;
pub mod grundfos;
pub mod hhcc;
pub mod holyiot;
pub mod hormann;
pub mod ibeacon;
pub mod inkbird;
pub mod inode;
pub mod jaalee;
pub mod jinou;
pub mod kegtron;
pub mod keys;
pub mod kkm;
pub mod laica;
pub mod mibeacon;
pub mod michelin;
pub mod mikrotik;
pub mod minew;
pub mod miscale;
pub mod moat;
pub mod mocreo;
pub mod mopeka;
pub mod oralb;
pub mod oras;
pub mod qingping;
pub mod rapt;
pub mod relsib;
pub mod ruuvi;
pub mod sensirion;
pub mod sensorpush;
pub mod senssun;
pub mod smartdry;
pub mod sonoff;
pub mod switchbot;
pub mod teltonika;
pub mod thermobeacon;
pub mod thermopro;
pub mod tilt;
pub mod unit;
pub mod xiaogui;

use crate::addr::Addr;
pub use field::Field;
pub use keys::{DeviceKey, KeyError, KeyStore};

/// A value as published (bleparser types: floats, ints, 0/1 for binary, strings for events).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Float(f64),
    Int(i64),
    Text(&'static str),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::Text(_) => None,
        }
    }
}

/// Maximum number of values in one reading; more are dropped (and counted by `overflow`).
pub const MAX_VALUES: usize = 24;

/// One decoded advertisement. Caller-owned and reused: no allocation per report.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The sensor's address (from the frame when it carries one, else the advertiser's).
    pub addr: Addr,
    pub rssi: Option<i8>,
    /// Format slug, e.g. `mibeacon-v5-encrypted`, `atc1441`, `bthome-v2`: the claiming
    /// format's [`Format::name`] unless its decoder names the variant.
    pub format: &'static str,
    /// The table entry that claimed the advert (its interval, manufacturer…), set by the
    /// pipeline before decoding.
    pub source: &'static Format,
    /// bleparser's `firmware` string, e.g. `Xiaomi (MiBeacon V5 encrypted)`.
    pub firmware: &'static str,
    /// Model name, e.g. `LYWSD03MMC`.
    pub model: &'static str,
    /// Frame counter (bleparser `packet`), used for duplicate filtering.
    pub packet: Option<u32>,
    pub encrypted: bool,
    /// The sensor's address is a private (rotating) one, see [`Addr::is_private`]: set by
    /// the pipeline, for the publisher not to auto-discover a new device every few minutes.
    pub private_address: bool,
    values: [(&'static Field, Value); MAX_VALUES],
    len: u8,
    /// Values that did not fit.
    pub overflow: u8,
}

impl Default for Reading {
    fn default() -> Self {
        Reading {
            addr: Addr::default(),
            rssi: None,
            format: "",
            source: &UNCLAIMED,
            firmware: "",
            model: "",
            packet: None,
            encrypted: false,
            private_address: false,
            values: [(&field::TEMPERATURE, Value::Int(0)); MAX_VALUES],
            len: 0,
            overflow: 0,
        }
    }
}

/// Rounds a computed value to `decimals` places ([`Field::decimals`]), which also takes away
/// binary noise (`2.2 + 0.9 * 0.64` = 2.7760000000000002, bleparser's voltage estimate; `0.1 *
/// 219` = 21.900000000000002). `k / 10ⁿ` is the double
/// nearest to the decimal `k·10⁻ⁿ`, whose shortest form is what serde_json writes. Values too
/// large to scale exactly (`x·10ⁿ` ≥ 2⁵¹) and non-finite ones are left alone; more than
/// [`field::FINEST`] places count as that many.
pub fn round_decimals(x: f64, decimals: u8) -> f64 {
    const POW10: [f64; field::FINEST as usize + 1] =
        [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
    // Adding and taking away 1.5·2⁵² rounds `y` (|y| < 2⁵¹) to an integer in two additions,
    // where `f64::round` is a library call on the baseline x86_64 and ARMv6 targets (ties go
    // to even, which no measured value is close enough to matter for).
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let p = POW10[usize::from(decimals.min(field::FINEST))];
    let y = x * p;
    if y.abs() < 1e15 {
        ((y + ROUND) - ROUND) / p
    } else {
        x
    }
}

impl Reading {
    /// Resets for the next report.
    pub fn clear(&mut self, addr: Addr, rssi: Option<i8>) {
        self.addr = addr;
        self.rssi = rssi;
        self.format = "";
        self.source = &UNCLAIMED;
        self.firmware = "";
        self.model = "";
        self.packet = None;
        self.encrypted = false;
        self.private_address = false;
        self.len = 0;
        self.overflow = 0;
    }

    /// Adds a value; a later value with the same key replaces the earlier one (and its
    /// field), so one JSON object never holds a key twice (see [`field::SAME_KEY`]). A float
    /// is rounded to its field's decimals ([`round_decimals`]) here, the one place every value
    /// passes, so the JSON lines, the MQTT state and the scan table all show it as a person
    /// reads it.
    pub fn push(&mut self, f: &'static Field, v: Value) {
        let v = match v {
            Value::Float(x) => Value::Float(round_decimals(x, f.decimals)),
            other => other,
        };
        let n = self.len as usize;
        if let Some(slot) = self.values[..n]
            .iter_mut()
            .find(|(g, _)| core::ptr::eq(*g, f) || g.key == f.key)
        {
            *slot = (f, v);
            return;
        }
        if n < MAX_VALUES {
            self.values[n] = (f, v);
            self.len += 1;
        } else {
            self.overflow = self.overflow.saturating_add(1);
        }
    }

    /// A computed value (rounded by [`Reading::push`]).
    pub fn float(&mut self, f: &'static Field, v: f64) {
        self.push(f, Value::Float(v))
    }

    pub fn int(&mut self, f: &'static Field, v: i64) {
        self.push(f, Value::Int(v))
    }

    pub fn values(&self) -> &[(&'static Field, Value)] {
        &self.values[..self.len as usize]
    }

    pub fn get(&self, key: &str) -> Option<Value> {
        self.values()
            .iter()
            .find(|(f, _)| f.key == key)
            .map(|(_, v)| *v)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Why an advertisement that a format claimed gave no reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than the format's fixed fields.
    Truncated,
    /// Structurally wrong (bad version, impossible length…).
    Malformed(&'static str),
    /// Encrypted and no key is configured for this device.
    NoKey,
    /// The key does not authenticate the frame (wrong key or corrupted frame).
    DecryptFailed,
    /// Counter went backwards / plaintext from a device known to encrypt.
    Replay,
    /// Valid frame that carries nothing we publish (e.g. pairing beacon without objects).
    NoData,
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("frame truncated"),
            DecodeError::Malformed(w) => write!(f, "malformed frame: {w}"),
            DecodeError::NoKey => f.write_str("encrypted frame and no key configured"),
            DecodeError::DecryptFailed => f.write_str("decryption failed (wrong key?)"),
            DecodeError::Replay => f.write_str("replayed or downgraded frame rejected"),
            DecodeError::NoData => f.write_str("frame carries no readings"),
        }
    }
}

/// Per-device memory that some formats need (BTHome replay protection, MiBeacon legacy
/// pairing). Kept by the pipeline in a bounded table; a fresh entry is all zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceMemory {
    /// Highest encryption counter accepted from this device.
    pub enc_counter: Option<u32>,
    /// The device has sent authenticated encrypted frames.
    pub seen_encrypted: bool,
}

/// What a decoder gets besides the bytes.
pub struct Ctx<'a> {
    pub keys: &'a KeyStore,
    /// Memory of the advertiser (created on first access by the pipeline).
    pub memory: &'a mut DeviceMemory,
}

/// The advertisement being decoded.
#[derive(Clone, Copy, Debug)]
pub struct Advert<'a> {
    pub addr: Addr,
    pub addr_type: u8,
    pub rssi: Option<i8>,
    /// Whole AD data (for formats that need more than their own structure, e.g. a name).
    pub data: &'a [u8],
    /// Name and service UUIDs of the advert, found once per report.
    pub hints: crate::adv::AdSummary<'a>,
}

impl<'a> Advert<'a> {
    /// An advert over `data`, with its [`crate::adv::AdSummary`] computed.
    pub fn new(addr: Addr, addr_type: u8, rssi: Option<i8>, data: &'a [u8]) -> Self {
        Advert {
            addr,
            addr_type,
            rssi,
            data,
            hints: crate::adv::AdSummary::of(data),
        }
    }
}

/// Which AD structure a format claims.
#[derive(Clone, Copy, Debug)]
pub enum Matcher {
    /// 16-bit service data with this UUID; the decoder gets the data after the UUID.
    ServiceData16(u16),
    /// Manufacturer data with this company id; the decoder gets the data after the id.
    Manufacturer(u16),
    /// Anything else (several company ids, a name…): the function inspects the structure and
    /// the whole advert and returns what it found ([`Claim`]).
    ///
    /// The first field is the AD type the function looks at (0xFF manufacturer data, 0x16
    /// service data): it is only called for structures of that type, which keeps the cost of
    /// the many unrelated adverts (phones, TVs) at a comparison per format.
    /// The second field lists the UUIDs / company ids the function can claim (empty: any),
    /// so it is not even called for the others.
    Custom(u8, &'static [u16], MatchFn),
    /// Manufacturer data claimed by a function, like `Custom(MANUFACTURER, &[], f)`, behind a
    /// [`Prefilter`] that [`claim`] checks inline before calling it. Most manufacturer data
    /// comes from phones and fails the prefilter of every such format in a few compares
    /// instead of a call to each function.
    Filtered(Prefilter, MatchFn),
}

/// Necessary conditions for a [`Matcher::Filtered`] function to claim a manufacturer
/// structure, declared as data. It only saves calls: the function still checks everything.
#[derive(Clone, Copy, Debug)]
pub struct Prefilter {
    /// Bit `n` set: a structure payload (company id included) of `n` bytes may match; bit 63
    /// stands for every length from 63 bytes on. Build it with [`Prefilter::lens`].
    pub lens: u64,
    /// May claim a structure whose company id is Apple's (0x004C).
    pub apple: bool,
    /// What the advert must carry besides the structure.
    pub needs: Needs,
}

/// See [`Prefilter::needs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// A local name.
    Name,
    /// A local name or a 128-bit service UUID list.
    NameOrUuid128,
    /// A local name, a 16-bit service UUID list, or one of these company ids.
    NameOrUuid16OrCompany(&'static [u16]),
}

impl Prefilter {
    /// Every payload length from 2 bytes (a company id) on.
    pub const ANY_LEN: u64 = !0b11;

    /// The length mask of these payload lengths (company id included; 63 means 63 and more).
    pub const fn lens(lens: &[usize]) -> u64 {
        let mut m = 0u64;
        let mut i = 0;
        while i < lens.len() {
            m |= 1 << if lens[i] > 63 { 63 } else { lens[i] };
            i += 1;
        }
        m
    }

    /// The length mask of every payload length from `n` bytes on.
    pub const fn lens_from(n: usize) -> u64 {
        !0u64 << if n > 63 { 63 } else { n }
    }
}

/// What a matcher found in one AD structure, handed to the decoder as is, so a decoder never
/// classifies the frame a second time. Only this crate's matchers make claims: a decoder may
/// rely on its variant having been recognised in exactly these bytes (outside the crate, get
/// one from [`claim`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim<'a> {
    /// The bytes to decode (see each [`Matcher`] variant for where they start).
    pub(crate) payload: &'a [u8],
    /// Which variant or model the matcher recognised, as an index private to the format
    /// (0 for formats that tell nothing apart while claiming).
    pub(crate) variant: u8,
}

impl<'a> Claim<'a> {
    /// A claim of `payload` that recognised no particular variant.
    pub(crate) const fn of(payload: &'a [u8]) -> Self {
        Claim {
            payload,
            variant: 0,
        }
    }

    /// The bytes the decoder gets.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    /// The bytes as the fixed-size frame the format's matcher checked the length of;
    /// `Truncated` when they are not `N` bytes long.
    pub(crate) fn array<const N: usize>(&self) -> Result<&'a [u8; N], DecodeError> {
        self.payload.try_into().map_err(|_| DecodeError::Truncated)
    }
}

/// A custom matcher: one AD structure and its advert in, what it claims out.
pub type MatchFn = for<'a> fn(&crate::adv::AdStructure<'a>, &Advert<'a>) -> Option<Claim<'a>>;

/// Decoder signature: the matcher's claim in, reading out.
pub type DecodeFn =
    fn(&mut Ctx<'_>, &Advert<'_>, Claim<'_>, &mut Reading) -> Result<(), DecodeError>;

/// Whether a format's devices need a per-device key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyNeed {
    /// Never encrypted (or encrypted with a key the frame itself carries).
    Never,
    /// Only when the device is set to encrypt (MiBeacon, BTHome v2, pvvx).
    WhenEncrypted,
    /// Always encrypted.
    Always,
}

/// What it takes to decode a format's devices, declared once so `scan`, the docs and the
/// tests read it from the table instead of knowing each format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requires {
    pub key: KeyNeed,
    /// Recognised by the local name (for at least some models).
    pub name: bool,
    /// Some models put their data, or the name or UUID list that identifies them, only in
    /// the scan response: a passive scan misses them.
    pub active_scan: bool,
}

impl Requires {
    /// Decoded from what any passive scan hears, without a key.
    pub const NOTHING: Requires = Requires {
        key: KeyNeed::Never,
        name: false,
        active_scan: false,
    };
}

/// One format's table entry: everything about a format is declared here.
pub struct Format {
    /// Slug, e.g. `mibeacon`, `govee`: what [`Reading::format`] says unless the decoder names
    /// a variant from `variants`.
    pub name: &'static str,
    /// The variant slugs the decoder may write into [`Reading::format`] instead of `name`
    /// (`mibeacon-v5-encrypted`, `pvvx`…); [`format_of_slug`] maps them back.
    pub variants: &'static [&'static str],
    /// Who makes the devices, for Home Assistant's device info.
    pub manufacturer: &'static str,
    /// Typical longest gap (seconds) between two adverts that carry a given value, from the
    /// devices' documentation and bleparser/HA experience: Home Assistant's `expire_after`
    /// allows three of them (see `publish::discovery`).
    pub interval_s: u32,
    pub requires: Requires,
    /// The field tables declared in the format's own file (the lists [`field::fields!`]
    /// and [`field::repeated!`] make); the shared fields live in [`field`].
    pub fields: &'static [field::FieldList],
    pub matcher: Matcher,
    pub decode: DecodeFn,
}

/// The [`Reading::source`] of a reading no format has claimed yet.
pub static UNCLAIMED: Format = Format {
    name: "",
    variants: &[],
    manufacturer: "",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[],
    matcher: Matcher::Custom(0, &[], |_, _| None),
    decode: |_, _, _, _| Err(DecodeError::NoData),
};

impl core::fmt::Debug for Format {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Format({})", self.name)
    }
}

/// Every supported format, tried in order; the first whose matcher fits an AD structure of
/// the report decodes it.
pub static FORMATS: &[&Format] = &[
    &mibeacon::FORMAT,
    &atc::FORMAT,
    &bthome::FORMAT_V2,
    &bthome::FORMAT_V1,
    &bthome::FORMAT_V1_ENCRYPTED,
    &qingping::FORMAT,
    // Formats keyed on a local name go before Govee, whose matcher is the most permissive.
    &inkbird::FORMAT,
    &switchbot::FORMAT,
    &thermopro::FORMAT,
    &thermobeacon::FORMAT,
    &sensorpush::FORMAT,
    &ruuvi::FORMAT,
    &ruuvi::FORMAT_URL,
    // Brands from ble_monitor: strict matchers (company id or UUID, lengths, names).
    &relsib::FORMAT,
    &miscale::FORMAT,
    &hhcc::FORMAT,
    &bparasite::FORMAT,
    &amazfit::FORMAT,
    &minew::FORMAT,
    &eddystone::FORMAT,
    &holyiot::FORMAT,
    &jaalee::FORMAT,
    &jaalee::FORMAT_IBEACON,
    &tilt::FORMAT,
    &teltonika::FORMAT,
    &teltonika::FORMAT_GATT,
    &mocreo::FORMAT,
    &kkm::FORMAT,
    &xiaogui::FORMAT,
    &acconeer::FORMAT,
    &airmentor::FORMAT,
    &hormann::FORMAT,
    &inode::FORMAT,
    &bluemaestro::FORMAT,
    &chefiq::FORMAT,
    &blustream::FORMAT,
    &grundfos::FORMAT,
    &sensirion::FORMAT,
    &oras::FORMAT,
    &almendo::FORMAT,
    &moat::FORMAT,
    &moat::FORMAT_S2,
    &laica::FORMAT,
    &senssun::FORMAT,
    &jinou::FORMAT,
    &michelin::FORMAT,
    &amazfit::FORMAT_BAND,
    &mikrotik::FORMAT,
    &smartdry::FORMAT,
    &kegtron::FORMAT,
    &oralb::FORMAT,
    &beckett::FORMAT,
    &unit::FORMAT,
    &sonoff::FORMAT,
    // Brands from Home Assistant's BLE libraries.
    &aranet::FORMAT,
    &mopeka::FORMAT,
    &rapt::FORMAT,
    &govee::FORMAT,
    // iBeacon/AltBeacon: keep last (its Custom matcher declines adverts that belong to a sensor format).
    &ibeacon::FORMAT,
];

/// The table entry whose decoder writes `slug` into [`Reading::format`] (its name or one of
/// its variants): tools that read our JSON lines back (the MQTT feeder of the HA check) find
/// the format's declarations from it.
pub fn format_of_slug(slug: &str) -> Option<&'static Format> {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.name == slug || f.variants.contains(&slug))
}

/// A custom matcher as the dispatch table keeps it: the fields the loop in [`claim`] needs,
/// side by side, so trying one costs no pointer chase to its [`Format`] nor a match on
/// [`Matcher`].
struct CustomEntry {
    /// The prefilter ([`Prefilter`] accepting everything for [`Matcher::Custom`]).
    pre: Prefilter,
    /// Bit `k % 64` for every company id `k` of [`Needs::NameOrUuid16OrCompany`] (a quick
    /// reject before the list search), else 0.
    company_mask: u64,
    /// Bit `k % 64` set for every key `k` of `keys` (all bits when `keys` is empty): a
    /// one-compare reject before the list search over, e.g., Thermobeacon's six company ids,
    /// which would otherwise run for every manufacturer structure.
    mask: u64,
    keys: &'static [u16],
    matches: MatchFn,
    format: &'static Format,
}

/// [`FORMATS`] sorted by how they match, built once: `claim` runs for every service- and
/// manufacturer-data structure heard, so it must not walk the whole table three times.
/// The custom matchers of one AD type, with their prefilters folded into bit sets (bit `i`
/// = `entries[i]`): [`claim`] finds the entries a structure passes with a few `and`s, then
/// calls only those. Checking the prefilters entry by entry cost as much as the calls saved.
struct CustomList {
    entries: Vec<CustomEntry>,
    /// Entries whose [`Prefilter::lens`] accept a payload of `n` bytes (63: 63 and more).
    by_len: [u64; 64],
    /// Entries whose key list (see [`CustomEntry::mask`]) may hold a key `k` with `k % 64 == n`:
    /// service data of other UUIDs skips the keyed matchers without a loop iteration.
    by_key: [u64; 64],
    /// Entries that decline Apple's company id.
    no_apple: u64,
    needs_name: u64,
    needs_name_or_uuid128: u64,
    /// Entries with [`Needs::NameOrUuid16OrCompany`].
    needs_name_uuid16_or_company: u64,
}

impl CustomList {
    fn new() -> Self {
        CustomList {
            entries: Vec::new(),
            by_len: [0; 64],
            by_key: [0; 64],
            no_apple: 0,
            needs_name: 0,
            needs_name_or_uuid128: 0,
            needs_name_uuid16_or_company: 0,
        }
    }

    fn push(&mut self, e: CustomEntry) {
        let i = self.entries.len();
        assert!(i < 64, "more than 64 custom matchers for one AD type");
        let bit = 1u64 << i;
        for (n, m) in self.by_len.iter_mut().enumerate() {
            if e.pre.lens >> n & 1 != 0 {
                *m |= bit;
            }
        }
        for (n, m) in self.by_key.iter_mut().enumerate() {
            if e.mask >> n & 1 != 0 {
                *m |= bit;
            }
        }
        if !e.pre.apple {
            self.no_apple |= bit;
        }
        match e.pre.needs {
            Needs::Nothing => {}
            Needs::Name => self.needs_name |= bit,
            Needs::NameOrUuid128 => self.needs_name_or_uuid128 |= bit,
            Needs::NameOrUuid16OrCompany(_) => self.needs_name_uuid16_or_company |= bit,
        }
        self.entries.push(e);
    }
}

struct Dispatch {
    custom_sd: CustomList,
    custom_mfr: CustomList,
    /// 32-bit UUID lists (Sonoff's remotes put their frame in one).
    custom_uuid32: CustomList,
    sd: Vec<(u16, &'static Format)>,
    mfr: Vec<(u16, &'static Format)>,
    /// No exact matches (for the AD types that have only custom matchers).
    none: Vec<(u16, &'static Format)>,
}

fn dispatch() -> &'static Dispatch {
    use crate::adv::ad_type::{COMPLETE_UUID32, MANUFACTURER, SERVICE_DATA16};
    static D: std::sync::OnceLock<Dispatch> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let mut d = Dispatch {
            custom_sd: CustomList::new(),
            custom_mfr: CustomList::new(),
            custom_uuid32: CustomList::new(),
            sd: Vec::new(),
            mfr: Vec::new(),
            none: Vec::new(),
        };
        for f in FORMATS {
            match f.matcher {
                Matcher::Custom(
                    t @ (SERVICE_DATA16 | MANUFACTURER | COMPLETE_UUID32),
                    keys,
                    matches,
                ) => {
                    let mask = if keys.is_empty() {
                        u64::MAX
                    } else {
                        keys.iter().fold(0, |m, k| m | 1 << (k % 64))
                    };
                    let pre = Prefilter {
                        lens: u64::MAX,
                        apple: true,
                        needs: Needs::Nothing,
                    };
                    let e = CustomEntry {
                        pre,
                        company_mask: 0,
                        mask,
                        keys,
                        matches,
                        format: f,
                    };
                    match t {
                        SERVICE_DATA16 => d.custom_sd.push(e),
                        MANUFACTURER => d.custom_mfr.push(e),
                        _ => d.custom_uuid32.push(e),
                    }
                }
                Matcher::Custom(..) => {}
                Matcher::Filtered(pre, matches) => {
                    let company_mask = match pre.needs {
                        Needs::NameOrUuid16OrCompany(ids) => {
                            ids.iter().fold(0, |m, k| m | 1 << (k % 64))
                        }
                        _ => 0,
                    };
                    d.custom_mfr.push(CustomEntry {
                        pre,
                        company_mask,
                        mask: u64::MAX,
                        keys: &[],
                        matches,
                        format: f,
                    })
                }
                Matcher::ServiceData16(u) => d.sd.push((u, *f)),
                Matcher::Manufacturer(c) => d.mfr.push((c, *f)),
            }
        }
        d
    })
}

/// Finds the format claiming one AD structure: custom matchers first (in table order), then
/// exact UUID / company-id matches. Inlined: the pipeline runs it for nearly every report.
#[inline(always)]
pub fn claim<'a>(
    s: &crate::adv::AdStructure<'a>,
    adv: &Advert<'a>,
) -> Option<(&'static Format, Claim<'a>)> {
    use crate::adv::ad_type::{COMPLETE_UUID32, MANUFACTURER, SERVICE_DATA16};
    let d = dispatch();
    let (custom, exact) = match s.ad_type {
        SERVICE_DATA16 => (&d.custom_sd, &d.sd),
        MANUFACTURER => (&d.custom_mfr, &d.mfr),
        COMPLETE_UUID32 => (&d.custom_uuid32, &d.none),
        // Flags, names, 16- and 128-bit UUID lists are hints only (see `adv.hints`).
        _ => return None,
    };
    // UUID or company id, then the data after it.
    let (key, data) = match s.payload {
        [lo, hi, data @ ..] => (u16::from_le_bytes([*lo, *hi]), data),
        _ => return None,
    };
    // The entries whose prefilters this structure passes, in table order.
    let mut todo = custom.by_len[s.payload.len().min(63)] & custom.by_key[(key % 64) as usize];
    if key == 0x004C {
        todo &= !custom.no_apple;
    }
    if adv.hints.name.is_empty() {
        todo &= !custom.needs_name;
        if adv.hints.uuid128.is_empty() {
            todo &= !custom.needs_name_or_uuid128;
        }
        if adv.hints.uuid16.is_empty() {
            // Neither name nor UUID: only the listed company ids remain.
            let mut check = todo & custom.needs_name_uuid16_or_company;
            while check != 0 {
                let i = check.trailing_zeros();
                check &= check - 1;
                let listed = match custom.entries.get(i as usize) {
                    Some(c) => match c.pre.needs {
                        Needs::NameOrUuid16OrCompany(ids) => {
                            c.company_mask & (1 << (key % 64)) != 0 && ids.contains(&key)
                        }
                        _ => true,
                    },
                    None => true,
                };
                if !listed {
                    todo &= !(1 << i);
                }
            }
        }
    }
    while todo != 0 {
        let i = todo.trailing_zeros() as usize;
        todo &= todo - 1;
        let Some(c) = custom.entries.get(i) else {
            break;
        };
        if !c.keys.is_empty() && !c.keys.contains(&key) {
            continue;
        }
        if let Some(claim) = (c.matches)(s, adv) {
            return Some((c.format, claim));
        }
    }
    exact
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, f)| (*f, Claim::of(data)))
}

/// What the format files' unit tests share: a format's decoder on one structure, as the
/// pipeline runs it (no keys, a fresh device memory).
#[cfg(test)]
pub(crate) mod testing {
    use super::{
        Advert, Claim, Ctx, DecodeError, DeviceMemory, Format, KeyStore, Matcher, Reading,
    };
    use crate::addr::Addr;
    use crate::adv::AdStructure;

    /// `f`'s decoder on `claim` of an advert `adv`.
    pub(crate) fn decode_claim(
        f: &Format,
        adv: &Advert<'_>,
        claim: Claim<'_>,
    ) -> Result<Reading, DecodeError> {
        let keys = KeyStore::default();
        let mut mem = DeviceMemory::default();
        let mut ctx = Ctx {
            keys: &keys,
            memory: &mut mem,
        };
        let mut r = Reading::default();
        r.clear(adv.addr, adv.rssi);
        (f.decode)(&mut ctx, adv, claim, &mut r).map(|()| r)
    }

    /// The structure `ad_type`/`payload`, sent by `addr` in an advert whose other structures
    /// are `rest` (names, UUID lists: the hints), through `f`'s matcher and decoder.
    /// `Err(NoData)`: the matcher does not claim it.
    pub(crate) fn run(
        f: &Format,
        addr: Addr,
        rest: &[u8],
        ad_type: u8,
        payload: &[u8],
    ) -> Result<Reading, DecodeError> {
        let adv = Advert::new(addr, 0, None, rest);
        let s = AdStructure { ad_type, payload };
        let claim = match f.matcher {
            Matcher::Custom(_, _, m) | Matcher::Filtered(_, m) => m(&s, &adv),
            Matcher::ServiceData16(_) | Matcher::Manufacturer(_) => super::claim(&s, &adv)
                .filter(|(g, _)| core::ptr::eq(*g, f))
                .map(|(_, c)| c),
        };
        decode_claim(f, &adv, claim.ok_or(DecodeError::NoData)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounding keeps a field's decimals and takes away only what lies beyond them.
    #[test]
    fn round_decimals_keeps_the_declared_places() {
        assert_eq!(round_decimals(f64::from(23.2f32), 5).to_string(), "23.2");
        assert_eq!(round_decimals(2.2 + 0.9 * 0.64, 3).to_string(), "2.776");
        assert_eq!(round_decimals(0.1 * 219.0, 9).to_string(), "21.9");
        // The finest step a format gives survives: 1/32 V, 1/65536 of 100 %.
        assert_eq!(round_decimals(3.53125, 5), 3.53125);
        assert_eq!(round_decimals(100.0 * 65535.0 / 65536.0, 4), 99.9985);
        assert_eq!(round_decimals(-163.835, 2), -163.84);
        assert_eq!(round_decimals(68.0388555, 0), 68.0);
        // More places than FINEST count as FINEST; too large or non-finite: unchanged.
        assert_eq!(round_decimals(1.0 / 3.0, 200), 0.333333333);
        let big = 12_345_678.123_456_7;
        assert_eq!(round_decimals(big, 9), big);
        assert!(round_decimals(f64::NAN, 2).is_nan());
        assert_eq!(round_decimals(f64::INFINITY, 2), f64::INFINITY);
    }

    /// Every field's decimals are within what [`round_decimals`] can apply, and the default keeps
    /// every value within 5·10⁻⁷.
    #[test]
    fn field_decimals_are_at_most_finest() {
        for f in field::all() {
            assert!(f.decimals <= field::FINEST, "{}: {}", f.key, f.decimals);
        }
        // At the default decimals a value moves by at most half a unit of the sixth place.
        let mut x = -1000.0f64;
        while x < 1000.0 {
            let r = round_decimals(x, field::DECIMALS);
            assert!((r - x).abs() <= 5.0000001e-7, "{x} -> {r}");
            x += 0.123_456_789_1;
        }
    }
}
