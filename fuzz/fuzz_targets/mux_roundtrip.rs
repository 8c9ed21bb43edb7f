//! The recording writers on arbitrary packet sequences that keep the muxer contract
//! ([`kls_rec::mux::Muxer`]: file-relative DTS, per track non-decreasing, the first video
//! packet a keyframe) but are otherwise hostile: odd codec configuration bytes, payloads that
//! are not NAL units, huge composition offsets and DTS jumps, splices, tiny HLS segments.
//! Errors are allowed, panics are not. A recording written from a valid configuration is read
//! back with kls-rec's own readers and must give the packets written: the same payloads in the
//! same order per track (FLV: in the same order overall). HLS video only never gains packets:
//! its payloads go through Annex B, which bytes that are not NAL units do not survive, and the
//! reader removes the delimiters and parameter sets the writer adds.
//! MP4 is also written the second way, following a plan learnt from the same packets (as an
//! index pass does): it must fail where the spooling writer fails, and else give its bytes.

#![no_main]

use std::path::PathBuf;

use kls_rec::format::Format;
use kls_rec::input::InputOptions;
use kls_rec::media::{
    AudioCodec, AudioConfig, CodecConfig, Event, FlvVideoSignal, Packet, Track, TrackKind,
    VideoCodec, VideoConfig,
};
use kls_rec::mux::hls::SegmentChoice;
use kls_rec::mux::mp4::{FilePlan, Mp4Muxer, Planner};
use kls_rec::mux::{self, FileClose, FileOpen, MuxOptions, SessionStart};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;

/// The fixtures' AVCDecoderConfigurationRecord (High profile, 160x120) and AAC LC stereo
/// 44.1 kHz AudioSpecificConfig, for runs that need a configuration the reader accepts.
const AVCC: &[u8] = &[
    0x01, 0x64, 0x00, 0x0b, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0b, 0xac, 0xd9, 0x42, 0x84,
    0x7e, 0x5c, 0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc5, 0x0a, 0x65,
    0x80, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0, 0xfd, 0xf8, 0xf8, 0x00,
];
const ASC: &[u8] = &[0x12, 0x10, 0x56, 0xe5, 0x00];
const AAC_SOUND_BYTE: u8 = 0xAF;
const MAX_PACKETS: usize = 300;

fn video_config(u: &mut Unstructured) -> Result<(Option<VideoConfig>, bool)> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => (None, true),
        1 => (
            Some(VideoConfig {
                flv_track: None,
                codec: VideoCodec::H264,
                record: AVCC.to_vec(),
                width: 160,
                height: 120,
                flv_signal: FlvVideoSignal::CodecId,
            }),
            true,
        ),
        _ => {
            let len = u.int_in_range(0..=64usize)?;
            (
                Some(VideoConfig {
                    flv_track: None,
                    codec: if u.arbitrary()? {
                        VideoCodec::Hevc
                    } else {
                        VideoCodec::H264
                    },
                    record: u.bytes(len)?.to_vec(),
                    width: u.int_in_range(0..=8192)?,
                    height: u.int_in_range(0..=8192)?,
                    flv_signal: if u.arbitrary()? {
                        FlvVideoSignal::Enhanced
                    } else {
                        FlvVideoSignal::CodecId
                    },
                }),
                false,
            )
        }
    })
}

fn audio_config(u: &mut Unstructured) -> Result<(Option<AudioConfig>, bool)> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => (None, true),
        1 => (
            Some(AudioConfig {
                codec: AudioCodec::Aac,
                specific: ASC.to_vec(),
                sample_rate: 44_100,
                channels: 2,
                flv_sound_byte: AAC_SOUND_BYTE,
                flv_track: None,
            }),
            true,
        ),
        _ => {
            let codec = if u.arbitrary()? {
                AudioCodec::Mp3
            } else {
                AudioCodec::Aac
            };
            let len = u.int_in_range(0..=16usize)?;
            (
                Some(AudioConfig {
                    codec,
                    specific: u.bytes(len)?.to_vec(),
                    sample_rate: u.arbitrary()?,
                    channels: u.arbitrary()?,
                    flv_sound_byte: u.arbitrary()?,
                    flv_track: None,
                }),
                false,
            )
        }
    })
}

/// A packet DTS step: mostly a frame or two, sometimes a jump of hours or days.
fn dts_step_90k(u: &mut Unstructured) -> Result<i64> {
    Ok(match u.int_in_range(0..=15u8)? {
        0 => i64::from(u.arbitrary::<u32>()?) * 90,
        1 => 0,
        _ => i64::from(u.int_in_range(1..=200u32)?) * 90,
    })
}

struct Run {
    config: CodecConfig,
    /// Both tracks' configurations are ones the FLV reader parses back.
    readable: bool,
    format: Format,
    hls_segment_90k: i64,
    /// Packets, each with whether a spliced session begins at it.
    packets: Vec<(bool, Packet)>,
}

fn run(u: &mut Unstructured) -> Result<Run> {
    let (video, v_ok) = video_config(u)?;
    let (audio, a_ok) = audio_config(u)?;
    // Sometimes a second audio track, as a multitrack push sends.
    let (more_audio, m_ok) = match audio.is_some() && u.ratio(1, 4)? {
        true => match audio_config(u)? {
            (Some(a), ok) => (vec![a], ok),
            (None, ok) => (Vec::new(), ok),
        },
        false => (Vec::new(), true),
    };
    let format = *u.choose(&Format::ALL)?;
    let hls_segment_90k = i64::from(u.int_in_range(1..=20_000u32)?) * 90;
    let mut tracks = Vec::new();
    if video.is_some() {
        tracks.push(Track::VIDEO);
    }
    if audio.is_some() {
        tracks.push(Track::AUDIO);
    }
    if !more_audio.is_empty() {
        tracks.push(Track::audio(1));
    }
    let mut packets = Vec::new();
    let mut dts_90k = vec![0i64; tracks.len()];
    let mut seen_video = false;
    while !tracks.is_empty() && packets.len() < MAX_PACKETS && !u.is_empty() {
        let i = u.choose_index(tracks.len())?;
        let (track, kind) = (tracks[i], tracks[i].kind);
        dts_90k[i] += dts_step_90k(u)?;
        let cts_ms = if kind == TrackKind::Video {
            u.int_in_range(-(1 << 23)..=(1 << 23) - 1)?
        } else {
            0
        };
        let keyframe = kind == TrackKind::Audio || !seen_video || u.arbitrary()?;
        seen_video |= kind == TrackKind::Video;
        let len = u.int_in_range(1..=4096usize)?;
        let data = u.bytes(len.min(u.len().max(1)))?.to_vec();
        if data.is_empty() {
            break;
        }
        let splice = !packets.is_empty() && u.ratio(1, 40)?;
        packets.push((
            splice,
            Packet {
                track,
                dts_90k: dts_90k[i],
                cts_90k: cts_ms * 90,
                keyframe,
                data,
                offset_ns: 0,
            },
        ));
    }
    Ok(Run {
        config: CodecConfig {
            more_video: Vec::new(),
            video,
            audio,
            video_built: None,
            more_audio,
        },
        readable: v_ok && a_ok && m_ok,
        format,
        hls_segment_90k,
        packets,
    })
}

fn scratch_dir() -> PathBuf {
    // tmpfs where there is one: every file is fsynced when committed.
    let base = std::path::Path::new("/dev/shm");
    let base = if base.is_dir() {
        base.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("kls-rec-fuzz-mux-{}", std::process::id()))
}

const START_S: i64 = 1_764_072_000;
const BASE_NAME: &str = "fuzz-1764072000-1764072001";

/// Writes the run; MP4 follows `plan` when one is given.
fn write(
    run: &Run,
    dir: &std::path::Path,
    plan: Option<Option<FilePlan>>,
) -> anyhow::Result<mux::Produced> {
    let options = MuxOptions {
        hls_segment_90k: run.hls_segment_90k,
        // Both segment formats, chosen by the input so a finding reproduces from its file.
        hls_segments: match run.hls_segment_90k % 3 {
            0 => SegmentChoice::Auto,
            1 => SegmentChoice::Ts,
            _ => SegmentChoice::Fmp4,
        },
    };
    let open = FileOpen {
        dir,
        stream_name: "fuzz",
        start_time_s: START_S,
        first_segment: 0,
        config: &run.config,
        options: &options,
    };
    let mut m: Box<dyn mux::Muxer> = match plan {
        Some(plan) => Box::new(Mp4Muxer::follow(&open, plan, "fuzz.flv")?),
        None => mux::open(run.format, &open)?,
    };
    m.begin_session(&SessionStart {
        file_dts_90k: 0,
        wall_ms: 1_764_072_000_000,
        spliced: false,
    })?;
    for (splice, p) in &run.packets {
        if *splice {
            m.begin_session(&SessionStart {
                file_dts_90k: p.dts_90k,
                wall_ms: 1_764_072_000_000 + p.dts_90k / 90,
                spliced: true,
            })?;
        }
        m.write(p)?;
    }
    m.finish(&FileClose {
        base_name: BASE_NAME.into(),
    })
}

/// What an index pass learns from the run (`None`: the planner refuses it, as the spooling
/// writer's `open` or `write` would).
fn plan(run: &Run) -> Option<FilePlan> {
    let mut p = Planner::new(&run.config, START_S).ok()?;
    p.begin_session("fuzz.flv");
    for (splice, packet) in &run.packets {
        if *splice {
            p.begin_session("fuzz.flv");
        }
        p.write(packet).ok()?;
    }
    Some(p.finish(BASE_NAME))
}

/// Reads a recording back: per track, the payloads in order must be the packets written.
fn read_back(run: &Run, produced: &mux::Produced) {
    let what = format!("{:?} read back", run.format);
    let path = produced.path.to_str().expect("a UTF-8 scratch path");
    let sessions = kls_rec::input::open(path, &InputOptions::default())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut got = Vec::new();
    for session in sessions {
        let mut s = session.open().unwrap_or_else(|e| panic!("{what}: {e}"));
        while let Some(e) = s.next_event().unwrap_or_else(|e| panic!("{what}: {e}")) {
            if let Event::Packet(p) = e {
                got.push((p.track, p.data));
            }
        }
    }
    // Each packet with the discontinuity run it is in: a splice begins a run, and each run of
    // an HLS playlist reads back as a push of its own.
    let mut runs = 0;
    let mut want: Vec<_> = run
        .packets
        .iter()
        .map(|(splice, p)| {
            runs += usize::from(*splice);
            (runs, p.track, p.data.clone())
        })
        .collect();
    let ts_segments = produced
        .parts
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "ts"));
    if ts_segments {
        // An MPEG-TS audio stream configures by its frames: one without any in a run is no
        // track of that push, and the ones behind it take its place.
        for r in 0..=runs {
            let spoken: Vec<u8> = (0..=1)
                .filter(|&i| {
                    want.iter()
                        .any(|(x, t, _)| *x == r && *t == Track::audio(i))
                })
                .collect();
            for (_, t, _) in want.iter_mut().filter(|(x, _, _)| *x == r) {
                if t.kind == TrackKind::Audio {
                    t.index = spoken.iter().position(|&i| i == t.index).unwrap() as u8;
                }
            }
        }
    }
    let want: Vec<_> = want.into_iter().map(|(_, t, d)| (t, d)).collect();
    if run.format == Format::Flv {
        assert_eq!(got.len(), want.len(), "{what}: packets");
        assert!(got == want, "{what}: payloads differ");
        return;
    }
    let tracks = [Track::VIDEO, Track::AUDIO, Track::audio(1)];
    for track in tracks {
        let of = |v: &[(Track, Vec<u8>)]| -> Vec<Vec<u8>> {
            v.iter()
                .filter(|(t, _)| *t == track)
                .map(|(_, d)| d.clone())
                .collect()
        };
        let (got, want) = (of(&got), of(&want));
        if run.format == Format::Hls && track == Track::VIDEO {
            // The reader removes the access unit delimiters and parameter sets the writer
            // inserts, so a payload made of nothing else reads back as no packet.
            assert!(
                got.len() <= want.len(),
                "{what}: {track:?} packets invented"
            );
        } else {
            assert_eq!(got.len(), want.len(), "{what}: {track:?} packets");
            assert!(got == want, "{what}: {track:?} payloads differ");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(run) = run(&mut u) else { return };
    let dir = scratch_dir();
    let _ = std::fs::remove_dir_all(&dir);
    let written = write(&run, &dir, None);
    if run.format == Format::Mp4 {
        let planned_dir = dir.join("planned");
        let planned = plan(&run).and_then(|p| write(&run, &planned_dir, Some(Some(p))).ok());
        match (&written, planned) {
            (Ok(spooled), Some(planned)) => assert!(
                std::fs::read(&spooled.path).unwrap() == std::fs::read(&planned.path).unwrap()
                    && spooled.md5 == planned.md5,
                "the planned MP4 differs from the spooled one"
            ),
            (Err(_), None) => {}
            (Ok(_), None) => panic!("the spooled MP4 was written, the planned one was not"),
            (Err(e), Some(_)) => panic!("the planned MP4 was written, the spooled one failed: {e}"),
        }
    }
    if let Ok(produced) = written {
        let len = std::fs::metadata(&produced.path)
            .expect("the produced file exists")
            .len();
        assert_eq!(
            len,
            produced.size,
            "size reported for {}",
            produced.path.display()
        );
        for part in &produced.parts {
            assert!(part.is_file(), "missing part {}", part.display());
        }
        if run.readable {
            read_back(&run, &produced);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});
