//! Damage in the chunk stream: bytes missing from a capture (a TCP hole), loss of sync and the
//! scan that recovers it, the end of the input inside a unit. Partial messages that cannot be
//! trusted are dropped and reported; nothing half-received is handed on.

use super::resync::{self, Found};
use super::{ChunkEvent, ChunkReader, Partial, Segment, State};
use crate::media::Damage;

impl ChunkReader {
    /// `lost` bytes are missing at `input_offset`.
    pub(crate) fn gap(&mut self, lost: u64, input_offset: u64) {
        if lost == 0 || self.finished {
            return;
        }
        let gap_pos = self.stream_end;
        self.segments.push_back(Segment {
            stream_pos: gap_pos,
            input_offset,
            arrival_ms: None,
        });
        self.stream_end += lost;
        let skipped = |what: &str| {
            ChunkEvent::Damage(Damage::Skipped {
                offset: input_offset,
                len: lost,
                what: what.to_string(),
            })
        };
        match self.state {
            // Handshake bytes are skipped anyway: still in step.
            State::Handshake { left } if lost < left && self.buf.is_empty() => {
                self.state = State::Handshake { left: left - lost };
                self.base = self.stream_end;
                self.out.push_back(skipped(
                    "bytes missing from the stream, inside the handshake",
                ));
            }
            // Inside one chunk body: the chunk boundaries are still known, only this message
            // has a hole.
            State::Body { csid, left }
                if self.buf.is_empty() && usize::try_from(lost).is_ok_and(|l| l < left) =>
            {
                self.state = State::Body {
                    csid,
                    left: left - lost as usize,
                };
                self.base = self.stream_end;
                self.out.push_back(skipped(
                    "bytes missing from the stream, inside a chunk: its message is dropped",
                ));
                self.damage_partial(csid, "bytes of it are missing from the stream");
                // The lost bytes count as received: the message's later chunks stay in step.
                if let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut()) {
                    p.received += lost as usize;
                }
            }
            _ => {
                let since = match self.state {
                    State::Lost { since } => since,
                    _ => self.base,
                };
                // Out of step: what is buffered before the hole cannot be completed.
                self.base = self.stream_end;
                self.buf.clear();
                self.rescan_len = 0;
                if !matches!(self.state, State::Lost { .. }) {
                    self.lost_why = format!("{lost} bytes missing from the stream");
                    self.drop_partials("bytes are missing from the stream");
                    for st in self.streams.values_mut() {
                        st.unsure = true;
                    }
                }
                self.state = State::Lost { since };
            }
        }
    }

    /// End of the connection: reports what is incomplete.
    pub(crate) fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.run();
        match self.state {
            State::Handshake { .. } => {
                let at = self.position(0);
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: at.input_offset,
                    what: "RTMP handshake".into(),
                }));
            }
            State::Header if !self.buf.is_empty() => {
                let at = self.position(self.base);
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: at.input_offset,
                    what: format!("chunk header ({} bytes present)", self.buf.len()),
                }));
            }
            State::Lost { since } => self.report_skip(since, self.stream_end, "to the end"),
            _ => {}
        }
        self.buf.clear();
        let mut open: Vec<(u32, Partial)> = self
            .streams
            .iter_mut()
            .filter_map(|(c, s)| s.partial.take().map(|p| (*c, p)))
            .collect();
        open.sort_by_key(|(_, p)| p.at.input_offset);
        for (csid, p) in open {
            if !p.damaged {
                self.out.push_back(ChunkEvent::Damage(Damage::Truncated {
                    offset: p.at.input_offset,
                    what: format!(
                        "type-{} message on chunk stream {csid} ({} of {} bytes)",
                        p.type_id, p.received, p.length
                    ),
                }));
            }
        }
        self.partial_bytes = 0;
    }

    pub(super) fn step_lost(&mut self, since: u64) -> bool {
        if self.header_budget.is_some() {
            // A resynchronisation trial that lost sync has failed: no scan inside it.
            return false;
        }
        // A scan that needed more bytes is tried again once the buffer has doubled (or the look-
        // ahead is full, or the input ended), not on every feed: a trial re-parses up to the
        // whole look-ahead, so retrying per TCP segment would cost it once per segment. A
        // verdict never depends on how the bytes were fed (see `trial`), only when it is given.
        if !self.finished && self.buf.len() < self.rescan_len {
            return false;
        }
        match self.find_header() {
            Found::At(i, chunk_size) => {
                self.rescan_len = 0;
                self.chunk_size = chunk_size;
                self.consume(i);
                self.report_skip(since, self.base, "resynchronised on a chunk header");
                self.state = State::Header;
                true
            }
            Found::NeedFrom(i) => {
                self.consume(i);
                self.rescan_len = (2 * self.buf.len()).min(resync::MAX_LOOKAHEAD + 1);
                false
            }
        }
    }

    fn report_skip(&mut self, since: u64, until: u64, outcome: &str) {
        let why = std::mem::take(&mut self.lost_why);
        if until == since {
            // A dump that starts at a chunk header without a handshake: nothing was lost.
            return;
        }
        let at = self.position(since);
        self.out.push_back(ChunkEvent::Damage(Damage::Skipped {
            offset: at.input_offset,
            len: until - since,
            what: format!("{why}; {outcome}"),
        }));
    }

    pub(super) fn lose_sync(&mut self, why: String) {
        self.lost_why = why;
        self.rescan_len = 0;
        self.drop_partials("the chunk stream lost sync");
        for st in self.streams.values_mut() {
            st.unsure = true;
        }
        // Scanning starts after the first byte, or a bad header would be found again.
        let since = self.base;
        // Lost first: consuming keeps the input position of `since` only in that state.
        self.state = State::Lost { since };
        if !self.buf.is_empty() {
            self.consume(1);
        }
    }

    /// Marks a chunk stream's partial message damaged, reporting it once.
    pub(super) fn damage_partial(&mut self, csid: u32, why: &str) {
        let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.as_mut()) else {
            return;
        };
        if p.damaged {
            return;
        }
        p.damaged = true;
        self.partial_bytes -= p.body.len();
        p.body = Vec::new();
        let what = format!(
            "type-{} message of {} bytes on chunk stream {csid}: {why}",
            p.type_id, p.length
        );
        let offset = p.at.input_offset;
        self.out
            .push_back(ChunkEvent::Damage(Damage::Dropped { offset, what }));
    }

    fn drop_partials(&mut self, why: &str) {
        let mut csids: Vec<(u64, u32)> = self
            .streams
            .iter()
            .filter_map(|(c, s)| s.partial.as_ref().map(|p| (p.at.input_offset, *c)))
            .collect();
        csids.sort_unstable();
        for (_, csid) in csids {
            self.damage_partial(csid, why);
            if let Some(s) = self.streams.get_mut(&csid) {
                s.partial = None;
            }
        }
        self.partial_bytes = 0;
    }
}
