//! Builders the unit tests share: the fixtures they name, packets and configurations made by
//! hand, the events a reader gave sorted by kind, sessions muxed into a file (the `show` pushes
//! spliced), the mangled copies of good bytes a parser must answer without panicking, and words
//! in either byte order.

use std::path::Path;
use std::sync::Arc;

use crate::media::{
    AudioCodec, AudioConfig, CodecConfig, Damage, Event, NotRecorded, Packet, Track, TrackKind,
    VideoCodec, VideoConfig,
};
use crate::mux::{FileClose, FileOpen, MuxOptions, Muxer, Produced, SessionStart};

/// The wall clock of the test files' start: 2025-11-25T12:00:00Z.
pub(crate) const START_MS: i64 = 1_764_072_000_000;

/// One committed FLV fixture of each kind of push: video and audio (studio, with B-frames),
/// audio only (radio), video only (silent).
pub(crate) const FLV_OF_EACH_KIND: [&str; 3] = [
    "studio-1764072000.flv",
    "radio-1764072000.flv",
    "silent-1764072000.flv",
];

/// The `hvcC` of an x265 3.5 encode, 330x186 8-bit 30 fps (coded 336x192 with a conformance
/// window), as hex.
pub(crate) const HVCC_330X186_HEX: &str = "0101600000009000000000003cf000fcfdf8f800000f03a00001001840010c01ffff0160000003009000000300\
    0003003c959809a10001002b42010101600000030090000003000003003ca00a880c1c9265959a4932bc05a020000003002000000303c1a2000100074401c172b46240";

/// A packet of track 0 of `kind` at `dts_ms`, presented at its DTS.
pub(crate) fn packet(kind: TrackKind, dts_ms: i64, keyframe: bool, data: &[u8]) -> Packet {
    Packet {
        track: Track { kind, index: 0 },
        dts_90k: dts_ms * 90,
        cts_90k: 0,
        keyframe,
        data: data.to_vec(),
        offset_ns: 0,
    }
}

/// A 320x240 H.264 + 44.1 kHz stereo AAC-LC configuration (the records are stubs: nothing
/// parses them).
pub(crate) fn h264_aac() -> CodecConfig {
    CodecConfig {
        more_video: Vec::new(),
        video: Some(VideoConfig {
            flv_track: None,
            codec: VideoCodec::H264,
            record: vec![1, 100, 0, 31],
            width: 320,
            height: 240,
            flv_signal: Default::default(),
        }),
        audio: Some(AudioConfig {
            codec: AudioCodec::Aac,
            specific: vec![0x12, 0x10],
            sample_rate: 44100,
            channels: 2,
            flv_sound_byte: 0xAF,
            flv_track: None,
        }),
        video_built: None,
        more_audio: Vec::new(),
    }
}

/// A reader's events sorted by kind.
#[derive(Default)]
pub(crate) struct ByKind<'a> {
    pub(crate) packets: Vec<&'a Packet>,
    pub(crate) damage: Vec<&'a Damage>,
    pub(crate) configs: Vec<&'a Arc<CodecConfig>>,
    pub(crate) not_recorded: Vec<&'a NotRecorded>,
}

/// Sorts a reader's events by kind, keeping their order within each.
pub(crate) fn by_kind(events: &[Event]) -> ByKind<'_> {
    let mut sorted = ByKind::default();
    for e in events {
        match e {
            Event::Packet(p) => sorted.packets.push(p),
            Event::Damage(d) => sorted.damage.push(d),
            Event::Config(c) => sorted.configs.push(c),
            Event::NotRecorded(n) => sorted.not_recorded.push(n),
        }
    }
    sorted
}

/// The packets among a reader's events.
pub(crate) fn packets(events: &[Event]) -> Vec<&Packet> {
    by_kind(events).packets
}

/// The damage among a reader's events.
pub(crate) fn damage(events: &[Event]) -> Vec<&Damage> {
    by_kind(events).damage
}

/// The configuration changes among a reader's events.
pub(crate) fn configs(events: &[Event]) -> Vec<&Arc<CodecConfig>> {
    by_kind(events).configs
}

/// Writes `packets` as one session starting at [`START_MS`] through the muxer `open` makes,
/// into `dir` as `stream`, and completes the file as `base_name`.
pub(crate) fn mux_session(
    open: impl FnOnce(&FileOpen<'_>) -> Box<dyn Muxer>,
    dir: &Path,
    stream: &str,
    config: &CodecConfig,
    packets: &[Packet],
    base_name: &str,
) -> Produced {
    let sessions = [(first_session(START_MS), packets)];
    let options = MuxOptions::default();
    mux_sessions(open, (dir, stream), config, &options, &sessions, base_name)
}

/// Writes `sessions` (each a start and its packets on the file timeline) through the muxer
/// `open` makes, into `dir` as `stream`, and completes the file as `base_name`.
pub(crate) fn mux_sessions(
    open: impl FnOnce(&FileOpen<'_>) -> Box<dyn Muxer>,
    (dir, stream): (&Path, &str),
    config: &CodecConfig,
    options: &MuxOptions,
    sessions: &[(SessionStart, &[Packet])],
    base_name: &str,
) -> Produced {
    let start_time_s = crate::sink::naming::name_second(sessions[0].0.wall_ms);
    let file = file_open((dir, stream), start_time_s, config, options);
    let mut m = open(&file);
    for (start, packets) in sessions {
        m.begin_session(start).unwrap();
        for p in packets.iter() {
            m.write(p).unwrap();
        }
    }
    let close = FileClose {
        base_name: base_name.to_string(),
    };
    m.finish(&close).unwrap()
}

/// The committed pushes of `show`, 70 s apart.
pub(crate) const SHOW_PUSHES: [&str; 2] = ["push/show-1764075600.flv", "push/show-1764075670.flv"];
/// The wall clock start of the first `show` push: 2025-11-25T13:00:00Z.
pub(crate) const SHOW_START_MS: i64 = 1_764_075_600_000;

/// Where a test's file opens: `dir`, named `stream`, starting at `start_time_s`, its HLS
/// segments numbered from 0.
pub(crate) fn file_open<'a>(
    (dir, stream): (&'a Path, &'a str),
    start_time_s: i64,
    config: &'a CodecConfig,
    options: &'a MuxOptions,
) -> FileOpen<'a> {
    FileOpen {
        dir,
        stream_name: stream,
        start_time_s,
        first_segment: 0,
        config,
        options,
    }
}

/// The start of a file's first session, at `wall_ms`.
pub(crate) fn first_session(wall_ms: i64) -> SessionStart {
    SessionStart {
        file_dts_90k: 0,
        wall_ms,
        spliced: false,
    }
}

/// A push spliced into the file after `first`, one video frame (40 ms) after its last packet on
/// the file timeline, beginning at `wall_ms`: its session start and `second` moved onto the file
/// timeline.
pub(crate) fn splice_after(
    first: &[Packet],
    second: &[Packet],
    wall_ms: i64,
) -> (SessionStart, Vec<Packet>) {
    let file_dts_90k = first.iter().map(|p| p.dts_90k).max().unwrap() + 40 * 90;
    let moved = (second.iter())
        .map(|p| Packet {
            dts_90k: p.dts_90k + file_dts_90k,
            ..p.clone()
        })
        .collect();
    let start = SessionStart {
        file_dts_90k,
        wall_ms,
        spliced: true,
    };
    (start, moved)
}

/// Calls `f` with every prefix of `bytes` and with every copy of it that has one bit flipped.
pub(crate) fn each_mangled(bytes: &[u8], mut f: impl FnMut(&[u8])) {
    for len in 0..=bytes.len() {
        f(&bytes[..len]);
    }
    for i in 0..bytes.len() * 8 {
        let mut v = bytes.to_vec();
        v[i / 8] ^= 1 << (i % 8);
        f(&v);
    }
}

/// Calls `f` with runs of one byte value (0x00, 0xFF, 0x55, 0xAA) of every length below `max_len`.
pub(crate) fn each_filled(max_len: usize, mut f: impl FnMut(Vec<u8>)) {
    for fill in [0x00u8, 0xff, 0x55, 0xaa] {
        for len in 0..max_len {
            f(vec![fill; len]);
        }
    }
}

/// `be`, the big-endian bytes of a number, in the byte order asked for.
pub(crate) fn in_byte_order<const N: usize>(big_endian: bool, mut be: [u8; N]) -> [u8; N] {
    if !big_endian {
        be.reverse();
    }
    be
}
