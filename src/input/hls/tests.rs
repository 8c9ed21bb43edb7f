//! Round trips through kls-rec's HLS writer: one session per discontinuity run, wall clocks from
//! the program date-times, payloads and timestamps as written; missing segments; sibling hints.

use super::*;
use crate::format::Format;
use crate::input::mp4::tests::{assert_same_packets, write, write_fixture};
use crate::media::{Damage, Packet};
use crate::testutil::{drain, read_flv, scratch, testdata};

fn read_session(p: PendingSession) -> (CodecConfig, Vec<Packet>, Vec<Damage>) {
    let d = drain(p.open().unwrap().as_mut()).unchanged();
    (d.config, d.packets, d.damage)
}

#[test]
fn one_session_reads_back_with_ffmpegs_avcc() {
    let dir = scratch("hls-read-one");
    let (config, packets, path) = write_fixture(&dir, Format::Hls, "studio-1764072000.flv");
    let sessions = crate::input::open(path.to_str().unwrap(), &InputOptions::default()).unwrap();
    assert_eq!(sessions.len(), 1);
    let info = &sessions[0].info;
    assert_eq!(
        (info.key.stream.as_str(), info.wall_start_ms),
        ("show", 1_764_072_000_000)
    );
    assert_eq!(info.wall_clock, WallClockSource::Log);
    let (got_config, got, damage) = read_session(sessions.into_iter().next().unwrap());
    assert!(damage.is_empty(), "{damage:?}");
    // The generated avcC is the one ffmpeg wrote into the FLV, byte for byte.
    assert_eq!(got_config.video, config.video);
    // ADTS gives the 2-byte AudioSpecificConfig; the source's 5-byte one (with its explicit
    // no-SBR extension) is not in the transport stream.
    let (a, b) = (got_config.audio.unwrap(), config.audio.unwrap());
    assert_eq!(
        (a.specific.as_slice(), &b.specific[..2]),
        (&[0x12, 0x10][..], &[0x12, 0x10][..])
    );
    assert_eq!(
        (a.sample_rate, a.channels, a.flv_sound_byte),
        (b.sample_rate, b.channels, b.flv_sound_byte)
    );
    // Same payloads and timestamps: the TS offset is removed.
    assert_eq!(assert_same_packets(&got, &packets, "studio"), 0);
}

#[test]
fn discontinuities_are_sessions_with_their_wall_clocks() {
    let dir = scratch("hls-read-splice");
    let (config, first) = read_flv(&testdata("push/show-1764075600.flv"));
    let (config2, second) = read_flv(&testdata("push/show-1764075670.flv"));
    assert_eq!(config, config2);
    // The second push continues right after the first one's last packet.
    let join_90k = first.iter().map(|p| p.dts_90k).max().unwrap() + 3600;
    let path = write(
        &dir,
        Format::Hls,
        &config,
        &[
            (0, 1_764_075_600_000, &first),
            (join_90k, 1_764_075_670_000, &second),
        ],
    );
    let runs = playlist_sessions(&path).unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].wall_start_ms, 1_764_075_600_000);
    assert_eq!(runs[1].wall_start_ms, 1_764_075_670_000);
    assert!(
        runs.iter()
            .all(|r| r.wall_clock == WallClockSource::Log && r.warnings.is_empty())
    );
    assert!(
        (9_900..=10_200).contains(&runs[0].duration_ms),
        "{}",
        runs[0].duration_ms
    );
    assert_eq!(
        runs[1].wall_end_ms,
        runs[1].wall_start_ms + runs[1].duration_ms
    );

    let sessions = open_path(&path, &InputOptions::default()).unwrap();
    assert_eq!(sessions.len(), 2);
    let mut it = sessions.into_iter();
    let (_, got, damage) = read_session(it.next().unwrap());
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(assert_same_packets(&got, &first, "first push"), 0);
    let (_, got, damage) = read_session(it.next().unwrap());
    assert!(damage.is_empty(), "{damage:?}");
    // The second session's packets sit where the writer put them in the file's timeline.
    assert_eq!(assert_same_packets(&got, &second, "second push"), -join_90k);
}

#[test]
fn missing_segments_still_give_times() {
    let dir = scratch("hls-read-missing");
    let (_, packets, path) = write_fixture(&dir, Format::Hls, "studio-1764072000.flv");
    let text = std::fs::read_to_string(&path).unwrap();
    let segs: Vec<&str> = text.lines().filter(|l| l.ends_with(".ts")).collect();
    assert!(segs.len() >= 3);
    std::fs::remove_file(dir.join(segs[1])).unwrap();

    let runs = playlist_sessions(&path).unwrap();
    assert_eq!(runs.len(), 1);
    assert!(!runs[0].segments[1].exists && runs[0].segments[0].exists);
    assert!(
        runs[0].warnings[0].contains(segs[1]),
        "{:?}",
        runs[0].warnings
    );
    assert!((29_900..=30_200).contains(&runs[0].duration_ms));

    let pending = open_path(&path, &InputOptions::default()).unwrap();
    assert!(pending[0].info.warnings[0].contains("missing"));
    let (_, got, damage) = read_session(pending.into_iter().next().unwrap());
    assert!(got.len() < packets.len() && !got.is_empty());
    assert!(
        damage
            .iter()
            .any(|d| matches!(d, Damage::Dropped { what, .. } if what.contains(segs[1]))),
        "{damage:?}"
    );

    // No segment at all: the run is still there, with its times.
    for s in &segs {
        let _ = std::fs::remove_file(dir.join(s));
    }
    let pending = open_path(&path, &InputOptions::default()).unwrap();
    assert_eq!(pending[0].info.wall_start_ms, 1_764_072_000_000);
    let (config, got, _) = read_session(pending.into_iter().next().unwrap());
    assert!(got.is_empty() && config == CodecConfig::default());
}

#[test]
fn sibling_recording_gives_the_exact_configuration() {
    let root = scratch("hls-read-sibling").join("record/live/show");
    let (config, packets) = read_flv(&testdata("studio-1764072000.flv"));
    let mut paths = Vec::new();
    for f in [Format::Hls, Format::Mp4] {
        let dir = root.join(f.name());
        std::fs::create_dir_all(&dir).unwrap();
        paths.push(write(&dir, f, &config, &[(0, 1_764_072_000_000, &packets)]));
    }
    assert_eq!(sibling_config(&paths[0]).as_ref(), Some(&config));
    let pending = open_path(&paths[0], &InputOptions::default()).unwrap();
    let (got_config, got, _) = read_session(pending.into_iter().next().unwrap());
    assert_eq!(got_config, config);
    assert_eq!(assert_same_packets(&got, &packets, "studio"), 0);
}

#[test]
fn flags_and_names() {
    let dir = scratch("hls-read-flags");
    let p = dir.join("cam-1764075600-1764075700.m3u8");
    std::fs::write(
        &p,
        "#EXTM3U\n#EXTINF:4,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\nb.ts\n#EXT-X-ENDLIST\n",
    )
    .unwrap();
    let opts = InputOptions {
        app: Some("app".into()),
        vdoid: Some("v1".into()),
        ..InputOptions::default()
    };
    let pending = open_path(&p, &opts).unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].info.key.stream, "cam");
    assert_eq!(pending[0].info.key.app, "app");
    assert_eq!(pending[0].info.key.vdoid.as_deref(), Some("v1"));
    // No date-time: the name's start for the first run, the first run's end for the second.
    assert_eq!(pending[0].info.wall_start_ms, 1_764_075_600_000);
    assert_eq!(pending[0].info.wall_clock, WallClockSource::FileName);
    assert_eq!(pending[1].info.wall_start_ms, 1_764_075_604_000);
    assert!(
        pending[1]
            .info
            .warnings
            .iter()
            .any(|w| w.contains("no #EXT-X-PROGRAM-DATE-TIME"))
    );
    std::fs::write(&p, "#EXTM3U\n#EXT-X-ENDLIST\n").unwrap();
    assert!(open_path(&p, &opts).is_err());
    std::fs::write(&p, "#EXTM3U\n#EXTINF:4,\nhttp://cdn/a.ts\n").unwrap();
    let runs = playlist_sessions(&p).unwrap();
    assert!(runs[0].segments[0].path.is_none() && runs[0].warnings[0].contains("remote"));
}

/// Two AAC tracks spliced, the second push's run carrying frames of the second track only
/// (found by fuzzing `mux_roundtrip`): the writer keeps every frame on its own PID, as ffprobe
/// reads the playlist; each run is a push of its own, whose audio PIDs are numbered as the
/// frames in that run configure them, so there the second PID's frames are the push's only
/// audio track (README "Inputs", the MPEG-TS reader's silent PIDs).
#[test]
fn a_run_where_the_first_audio_pid_is_silent_numbers_its_tracks_alone() {
    use crate::media::Track;
    let aac = |specific: &[u8], sample_rate, channels| {
        crate::codec::aac::audio_config(specific.to_vec(), sample_rate, channels)
    };
    let config = CodecConfig {
        audio: Some(aac(&[0x12, 0x10], 44_100, 2)),
        more_audio: vec![aac(&[0x11, 0x88], 48_000, 1)],
        ..CodecConfig::default()
    };
    let frame = |index: u8, dts_90k| Packet {
        track: Track::audio(index),
        dts_90k,
        cts_90k: 0,
        keyframe: true,
        data: vec![index + 1; 10],
        offset_ns: 0,
    };
    let first = [frame(0, 0), frame(1, 0)];
    let second = [frame(1, 0)];
    let dir = scratch("hls-read-silent-pid");
    let path = write(
        &dir,
        Format::Hls,
        &config,
        &[
            (0, 1_764_072_000_000, &first),
            (2_090, 1_764_072_010_000, &second),
        ],
    );
    if crate::testutil::have_ffprobe() {
        let out = std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_entries",
                "packet=stream_index",
                "-of",
                "csv=p=0",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let indexes = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            indexes
                .split_whitespace()
                .map(|l| l.trim_end_matches(','))
                .collect::<Vec<_>>(),
            ["0", "1", "1"]
        );
    }
    let sessions = open_path(&path, &InputOptions::default()).unwrap();
    let mut it = sessions.into_iter();
    let (got, packets, damage) = read_session(it.next().unwrap());
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(got.audio_tracks().count(), 2);
    let tracks =
        |p: &[Packet]| -> Vec<(Track, u8)> { p.iter().map(|p| (p.track, p.data[0])).collect() };
    assert_eq!(tracks(&packets), [(Track::AUDIO, 1), (Track::audio(1), 2)]);
    let (got, packets, damage) = read_session(it.next().unwrap());
    assert!(damage.is_empty(), "{damage:?}");
    assert_eq!(got.audio_tracks().count(), 1);
    assert_eq!(got.audio.unwrap().sample_rate, 48_000);
    assert_eq!(tracks(&packets), [(Track::AUDIO, 2)]);
}
