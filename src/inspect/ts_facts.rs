//! What an MPEG-TS file says of its streams, read as FFmpeg's `mpegts` demuxer reads it: the
//! first program's PMT (every entry, data PIDs included, in PMT order) and, per PID, how many
//! units started on it (PES packets, or sections for section-carried streams such as SCTE-35)
//! and the first and latest PES PTS. FFmpeg times a stream's end by its last *PES* (a PES holding
//! several AAC frames counts from its first frame), so the audio duration is taken from here.

use std::io::Read;

use crate::input::ts::demux::WRAP_90K;
use crate::input::ts::packet::{PacketEvent, PacketReader};
use crate::input::ts::pes::{Assembled, PesAssembler};
use crate::input::ts::psi::{self, EsKind, SectionBuffer};

/// One PMT entry and what was found on its PID.
#[derive(Clone, Debug)]
pub(crate) struct TsStream {
    pub(crate) pid: u16,
    pub(crate) kind: EsKind,
    /// PES packets (or, for streams FFmpeg reads as sections, packets starting a section).
    pub(crate) units: u64,
    /// PTS of the first PES, 33 bits as written.
    pub(crate) first_pts_90k: Option<u64>,
    /// Latest PES PTS after the first, in ticks from it (modulo 2^33, so a wrap continues).
    pub(crate) max_pts_after_first_90k: Option<i64>,
}

/// Per-PID state while reading.
struct Reading {
    stream: TsStream,
    /// `None` for section-carried streams.
    pes: Option<PesAssembler>,
}

impl Reading {
    fn pes(&mut self, a: Assembled) {
        let Assembled::Pes(p) = a else {
            return;
        };
        self.stream.units += 1;
        let Some(pts) = p.pts else {
            return;
        };
        let s = &mut self.stream;
        match s.first_pts_90k {
            None => s.first_pts_90k = Some(pts),
            Some(first) => {
                let after = (pts as i64 - first as i64).rem_euclid(WRAP_90K);
                // More than half the period after the first is before it.
                let after = if after > WRAP_90K / 2 {
                    after - WRAP_90K
                } else {
                    after
                };
                s.max_pts_after_first_90k =
                    Some(s.max_pts_after_first_90k.map_or(after, |m| m.max(after)));
            }
        }
    }
}

/// Reads the whole input; the streams of its first PMT (empty when it has none). Unreadable
/// bytes end the pass: what was found before them stands.
pub(crate) fn read(input: impl Read) -> Vec<TsStream> {
    let mut packets = PacketReader::new(input);
    let (mut pat, mut pmt) = (SectionBuffer::default(), SectionBuffer::default());
    let mut pmt_pid = None;
    let mut pids: Vec<Reading> = Vec::new();
    while let Ok(Some(event)) = packets.next_event() {
        let PacketEvent::Packet(p) = event else {
            continue;
        };
        if !p.has_payload || p.transport_error {
            continue;
        }
        if p.pid == 0 && pmt_pid.is_none() {
            if let Ok(Some(s)) = pat.push(&p.payload, p.payload_unit_start) {
                pmt_pid = psi::parse_pat(&s).ok().flatten();
            }
        } else if Some(p.pid) == pmt_pid && pids.is_empty() {
            if let Ok(Some(s)) = pmt.push(&p.payload, p.payload_unit_start)
                && let Ok(table) = psi::parse_pmt(&s)
            {
                pids = program(&table);
            }
        } else if let Some(r) = pids.iter_mut().find(|r| r.stream.pid == p.pid) {
            match r.pes.as_mut() {
                Some(a) => {
                    if let Some(done) =
                        a.push(&p.payload, p.payload_unit_start, p.random_access, p.offset)
                    {
                        r.pes(done);
                    }
                }
                None => r.stream.units += u64::from(p.payload_unit_start),
            }
        }
    }
    for r in &mut pids {
        if let Some(done) = r.pes.as_mut().and_then(PesAssembler::finish) {
            r.pes(done);
        }
    }
    pids.into_iter().map(|r| r.stream).collect()
}

fn program(table: &psi::Pmt) -> Vec<Reading> {
    table
        .streams
        .iter()
        .map(|s| {
            let kind = psi::classify(table.format, s);
            // FFmpeg reads SCTE-35 as sections; everything else it lists as PES.
            let sections = matches!(
                kind,
                EsKind::Other {
                    codec_name: Some("scte_35"),
                    ..
                }
            );
            Reading {
                stream: TsStream {
                    pid: s.pid,
                    kind,
                    units: 0,
                    first_pts_90k: None,
                    max_pts_after_first_90k: None,
                },
                pes: (!sections).then(PesAssembler::default),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `scripts/ts-add-data.py`'s fixture, as ffprobe 5.1 counts it (`-count_packets`): 100
    /// video PES, 4 of each data stream; audio PES (several AAC frames each) 11.
    #[test]
    fn every_pmt_entry_with_its_units() {
        let ts =
            std::fs::read(crate::testutil::testdata("data-streams/klv-1764072000.ts")).unwrap();
        let streams = read(&ts[..]);
        let got: Vec<(u16, u64)> = streams.iter().map(|s| (s.pid, s.units)).collect();
        assert_eq!(
            got,
            [
                (0x100, 100),
                (0x101, 11),
                (0x102, 4),
                (0x103, 4),
                (0x104, 4)
            ]
        );
        let audio = &streams[1];
        assert!(audio.first_pts_90k.is_some() && audio.max_pts_after_first_90k.is_some());
    }
}
