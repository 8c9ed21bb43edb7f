//! MPEG-TS (ISO/IEC 13818-1) transport packets → PAT/PMT → PES → packets of the media model,
//! over arbitrary bytes in short reads (interrupted ones too), split into two inputs (as two HLS segments) for some
//! lengths: no panic, per track the DTS never decreases (the demultiplexer repairs wraps and
//! jumps), every damage report points inside the bytes read so far, and it ends.

#![no_main]

use std::io::{self, Read};

use kls_rec::input::ts::{Demuxed, TsDemuxer};
use kls_rec::media::CodecConfig;
use kls_rec_fuzz::{DtsOrder, MAX_INPUT, check_damage};
use libfuzzer_sys::fuzz_target;

/// The demuxer wants an owned `Read + Send`: the input, read as [`ChunkedReader`] reads it.
struct Owned {
    data: Vec<u8>,
    pos: usize,
    piece: usize,
    reads: u64,
}

impl Owned {
    fn new(data: &[u8]) -> Owned {
        let pieces = [usize::MAX, 188, 4096, 509, 1];
        Owned {
            data: data.to_vec(),
            pos: 0,
            piece: pieces[data.len() % pieces.len()],
            reads: 0,
        }
    }
}

impl Read for Owned {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        if self.piece != usize::MAX && self.reads % 3 == 0 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let n = buf.len().min(self.piece).min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    // Two segments when the length says so: timestamps and counters carry across inputs.
    let split = if data.len() % 2 == 1 {
        data.len() / 2 / 188 * 188
    } else {
        data.len()
    };
    let (first, second) = data.split_at(split);
    let mut demux = TsDemuxer::new(CodecConfig::default());
    let mut dts_order = DtsOrder::default();
    let mut read_before = 0u64;
    for part in [first, second] {
        if part.is_empty() {
            continue;
        }
        demux.set_input(Box::new(Owned::new(part)));
        // One 188-byte packet yields a few items at most.
        let mut ended = false;
        for _ in 0..=part.len() + 64 {
            let item = match demux.next_item() {
                Err(_) | Ok(None) => {
                    ended = true;
                    break;
                }
                Ok(Some(i)) => i,
            };
            check(
                item,
                read_before + part.len() as u64,
                data.len(),
                &mut dts_order,
            );
            assert!(
                demux.position() <= read_before + part.len() as u64,
                "position beyond the input"
            );
        }
        assert!(ended, "the demultiplexer did not end");
        read_before += part.len() as u64;
    }
    // The end of the stream completes the last video access unit.
    let total = data.len() as u64;
    if demux.end_of_stream() {
        let mut ended = false;
        for _ in 0..=data.len() + 64 {
            match demux.next_item() {
                Err(_) | Ok(None) => {
                    ended = true;
                    break;
                }
                Ok(Some(item)) => check(item, total, data.len(), &mut dts_order),
            }
        }
        assert!(
            ended,
            "the demultiplexer did not end after the end of the stream"
        );
    }
    let _ = demux.has_tracks();
});

/// One item: damage and notes point within the `bound` bytes read so far, packets keep their
/// track's DTS order and are never empty nor larger than the input.
fn check(item: Demuxed, bound: u64, input_len: usize, dts_order: &mut DtsOrder) {
    match item {
        // Offsets name the current input or all inputs read: both lie within these.
        Demuxed::Damage(d) => check_damage(&d, bound as usize),
        Demuxed::Video(..) | Demuxed::Audio(..) => {}
        Demuxed::NotRecorded(n) => assert!(n.offset <= bound, "{n}"),
        Demuxed::Packet(p) => {
            dts_order.check(&p);
            assert!(!p.data.is_empty(), "empty packet");
            assert!(p.data.len() <= input_len, "packet larger than the input");
        }
    }
}
