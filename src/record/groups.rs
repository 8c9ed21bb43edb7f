//! The pushes of each stream key, one key at a time in key order, from every input (README
//! "Speed and memory"): the sessions of media inputs are few and kept from the start; a
//! segment log's (in a dry run, where it can hold millions) come sorted from its external
//! sort ([`crate::input::log::sort`]), one key's at a time, so a run holds one key's pushes.
//! Within a key, sessions keep the order of the inputs given and of each input, then are
//! ordered by wall-clock start (a stable sort), as when every session was gathered first.

use std::collections::BTreeMap;

use crate::input::log::sort::{GroupKey, SortedLog};
use crate::input::{InputError, PendingSession};

pub(super) struct Groups {
    /// Sessions of media inputs by key, each with its input's number.
    others: BTreeMap<GroupKey, Vec<(usize, PendingSession)>>,
    /// Segment logs with their input's number.
    logs: Vec<(usize, SortedLog)>,
    keep_order: bool,
    /// A log that could not be read back (its spill): the run stops with it.
    pub(super) error: Option<InputError>,
}

impl Groups {
    pub(super) fn new(
        others: BTreeMap<GroupKey, Vec<(usize, PendingSession)>>,
        logs: Vec<(usize, SortedLog)>,
        keep_order: bool,
    ) -> Groups {
        Groups {
            others,
            logs,
            keep_order,
            error: None,
        }
    }

    /// Pushes in all, and stream keys in all.
    pub(super) fn counts(&self) -> (usize, usize) {
        let mut keys: BTreeMap<&GroupKey, usize> = BTreeMap::new();
        for (k, v) in &self.others {
            *keys.entry(k).or_default() += v.len();
        }
        for (k, n) in self.logs.iter().flat_map(|(_, l)| &l.counts) {
            *keys.entry(k).or_default() += n;
        }
        (keys.values().sum(), keys.len())
    }

    /// Total input bytes, when every session's size is known.
    pub(super) fn bytes(&self) -> Option<u64> {
        let logged = self.logs.iter().any(|(_, l)| !l.counts.is_empty());
        let sizes = self.others.values().flatten().map(|(_, s)| s.size_hint);
        if logged { None } else { sizes.sum() }
    }

    fn next_group(&mut self) -> Result<Option<Vec<PendingSession>>, InputError> {
        let mut least = self.others.keys().next().cloned();
        for (_, log) in &mut self.logs {
            if let Some(k) = log.peek_key()? {
                least = Some(least.map_or(k.clone(), |l| l.min(k)));
            }
        }
        let Some(key) = least else {
            return Ok(None);
        };
        let mut sessions = self.others.remove(&key).unwrap_or_default();
        for (input, log) in &mut self.logs {
            if log.peek_key()?.as_ref() == Some(&key) {
                sessions.extend(log.next_group()?.into_iter().map(|s| (*input, s)));
            }
        }
        // Stable: equal starts keep the order the inputs were given in.
        sessions.sort_by_key(|(input, _)| *input);
        if !self.keep_order {
            sessions.sort_by_key(|(_, s)| s.info.wall_start_ms);
        }
        Ok(Some(sessions.into_iter().map(|(_, s)| s).collect()))
    }
}

impl Iterator for Groups {
    type Item = Vec<PendingSession>;

    fn next(&mut self) -> Option<Vec<PendingSession>> {
        if self.error.is_some() {
            return None;
        }
        self.next_group().unwrap_or_else(|e| {
            self.error = Some(e);
            None
        })
    }
}
