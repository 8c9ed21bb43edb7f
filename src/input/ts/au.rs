//! Access units rebuilt from a video PID's elementary stream (ISO/IEC 13818-1 §2.4.3.7), not
//! taken as "one PES = one access unit".
//!
//! A PES may begin inside an access unit, even inside a NAL unit: Apple's mediafilesegmenter
//! starts each video PES with the tail of the previous access unit's last slice (no start code
//! there, data_alignment_indicator 0), and a PES may hold no access unit start at all. So the
//! PES payloads of the PID are read as one Annex B byte stream and cut where an access unit
//! begins, as ffmpeg's parsers do:
//! - H.264 (§7.4.1.2.3): an access unit delimiter; an SPS, PPS or SEI once the unit has a
//!   slice; a slice (or data partition A) with first_mb_in_slice 0 once the unit has a slice (the
//!   first slice of a new primary picture, §7.4.1.2.4). NAL unit types 14–18 (SVC/MVC prefixes
//!   and extensions) are left with the unit, as ffmpeg's parser leaves them.
//! - HEVC (§7.4.2.4.4): an access unit delimiter; a VPS, SPS, PPS, prefix SEI or NAL unit of
//!   types 41–44 or 48–55 once the unit has a slice segment (and end of sequence/bitstream, as
//!   ffmpeg's parser cuts them); a slice segment with first_slice_segment_in_pic_flag once the
//!   unit has one.
//!
//! Timing: a PES's PTS/DTS belong to the first access unit that starts in it (where its NAL
//! header is); bytes before that continue the previous unit. A unit that starts in a PES with no
//! timestamps, or as a second unit of one PES, gets the previous DTS plus the last DTS step,
//! presented at its DTS, and that is reported.
//!
//! A unit is complete where the next one starts: seen in the next PES's first bytes (so a
//! stream with one access unit per PES gives each out as soon as its PES is complete) or later
//! in the stream, or at the end of the stream. At the end of one input (an HLS segment), a
//! stream whose every PES so far began with an access unit ends its unit there, as a PES
//! would; otherwise the unit continues into the next segment.
//!
//! Memory is bounded: bytes before the first access unit start are skipped as they come, and a
//! unit that grows past [`MAX_AU_BYTES`] without a next start is dropped; both are reported.

use crate::media::VideoCodec;

/// Largest access unit kept (as large as the largest PES).
pub(crate) const MAX_AU_BYTES: usize = super::pes::MAX_PES_BYTES;

/// Unwrapped PTS and DTS, 90 kHz.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AuTime {
    pub(crate) pts: i64,
    pub(crate) dts: i64,
}

/// What the assembler gives out, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AuEvent {
    /// One access unit (Annex B bytes, from its first start code) with its times and the offset
    /// of the PES it started in.
    Unit {
        data: Vec<u8>,
        time: AuTime,
        offset: u64,
    },
    /// Bytes skipped before an access unit start.
    Skipped { offset: u64, len: u64, what: String },
    /// The access unit in progress dropped.
    Dropped { offset: u64, what: String },
    /// An access unit given derived times (the message is the same for every one).
    Derived { offset: u64, what: String },
}

/// Where a PES began in the buffer, and its timestamps until an access unit takes them.
#[derive(Debug)]
struct PesMark {
    at: usize,
    time: Option<AuTime>,
    offset: u64,
}

/// What a NAL unit means for access unit boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NalRole {
    /// An access unit delimiter: always a new unit.
    Delimiter,
    /// Parameter sets, SEI and the like: a new unit once the current one has a slice.
    Prefix,
    /// The first slice (segment) of a picture.
    FirstSlice,
    /// A further slice (segment) of a picture.
    Slice,
    /// Anything that stays with the current unit (end of sequence, filler, suffix SEI …).
    Other,
}

/// The role of a NAL unit from its first bytes (header, then the slice header's first byte);
/// a slice whose first slice-header byte is not there yet counts as a further slice.
fn role(codec: VideoCodec, nal: &[u8]) -> NalRole {
    let Some(&h) = nal.first() else {
        return NalRole::Other;
    };
    match codec {
        VideoCodec::H264 => match h & 0x1F {
            9 => NalRole::Delimiter,
            6..=8 => NalRole::Prefix,
            // first_mb_in_slice ue(v) is 0 exactly when its first bit is 1 (slices and data
            // partition A; partitions B and C continue the slice of their A).
            1 | 2 | 5 if nal.get(1).is_some_and(|b| b & 0x80 != 0) => NalRole::FirstSlice,
            1..=5 => NalRole::Slice,
            0 | 10..=31 => NalRole::Other,
            32..=u8::MAX => unreachable!("masked to 5 bits"),
        },
        VideoCodec::Hevc => match (h >> 1) & 0x3F {
            35 => NalRole::Delimiter,
            // End of sequence / bitstream too, as ffmpeg's parser cuts them.
            32..=34 | 36 | 37 | 39 | 41..=44 | 48..=55 => NalRole::Prefix,
            0..=9 | 16..=21 if nal.get(2).is_some_and(|b| b & 0x80 != 0) => NalRole::FirstSlice,
            0..=9 | 16..=21 => NalRole::Slice,
            10..=15 | 22..=31 | 38 | 40 | 45..=47 | 56..=63 => NalRole::Other,
            64..=u8::MAX => unreachable!("masked to 6 bits"),
        },
        // Not NAL-unit codecs; the TS reader maps no stream type to them.
        VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => NalRole::Other,
    }
}

/// Bytes after a start code that [`role`] reads.
fn header_len(codec: VideoCodec) -> usize {
    match codec {
        VideoCodec::H264 => 2,
        VideoCodec::Hevc => 3,
        VideoCodec::Av1 | VideoCodec::Vp9 | VideoCodec::FlvOnly(_) => 1,
    }
}

/// Rebuilds one video PID's access units from its PES payloads.
#[derive(Debug)]
pub(crate) struct AuAssembler {
    codec: VideoCodec,
    /// The access unit in progress from its first start code, then bytes not yet scanned; or,
    /// before the first access unit start, the bytes not yet skipped.
    buf: Vec<u8>,
    /// Where the scan for start codes goes on.
    scan: usize,
    /// `buf` begins with an access unit.
    started: bool,
    /// The unit in progress has a slice.
    has_slice: bool,
    /// Its times (`None`: to be derived) and the offset of the PES it started in.
    time: Option<AuTime>,
    offset: u64,
    marks: Vec<PesMark>,
    /// Every PES so far began with an access unit start.
    aligned: bool,
    last_dts: Option<i64>,
    step: i64,
    out: Vec<AuEvent>,
}

impl AuAssembler {
    pub(crate) fn new(codec: VideoCodec) -> AuAssembler {
        AuAssembler {
            codec,
            buf: Vec::new(),
            scan: 0,
            started: false,
            has_slice: false,
            time: None,
            offset: 0,
            marks: Vec::new(),
            aligned: true,
            last_dts: None,
            step: 0,
            out: Vec::new(),
        }
    }

    /// The events so far.
    pub(crate) fn take(&mut self) -> Vec<AuEvent> {
        std::mem::take(&mut self.out)
    }

    /// Whether `es`, the first payload bytes of a PES, begins with an access unit start;
    /// `None` when too few bytes are there to tell.
    pub(crate) fn begins_unit(&self, es: &[u8]) -> Option<bool> {
        let zeros = es.iter().take_while(|&&b| b == 0).count();
        let rest = &es[zeros..];
        if rest.is_empty() {
            return None;
        }
        if zeros < 2 || rest[0] != 1 {
            return Some(false);
        }
        let nal = &rest[1..];
        if nal.len() < header_len(self.codec) {
            return None;
        }
        Some(self.starts_unit(role(self.codec, nal)))
    }

    fn starts_unit(&self, role: NalRole) -> bool {
        match role {
            NalRole::Delimiter => true,
            NalRole::Prefix | NalRole::FirstSlice => !self.started || self.has_slice,
            NalRole::Slice | NalRole::Other => false,
        }
    }

    /// Adds one PES payload with its times (`None`: the PES had no PTS) and offset.
    pub(crate) fn push(&mut self, es: &[u8], time: Option<AuTime>, offset: u64) {
        if self.begins_unit(es) == Some(false) {
            self.aligned = false;
        }
        self.marks.push(PesMark {
            at: self.buf.len(),
            time,
            offset,
        });
        self.buf.extend_from_slice(es);
        self.scan_units(false);
        // Start codes still to come are at `scan` or later: older PES packets hold none.
        let from = self.scan + 3;
        if let Some(k) = self.marks.iter().rposition(|m| m.at <= from) {
            self.marks.drain(..k);
        }
        if self.started && self.buf.len() > MAX_AU_BYTES {
            let len = self.buf.len();
            self.reset();
            self.out.push(AuEvent::Dropped {
                offset: self.offset,
                what: format!(
                    "video access unit: {len} bytes without the start of a next one (over \
                     {MAX_AU_BYTES})"
                ),
            });
        }
    }

    /// The PES just pushed is followed by one whose payload begins with `next`: when that
    /// begins an access unit, the unit in progress is complete now.
    pub(crate) fn before_pes(&mut self, next: &[u8]) {
        if self.begins_unit(next) == Some(true) {
            self.finish();
        }
    }

    /// The end of one input: a stream aligned so far ends its unit with the input.
    pub(crate) fn end_of_input(&mut self) {
        if self.aligned {
            self.finish();
        }
    }

    /// Completes the unit in progress (the end of the stream).
    pub(crate) fn finish(&mut self) {
        self.scan_units(true);
        if self.started {
            let data = std::mem::take(&mut self.buf);
            self.emit(data);
        } else {
            self.skip(self.buf.len());
        }
        self.reset();
    }

    /// Drops the unit in progress (its PES was broken): bytes up to the next start are skipped.
    pub(crate) fn lose(&mut self) {
        self.reset();
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.marks.clear();
        self.scan = 0;
        self.started = false;
        self.has_slice = false;
    }

    /// Finds start codes from `scan` on, completing units where new ones begin. A start code
    /// whose NAL header is not all there yet waits for more bytes, unless `at_end`.
    fn scan_units(&mut self, at_end: bool) {
        let mut i = self.scan;
        while i + 3 <= self.buf.len() {
            if self.buf[i..i + 3] != [0, 0, 1] {
                i += 1;
                continue;
            }
            let nal = &self.buf[i + 3..];
            if nal.len() < header_len(self.codec) && !at_end {
                break;
            }
            let role = role(self.codec, nal);
            if self.starts_unit(role) {
                // A zero before the start code is its first byte (Annex B B.2).
                let cut = if i > 0 && self.buf[i - 1] == 0 {
                    i - 1
                } else {
                    i
                };
                self.begin_at(cut, i + 3 - cut);
                i -= cut;
            }
            if matches!(role, NalRole::FirstSlice | NalRole::Slice) {
                self.has_slice = true;
            }
            i += 3;
        }
        self.scan = i;
        if !self.started {
            // Nothing to attach these to: skip them as they come.
            let n = i.min(self.buf.len());
            self.skip(n);
            self.buf.drain(..n);
            self.scan = 0;
            for m in &mut self.marks {
                m.at = m.at.saturating_sub(n);
            }
        }
    }

    /// A unit begins at `cut`, its NAL header `header` bytes later: the one in progress (the
    /// bytes before) is complete, or those bytes are skipped.
    fn begin_at(&mut self, cut: usize, header: usize) {
        let before: Vec<u8> = self.buf.drain(..cut).collect();
        if self.started {
            self.emit(before);
        } else {
            self.skip(before.len());
        }
        for m in &mut self.marks {
            m.at = m.at.saturating_sub(cut);
        }
        // The PES the NAL header is in gives its times, unless a unit took them already.
        let k = self.marks.iter().rposition(|m| m.at <= header);
        self.time = k.and_then(|k| self.marks[k].time.take());
        if let Some(k) = k {
            self.offset = self.marks[k].offset;
            self.marks.drain(..k);
        }
        self.started = true;
        self.has_slice = false;
    }

    fn skip(&mut self, len: usize) {
        if len == 0 {
            return;
        }
        let offset = self.marks.first().map_or(self.offset, |m| m.offset);
        self.out.push(AuEvent::Skipped {
            offset,
            len: len as u64,
            what: "video bytes before an access unit start".into(),
        });
    }

    fn emit(&mut self, data: Vec<u8>) {
        let time = match self.time.take() {
            Some(t) => t,
            None => {
                let dts = self
                    .last_dts
                    .map_or(0, |d| d.saturating_add(self.step.max(1)));
                self.out.push(AuEvent::Derived {
                    offset: self.offset,
                    what: "video access unit without a PTS of its own, given the previous DTS \
                           plus the last step as DTS and PTS"
                        .into(),
                });
                AuTime { pts: dts, dts }
            }
        };
        if let Some(l) = self.last_dts
            && time.dts > l
        {
            self.step = time.dts - l;
        }
        self.last_dts = Some(time.dts);
        self.out.push(AuEvent::Unit {
            data,
            time,
            offset: self.offset,
        });
    }
}

#[cfg(test)]
mod tests;
