//! One elementary stream of the program as the demultiplexer reads it: its PID, its PES
//! reassembly and continuity counter, and what its payloads become (video access units and
//! samples, or audio frames); kept across a PMT that lists it again with the same codec.

use super::au::AuAssembler;
use super::pes::PesAssembler;
use super::video::VideoStream;
use crate::media::{VideoCodec, VideoConfig};

/// A video PID: its access units rebuilt, then converted to samples.
pub(super) struct VideoTrack {
    pub(super) units: AuAssembler,
    pub(super) samples: VideoStream,
}

/// One elementary stream being read.
pub(super) struct Es<S> {
    pub(super) pid: u16,
    pub(super) stream: S,
    pub(super) pes: PesAssembler,
    pub(super) last_cc: Option<u8>,
    /// The last packet was a duplicate already (a second one is a gap).
    pub(super) duplicate_seen: bool,
}

impl VideoTrack {
    pub(super) fn new(codec: VideoCodec, hint: Option<VideoConfig>) -> VideoTrack {
        VideoTrack {
            units: AuAssembler::new(codec),
            samples: VideoStream::new(codec, hint),
        }
    }

    pub(super) fn codec(&self) -> VideoCodec {
        self.samples.codec()
    }
}

impl<S> Es<S> {
    pub(super) fn new(pid: u16, stream: S) -> Es<S> {
        Es {
            pid,
            stream,
            pes: PesAssembler::default(),
            last_cc: None,
            duplicate_seen: false,
        }
    }
}

/// A kind's streams under a new PMT, in its order: a stream that keeps its PID and codec keeps
/// its state (configuration, counters); another is made by `new(codec, its index)`.
pub(super) fn restream<C: PartialEq, S>(
    mut old: Vec<Es<S>>,
    listed: Vec<(C, u16)>,
    codec: impl Fn(&S) -> C,
    new: impl Fn(C, u8) -> S,
) -> Vec<Es<S>> {
    let mut out = Vec::with_capacity(listed.len());
    for (c, pid) in listed {
        let es = match old
            .iter()
            .position(|e| e.pid == pid && codec(&e.stream) == c)
        {
            Some(at) => old.remove(at),
            None => Es::new(pid, new(c, u8::try_from(out.len()).unwrap_or(u8::MAX))),
        };
        out.push(es);
    }
    out
}
