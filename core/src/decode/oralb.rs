//! Oral-B toothbrushes (manufacturer data 0x00DC, 9 or 11 bytes after the company id), as
//! oralb-ble (Home Assistant's library) reads them: `d[0]` protocol version, `d[1]` model id
//! (the model family and its mode table), `d[3]` state, `d[4]` pressure/status bit field,
//! `d[5]·60 + d[6]` brushing time (s), `d[7]` mode, `d[8]` sector; the 11-byte frame adds the
//! sector timer `d[9]` and the number of sectors `d[10]`.
//!
//! * pressure: bit 3 "power button pressed", else bit 2 "button pressed", else bit 7 "high",
//!   else "normal";
//! * sector: "no sector" unless the state is "running"; then the low three bits of `d[8]`:
//!   0 "no sector", 1–6 "sector n", 7 the last sector (the number of sectors' low three bits,
//!   4 when that is 0 or absent);
//! * `brushing` is 1 while the state is "running" (3);
//! * unknown states and modes read `unknown state n` / `unknown mode n` (static tables built at
//!   compile time, so a reading stays allocation-free); an unknown model id reads "Unknown"
//!   with the SmartSeries modes, as oralb-ble does.
//!
//! ble_monitor reads the same frame differently (a u16 `counter` for the time, the raw sector
//! and pressure codes, two models); hci2mqtt follows oralb-ble, the parser Home Assistant uses.
//! The text `pressure` shares its key with the barometric `pressure` (listed in
//! `field::SAME_KEY`; they never meet in one reading).

use super::mibeacon::fields::MODE;
use super::{Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
use crate::adv::{self, AdStructure};

pub static FORMAT: Format = Format {
    name: "oral-b",
    variants: &[],
    manufacturer: "Oral-B",
    interval_s: 600,
    requires: Requires::NOTHING,
    fields: &[FIELDS],
    matcher: Matcher::Custom(adv::ad_type::MANUFACTURER, &[0x00DC], claim),
    decode,
};

crate::decode::field::fields! {
    FIELDS;
    TIME = "time", "s", "duration", "measurement", Sensor, false;
    SECTOR = "sector", "", "", "", Text, false;
    NUMBER_OF_SECTORS = "number of sectors", "", "", "", Sensor, false;
    SECTOR_TIMER = "sector timer", "s", "duration", "measurement", Sensor, false;
    TOOTHBRUSH_STATE = "toothbrush state", "", "", "", Text, false;
    BRUSH_PRESSURE = "pressure", "", "", "", Text, false;
    BRUSHING = "brushing", "", "", "", Binary, false;
}

/// `[prefix + "0", …, prefix + "255"]`, for ble_monitor's texts of unknown codes.
macro_rules! numbered {
    ($p:literal) => {
        numbered!(@ $p;
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32
            33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61
            62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90
            91 92 93 94 95 96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114
            115 116 117 118 119 120 121 122 123 124 125 126 127 128 129 130 131 132 133 134 135 136
            137 138 139 140 141 142 143 144 145 146 147 148 149 150 151 152 153 154 155 156 157 158
            159 160 161 162 163 164 165 166 167 168 169 170 171 172 173 174 175 176 177 178 179 180
            181 182 183 184 185 186 187 188 189 190 191 192 193 194 195 196 197 198 199 200 201 202
            203 204 205 206 207 208 209 210 211 212 213 214 215 216 217 218 219 220 221 222 223 224
            225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246
            247 248 249 250 251 252 253 254 255
        )
    };
    (@ $p:literal; $($n:literal)*) => {
        [$(concat!($p, $n)),*]
    };
}

static UNKNOWN_STATE: [&str; 256] = numbered!("unknown state ");
static UNKNOWN_MODE: [&str; 256] = numbered!("unknown mode ");

fn state(s: u8) -> &'static str {
    match s {
        0 => "unknown",
        1 => "initializing",
        2 => "idle",
        3 => "running",
        4 => "charging",
        5 => "setup",
        6 => "flight menu",
        8 => "selection menu",
        9 => "off",
        10 => "post brushing statistics",
        113 => "final test",
        114 => "pcb test",
        115 => "sleeping",
        116 => "transport",
        _ => UNKNOWN_STATE[s as usize],
    }
}

fn pressure(p: u8) -> &'static str {
    if p & 0x08 != 0 {
        "power button pressed"
    } else if p & 0x04 != 0 {
        "button pressed"
    } else if p & 0x80 != 0 {
        "high"
    } else {
        "normal"
    }
}

/// The model family of model id `d[1]`, and whether it uses the iO mode table.
fn model(id: u8) -> (&'static str, bool) {
    match id {
        0..=2 => ("Triumph D36", false),
        32..=34 => ("Genius Series D701", false),
        39..=41 => ("Smart Series D700", false),
        48..=50 | 54 => ("IO Series", true),
        52 => ("IO Series 4", true),
        53 => ("IO Series 5", true),
        64..=70 => ("Smart Series D21", false),
        80..=87 => ("Pro Series D601", false),
        112..=114 | 117..=119 => ("Genius X D706", false),
        _ => ("Unknown", false),
    }
}

fn mode(io: bool, m: u8) -> &'static str {
    let known = if io {
        match m {
            0 => "daily clean",
            1 => "sensitive",
            2 => "gum care",
            3 => "whiten",
            4 => "intense",
            5 => "super sensitive",
            6 => "tongue cleaning",
            8 => "settings",
            9 => "off",
            11 => "smart adapt",
            _ => "",
        }
    } else {
        match m {
            0 => "off",
            1 => "daily clean",
            2 => "sensitive",
            3 => "massage",
            4 => "whitening",
            5 => "deep clean",
            6 => "tongue cleaning",
            7 => "turbo",
            255 => "unknown",
            _ => "",
        }
    };
    if known.is_empty() {
        UNKNOWN_MODE[m as usize]
    } else {
        known
    }
}

const SECTORS: [&str; 8] = [
    "no sector",
    "sector 1",
    "sector 2",
    "sector 3",
    "sector 4",
    "sector 5",
    "sector 6",
    "sector 7",
];

/// The sector text of `d[8]` while running; `count` is `d[10]` when the frame has it.
fn sector(code: u8, count: Option<u8>) -> &'static str {
    match code & 0x07 {
        7 => match count.unwrap_or(0) & 0x07 {
            0 => SECTORS[4],
            n => SECTORS[n as usize],
        },
        q => SECTORS[q as usize],
    }
}

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    let (company, data) = s.manufacturer()?;
    (company == 0x00DC && matches!(data.len(), 9 | 11)).then(|| Claim::of(data))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let d = claim.payload;
    let (&[_, model_id, _, st, pr, min, sec, md, sect], long) = match d.split_first_chunk::<9>() {
        Some((head, rest)) => (head, rest),
        None => return Err(DecodeError::Truncated),
    };
    let extra = match *long {
        [] => None,
        [timer, count] => Some((timer, count)),
        _ => {
            return Err(DecodeError::Malformed(
                "Oral-B frame is neither 9 nor 11 bytes",
            ))
        }
    };
    let (name, io) = model(model_id);
    out.model = name;
    out.firmware = "Oral-B";
    let running = st == 3;
    out.int(&TIME, min as i64 * 60 + sec as i64);
    let sector = if running {
        sector(sect, extra.map(|(_, n)| n))
    } else {
        SECTORS[0]
    };
    out.push(&SECTOR, Value::Text(sector));
    if let Some((timer, count)) = extra {
        out.int(&NUMBER_OF_SECTORS, count as i64);
        out.int(&SECTOR_TIMER, timer as i64);
    }
    out.push(&TOOTHBRUSH_STATE, Value::Text(state(st)));
    out.push(&BRUSH_PRESSURE, Value::Text(pressure(pr)));
    out.push(&MODE, Value::Text(mode(io, md)));
    out.int(&BRUSHING, running as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables() {
        // oralb-ble's documented pressure byte table, by the bit rule.
        for (b, t) in [
            (0, "normal"),
            (54, "button pressed"),
            (56, "power button pressed"),
            (144, "high"),
            (150, "button pressed"),
            (186, "power button pressed"),
            (242, "high"),
        ] {
            assert_eq!(pressure(b), t, "{b}");
        }
        assert_eq!(UNKNOWN_STATE[255], "unknown state 255");
        assert_eq!(state(7), "unknown state 7");
        assert_eq!(mode(true, 7), "unknown mode 7");
        assert_eq!(mode(false, 7), "turbo");
        assert_eq!(model(200), ("Unknown", false));
        assert_eq!(sector(0x0f, Some(4)), "sector 4");
        assert_eq!(sector(0x07, None), "sector 4");
        assert_eq!(sector(0x07, Some(6)), "sector 6");
        assert_eq!(sector(0x08, Some(6)), "no sector");
    }
}
