//! The fmt-b matchers and decoders do not allocate: every advert of the fmt-b vectors is
//! claimed and decoded (1000 rounds) under a counting global allocator, and the count of
//! allocations made inside `claim` + `decode` must stay zero.

#[path = "common/fmt_b_harness.rs"]
mod harness;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hci2mqtt::decode::{self, Advert, Ctx, DeviceMemory, KeyStore, Reading};
use hci2mqtt::hci::event::Addr;

struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn claim_and_decode_do_not_allocate() {
    let ads: Vec<Vec<u8>> = harness::vector_ads();
    let keys = KeyStore::default();
    let mut mem = DeviceMemory::default();
    let mut reading = Reading::default();
    let addr = Addr([0xA4, 0xC1, 0x38, 0x01, 0x02, 0x03]);
    let mut decoded = 0u64;
    // The counter itself works: one allocation is seen.
    COUNTING.store(true, Ordering::SeqCst);
    drop(std::hint::black_box(Box::new(7u64)));
    COUNTING.store(false, Ordering::SeqCst);
    assert_eq!(ALLOCS.swap(0, Ordering::SeqCst), 1);
    // Warm-up: the format dispatch table is built once, on first use (start-up cost, not
    // per report).
    if let Some(ad) = ads.first() {
        let adv = Advert::new(addr, 0, Some(-60), ad);
        for s in hci2mqtt::adv::structures(ad).valid() {
            let _ = decode::claim(&s, &adv);
        }
    }
    COUNTING.store(true, Ordering::SeqCst);
    for _ in 0..1000 {
        for ad in &ads {
            let adv = Advert::new(addr, 0, Some(-60), ad);
            for s in hci2mqtt::adv::structures(ad).valid() {
                if let Some((f, payload)) = decode::claim(&s, &adv) {
                    reading.clear(addr, adv.rssi);
                    let mut ctx = Ctx {
                        keys: &keys,
                        memory: &mut mem,
                    };
                    if (f.decode)(&mut ctx, &adv, payload, &mut reading).is_ok() {
                        decoded += 1;
                    }
                    break;
                }
            }
        }
    }
    COUNTING.store(false, Ordering::SeqCst);
    let n = ALLOCS.load(Ordering::SeqCst);
    println!("{decoded} decodes, {n} allocations");
    assert!(decoded > 100_000, "{decoded}");
    assert_eq!(n, 0, "allocations during claim/decode");
}
