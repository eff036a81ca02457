//! Inkbird thermometers and hygrometers (IBS-TH/TH1, IBS-TH2/P01B, IBS-P02B, ITH-11-B/13-B/21-B,
//! IAM-T2) and iBBQ/xBBQ probe thermometers (manufacturer data).
//!
//! Inkbird's "company id" is data: for the IBS-TH family it is the temperature itself. Models
//! are recognised (as bleparser and inkbird-ble do) by the local name, the `0xFFF0` service UUID
//! and the length, so the format uses a [`Matcher::Filtered`]. `p` below is the manufacturer
//! structure payload *including* the 2-byte "company id".
//!
//! As inkbird-ble: a model's local name (any case: `sps`, `tps`, `ibs-p02b`, `ith-11-b`,
//! `ith-13-b`, `ith-21-b`, `unknown`, `ink@iam-t2`) names the layout when the frame is 9, 17 or
//! 18 bytes long or the advert lists the `0xFFF0` or `0xFF00` service, whatever the length (a
//! frame too short for the layout is refused); names of models that send nothing in adverts
//! (`ink@iam-t1`, `ink@iht-2pb…`, `int-11p-b`, `int-11i-b`, `idt-34c-b`) claim nothing.
//!
//! * `sps` (IBS-TH) or `tps` (IBS-TH2/P01B): `p[0..2]` temperature i16 LE /100, `p[2..4]`
//!   humidity /100 (IBS-TH; IBS-TH2 unless 0 or 0xFFFF = no sensor), `p[7]` battery %. The
//!   probe byte `p[4]` is not read: an external probe's temperature is `temperature` too.
//! * IBS-P02B, ITH-11-B, ITH-13-B, ITH-21-B, `unknown` (or 18 bytes with id 0x2449 + `0xFFF0` +
//!   zero tail): `p[6..8]` temperature i16 /10, `p[8..10]` humidity /10 (when not 0), `p[10]`
//!   battery.
//! * IAM-T2 (name, or 17 bytes with id 0x3254 and `p[2..4] == 00 62`): status `p[9]` (bit 1 =
//!   °F), temperature i16 BE /10, humidity u16 BE /10, CO2 u16 BE.
//! * iBBQ/xBBQ (name contains `ibbq`/`xbbq`, or, as bleparser, `0xFFF0` + id 0/1): 12/14/18/22
//!   bytes = 1/2/4/6 probes, i16 LE /10 from `p[10]`; 0xFFFF means "no probe" and is not
//!   published (0xFFF6 is, as −1.0 °C: inkbird-ble reads it so).
//!
//! Corrupt frames (humidity > 100 % or battery > 100 %) are dropped whole, like inkbird-ble.

use super::bytes::i16le;
use super::{
    field, Advert, Claim, Ctx, DecodeError, Format, KeyNeed, Matcher, Needs, Prefilter, Reading,
    Requires,
};
use crate::adv::AdStructure;

pub static FORMAT: Format = Format {
    name: "inkbird",
    variants: &[],
    manufacturer: "Inkbird",
    interval_s: 10,
    requires: Requires {
        key: KeyNeed::Never,
        name: true,
        active_scan: true,
    },
    fields: &[],
    // The lengths `claim` accepts (8 and more with a model name and service UUID); the first
    // two bytes are data, so any "company id".
    matcher: Matcher::Filtered(
        Prefilter {
            lens: Prefilter::lens_from(8),
            apple: true,
            needs: Needs::Nothing,
        },
        claim,
    ),
    decode,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nine(&'static str),
    Eighteen(&'static str),
    IamT2,
    Bbq,
}

struct Hints<'a> {
    name: &'a [u8],
    /// The advert's 16-bit UUID list, searched for 0xFFF0 only when a rule asks: most
    /// manufacturer data reaching `claim` is decided on length and name alone.
    uuid16: &'a [u8],
}

impl Hints<'_> {
    fn uuid(&self, u: u16) -> bool {
        // Little-endian pairs, as `AdSummary::has_uuid16` reads them.
        self.uuid16.chunks_exact(2).any(|c| c == u.to_le_bytes())
    }
    fn fff0(&self) -> bool {
        self.uuid(0xFFF0)
    }
}

/// inkbird-ble's model names (compared in any case) and what each says about the frame:
/// `None` for the models that send nothing in adverts.
static NAMES: [(&str, Option<Kind>); 13] = [
    ("sps", Some(Kind::Nine("IBS-TH"))),
    ("tps", Some(Kind::Nine("IBS-TH2/P01B"))),
    ("ibs-p02b", Some(Kind::Eighteen("IBS-P02B"))),
    ("ith-11-b", Some(Kind::Eighteen("ITH-11-B"))),
    ("ith-13-b", Some(Kind::Eighteen("ITH-13-B"))),
    ("ith-21-b", Some(Kind::Eighteen("ITH-21-B"))),
    ("unknown", Some(Kind::Eighteen("Inkbird 18-byte sensor"))),
    ("ink@iam-t2", Some(Kind::IamT2)),
    ("ink@iam-t1", None),
    ("ink@iht-2pb", None),
    ("int-11p-b", None),
    ("int-11i-b", None),
    ("idt-34c-b", None),
];

/// The shortest frame each layout reads (inkbird-ble fails on shorter ones).
fn min_len(kind: Kind) -> usize {
    match kind {
        Kind::Nine(_) => 8,
        Kind::Eighteen(_) => 11,
        Kind::IamT2 => 16,
        Kind::Bbq => 12,
    }
}

fn hints<'a>(adv: &Advert<'a>) -> Hints<'a> {
    Hints {
        name: adv.hints.name,
        uuid16: adv.hints.uuid16,
    }
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Every [`Kind`] `classify` returns; [`Claim::variant`] is the index here.
static KINDS: [Kind; 9] = [
    Kind::Nine("IBS-TH"),
    Kind::Nine("IBS-TH2/P01B"),
    Kind::Eighteen("IBS-P02B"),
    Kind::Eighteen("ITH-11-B"),
    Kind::Eighteen("ITH-13-B"),
    Kind::Eighteen("ITH-21-B"),
    Kind::Eighteen("Inkbird 18-byte sensor"),
    Kind::IamT2,
    Kind::Bbq,
];

/// inkbird-ble's detection order: model name, IHT-2PB name prefix, BBQ name, generic 18-byte
/// frame, IAM-T1 (nothing in adverts), IAM-T2; then bleparser's nameless iBBQ.
fn classify(p: &[u8], h: &Hints<'_>) -> Option<Kind> {
    let cid = u16::from_le_bytes([p[0], p[1]]);
    let n = h.name;
    let len = p.len();
    if let Some((_, kind)) = NAMES
        .iter()
        .find(|(m, _)| n.eq_ignore_ascii_case(m.as_bytes()))
    {
        if matches!(len, 9 | 17 | 18) || h.fff0() || h.uuid(0xFF00) {
            return kind.filter(|k| len >= min_len(*k));
        }
    }
    if n.len() >= 11 && n[..11].eq_ignore_ascii_case(b"ink@iht-2pb") {
        return None;
    }
    let bbq_len = matches!(len, 12 | 14 | 18 | 22);
    if bbq_len && (contains_ci(n, b"ibbq") || contains_ci(n, b"xbbq")) {
        return Some(Kind::Bbq);
    }
    if len == 18 && cid == 0x2449 && h.fff0() && p.ends_with(&[0, 0, 0]) {
        return Some(Kind::Eighteen("Inkbird 18-byte sensor"));
    }
    if cid == 0x3154 && p[2..].starts_with(b"AC-6200") {
        return None;
    }
    if len == 17 && cid == 0x3254 && p[2..4] == [0x00, 0x62] {
        return Some(Kind::IamT2);
    }
    if bbq_len && h.fff0() && (cid == 0 || cid == 1) {
        return Some(Kind::Bbq);
    }
    None
}

fn claim<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    // Cheap reject first: only these lengths are Inkbird frames (see `classify`), and others
    // (from 8 bytes) with a model name and a service UUID list.
    let len = s.payload.len();
    if !matches!(len, 9 | 12 | 14 | 17 | 18 | 22)
        && (len < 8 || adv.hints.name.is_empty() || adv.hints.uuid16.is_empty())
    {
        return None;
    }
    // 9-byte frames are recognised by a 3-letter name only ("sps", "tps"): Apple's common
    // 9-byte "nearby" structure stops here.
    if s.payload.len() == 9 && adv.hints.name.len() != 3 {
        return None;
    }
    s.manufacturer()?;
    claim_classified(s, adv)
}

/// The expensive part of [`claim`], out of line so the quick rejects above run without the
/// register saves of the whole body (the matcher runs for every manufacturer structure).
#[inline(never)]
fn claim_classified<'a>(s: &AdStructure<'a>, adv: &Advert<'a>) -> Option<Claim<'a>> {
    let kind = classify(s.payload, &hints(adv))?;
    Some(Claim {
        payload: s.payload,
        variant: KINDS.iter().position(|k| *k == kind)? as u8,
    })
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p = claim.payload;
    if p.len() < 2 {
        return Err(DecodeError::Truncated);
    }
    let kind = *KINDS
        .get(claim.variant as usize)
        .ok_or(DecodeError::Malformed("not an Inkbird frame"))?;
    out.firmware = "Inkbird";
    match kind {
        Kind::Nine(model) => {
            out.model = model;
            let p = p.get(..8).ok_or(DecodeError::Truncated)?;
            let temp = i16le(p) as f64 / 100.0;
            let hum = u16::from_le_bytes([p[2], p[3]]);
            let batt = p[7];
            // The IBS-P01B (also `tps`) has no humidity sensor: 0 or 0xFFFF there.
            let with_hum = model == "IBS-TH" || (hum != 0 && hum != 0xFFFF);
            if (with_hum && hum > 10_000) || batt > 100 {
                return Err(DecodeError::Malformed("implausible humidity or battery"));
            }
            out.float(&field::TEMPERATURE, temp);
            if with_hum {
                out.float(&field::HUMIDITY, hum as f64 / 100.0);
            }
            out.int(&field::BATTERY, batt as i64);
        }
        Kind::Eighteen(model) => {
            out.model = model;
            let p = p.get(..11).ok_or(DecodeError::Truncated)?;
            let hum = u16::from_le_bytes([p[8], p[9]]);
            let batt = p[10];
            if hum > 1000 || batt > 100 {
                return Err(DecodeError::Malformed("implausible humidity or battery"));
            }
            out.float(&field::TEMPERATURE, i16le(&p[6..]) as f64 / 10.0);
            out.int(&field::BATTERY, batt as i64);
            if hum != 0 {
                out.float(&field::HUMIDITY, hum as f64 / 10.0);
            }
        }
        Kind::IamT2 => {
            out.model = "IAM-T2";
            let p = p.get(..16).ok_or(DecodeError::Truncated)?;
            let raw = i16::from_be_bytes([p[10], p[11]]) as f64 / 10.0;
            let hum = u16::from_be_bytes([p[12], p[13]]);
            if hum > 1000 {
                return Err(DecodeError::Malformed("implausible humidity"));
            }
            let temp = if p[9] & 0x02 != 0 {
                (raw - 32.0) * 5.0 / 9.0
            } else {
                raw
            };
            out.float(&field::TEMPERATURE, temp);
            out.float(&field::HUMIDITY, hum as f64 / 10.0);
            out.int(&field::CO2, u16::from_be_bytes([p[14], p[15]]) as i64);
        }
        Kind::Bbq => {
            out.model = match p.len() {
                12 => "iBBQ-1",
                14 => "iBBQ-2",
                18 => "iBBQ-4",
                _ => "iBBQ-6",
            };
            for (i, c) in p[10..].chunks_exact(2).enumerate() {
                let v = i16le(c);
                if v == -1 {
                    continue; // 0xFFFF: probe not plugged in
                }
                out.float(&field::TEMPERATURE_PROBE[i], v as f64 / 10.0);
            }
        }
    }
    if out.is_empty() {
        return Err(DecodeError::NoData);
    }
    Ok(())
}
