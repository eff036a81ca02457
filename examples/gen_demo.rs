//! Generates the demo capture: a few minutes of what a Pi in a flat hears.
//!
//! `cargo run --release --example gen_demo -- [--minutes N] [--out demo]` writes
//! `flat.btsnoop` (datalink 1002, opens in Wireshark), `flat.toml` (the sensors and their keys)
//! and `flat.truth.jsonl` (every distinct reading the sensors sent, for the tests).
//!
//! Deterministic (fixed seed and start time), so the committed files regenerate byte for byte.
//! What is in it:
//! - two LYWSD03MMC (MiBeacon v5, AES-CCM encrypted): temperature+humidity, battery;
//! - one LYWSD02MMC (MiBeacon v5 encrypted, float temperature 0x4C01, humidity 0x4C02 in
//!   separate frames);
//! - one MHO-C401 encrypted whose key is NOT in the config (shows "needs a key");
//! - one LYWSDCGQ (MiBeacon v2, plain) and one HHCCJCY01 plant sensor (MiBeacon v2, plain);
//! - plenty of unrelated adverts: phones with rotating random addresses (Apple, Google Fast
//!   Pair, Microsoft), a TV, headphones, and a few malformed reports;
//! - the scan-setup commands and their Command Complete events at the start.
//!
//! Each sensor re-broadcasts the same frame (same counter) several times, as real ones do.

use std::fs::File;
use std::io::{BufWriter, Write};

use aes::cipher::KeyInit;
use aes::Aes128;
use ccm::aead::AeadInPlace;
use ccm::consts::{U12, U4};
use hci2mqtt::capture::btsnoop::Writer;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Lywsd03,
    Lywsd02,
    MhoC401,
    Lywsdcgq,
    Flora,
}

struct Sensor {
    name: &'static str,
    mac: [u8; 6],
    key: Option<[u8; 16]>,
    kind: Kind,
    pid: u16,
    counter: u8,
    ext: u32,
    temp: f64,
    hum: f64,
    battery: u8,
    /// Current frame (re-broadcast until the next measurement).
    frame: Vec<u8>,
    next_measure: f64,
    next_adv: f64,
    phase: u32,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn mac_str(m: &[u8; 6]) -> String {
    m.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// MiBeacon v5 frame (service data after 0xFE95) with the given objects, encrypted if a key is set.
fn mibeacon_v5(s: &mut Sensor, objects: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    let enc = s.key.is_some();
    let frctrl: u16 = 0x5000 | 0x0040 | 0x0010 | (0x0008 * enc as u16) | 0x0100;
    f.extend_from_slice(&frctrl.to_le_bytes());
    f.extend_from_slice(&s.pid.to_le_bytes());
    f.push(s.counter);
    let mut mac_le = s.mac;
    mac_le.reverse();
    f.extend_from_slice(&mac_le);
    match s.key {
        Some(k) => {
            s.ext = s.ext.wrapping_add(1);
            let ext = s.ext.to_le_bytes();
            let mut nonce = [0u8; 12];
            nonce[..6].copy_from_slice(&mac_le);
            nonce[6..8].copy_from_slice(&s.pid.to_le_bytes());
            nonce[8] = s.counter;
            nonce[9..].copy_from_slice(&ext[..3]);
            let mut buf = objects.to_vec();
            let c = ccm::Ccm::<Aes128, U4, U12>::new(&k.into());
            let tag = c
                .encrypt_in_place_detached(&nonce.into(), &[0x11], &mut buf)
                .expect("ccm");
            f.extend_from_slice(&buf);
            f.extend_from_slice(&ext[..3]);
            f.extend_from_slice(&tag);
        }
        None => f.extend_from_slice(objects),
    }
    f
}

/// MiBeacon v2 plain frame (as LYWSDCGQ and HHCCJCY01 send).
fn mibeacon_v2(s: &Sensor, objects: &[u8]) -> Vec<u8> {
    let frctrl: u16 = 0x2000 | 0x0040 | 0x0010;
    let mut f = Vec::new();
    f.extend_from_slice(&frctrl.to_le_bytes());
    f.extend_from_slice(&s.pid.to_le_bytes());
    f.push(s.counter);
    let mut mac_le = s.mac;
    mac_le.reverse();
    f.extend_from_slice(&mac_le);
    f.extend_from_slice(objects);
    f
}

fn obj(id: u16, data: &[u8]) -> Vec<u8> {
    let mut v = id.to_le_bytes().to_vec();
    v.push(data.len() as u8);
    v.extend_from_slice(data);
    v
}

fn adv_event(mac: &[u8; 6], random: bool, rssi: i8, ad: &[u8], evtype: u8) -> Vec<u8> {
    let mut p = vec![0x04, 0x3E, 0, 0x02, 0x01, evtype, random as u8];
    let mut m = *mac;
    m.reverse();
    p.extend_from_slice(&m);
    p.push(ad.len() as u8);
    p.extend_from_slice(ad);
    p.push(rssi as u8);
    p[2] = (p.len() - 3) as u8;
    p
}

fn sd_ad(uuid: u16, data: &[u8], flags: bool) -> Vec<u8> {
    let mut ad = Vec::new();
    if flags {
        ad.extend_from_slice(&[2, 0x01, 0x06]);
    }
    ad.push((3 + data.len()) as u8);
    ad.push(0x16);
    ad.extend_from_slice(&uuid.to_le_bytes());
    ad.extend_from_slice(data);
    ad
}

fn main() -> std::io::Result<()> {
    let mut minutes = 3.0f64;
    let mut out = String::from("demo");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--minutes" => minutes = args.next().and_then(|v| v.parse().ok()).unwrap_or(3.0),
            "--out" => out = args.next().unwrap_or(out),
            _ => {
                eprintln!("usage: gen_demo [--minutes N] [--out DIR]");
                std::process::exit(2);
            }
        }
    }
    std::fs::create_dir_all(&out)?;
    let mut rng = Rng(0x5eed_f1a7_2026_1124);
    let k = |s: &str| -> [u8; 16] {
        let mut k = [0u8; 16];
        for i in 0..16 {
            k[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0);
        }
        k
    };
    let mk = |name, mac, key, kind, pid, temp, hum, battery| Sensor {
        name,
        mac,
        key,
        kind,
        pid,
        counter: 0,
        ext: 0x1000,
        temp,
        hum,
        battery,
        frame: Vec::new(),
        next_measure: 0.0,
        next_adv: 0.0,
        phase: 0,
    };
    let mut sensors = vec![
        mk(
            "Bedroom",
            [0xA4, 0xC1, 0x38, 0x1E, 0x52, 0x7B],
            Some(k("e9ea895fac7cca6d30532432a516f3a8")),
            Kind::Lywsd03,
            0x055B,
            19.8,
            52.0,
            87,
        ),
        mk(
            "Living room",
            [0xA4, 0xC1, 0x38, 0x5C, 0x04, 0xD1],
            Some(k("3d8f2c1b6a7e4f5091a2b3c4d5e6f708")),
            Kind::Lywsd03,
            0x055B,
            21.6,
            44.5,
            64,
        ),
        mk(
            "Kitchen",
            [0xE4, 0xAA, 0xEC, 0x61, 0x22, 0x0C],
            Some(k("0c7a9f3e5b2d4c6a8e1f0b9d7c5a3e21")),
            Kind::Lywsd02,
            0x2542,
            22.9,
            48.0,
            100,
        ),
        mk(
            "Neighbour",
            [0xA4, 0xC1, 0x38, 0x99, 0x10, 0x42],
            Some(k("00112233445566778899aabbccddeeff")),
            Kind::MhoC401,
            0x0387,
            18.2,
            60.0,
            55,
        ),
        mk(
            "Bathroom",
            [0x58, 0x2D, 0x34, 0x10, 0x5A, 0x3C],
            None,
            Kind::Lywsdcgq,
            0x01AA,
            23.4,
            71.0,
            91,
        ),
        mk(
            "Ficus",
            [0xC4, 0x7C, 0x8D, 0x6A, 0x3E, 0x7A],
            None,
            Kind::Flora,
            0x0098,
            20.5,
            0.0,
            0,
        ),
    ];
    let mut toml = String::from(
        "# Demo configuration for demo/flat.btsnoop (generated by examples/gen_demo.rs).\n\
         # The keys below belong to the simulated sensors of the demo capture only.\n\
         # \"Neighbour\" (an MHO-C401) is deliberately absent: replay reports that it needs a key.\n\n",
    );
    for s in &sensors {
        if matches!(s.kind, Kind::MhoC401) {
            continue;
        }
        toml.push_str(&format!(
            "[[sensor]]\nmac = \"{}\"\nname = \"{}\"\n",
            mac_str(&s.mac),
            s.name
        ));
        if let Some(key) = s.key {
            toml.push_str(&format!("key = \"{}\"\n", hex(&key)));
        }
        toml.push('\n');
    }
    std::fs::write(format!("{out}/flat.toml"), toml)?;

    let mut w = Writer::new(BufWriter::new(File::create(format!("{out}/flat.btsnoop"))?))?;
    let mut truth = BufWriter::new(File::create(format!("{out}/flat.truth.jsonl"))?);
    let t0_us: i64 = 1_793_556_000_000_000; // 2026-11-01 18:40 UTC
                                            // Scan setup, as hci2mqtt sends it, with the controller's answers.
    let setup: [&[u8]; 4] = [
        &[
            0x01, 0x01, 0x0C, 0x08, 0xFF, 0xFF, 0xFB, 0xFF, 0x07, 0xF8, 0xBF, 0x3D,
        ],
        &[
            0x01, 0x01, 0x20, 0x08, 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ],
        &[
            0x01, 0x0B, 0x20, 0x07, 0x00, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00,
        ],
        &[0x01, 0x0C, 0x20, 0x02, 0x01, 0x00],
    ];
    for (i, c) in setup.iter().enumerate() {
        w.write_packet(c, t0_us + i as i64 * 2000, false)?;
        let cc = [0x04, 0x0E, 0x04, 0x01, c[1], c[2], 0x00];
        w.write_packet(&cc, t0_us + i as i64 * 2000 + 800, true)?;
    }
    let end = minutes * 60.0;
    let mut t = 0.01f64;
    let mut phones: Vec<[u8; 6]> = (0..4).map(|_| random_addr(&mut rng)).collect();
    let mut next_rotate = 60.0;
    let mut packets = 0u64;
    while t < end {
        // Next sensor advert or background advert, whichever comes first.
        let (si, st) = sensors
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.next_adv))
            .fold((0, f64::MAX), |a, b| if b.1 < a.1 { b } else { a });
        let bg = t + rng.unit() * 0.12;
        let ts = |x: f64| t0_us + 10_000 + (x * 1e6) as i64;
        if st <= bg {
            t = st;
            let s = &mut sensors[si];
            if t >= s.next_measure {
                measure(s, &mut rng, t, &mut truth)?;
            }
            let ad = sd_ad(0xFE95, &s.frame, true);
            let rssi = -55 - (si as i8) * 6 - rng.below(6) as i8;
            let ev = adv_event(&s.mac, false, rssi, &ad, 0x00);
            w.write_packet(&ev, ts(t), true)?;
            s.next_adv = t + 0.9 + rng.unit() * 1.6;
        } else {
            t = bg;
            if t > next_rotate {
                phones = (0..4).map(|_| random_addr(&mut rng)).collect();
                next_rotate += 60.0 + rng.unit() * 60.0;
            }
            let r = rng.below(100);
            let ev = if r < 45 {
                // Apple continuity (nearby info), phones rotate their random address.
                let p = phones[rng.below(phones.len() as u64) as usize];
                let mut ad = vec![
                    2, 0x01, 0x1A, 0x0E, 0xFF, 0x4C, 0x00, 0x10, 0x05, 0x41, 0x1C,
                ];
                ad.extend((0..6).map(|_| rng.below(256) as u8));
                ad.truncate(ad.len() - 2);
                ad[3] = (ad.len() - 4) as u8;
                adv_event(&p, true, -70 - rng.below(20) as i8, &ad, 0x03)
            } else if r < 60 {
                // Google Fast Pair (service data 0xFE2C).
                let p = phones[rng.below(phones.len() as u64) as usize];
                let ad = sd_ad(0xFE2C, &[0x00, 0xB7, 0x27, 0x01], true);
                adv_event(&p, true, -80 - rng.below(10) as i8, &ad, 0x00)
            } else if r < 72 {
                // Microsoft Swift Pair beacon.
                let p = phones[rng.below(phones.len() as u64) as usize];
                let mut ad = vec![0x1E, 0xFF, 0x06, 0x00, 0x01, 0x09, 0x20, 0x02];
                ad.extend((0..27).map(|_| rng.below(256) as u8));
                ad[0] = 29;
                ad.truncate(30);
                adv_event(&p, true, -85 - rng.below(8) as i8, &ad, 0x03)
            } else if r < 84 {
                // A TV with a name (scannable, public address).
                let mut ad = vec![2, 0x01, 0x06, 0x03, 0x03, 0x0A, 0x18];
                let name = b"[TV] Samsung Q60";
                ad.push((name.len() + 1) as u8);
                ad.push(0x09);
                ad.extend_from_slice(name);
                adv_event(&[0x8C, 0x79, 0xF5, 0x22, 0x41, 0x0B], false, -77, &ad, 0x00)
            } else if r < 97 {
                // Headphones: manufacturer data of another company.
                let mut ad = vec![2, 0x01, 0x06, 0x0B, 0xFF, 0x2D, 0x01];
                ad.extend((0..8).map(|_| rng.below(256) as u8));
                adv_event(&[0x38, 0x18, 0x4C, 0x7A, 0x11, 0x90], false, -68, &ad, 0x00)
            } else {
                // A malformed report: AD length overruns the data (seen in real captures).
                let ad = [2, 0x01, 0x06, 0x09, 0xFF, 0x4C, 0x00];
                adv_event(&phones[0], true, -90, &ad, 0x03)
            };
            w.write_packet(&ev, ts(t), true)?;
        }
        packets += 1;
    }
    w.flush()?;
    truth.flush()?;
    eprintln!("gen_demo: {packets} advertising events over {minutes} min in {out}/flat.btsnoop");
    Ok(())
}

fn random_addr(rng: &mut Rng) -> [u8; 6] {
    let mut a = [0u8; 6];
    for b in a.iter_mut() {
        *b = rng.below(256) as u8;
    }
    a[0] = (a[0] & 0x3F) | 0x40; // resolvable private address
    a
}

/// A new measurement: new counter, new frame, a truth line.
fn measure(s: &mut Sensor, rng: &mut Rng, t: f64, truth: &mut impl Write) -> std::io::Result<()> {
    s.counter = s.counter.wrapping_add(1);
    s.temp = ((s.temp + (rng.unit() - 0.5) * 0.4) * 10.0).round() / 10.0;
    s.hum = ((s.hum + (rng.unit() - 0.5) * 1.0) * 10.0).round() / 10.0;
    let mac = mac_str(&s.mac);
    let mut line =
        serde_json::json!({"mac": mac, "packet": s.counter, "t": (t * 1000.0).round() / 1000.0});
    let objs: Vec<u8>;
    match s.kind {
        Kind::Lywsd03 | Kind::MhoC401 => {
            if s.phase % 6 == 5 {
                objs = obj(0x100A, &[s.battery]);
                line["battery"] = s.battery.into();
            } else {
                let mut o = obj(0x1004, &((s.temp * 10.0).round() as i16).to_le_bytes());
                o.extend(obj(0x1006, &((s.hum * 10.0).round() as u16).to_le_bytes()));
                // LYWSD03MMC sends one object per frame; alternate temperature and humidity.
                objs = if s.phase % 2 == 0 {
                    o[..5].to_vec()
                } else {
                    o[5..].to_vec()
                };
                if s.phase % 2 == 0 {
                    line["temperature"] = s.temp.into();
                } else {
                    line["humidity"] = s.hum.into();
                }
            }
            s.frame = mibeacon_v5(s, &objs);
            s.next_measure = t + 8.0 + rng.unit() * 4.0;
        }
        Kind::Lywsd02 => {
            if s.phase % 2 == 0 {
                objs = obj(0x4C01, &(s.temp as f32).to_le_bytes());
                // As a person reads the float32 (what the decoder reports), not its widening.
                line["temperature"] = format!("{}", s.temp as f32)
                    .parse::<f64>()
                    .unwrap_or(f64::NAN)
                    .into();
            } else {
                objs = obj(0x4C02, &[s.hum.round() as u8]);
                line["humidity"] = (s.hum.round() as i64).into();
            }
            s.frame = mibeacon_v5(s, &objs);
            s.next_measure = t + 10.0 + rng.unit() * 5.0;
        }
        Kind::Lywsdcgq => {
            let mut d = ((s.temp * 10.0).round() as i16).to_le_bytes().to_vec();
            d.extend_from_slice(&((s.hum * 10.0).round() as u16).to_le_bytes());
            objs = obj(0x100D, &d);
            line["temperature"] = s.temp.into();
            line["humidity"] = s.hum.into();
            s.frame = mibeacon_v2(s, &objs);
            s.next_measure = t + 5.0 + rng.unit() * 3.0;
        }
        Kind::Flora => {
            objs = match s.phase % 4 {
                0 => {
                    line["temperature"] = s.temp.into();
                    obj(0x1004, &((s.temp * 10.0).round() as i16).to_le_bytes())
                }
                1 => {
                    let m = 38 + rng.below(3) as u8;
                    line["moisture"] = m.into();
                    obj(0x1008, &[m])
                }
                2 => {
                    let lux = 800 + rng.below(400) as u32;
                    line["illuminance"] = lux.into();
                    obj(0x1007, &lux.to_le_bytes()[..3])
                }
                _ => {
                    let c = 340 + rng.below(20) as u16;
                    line["conductivity"] = c.into();
                    obj(0x1009, &c.to_le_bytes())
                }
            };
            s.frame = mibeacon_v2(s, &objs);
            s.next_measure = t + 6.0 + rng.unit() * 4.0;
        }
    }
    s.phase += 1;
    if s.key.is_some() && matches!(s.kind, Kind::MhoC401) {
        line["needs_key"] = true.into();
    }
    serde_json::to_writer(&mut *truth, &line)?;
    truth.write_all(b"\n")
}
