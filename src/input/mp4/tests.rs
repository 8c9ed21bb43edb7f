//! Round trips through kls-rec's MP4 writer, cross-checks with ffprobe on files ffmpeg wrote,
//! and damaged or hostile files.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::format::Format;
use crate::media::{CodecConfig, Packet};
use crate::mux::{FileClose, MuxOptions, SessionStart};
use crate::testutil::fixtures::file_open;
use crate::testutil::{Drained, drain, have_ffprobe, probe_packets, read_flv, scratch, testdata};

/// Writes one file of `format` holding `sessions` (wall clock, packets with file-relative times).
pub(crate) fn write(
    dir: &Path,
    format: Format,
    config: &CodecConfig,
    sessions: &[(i64, i64, &[Packet])],
) -> PathBuf {
    let options = MuxOptions::default();
    let file = file_open(
        (dir, "show"),
        crate::sink::naming::name_second(sessions[0].1),
        config,
        &options,
    );
    let mut mux = crate::mux::open(format, &file).unwrap();
    for (i, (file_dts_90k, wall_ms, packets)) in sessions.iter().enumerate() {
        mux.begin_session(&SessionStart {
            file_dts_90k: *file_dts_90k,
            wall_ms: *wall_ms,
            spliced: i > 0,
        })
        .unwrap();
        for p in packets.iter() {
            let mut p = p.clone();
            p.dts_90k += file_dts_90k;
            mux.write(&p).unwrap();
        }
    }
    let base = format!(
        "show-{}-{}",
        sessions[0].1 / 1000,
        sessions[0].1 / 1000 + 30
    );
    mux.finish(&FileClose { base_name: base }).unwrap().path
}

/// A fixture written as one `format` file (one session at 2025-11-25 12:00:00 UTC) in `dir`:
/// its configuration, its packets and the file.
pub(crate) fn write_fixture(
    dir: &Path,
    format: Format,
    name: &str,
) -> (CodecConfig, Vec<Packet>, PathBuf) {
    let (config, packets) = read_flv(&testdata(name));
    let path = write(dir, format, &config, &[(0, 1_764_072_000_000, &packets)]);
    (config, packets, path)
}

fn per_track(packets: &[Packet], track: TrackKind) -> Vec<&Packet> {
    packets.iter().filter(|p| p.track.kind == track).collect()
}

/// A packet as (DTS shifted by `shift_90k`, CTS, keyframe, size, payload hash): comparable
/// without printing payloads.
pub(crate) fn summary(packets: &[&Packet], shift_90k: i64) -> Vec<(i64, i32, bool, usize, String)> {
    packets
        .iter()
        .map(|p| {
            (
                p.dts_90k + shift_90k,
                p.cts_90k,
                p.keyframe,
                p.data.len(),
                md5_hex(&p.data),
            )
        })
        .collect()
}

/// Checks `got` equals `want` per track, every time shifted by one constant (the file's
/// origin); returns that shift.
pub(crate) fn assert_same_packets(got: &[Packet], want: &[Packet], what: &str) -> i64 {
    let first = |p: &[Packet]| p.iter().map(|p| p.dts_90k).min().unwrap_or(0);
    let shift = first(want) - first(got);
    for track in [TrackKind::Video, TrackKind::Audio] {
        assert_eq!(
            summary(&per_track(got, track), shift),
            summary(&per_track(want, track), 0),
            "{what}: {track} packets"
        );
    }
    shift
}

#[test]
fn our_mp4_reads_back_exactly() {
    let dir = scratch("mp4-read-roundtrip");
    for name in crate::testutil::fixtures::FLV_OF_EACH_KIND {
        let dir = dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let (config, packets, path) = write_fixture(&dir, Format::Mp4, name);
        let mut s = Mp4Session::open(&path).unwrap();
        assert_eq!(**s.config(), config, "{name}: configuration bytes");
        let Drained {
            packets: got,
            damage,
            ..
        } = drain(&mut s).unchanged();
        assert!(damage.is_empty(), "{name}: {damage:?}");
        // The movie's time 0 is the earliest presentation time of any track.
        let shift = assert_same_packets(&got, &packets, name);
        let min_pts = packets.iter().map(Packet::pts_90k).min().unwrap();
        assert_eq!(shift, min_pts, "{name}");
        // The pending session: stream and wall clock from kls-rec's own name.
        let pending = open_path(&path, &InputOptions::default()).unwrap();
        assert_eq!(pending.info.key.stream, "show");
        assert_eq!(pending.info.key.app, "live");
        assert_eq!(pending.info.wall_start_ms, 1_764_072_000_000);
        assert_eq!(
            pending.info.wall_clock,
            crate::input::WallClockSource::FileName
        );
        // input::open recognises it.
        let all = crate::input::open(path.to_str().unwrap(), &InputOptions::default()).unwrap();
        assert_eq!(all.len(), 1);
    }
}

#[test]
fn index_lists_tracks_and_boxes() {
    let dir = scratch("mp4-read-index");
    let (config, packets, path) = write_fixture(&dir, Format::Mp4, "studio-1764072000.flv");
    let ix = read_index(&path).unwrap();
    assert!(ix.moov_first);
    assert_eq!(
        ix.major_brand.map(|b| b.to_string()).as_deref(),
        Some("isom")
    );
    assert_eq!(ix.creation_time_s(), Some(1_764_072_000));
    assert_eq!(ix.tracks.len(), 2);
    let v = &ix.tracks[0];
    assert_eq!(
        (v.kind, v.entry.as_ref().map(|e| e.fourcc.to_string())),
        (Some(TrackKind::Video), Some("avc1".to_string()))
    );
    let n_video = per_track(&packets, TrackKind::Video).len() as u32;
    assert_eq!(v.samples(), n_video);
    assert_eq!(
        v.sync_samples(),
        Some(
            per_track(&packets, TrackKind::Video)
                .iter()
                .filter(|p| p.keyframe)
                .count() as u32
        )
    );
    let bytes: u64 = per_track(&packets, TrackKind::Video)
        .iter()
        .map(|p| p.data.len() as u64)
        .sum();
    assert_eq!(v.sample_bytes(), bytes);
    assert!(
        matches!(v.entry.as_ref().map(|e| &e.codec), Some(EntryCodec::Video(c)) if Some(c) == config.video.as_ref())
    );
    let kinds: Vec<&str> = ix.layout.iter().map(|b| b.kind.as_str()).collect();
    for k in ["ftyp", "moov", "mvhd", "trak", "stbl", "stsz", "mdat"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert_eq!(ix.layout.last().map(|b| b.kind.as_str()), Some("mdat"));
}

fn ffmpeg(args: &[&str]) -> bool {
    Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares the packets we read with ffprobe's, per track: times (ms), sizes, data hashes.
pub(crate) fn assert_matches_ffprobe(path: &Path, got: &[Packet]) {
    assert_times_match_ffprobe(path, got, 0, true);
}

/// Compares times (ffprobe's less `offset_90k`), counts and keyframes with ffprobe's; sizes and
/// hashes too when `payloads` (not for MPEG-TS, where ffprobe sees Annex B and ADTS).
pub(crate) fn assert_times_match_ffprobe(
    path: &Path,
    got: &[Packet],
    offset_90k: i64,
    payloads: bool,
) {
    let probed = probe_packets(path);
    for (track, name) in [(TrackKind::Video, "video"), (TrackKind::Audio, "audio")] {
        let ours = per_track(got, track);
        let theirs: Vec<_> = probed.iter().filter(|p| p.codec_type == name).collect();
        assert_eq!(
            ours.len(),
            theirs.len(),
            "{}: {name} packet count",
            path.display()
        );
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let at = format!("{} {name} packet {i}", path.display());
            if payloads {
                assert_eq!(o.data.len() as u64, t.size, "{at}: size");
                assert_eq!(format!("MD5:{}", md5_hex(&o.data)), t.hash, "{at}: data");
            }
            let ms = |t_90k: i64| ((t_90k + offset_90k) as f64 / 90.0).round() as i64;
            assert!(
                t.dts_ms.is_none_or(|d| (d - ms(o.dts_90k)).abs() <= 1),
                "{at}: dts {:?} vs {}",
                t.dts_ms,
                o.dts_90k
            );
            assert!(
                t.pts_ms.is_none_or(|p| (p - ms(o.pts_90k())).abs() <= 1),
                "{at}: pts {:?} vs {}",
                t.pts_ms,
                o.pts_90k()
            );
            assert_eq!(o.keyframe, t.keyframe, "{at}: keyframe");
        }
    }
}

#[test]
fn ffmpeg_mp4_matches_ffprobe() {
    if !have_ffprobe() {
        return;
    }
    let dir = scratch("mp4-read-ffmpeg");
    let src = testdata("studio-1764072000.flv");
    // moov at the end (ffmpeg's default) and at the front.
    for (name, extra) in [("tail.mp4", None), ("fast.mp4", Some("+faststart"))] {
        let out = dir.join(name);
        let mut args = vec!["-i", src.to_str().unwrap(), "-c", "copy"];
        if let Some(f) = extra {
            args.extend(["-movflags", f]);
        }
        args.push(out.to_str().unwrap());
        assert!(ffmpeg(&args), "ffmpeg failed");
        let mut s = Mp4Session::open(&out).unwrap();
        let Drained {
            packets: got,
            damage,
            ..
        } = drain(&mut s).unchanged();
        assert!(damage.is_empty(), "{damage:?}");
        assert_matches_ffprobe(&out, &got);
        assert_eq!(read_index(&out).unwrap().moov_first, extra.is_some());
    }
}

#[test]
fn truncated_files_are_errors_or_recovered() {
    let dir = scratch("mp4-read-truncated");
    let (_, packets, path) = write_fixture(&dir, Format::Mp4, "studio-1764072000.flv");
    let bytes = std::fs::read(&path).unwrap();
    let ix = read_index(&path).unwrap();
    let moov = ix.layout.iter().find(|b| b.kind == "moov").unwrap();

    // moov cut: a clear error naming the box and offset.
    let cut = dir.join("moov-cut.mp4");
    std::fs::write(&cut, &bytes[..(moov.offset + moov.size / 2) as usize]).unwrap();
    let e = Mp4Session::open(&cut).err().unwrap();
    assert_eq!(e.offset, Some(moov.offset));
    assert!(e.to_string().contains("'moov'"), "{e}");

    // mdat cut in the middle: the samples inside the file are read, the loss reported.
    let cut = dir.join("mdat-cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut s = Mp4Session::open(&cut).unwrap();
    assert!(
        s.warnings.iter().any(|w| w.contains("truncated")),
        "{:?}",
        s.warnings
    );
    let Drained {
        packets: got,
        damage,
        ..
    } = drain(&mut s).unchanged();
    assert!(!got.is_empty() && got.len() < packets.len());
    assert_eq!(damage.len(), 2, "{damage:?}");
    assert!(damage.iter().all(|d| matches!(d, Damage::Truncated { .. })));
    let shift = packets.iter().map(Packet::pts_90k).min().unwrap();
    for track in [TrackKind::Video, TrackKind::Audio] {
        let ours = per_track(&got, track);
        let want = per_track(&packets, track);
        assert_eq!(
            summary(&ours, shift),
            summary(&want[..ours.len()], 0),
            "{track}"
        );
    }

    // A fragmented file (ffmpeg's frag_keyframe+empty_moov) reads back packet-exact.
    let frag = dir.join("frag.mp4");
    if have_ffprobe()
        && ffmpeg(&[
            "-i",
            testdata("radio-1764072000.flv").to_str().unwrap(),
            "-c",
            "copy",
            "-movflags",
            "frag_keyframe+empty_moov",
            frag.to_str().unwrap(),
        ])
    {
        let mut s = Mp4Session::open(&frag).unwrap();
        let got = crate::testutil::drain(&mut s).packets;
        let (_, want) = crate::testutil::read_flv(&testdata("radio-1764072000.flv"));
        assert_eq!(got.len(), want.len(), "packet count");
        let shift = got[0].dts_90k - want[0].dts_90k;
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.data, w.data, "packet {i} payload");
            assert_eq!(g.keyframe, w.keyframe, "packet {i} key flag");
            // ffmpeg wrote the FLV's milliseconds in a 1/44100 timescale: within 1 ms.
            assert!(
                (g.dts_90k - w.dts_90k - shift).abs() <= 90,
                "packet {i} dts"
            );
            assert_eq!(g.cts_90k, w.cts_90k, "packet {i} cts");
        }
    }
}

/// A box header: 32-bit size and type.
fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

#[test]
fn hostile_boxes_never_panic() {
    let dir = scratch("mp4-read-hostile");
    // Deep nesting: 100 000 nested containers inside moov; the layout stops at its depth bound.
    let mut inner = boxed(b"free", &[]);
    for _ in 0..100_000 {
        inner = boxed(b"udta", &inner);
    }
    let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
    file.extend(boxed(b"moov", &inner));
    let p = dir.join("deep.mp4");
    std::fs::write(&p, &file).unwrap();
    let e = Mp4Session::open(&p).err().unwrap();
    assert!(e.to_string().contains("'mvhd'"), "{e}");

    // A sample count far beyond the bytes behind it, and a size past the file.
    let mut file = boxed(b"ftyp", b"isom\0\0\0\0");
    file.extend(0xFFFF_FFF0u32.to_be_bytes());
    file.extend(b"moov");
    let p = dir.join("huge.mp4");
    std::fs::write(&p, &file).unwrap();
    let e = Mp4Session::open(&p).err().unwrap();
    assert!(e.to_string().contains("exceeds"), "{e}");

    // Random corruption of a real moov: errors or damage, never a panic.
    let (config, packets) = read_flv(&testdata("radio-1764072000.flv"));
    let path = write(
        &dir,
        Format::Mp4,
        &config,
        &[(0, 1_764_072_000_000, &packets[..200])],
    );
    let bytes = std::fs::read(&path).unwrap();
    let moov_end = read_index(&path)
        .unwrap()
        .layout
        .iter()
        .find(|b| b.kind == "moov")
        .map(|b| b.offset + b.size)
        .unwrap() as usize;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let target = dir.join("fuzz.mp4");
    for _ in 0..400 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % moov_end;
            b[at] = (seed >> 32) as u8;
        }
        std::fs::write(&target, &b).unwrap();
        if let Ok(mut s) = Mp4Session::open(&target) {
            for _ in 0..300 {
                match s.next_event() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
        let _ = read_index(&target);
    }
}
