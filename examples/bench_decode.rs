//! Decode-core benchmark: feeds a concatenated H4 event stream (`stream.h4` from
//! `bench/gen_stream.py`) through the sans-IO pipeline and prints reports/s, ns/report, heap
//! allocations per report (counting allocator) and peak RSS.
//!
//! `bench_decode STREAM.h4 KEYS.json [--passes N]`
//!
//! For instruction counts, `scripts/bench` runs this under
//! `valgrind --tool=callgrind --toggle-collect='*decode_pass*'` so only the decode loop counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hci2mqtt_core::decode::KeyStore;
use hci2mqtt_core::pipeline::{Options, Pipeline};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Splits the H4 stream into packet slices (done once, outside the measured loop).
fn split(buf: &[u8]) -> Vec<&[u8]> {
    let mut v = Vec::new();
    let mut i = 0;
    while i + 3 <= buf.len() {
        let end = i + 3 + buf[i + 2] as usize;
        if end > buf.len() {
            break;
        }
        v.push(&buf[i..end]);
        i = end;
    }
    v
}

#[derive(Default)]
struct Count {
    readings: u64,
    values: u64,
}

impl hci2mqtt_core::Sink for Count {
    fn outcome(&mut self, _seen: &hci2mqtt_core::Seen<'_>, o: hci2mqtt_core::Outcome<'_>) {
        if let hci2mqtt_core::Outcome::Decoded(r) = o {
            self.readings += 1;
            self.values += r.values().len() as u64;
        }
    }
}

/// One pass over every packet; the function callgrind's toggle-collect selects.
#[inline(never)]
fn decode_pass(p: &mut Pipeline, packets: &[&[u8]], sink: &mut Count) {
    for pkt in packets {
        p.handle_packet(pkt, sink);
    }
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: bench_decode STREAM.h4 KEYS.json [--passes N]");
        std::process::exit(2);
    }
    let passes: u32 = args
        .iter()
        .position(|a| a == "--passes")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let buf = std::fs::read(&args[1]).expect("read stream");
    let keys_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&args[2]).expect("read keys")).expect("keys json");
    let mut keys = KeyStore::new();
    if let Some(m) = keys_json.as_object() {
        for (mac, k) in m {
            if let Some(k) = k.as_str() {
                if let Err(e) = keys.insert_str(mac, k) {
                    eprintln!("skipping key: {e}");
                }
            }
        }
    }
    let packets = split(&buf);
    let mut p = Pipeline::new(keys, Options::default());
    let mut sink = Count::default();

    // Warm-up pass: fills the device table, so the measured passes are steady state.
    decode_pass(&mut p, &packets, &mut sink);
    let warm = p.stats();
    let reports_per_pass = warm.reports;

    let a0 = ALLOCS.load(Ordering::Relaxed);
    let t0 = Instant::now();
    for _ in 0..passes {
        decode_pass(&mut p, &packets, &mut sink);
    }
    let dt = t0.elapsed();
    let allocs = ALLOCS.load(Ordering::Relaxed) - a0;
    if passes == 0 {
        // Callgrind mode: only the first (cold-table) pass ran.
        println!("reports/pass       {}", reports_per_pass);
        println!("readings/pass      {}", warm.decoded);
        return;
    }
    let reports = reports_per_pass * passes as u64;
    let s = p.stats();
    println!("events/pass        {}", packets.len());
    println!("reports/pass       {}", reports_per_pass);
    println!("readings/pass      {}", warm.decoded);
    println!("decrypt failures   {}", warm.decrypt_failures);
    println!("undecodable        {}", warm.undecodable);
    println!("malformed events   {}", warm.malformed);
    println!("passes timed       {}", passes);
    println!(
        "reports/s          {:.0}",
        reports as f64 / dt.as_secs_f64()
    );
    println!(
        "ns/report          {:.1}",
        dt.as_nanos() as f64 / reports as f64
    );
    println!(
        "allocs/report      {:.6}  ({} allocations in {} reports, steady state)",
        allocs as f64 / reports as f64,
        allocs,
        reports
    );
    println!("peak RSS kB        {}", peak_rss_kb());
    // Later passes see every frame a second time, so they are duplicates by design.
    println!("duplicates (all)   {}", s.duplicates);
}
