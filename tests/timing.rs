//! End-to-end: timestamps kept at cuts when audio runs ahead of or behind the video in file
//! order (testdata/audio-lead, made by scripts/gen-audio-lead.py), and `splice` of a push's own
//! slices continuing exactly, checked with ffprobe.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use kls_rec::testutil::{
    assert_decodes_cleanly, assert_same_packets, have_ffprobe, json_f64, of, probe_json,
    probe_packets, run_binary, scratch, testdata, with_ext,
};

fn kls_rec(args: &[&str]) -> Output {
    let out = run_binary(env!("CARGO_BIN_EXE_kls-rec"), args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Per stream kind, each packet's (DTS, PTS) in seconds, in decode order.
fn times(path: &Path) -> BTreeMap<String, Vec<(f64, f64)>> {
    let v = probe_json(path, &["-show_packets"]);
    let mut out: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for p in v["packets"].as_array().unwrap() {
        let kind = p["codec_type"].as_str().unwrap().to_string();
        let t = |k: &str| json_f64(&p[k]).unwrap_or_else(|| panic!("{}: no {k}", path.display()));
        out.entry(kind)
            .or_default()
            .push((t("dts_time"), t("pts_time")));
    }
    for packets in out.values_mut() {
        packets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// The files, in order, carry every packet of `source` once, and within each file every
/// packet's DTS and PTS are the source's plus one constant per stream (spread at most 1 ms:
/// FLV stores milliseconds).
fn assert_offsets_constant(source: &Path, files: &[PathBuf]) {
    let want = times(source);
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for f in files {
        for (kind, got) in times(f) {
            let start = at.entry(kind.clone()).or_default();
            let src = &want[&kind][*start..*start + got.len()];
            let shifts: Vec<(f64, f64)> = src
                .iter()
                .zip(&got)
                .map(|(a, b)| (b.0 - a.0, b.1 - a.1))
                .collect();
            let spread = |pick: fn(&(f64, f64)) -> f64| {
                let v: Vec<f64> = shifts.iter().map(pick).collect();
                v.iter().cloned().fold(f64::MIN, f64::max)
                    - v.iter().cloned().fold(f64::MAX, f64::min)
            };
            let (dts, pts) = (spread(|s| s.0), spread(|s| s.1));
            assert!(
                dts <= 0.001 + 1e-6 && pts <= 0.001 + 1e-6,
                "{} {kind}: offsets spread {:.1} ms (DTS), {:.1} ms (PTS)",
                f.display(),
                dts * 1000.0,
                pts * 1000.0
            );
            *start += got.len();
        }
    }
    for (kind, packets) in &want {
        assert_eq!(
            at.get(kind),
            Some(&packets.len()),
            "{kind}: every packet once"
        );
    }
}

#[test]
fn slice_cuts_keep_every_timestamp_when_audio_leads_or_lags_video_in_file_order() {
    if !have_ffprobe() {
        return;
    }
    for name in [
        "lead-1764072000.flv",
        "lead-1764072000.ts",
        "lag-1764072000.ts",
    ] {
        let source = testdata("audio-lead").join(name);
        let dir = scratch(&format!("timing-{name}"));
        kls_rec(&[
            "record",
            "--slice",
            "5s",
            "--formats",
            "flv,mp4,hls",
            "-q",
            "-o",
            dir.to_str().unwrap(),
            source.to_str().unwrap(),
        ]);
        for ext in ["flv", "mp4", "m3u8"] {
            let files = with_ext(&dir, ext);
            assert_eq!(files.len(), 3, "{name}: 11 s in 5 s slices, as {ext}");
            assert_offsets_constant(&source, &files);
            for f in &files {
                assert_decodes_cleanly(f);
            }
        }
    }
}

#[test]
fn splice_of_a_pushs_slices_is_packet_exact_and_named_to_the_last_slices_end() {
    // A start between whole seconds: the slices' names floor it, the joined name must not.
    let push = testdata("studio-1764072000.flv");
    let dir = scratch("timing-slices");
    kls_rec(&[
        "record",
        "--slice",
        "5s",
        "--start-time",
        "1764072000950",
        "--formats",
        "flv,mp4,hls",
        "-q",
        "-o",
        dir.to_str().unwrap(),
        push.to_str().unwrap(),
    ]);
    let want = have_ffprobe().then(|| probe_packets(&push));
    for slice_ext in ["flv", "mp4", "m3u8"] {
        let slices = with_ext(&dir, slice_ext);
        assert_eq!(slices.len(), 5, "30 s in 5 s slices, as {slice_ext}");
        let last = slices
            .last()
            .unwrap()
            .file_stem()
            .unwrap()
            .to_string_lossy();
        assert!(last.ends_with("-1764072031"), "{last}");
        for format in ["mp4", "flv", "hls"] {
            let out_dir = scratch(&format!("timing-join-{slice_ext}-{format}"));
            let mut args = vec![
                "splice",
                "--format",
                format,
                "-o",
                out_dir.to_str().unwrap(),
            ];
            args.extend(slices.iter().map(|s| s.to_str().unwrap()));
            kls_rec(&args);
            let ext = match format {
                "hls" => "m3u8",
                other => other,
            };
            let joined = with_ext(&out_dir, ext);
            assert_eq!(joined.len(), 1);
            assert_eq!(
                joined[0].file_name().unwrap().to_string_lossy(),
                format!("studio-1764072000-1764072031.{ext}"),
                "{slice_ext} into {format}"
            );
            let Some(want) = &want else { continue };
            let got = probe_packets(&joined[0]);
            // MPEG-TS carries video as Annex B and AAC in ADTS: payloads compare only elsewhere.
            let payloads = format != "hls";
            for kind in ["video", "audio"] {
                let what = format!("{slice_ext} slices into {format}: {kind}");
                assert_same_packets(&of(want, kind), &of(&got, kind), payloads, &what);
            }
            assert_decodes_cleanly(&joined[0]);
        }
    }
}
