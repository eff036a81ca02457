//! Oral-B SmartSeries 7000 and iO Series 7 toothbrushes (manufacturer data 0x00DC, 13 bytes),
//! as ble_monitor's `oral_b.py` reads them. `p[2..5]` identify the model (`06 32 6B`: iO
//! Series 7, anything else: SmartSeries 7000); from `p[5]`, big-endian: `state | pressure |
//! counter u16 | mode | sector | sector timer s | number of sectors`. `toothbrush` is 1 while
//! the state is "running".
//!
//! Texts as ble_monitor writes them, unknown codes included (`unknown pressure 40`,
//! `sector 55`): the numbered texts are static tables built at compile time, so a reading stays
//! allocation-free. ble_monitor's `pressure` is this text, so the key is shared with the
//! barometric `pressure` (listed in `field::SAME_KEY`; they never meet in one reading).

use super::mibeacon::fields::{COUNTER, MODE};
use super::{field, Advert, Claim, Ctx, DecodeError, Format, Matcher, Reading, Requires, Value};
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
    TOOTHBRUSH_STATE = "toothbrush state", "", "", "", Text, false;
    BRUSH_PRESSURE = "pressure", "", "", "", Text, false;
    SECTOR = "sector", "", "", "", Text, false;
    SECTOR_TIMER = "sector timer", "s", "duration", "measurement", Sensor, false;
    NUMBER_OF_SECTORS = "number of sectors", "", "", "", Sensor, false;
}

const LEN: usize = 13;

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
static UNKNOWN_PRESSURE: [&str; 256] = numbered!("unknown pressure ");
static UNKNOWN_MODE: [&str; 256] = numbered!("unknown mode ");
static SECTORS: [&str; 256] = numbered!("sector ");

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
        113 => "final test",
        114 => "pcb test",
        115 => "sleeping",
        116 => "transport",
        _ => UNKNOWN_STATE[s as usize],
    }
}

fn pressure(p: u8) -> &'static str {
    match p {
        114 => "normal",
        118 => "button pressed",
        178 => "high",
        _ => UNKNOWN_PRESSURE[p as usize],
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
            8 => "settings",
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

fn claim<'a>(s: &AdStructure<'a>, _adv: &Advert<'a>) -> Option<Claim<'a>> {
    (s.manufacturer()?.0 == 0x00DC && s.payload.len() == LEN).then(|| Claim::of(s.payload))
}

fn decode(
    _ctx: &mut Ctx<'_>,
    _adv: &Advert<'_>,
    claim: Claim<'_>,
    out: &mut Reading,
) -> Result<(), DecodeError> {
    let p: &[u8; LEN] = claim
        .payload
        .try_into()
        .map_err(|_| DecodeError::Truncated)?;
    let io = p[2..5] == [0x06, 0x32, 0x6B];
    out.model = if io {
        "IO Series 7"
    } else {
        "SmartSeries 7000"
    };
    out.firmware = "Oral-B";
    out.int(&field::TOOTHBRUSH, (p[5] == 3) as i64);
    out.push(&TOOTHBRUSH_STATE, Value::Text(state(p[5])));
    out.push(&BRUSH_PRESSURE, Value::Text(pressure(p[6])));
    out.int(&COUNTER, u16::from_be_bytes([p[7], p[8]]) as i64);
    out.push(&MODE, Value::Text(mode(io, p[9])));
    let sector = match p[10] {
        254 => "last sector",
        255 => "no sector",
        n => SECTORS[n as usize],
    };
    out.push(&SECTOR, Value::Text(sector));
    out.int(&SECTOR_TIMER, p[11] as i64);
    out.int(&NUMBER_OF_SECTORS, p[12] as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_texts() {
        assert_eq!(pressure(40), "unknown pressure 40");
        assert_eq!(pressure(178), "high");
        assert_eq!(SECTORS[0], "sector 0");
        assert_eq!(UNKNOWN_STATE[255], "unknown state 255");
        assert_eq!(mode(true, 7), "unknown mode 7");
        assert_eq!(mode(false, 7), "turbo");
    }
}
