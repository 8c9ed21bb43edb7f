//! MP4 writer tests: the fixtures remuxed and cross-checked with ffprobe/ffmpeg, the box layout
//! and configuration bytes read back, and a file past 4 GiB.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::media::VideoCodec;
use crate::media::{AudioCodec, AudioConfig, TrackKind, VideoConfig};
use crate::mux::MuxOptions;
use crate::testutil::fixtures::{
    SHOW_PUSHES, SHOW_START_MS, first_session, mux_sessions, splice_after,
};
use crate::testutil::{
    ProbePacket, assert_decodes_cleanly, assert_same_packets, have_ffprobe, of, probe_packets,
    probe_show_spliced, scratch, testdata,
};

mod large;
mod planned;
mod synthetic;

/// A fixture's tags as the muxer sees them: configuration from the sequence headers, packets
/// with millisecond times in the 90 kHz clock.
struct Fixture {
    config: CodecConfig,
    packets: Vec<Packet>,
}

/// A minimal FLV tag walker (FLV spec v10.1 §E.4) for committed, well-formed fixtures only.
fn read_flv(path: &Path, width: u32, height: u32) -> Fixture {
    let d = std::fs::read(path).unwrap();
    assert_eq!(&d[..3], b"FLV");
    let mut pos = u32::from_be_bytes(d[5..9].try_into().unwrap()) as usize + 4;
    let mut config = CodecConfig::default();
    let mut packets = Vec::new();
    while pos + 11 <= d.len() {
        let kind = d[pos] & 0x1F;
        let size = u32::from_be_bytes([0, d[pos + 1], d[pos + 2], d[pos + 3]]) as usize;
        let ts_ms = i64::from(u32::from_be_bytes([
            d[pos + 7],
            d[pos + 4],
            d[pos + 5],
            d[pos + 6],
        ]));
        let body = &d[pos + 11..pos + 11 + size];
        pos += 11 + size + 4;
        match kind {
            9 if body[0] & 0x0F == 7 => {
                let cts_ms = (i32::from_be_bytes([body[2], body[3], body[4], 0])) >> 8;
                if body[1] == 0 {
                    config.video = Some(VideoConfig {
                        flv_track: None,
                        codec: VideoCodec::H264,
                        record: body[5..].to_vec(),
                        width,
                        height,
                        flv_signal: Default::default(),
                    });
                } else if body[1] == 1 {
                    packets.push(Packet {
                        track: crate::media::Track::VIDEO,
                        dts_90k: ts_ms * 90,
                        cts_90k: cts_ms * 90,
                        keyframe: body[0] >> 4 == 1,
                        data: body[5..].to_vec(),
                        offset_ns: 0,
                    });
                }
            }
            8 if body[0] >> 4 == 10 => {
                if body[1] == 0 {
                    config.audio = Some(AudioConfig {
                        codec: AudioCodec::Aac,
                        specific: body[2..].to_vec(),
                        sample_rate: 44_100,
                        channels: 2,
                        flv_sound_byte: body[0],
                        flv_track: None,
                    });
                } else {
                    packets.push(Packet {
                        track: crate::media::Track::AUDIO,
                        dts_90k: ts_ms * 90,
                        cts_90k: 0,
                        keyframe: true,
                        data: body[2..].to_vec(),
                        offset_ns: 0,
                    });
                }
            }
            _ => {}
        }
    }
    Fixture { config, packets }
}

/// Muxes `packets` as one session into `dir`, named `base`.
fn mux(config: &CodecConfig, packets: &[Packet], dir: &Path, base: &str) -> Produced {
    let open = |f: &FileOpen<'_>| -> Box<dyn Muxer> { Box::new(Mp4Muxer::open(f).unwrap()) };
    crate::testutil::fixtures::mux_session(open, dir, "test", config, packets, base)
}

/// Top-level boxes: (type, offset, size).
fn top_boxes(d: &[u8]) -> Vec<([u8; 4], u64, u64)> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= d.len() {
        let mut size = u64::from(u32::from_be_bytes(d[pos..pos + 4].try_into().unwrap()));
        if size == 1 {
            size = u64::from_be_bytes(d[pos + 8..pos + 16].try_into().unwrap());
        }
        out.push((d[pos + 4..pos + 8].try_into().unwrap(), pos as u64, size));
        pos += size as usize;
    }
    out
}

/// The payload of the first box at `path` under `d`, descending through containers; sample
/// descriptions skip their fixed fields before their child boxes.
fn find<'a>(d: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let (first, rest) = path.split_first()?;
    let mut pos = 0usize;
    while pos + 8 <= d.len() {
        let size = u32::from_be_bytes(d[pos..pos + 4].try_into().ok()?) as usize;
        let body = d.get(pos + 8..pos + size)?;
        if &d[pos + 4..pos + 8] == *first {
            if rest.is_empty() {
                return Some(body);
            }
            let skip = match *first {
                b"stsd" => 8,
                b"avc1" | b"hvc1" => 78,
                b"mp4a" => 28,
                _ => 0,
            };
            return find(body.get(skip..)?, rest);
        }
        pos += size.max(8);
    }
    None
}

/// The `trak` boxes of a file's `moov`, in order.
fn traks(moov: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 8 <= moov.len() {
        let size = u32::from_be_bytes(moov[pos..pos + 4].try_into().unwrap()) as usize;
        if &moov[pos + 4..pos + 8] == b"trak" {
            out.push(&moov[pos + 8..pos + size]);
        }
        pos += size;
    }
    out
}

/// Asserts that per stream every packet carries over (size, hash, keyframe flag) and that PTS
/// and DTS are shifted by one constant, the same for audio and video.
fn assert_remuxed(src: &[ProbePacket], out: &[ProbePacket], what: &str) {
    let mut shifts = Vec::new();
    for kind in ["video", "audio"] {
        let (a, b) = (of(src, kind), of(out, kind));
        assert_same_packets(&a, &b, true, &format!("{what}: {kind}"));
        if let Some((x, y)) = a.first().zip(b.first()) {
            shifts.push(y.dts_ms.unwrap() - x.dts_ms.unwrap());
        }
    }
    assert!(
        shifts.windows(2).all(|w| w[0] == w[1]),
        "{what}: A/V shift differs: {shifts:?}"
    );
}

/// Remuxes a fixture twice and checks everything the README promises of the MP4 output.
fn check_fixture(name: &str, width: u32, height: u32) -> PathBuf {
    let src = testdata(name);
    let fx = read_flv(&src, width, height);
    let dir = scratch(&format!("mp4-{name}"));
    let produced = mux(&fx.config, &fx.packets, &dir, "out");
    let again = mux(&fx.config, &fx.packets, &dir.join("again"), "out");
    let bytes = std::fs::read(&produced.path).unwrap();
    assert_eq!(
        bytes,
        std::fs::read(&again.path).unwrap(),
        "{name}: two runs differ"
    );
    assert_eq!(produced.size, bytes.len() as u64, "{name}: size");
    assert_eq!(
        produced.md5,
        crate::sink::local::md5_of_file(&produced.path).unwrap(),
        "{name}: MD5"
    );
    let temporary = produced.path.with_extension("");
    assert!(produced.written && !temporary.exists(), "{name}: written");

    let boxes: Vec<[u8; 4]> = top_boxes(&bytes).iter().map(|b| b.0).collect();
    assert_eq!(boxes, [*b"ftyp", *b"moov", *b"mdat"], "{name}");
    let moov = find(&bytes, &[b"moov"]).unwrap();
    let traks = traks(moov);
    let expected = usize::from(fx.config.video.is_some()) + usize::from(fx.config.audio.is_some());
    assert_eq!(traks.len(), expected, "{name}: tracks");
    let mut t = traks.iter();
    if let Some(v) = &fx.config.video {
        let trak = t.next().unwrap();
        let avcc = find(
            trak,
            &[b"mdia", b"minf", b"stbl", b"stsd", b"avc1", b"avcC"],
        );
        assert_eq!(avcc, Some(v.record.as_slice()), "{name}: avcC");
    }
    if let Some(a) = &fx.config.audio {
        let trak = t.next().unwrap();
        let esds = find(
            trak,
            &[b"mdia", b"minf", b"stbl", b"stsd", b"mp4a", b"esds"],
        )
        .unwrap_or_else(|| panic!("{name}: no esds"));
        let mut dsi = vec![0x05, 0x80, 0x80, 0x80, a.specific.len() as u8];
        dsi.extend_from_slice(&a.specific);
        let carried = esds.windows(dsi.len()).any(|w| w == dsi);
        assert!(carried, "{name}: ASC not carried");
    }

    if have_ffprobe() {
        assert_remuxed(&probe_packets(&src), &probe_packets(&produced.path), name);
        assert_decodes_cleanly(&produced.path);
    }
    produced.path
}

#[test]
fn b_frames_audio_and_video() {
    let path = check_fixture("studio-1764072000.flv", 320, 240);
    let bytes = std::fs::read(path).unwrap();
    let moov = find(&bytes, &[b"moov"]).unwrap();
    let video = traks(moov)[0];
    // B-frames: composition offsets and an edit list presenting from the first PTS.
    assert!(find(video, &[b"mdia", b"minf", b"stbl", b"ctts"]).is_some());
    let elst = find(video, &[b"edts", b"elst"]).unwrap();
    // Version 0, two entries: 23 ms empty (audio starts at 57 ms, video at 80), then from 80 ms.
    assert_eq!(&elst[..8], [0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(&elst[8..12], 23u32.to_be_bytes());
    assert_eq!(&elst[24..28], 80u32.to_be_bytes());
    let mdhd = find(video, &[b"mdia", b"mdhd"]).unwrap();
    assert_eq!(
        &mdhd[12..16],
        1000u32.to_be_bytes(),
        "millisecond timescale"
    );
}

/// Audio only (radio) and video only (silent).
#[test]
fn one_track_fixtures() {
    for (name, width, height) in [
        ("radio-1764072000.flv", 0, 0),
        ("silent-1764072000.flv", 160, 120),
    ] {
        check_fixture(name, width, height);
    }
}

/// Packets and times as ffprobe reports them, in stream time-base ticks: (type, pts, dts).
fn probe_ticks(path: &Path) -> Vec<(String, i64, i64)> {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "packet=codec_type,pts,dts",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn sub_millisecond_times_keep_a_90k_timescale() {
    // 29.97 fps: 3003 ticks per frame is no whole number of milliseconds.
    let mut fx = read_flv(&testdata("silent-1764072000.flv"), 160, 120);
    for (i, p) in fx.packets.iter_mut().enumerate() {
        p.dts_90k = i as i64 * 3003;
    }
    let dir = scratch("mp4-90k");
    let produced = mux(&fx.config, &fx.packets, &dir, "out");
    let bytes = std::fs::read(&produced.path).unwrap();
    let moov = find(&bytes, &[b"moov"]).unwrap();
    assert_eq!(
        &find(moov, &[b"mvhd"]).unwrap()[12..16],
        90_000u32.to_be_bytes()
    );
    let mdhd = find(traks(moov)[0], &[b"mdia", b"mdhd"]).unwrap();
    assert_eq!(&mdhd[12..16], 90_000u32.to_be_bytes());
    if have_ffprobe() {
        let ticks = probe_ticks(&produced.path);
        let want: Vec<_> = fx
            .packets
            .iter()
            .map(|p| ("video".to_string(), p.dts_90k, p.dts_90k))
            .collect();
        assert_eq!(ticks, want);
        assert_decodes_cleanly(&produced.path);
    }
}

#[test]
fn spliced_sessions_continue_the_timeline() {
    let [a, b] = SHOW_PUSHES.map(|p| read_flv(&testdata(p), 160, 120));
    assert_eq!(a.config, b.config, "the pushes share one configuration");
    let (start, b_packets) = splice_after(&a.packets, &b.packets, SHOW_START_MS + 70_000);
    let sessions = [
        (first_session(SHOW_START_MS), &a.packets[..]),
        (start, &b_packets[..]),
    ];
    let dir = scratch("mp4-splice");
    let open = |f: &FileOpen<'_>| -> Box<dyn Muxer> { Box::new(Mp4Muxer::open(f).unwrap()) };
    let options = MuxOptions::default();
    let base = "show-1764075600-1764075990";
    let produced = mux_sessions(open, (&dir, "show"), &a.config, &options, &sessions, base);
    assert!(produced.path.ends_with("show-1764075600-1764075990.mp4"));
    if have_ffprobe() {
        let want = probe_show_spliced(sessions[1].0.file_dts_90k / 90);
        assert_remuxed(&want, &probe_packets(&produced.path), "splice");
        assert_decodes_cleanly(&produced.path);
    }
}
