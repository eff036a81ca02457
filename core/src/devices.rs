//! Bounded per-device state: duplicate filter and decoder memory.
//!
//! Phones rotate random addresses, so an unbounded map would grow for ever. The table has a
//! fixed capacity and evicts the least recently *used* device (an intrusive LRU list over a
//! slab), so sensors that keep sending stay in while one-off addresses fall out. Memory is
//! allocated once, at construction: no allocation per report.

use crate::addr::{Addr, AddrHashBuilder, AddrMap};
use crate::decode::DeviceMemory;

const NIL: u32 = u32::MAX;

/// What the pipeline keeps per device.
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceState {
    /// Last frame counter and the format it came from (duplicate filter).
    pub last_packet: Option<(u32, &'static str)>,
    /// Fingerprint of the last payload that decoded to a reading with a frame counter: the
    /// same bytes again are the same frame, dropped before decoding (and decrypting) it.
    pub last_frame: u64,
    pub memory: DeviceMemory,
    /// A decrypt failure has been reported for this device (report once).
    pub decrypt_failure_reported: bool,
    /// A missing key has been reported for this device (report once).
    pub no_key_reported: bool,
}

struct Slot {
    addr: Addr,
    state: DeviceState,
    prev: u32,
    next: u32,
}

/// LRU table of [`DeviceState`] with a hard capacity.
pub struct DeviceTable {
    index: AddrMap<u32>,
    slots: Vec<Slot>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
    cap: usize,
    /// Devices evicted so far.
    pub evicted: u64,
}

impl DeviceTable {
    pub fn with_capacity(cap: usize, hash_key: u64) -> Self {
        let cap = cap.max(1);
        DeviceTable {
            index: AddrMap::with_capacity_and_hasher(cap + 1, AddrHashBuilder::with_key(hash_key)),
            slots: Vec::with_capacity(cap),
            head: NIL,
            tail: NIL,
            cap,
            evicted: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }

    fn unlink(&mut self, i: u32) {
        let (p, n) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next)
        };
        if p != NIL {
            self.slots[p as usize].next = n;
        } else {
            self.head = n;
        }
        if n != NIL {
            self.slots[n as usize].prev = p;
        } else {
            self.tail = p;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.slots[i as usize].prev = NIL;
        self.slots[i as usize].next = self.head;
        if self.head != NIL {
            self.slots[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    /// Moves slot `i`, linked and not the head, to the front: `unlink` + `push_front` with
    /// the cases that cannot occur here (no head, `i` is the head) left out, in one body.
    /// Sensors interleave, so nearly every claimed report moves its device.
    #[inline]
    fn move_to_front(&mut self, i: u32) {
        let (p, n) = {
            let s = &self.slots[i as usize];
            (s.prev, s.next)
        };
        // Not the head, so it has a predecessor.
        if let Some(ps) = self.slots.get_mut(p as usize) {
            ps.next = n;
        }
        if n != NIL {
            self.slots[n as usize].prev = p;
        } else {
            self.tail = p;
        }
        let h = self.head;
        let s = &mut self.slots[i as usize];
        s.prev = NIL;
        s.next = h;
        self.slots[h as usize].prev = i;
        self.head = i;
    }

    /// Looks a device up without creating or touching it.
    pub fn peek(&self, addr: &Addr) -> Option<&DeviceState> {
        self.index.get(addr).map(|&i| &self.slots[i as usize].state)
    }

    /// The device's state, created (evicting the least recently used one if full) and marked
    /// most recently used.
    pub fn get_or_insert(&mut self, addr: Addr) -> &mut DeviceState {
        let i = match self.index.get(&addr) {
            Some(&i) => {
                if self.head != i {
                    self.move_to_front(i);
                }
                i
            }
            None => {
                let i = if self.slots.len() < self.cap {
                    self.slots.push(Slot {
                        addr,
                        state: DeviceState::default(),
                        prev: NIL,
                        next: NIL,
                    });
                    (self.slots.len() - 1) as u32
                } else {
                    let t = self.tail;
                    self.unlink(t);
                    let old = self.slots[t as usize].addr;
                    self.index.remove(&old);
                    self.evicted += 1;
                    let s = &mut self.slots[t as usize];
                    s.addr = addr;
                    s.state = DeviceState::default();
                    t
                };
                self.index.insert(addr, i);
                self.push_front(i);
                i
            }
        };
        &mut self.slots[i as usize].state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u32) -> Addr {
        let b = n.to_be_bytes();
        Addr([0, 0, b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn evicts_least_recently_used() {
        let mut t = DeviceTable::with_capacity(3, 1);
        for n in 0..3 {
            t.get_or_insert(a(n)).last_packet = Some((n, "x"));
        }
        t.get_or_insert(a(0)); // touch 0: 1 is now the oldest
        t.get_or_insert(a(3));
        assert_eq!(t.len(), 3);
        assert_eq!(t.evicted, 1);
        assert!(t.peek(&a(1)).is_none());
        assert_eq!(t.peek(&a(0)).and_then(|s| s.last_packet), Some((0, "x")));
        assert!(t.peek(&a(3)).unwrap().last_packet.is_none());
    }

    #[test]
    fn stays_bounded_under_churn() {
        let mut t = DeviceTable::with_capacity(100, 1);
        for n in 0..10_000 {
            t.get_or_insert(a(n));
            if n % 7 == 0 {
                t.get_or_insert(a(n / 2));
            }
        }
        assert_eq!(t.len(), 100);
        assert_eq!(t.index.len(), 100);
        // the list holds exactly the indexed slots
        let mut count = 0;
        let mut i = t.head;
        while i != NIL {
            count += 1;
            i = t.slots[i as usize].next;
        }
        assert_eq!(count, 100);
    }
}
