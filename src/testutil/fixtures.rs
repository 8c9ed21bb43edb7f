//! Builders the unit tests share: packets and configurations made by hand, the events a reader
//! gave sorted by kind, and one session muxed into a file.

use std::path::Path;

use crate::media::{
    AudioCodec, AudioConfig, CodecConfig, Damage, Event, Packet, Track, TrackKind, VideoCodec,
    VideoConfig,
};
use crate::mux::{FileClose, FileOpen, MuxOptions, Muxer, Produced, SessionStart};

/// The wall clock of the test files' start: 2025-11-25T12:00:00Z.
pub const START_MS: i64 = 1_764_072_000_000;

/// A packet of track 0 of `kind` at `dts_ms`, presented at its DTS.
pub fn packet(kind: TrackKind, dts_ms: i64, keyframe: bool, data: &[u8]) -> Packet {
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
pub fn h264_aac() -> CodecConfig {
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

/// The packets among a reader's events.
pub fn packets(events: &[Event]) -> Vec<&Packet> {
    (events.iter())
        .filter_map(|e| match e {
            Event::Packet(p) => Some(p),
            Event::Config(_) | Event::Damage(_) | Event::NotRecorded(_) => None,
        })
        .collect()
}

/// The damage among a reader's events.
pub fn damage(events: &[Event]) -> Vec<&Damage> {
    (events.iter())
        .filter_map(|e| match e {
            Event::Damage(d) => Some(d),
            Event::Config(_) | Event::Packet(_) | Event::NotRecorded(_) => None,
        })
        .collect()
}

/// Writes `packets` as one session starting at [`START_MS`] through the muxer `open` makes,
/// into `dir` as `stream`, and completes the file as `base_name`.
pub fn mux_session(
    open: impl FnOnce(&FileOpen<'_>) -> Box<dyn Muxer>,
    dir: &Path,
    stream: &str,
    config: &CodecConfig,
    packets: &[Packet],
    base_name: &str,
) -> Produced {
    let options = MuxOptions::default();
    let file = FileOpen {
        dir,
        stream_name: stream,
        start_time_s: START_MS / 1000,
        config,
        options: &options,
    };
    let mut m = open(&file);
    let start = SessionStart {
        file_dts_90k: 0,
        wall_ms: START_MS,
        spliced: false,
    };
    m.begin_session(&start).unwrap();
    for p in packets {
        m.write(p).unwrap();
    }
    let close = FileClose {
        base_name: base_name.to_string(),
    };
    m.finish(&close).unwrap()
}
