//! A bounded, coalescing queue of MQTT messages keyed by topic.
//!
//! Everything hci2mqtt publishes is "the current value of a topic" (retained state, discovery
//! configs, availability), so a message that has not left yet is simply replaced when a newer
//! one for the same topic arrives: it keeps its place in the queue and carries the newest
//! payload. A broker outage therefore costs only values that were superseded, and memory is
//! bounded by the number of distinct topics, not by the length of the outage.

use std::collections::{BTreeMap, VecDeque};

/// One message waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// What [`Outbox::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// A new topic was queued.
    Queued,
    /// A queued message for the same topic was replaced (the older value is gone).
    Replaced,
    /// The outbox was full (entries or bytes); the message was dropped.
    Dropped,
}

#[derive(Debug)]
pub struct Outbox {
    order: VecDeque<String>,
    slots: BTreeMap<String, (Vec<u8>, bool)>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
    /// Messages replaced by a newer value for their topic before they were sent.
    pub coalesced: u64,
    /// Messages dropped because the outbox was full.
    pub dropped: u64,
}

impl Outbox {
    pub fn new(max_entries: usize, max_bytes: usize) -> Outbox {
        Outbox {
            order: VecDeque::new(),
            slots: BTreeMap::new(),
            bytes: 0,
            max_entries: max_entries.max(1),
            max_bytes,
            coalesced: 0,
            dropped: 0,
        }
    }

    /// Queues `payload` for `topic`, replacing a queued message for the same topic.
    pub fn push(&mut self, topic: &str, payload: Vec<u8>, retain: bool) -> Pushed {
        if let Some(slot) = self.slots.get_mut(topic) {
            self.bytes = self.bytes - slot.0.len() + payload.len();
            *slot = (payload, retain);
            self.coalesced += 1;
            return Pushed::Replaced;
        }
        let size = payload.len() + topic.len();
        if self.order.len() >= self.max_entries || self.bytes + size > self.max_bytes {
            self.dropped += 1;
            return Pushed::Dropped;
        }
        self.bytes += payload.len();
        self.slots.insert(topic.to_owned(), (payload, retain));
        self.order.push_back(topic.to_owned());
        self.bytes += topic.len();
        Pushed::Queued
    }

    /// The oldest queued topic with its newest payload.
    pub fn pop(&mut self) -> Option<Message> {
        let topic = self.order.pop_front()?;
        let (payload, retain) = self.slots.remove(&topic)?;
        self.bytes -= payload.len() + topic.len();
        Some(Message {
            topic,
            payload,
            retain,
        })
    }

    /// Puts a message back at the front (it could not be sent after all).
    pub fn unpop(&mut self, m: Message) {
        if self.slots.contains_key(&m.topic) {
            // A newer value arrived meanwhile; it wins.
            return;
        }
        self.bytes += m.payload.len() + m.topic.len();
        self.slots.insert(m.topic.clone(), (m.payload, m.retain));
        self.order.push_front(m.topic);
    }

    /// Entries and bytes that still fit.
    pub fn room(&self) -> (usize, usize) {
        (
            self.max_entries.saturating_sub(self.order.len()),
            self.max_bytes.saturating_sub(self.bytes),
        )
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Bytes held (topics + payloads).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The queued payload for a topic, if any.
    pub fn peek(&self, topic: &str) -> Option<&[u8]> {
        self.slots.get(topic).map(|(p, _)| p.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_value_per_topic_wins_and_keeps_its_place() {
        let mut o = Outbox::new(10, 1 << 20);
        assert_eq!(o.push("a", b"1".to_vec(), true), Pushed::Queued);
        assert_eq!(o.push("b", b"x".to_vec(), false), Pushed::Queued);
        assert_eq!(o.push("a", b"22".to_vec(), true), Pushed::Replaced);
        assert_eq!(o.len(), 2);
        assert_eq!(o.bytes(), 2 + 1 + 1 + 1);
        let m = o.pop().unwrap();
        assert_eq!(
            (m.topic.as_str(), m.payload.as_slice(), m.retain),
            ("a", &b"22"[..], true)
        );
        assert_eq!(o.pop().unwrap().topic, "b");
        assert!(o.pop().is_none());
        assert_eq!(o.bytes(), 0);
        assert_eq!(o.coalesced, 1);
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let mut o = Outbox::new(2, 1 << 20);
        o.push("a", vec![0; 3], true);
        o.push("b", vec![0; 3], true);
        assert_eq!(o.push("c", vec![0; 3], true), Pushed::Dropped);
        // a known topic still coalesces when full
        assert_eq!(o.push("a", vec![1; 3], true), Pushed::Replaced);
        assert_eq!(o.dropped, 1);
        let mut o = Outbox::new(100, 10);
        assert_eq!(o.push("t", vec![0; 5], true), Pushed::Queued);
        assert_eq!(o.push("u", vec![0; 5], true), Pushed::Dropped);
    }

    #[test]
    fn unpop_goes_first_unless_superseded() {
        let mut o = Outbox::new(10, 1 << 20);
        o.push("a", b"1".to_vec(), true);
        o.push("b", b"2".to_vec(), true);
        let m = o.pop().unwrap();
        o.unpop(m);
        assert_eq!(o.pop().unwrap().topic, "a");
        let m = o.pop().unwrap();
        o.push("b", b"3".to_vec(), true);
        o.unpop(m);
        assert_eq!(o.pop().unwrap().payload, b"3");
        assert!(o.is_empty());
    }
}
