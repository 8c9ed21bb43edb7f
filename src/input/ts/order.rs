//! The session's numbering of a program's tracks of one kind: PMT order, without gaps.
//!
//! The demultiplexer numbers a kind's streams by their place in the PMT; a track's configuration
//! comes with its first frame, so the streams may configure in any order. The session numbers a
//! stream once every stream listed ahead of it has configured, or has been passed over: a
//! stream still silent when the session stops waiting ([`TrackOrder::pass_silent`], at the end
//! of the input or when too much is held for it) gives its place to the ones behind it, and is
//! numbered after them should it ever speak.

use std::collections::{BTreeMap, BTreeSet};

/// `C` is the kind's configuration (`VideoConfig`, `AudioConfig`).
#[derive(Debug)]
pub(crate) struct TrackOrder<C> {
    /// The demultiplexer's index → the session's.
    numbered: BTreeMap<u8, u8>,
    /// Configurations of streams waiting for the ones listed ahead of them.
    pending: BTreeMap<u8, C>,
    /// Streams passed over while silent.
    passed: BTreeSet<u8>,
}

impl<C> Default for TrackOrder<C> {
    fn default() -> Self {
        TrackOrder {
            numbered: BTreeMap::new(),
            pending: BTreeMap::new(),
            passed: BTreeSet::new(),
        }
    }
}

impl<C> TrackOrder<C> {
    /// The session's index of the demultiplexer's stream `index`, once numbered.
    pub(crate) fn session_index(&self, index: u8) -> Option<u8> {
        self.numbered.get(&index).copied()
    }

    /// Whether stream `index` has a configuration waiting to be numbered.
    pub(crate) fn is_pending(&self, index: u8) -> bool {
        self.pending.contains_key(&index)
    }

    /// Stream `index` gave `config`: the configurations the session can now install, with
    /// their session indexes, in order.
    pub(crate) fn configure(&mut self, index: u8, config: C) -> Vec<(u8, C)> {
        if let Some(i) = self.session_index(index) {
            return vec![(i, config)];
        }
        if self.passed.remove(&index) {
            return vec![(self.number(index), config)];
        }
        self.pending.insert(index, config);
        self.drain()
    }

    /// Stops waiting for the silent streams listed ahead of the pending ones: the
    /// configurations now installable, as for [`Self::configure`].
    pub(crate) fn pass_silent(&mut self) -> Vec<(u8, C)> {
        let Some(&last) = self.pending.keys().next_back() else {
            return Vec::new();
        };
        for index in 0..last {
            if !self.numbered.contains_key(&index) && !self.pending.contains_key(&index) {
                self.passed.insert(index);
            }
        }
        self.drain()
    }

    /// Numbers the pending streams that nothing ahead of them waits for.
    fn drain(&mut self) -> Vec<(u8, C)> {
        let mut ready = Vec::new();
        while let Some(next) = (0..=u8::MAX)
            .find(|i| !self.numbered.contains_key(i) && !self.passed.contains(i))
            .and_then(|i| self.pending.remove(&i).map(|c| (i, c)))
        {
            ready.push((self.number(next.0), next.1));
        }
        ready
    }

    fn number(&mut self, index: u8) -> u8 {
        let session = u8::try_from(self.numbered.len()).unwrap_or(u8::MAX);
        self.numbered.insert(index, session);
        session
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{AudioCodec, AudioConfig};

    fn config(rate: u32) -> AudioConfig {
        AudioConfig {
            codec: AudioCodec::Aac,
            specific: vec![0x12, 0x10],
            sample_rate: rate,
            channels: 2,
            flv_sound_byte: 0xAF,
            flv_track: None,
        }
    }

    fn indexes(ready: Vec<(u8, AudioConfig)>) -> Vec<(u8, u32)> {
        ready.into_iter().map(|(i, c)| (i, c.sample_rate)).collect()
    }

    #[test]
    fn streams_are_numbered_in_pmt_order_once_those_ahead_configure() {
        let mut o = TrackOrder::default();
        assert_eq!(indexes(o.configure(1, config(1))), vec![]);
        assert!(o.is_pending(1));
        assert_eq!(indexes(o.configure(0, config(0))), vec![(0, 0), (1, 1)]);
        assert_eq!(indexes(o.configure(1, config(11))), vec![(1, 11)]);
        assert_eq!(o.session_index(1), Some(1));
    }

    #[test]
    fn a_silent_stream_passed_over_gives_its_place_and_comes_last() {
        let mut o = TrackOrder::default();
        assert_eq!(indexes(o.configure(2, config(2))), vec![]);
        assert_eq!(indexes(o.configure(1, config(1))), vec![]);
        assert_eq!(indexes(o.pass_silent()), vec![(0, 1), (1, 2)]);
        assert_eq!(indexes(o.configure(0, config(0))), vec![(2, 0)]);
        assert_eq!(indexes(o.configure(3, config(3))), vec![(3, 3)]);
        assert_eq!(indexes(o.pass_silent()), vec![]);
    }
}
