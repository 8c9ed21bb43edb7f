//! The demuxer on transport streams ffmpeg wrote (cross-checked with ffprobe and with the FLV
//! source), on damaged streams (garbage, lost packets, cuts) and on random bytes.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::input::mp4::tests::{assert_times_match_ffprobe, summary};
use crate::input::ts::demux::TS_OFFSET_90K;
use crate::media::TrackKind;
use crate::media::{Damage, Packet};
use crate::testutil::{drain, have_ffprobe, read_flv, scratch, testdata};

fn track(p: &[Packet], t: TrackKind) -> Vec<&Packet> {
    p.iter().filter(|p| p.track.kind == t).collect()
}

fn read(path: &Path) -> (CodecConfig, Vec<Packet>, Vec<Damage>) {
    read_all(&[path.to_path_buf()])
}

/// `ffmpeg -c copy` of a fixture into MPEG-TS, or `None` without ffmpeg.
fn ffmpeg_ts(dir: &Path, fixture: &str) -> Option<std::path::PathBuf> {
    if !have_ffprobe() {
        return None;
    }
    let out = dir.join(fixture.replace(".flv", ".ts"));
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(testdata(fixture))
        .args(["-c", "copy"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "ffmpeg failed");
    Some(out)
}

/// [`ffmpeg_ts`] into the scratch directory `dir_name`: the directory, the file and its bytes.
fn ffmpeg_ts_in(dir_name: &str, fixture: &str) -> Option<(PathBuf, PathBuf, Vec<u8>)> {
    let dir = scratch(dir_name);
    let ts = ffmpeg_ts(&dir, fixture)?;
    let bytes = std::fs::read(&ts).unwrap();
    Some((dir, ts, bytes))
}

#[test]
fn ffmpeg_ts_matches_ffprobe_and_the_source() {
    let dir = scratch("ts-read-ffmpeg");
    for fixture in crate::testutil::fixtures::FLV_OF_EACH_KIND {
        let Some(ts) = ffmpeg_ts(&dir, fixture) else {
            return;
        };
        let (config, got, damage) = read(&ts);
        assert!(damage.is_empty(), "{fixture}: {damage:?}");
        // ffprobe reports the stream's own clock: ours is that less the 1.4 s origin.
        assert_times_match_ffprobe(&ts, &got, TS_OFFSET_90K, false);
        // ffmpeg inserted AUDs and SPS/PPS: removed, the FLV's video comes back exactly.
        let (src_config, src) = read_flv(&testdata(fixture));
        let (v, src_v) = (track(&got, TrackKind::Video), track(&src, TrackKind::Video));
        let shift = src_v.first().map_or(0, |p| p.dts_90k) - v.first().map_or(0, |p| p.dts_90k);
        assert_eq!(summary(&v, shift), summary(&src_v, 0), "{fixture}: video");
        // ffmpeg packs several AAC frames per PES, so their times are derived from durations;
        // the payloads are the source's.
        let payloads = |p: Vec<&Packet>| p.into_iter().map(|p| p.data.clone()).collect::<Vec<_>>();
        assert!(
            payloads(track(&got, TrackKind::Audio)) == payloads(track(&src, TrackKind::Audio)),
            "{fixture}: audio payloads"
        );
        assert_eq!(config.video, src_config.video, "{fixture}");
        assert_eq!(config.audio.is_some(), src_config.audio.is_some());
        // input::open recognises it; the name gives stream and time.
        let s = crate::input::open(ts.to_str().unwrap(), &InputOptions::default()).unwrap();
        assert_eq!(s[0].info.wall_start_ms, 1_764_072_000_000);
        assert_eq!(s[0].info.key.stream, fixture.split('-').next().unwrap());
    }
}

#[test]
fn garbage_lost_packets_and_cuts_are_reported_and_recovered() {
    let Some((dir, ts, clean)) = ffmpeg_ts_in("ts-read-damage", "studio-1764072000.flv") else {
        return;
    };
    let (_, want, _) = read(&ts);
    let n = clean.len() / 188;

    // 1000 bytes of garbage in the middle, one packet dropped later, the last packet cut.
    let garbage_at = (n / 3) * 188;
    let lost_at = (2 * n / 3) * 188;
    let mut bad = clean[..garbage_at].to_vec();
    bad.extend((0..1000).map(|i| (i * 7 + 3) as u8 & 0x46));
    bad.extend(&clean[garbage_at..lost_at]);
    bad.extend(&clean[lost_at + 188..clean.len() - 100]);
    let path = dir.join("damaged.ts");
    std::fs::write(&path, &bad).unwrap();
    let (_, got, damage) = read(&path);
    assert!(
        damage.iter().any(|d| matches!(d, Damage::Skipped { offset, len: 1000, .. } if *offset == garbage_at as u64)),
        "{damage:?}"
    );
    assert!(
        damage.iter().any(
            |d| matches!(d, Damage::Dropped { what, .. } if what.contains("continuity_counter"))
        ),
        "{damage:?}"
    );
    assert!(
        damage.iter().any(|d| matches!(d, Damage::Truncated { .. })),
        "{damage:?}"
    );
    // Only what the damage touched is lost: the PES with the lost packet (ffmpeg puts up to
    // seven AAC frames in one), the frame cut at the end.
    assert!(
        got.len() + 20 >= want.len() && got.len() < want.len(),
        "{} of {}",
        got.len(),
        want.len()
    );
    let last = want
        .iter()
        .filter(|p| p.dts_90k < want[want.len() / 2].dts_90k)
        .count();
    assert_eq!(got[..last / 4], want[..last / 4]);
}

/// `rounds` copies of `clean`, round `r` with `1 + r % flips` bytes overwritten at places an
/// xorshift generator from `seed` picks.
fn corrupted(clean: &[u8], rounds: usize, flips: usize, mut seed: u64) -> Vec<Vec<u8>> {
    (0..rounds)
        .map(|round| {
            let mut b = clean.to_vec();
            for _ in 0..(1 + round % flips) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % b.len();
                b[at] = (seed >> 40) as u8;
            }
            b
        })
        .collect()
}

#[test]
fn random_bytes_never_panic() {
    let Some((dir, _, clean)) = ffmpeg_ts_in("ts-read-fuzz", "radio-1764072000.flv") else {
        return;
    };
    let clean = &clean[..clean.len().min(188 * 400)];
    let path = dir.join("fuzz.ts");
    for b in corrupted(clean, 200, 40, 0x2545_F491_4F6C_DD1D) {
        std::fs::write(&path, &b).unwrap();
        let _ = read(&path);
    }
    // Pure noise, and sync bytes with noise between.
    let noise: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&path, &noise).unwrap();
    let (_, got, _) = read(&path);
    assert!(got.is_empty());
    let mut synced = noise.clone();
    synced.iter_mut().step_by(188).for_each(|b| *b = 0x47);
    std::fs::write(&path, &synced).unwrap();
    let _ = read(&path);
}

/// The packets of a TS session over `files` (an HLS run when several).
fn read_all(files: &[std::path::PathBuf]) -> (CodecConfig, Vec<Packet>, Vec<Damage>) {
    let files = files.iter().map(|p| (p.clone(), None)).collect();
    let mut s = TsSession::open("test".into(), files, CodecConfig::default()).unwrap();
    // Configuration changes are not asked about here.
    let d = drain(&mut s);
    (d.config, d.packets, d.damage)
}

#[test]
fn pes_boundaries_inside_access_units_give_the_source_packets() {
    // scripts/gen-ts-repack.py: the same streams with every video PES starting inside the
    // previous access unit (inside a slice, between NAL units, inside a start code, PES with
    // no start code and no PTS), and the H.264 one cut into segments before PES that begin
    // with the previous unit's tail.
    let segments: Vec<_> = (0..3)
        .map(|k| testdata(&format!("ts/applehls/seg{k}.ts")))
        .collect();
    for (input, source) in [
        (
            vec![testdata("ts/appleh264-1764072000.ts")],
            "ts/src-h264.ts",
        ),
        (
            vec![testdata("ts/applehevc-1764072000.ts")],
            "ts/src-hevc.ts",
        ),
        (segments, "ts/src-h264.ts"),
    ] {
        let (want_config, want, want_damage) = read(&testdata(source));
        assert!(want_damage.is_empty(), "{source}: {want_damage:?}");
        let (config, got, damage) = read_all(&input);
        assert!(damage.is_empty(), "{input:?}: {damage:?}");
        assert_eq!(config, want_config, "{input:?}");
        // Per track: a unit whose end shows only in the next PES comes out after the audio
        // read meanwhile.
        for t in [TrackKind::Video, TrackKind::Audio] {
            let (got, want) = (track(&got, t), track(&want, t));
            assert_eq!(got.len(), want.len(), "{input:?} {t}");
            assert!(got == want, "{input:?}: {t} packets differ");
        }
    }
}

#[test]
fn damaged_repacketised_video_never_panics() {
    let dir = scratch("ts-read-fuzz-au");
    let clean = std::fs::read(testdata("ts/appleh264-1764072000.ts")).unwrap();
    let path = dir.join("fuzz.ts");
    for b in corrupted(&clean, 100, 30, 0x9E37_79B9_7F4A_7C15) {
        std::fs::write(&path, &b).unwrap();
        let (_, got, _) = read(&path);
        assert!(got.iter().all(|p| !p.data.is_empty()));
    }
}

/// Two AAC tracks, the second's first frame ahead of the first's: both are tracks of the
/// session in PMT order, with every packet, the second's held until the first is configured.
fn two_aac_tracks() -> CodecConfig {
    let aac = |specific: &[u8], sample_rate, channels| {
        crate::codec::aac::audio_config(specific.to_vec(), sample_rate, channels)
    };
    CodecConfig {
        more_video: Vec::new(),
        video: None,
        audio: Some(aac(&[0x12, 0x10], 44_100, 2)),
        more_audio: vec![aac(&[0x11, 0x88], 48_000, 1)],
        video_built: None,
    }
}

/// Writes `order` (audio track index, DTS) as a one-segment MPEG-TS of `config` and reads it.
fn two_aac_read(name: &str, order: &[(u8, i64)]) -> (CodecConfig, Vec<Packet>, Vec<Damage>) {
    let mut w = crate::mux::ts::TsWriter::new(&two_aac_tracks()).unwrap();
    let mut ts = Vec::new();
    w.start_segment(&mut ts).unwrap();
    for &(index, dts_90k) in order {
        let p = Packet {
            track: crate::media::Track::audio(index),
            dts_90k,
            cts_90k: 0,
            keyframe: true,
            data: vec![index + 1; 10],
            offset_ns: 0,
        };
        w.write_packet(&p, &mut ts).unwrap();
    }
    let path = scratch(name).join("two.ts");
    std::fs::write(&path, &ts).unwrap();
    read(&path)
}

#[test]
fn audio_pids_are_tracks_in_pmt_order() {
    use crate::media::Track;
    let config = two_aac_tracks();
    let order = [(1, 0), (1, 1920), (0, 0), (1, 3840), (0, 2090), (0, 4180)];
    let (got, packets, damage) = two_aac_read("ts-two-audio", &order);
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(got.audio, config.audio);
    assert_eq!(got.more_audio[0].specific, [0x11, 0x88]);
    let of = |index| -> Vec<i64> {
        let t = Track::audio(index);
        packets
            .iter()
            .filter(|p| p.track == t)
            .map(|p| p.dts_90k)
            .collect()
    };
    assert_eq!(of(0), [0, 2090, 4180]);
    assert_eq!(of(1), [0, 1920, 3840]);
    assert!(packets.iter().all(|p| p.data[0] == p.track.index + 1));
}

/// The PMT lists two audio streams and only the second carries frames: it is the session's
/// first audio track, with every packet, once the input ends without the first.
#[test]
fn a_silent_audio_pid_gives_its_place_to_the_next() {
    use crate::media::Track;
    let (got, packets, damage) = two_aac_read("ts-silent-audio", &[(1, 0), (1, 1920)]);
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(got.audio.unwrap().specific, [0x11, 0x88]);
    assert!(got.more_audio.is_empty());
    assert_eq!(packets.len(), 2);
    assert!(
        packets
            .iter()
            .all(|p| p.track == Track::AUDIO && p.data[0] == 2)
    );
}
