//! The planned writer: following the index pass's plan gives the spooling writer's bytes, and a
//! write pass that differs from its plan fails the file, naming the input, leaving no file.

use super::*;
use crate::testutil::fixtures::file_open;

const START_S: i64 = 1_764_072_000;
const INPUT: &str = "cam-1764072000.flv";

/// What the index pass learns from `packets`, one session read from [`INPUT`].
fn plan_of(config: &CodecConfig, packets: &[Packet], base: &str) -> FilePlan {
    let mut p = Planner::new(config, START_S).unwrap();
    p.begin_session(INPUT);
    for packet in packets {
        p.write(packet).unwrap();
    }
    p.finish(base)
}

/// Where a test file opens: `dir`, at [`START_S`].
fn opening<'a>(dir: &'a Path, config: &'a CodecConfig, options: &'a MuxOptions) -> FileOpen<'a> {
    file_open((dir, "cam"), START_S, config, options)
}

/// A writer following `plan`, its one session begun.
fn follower(config: &CodecConfig, plan: Option<FilePlan>, dir: &Path) -> Result<Box<dyn Muxer>> {
    let options = MuxOptions::default();
    let open = opening(dir, config, &options);
    let mut m: Box<dyn Muxer> = Box::new(Mp4Muxer::follow(&open, plan, INPUT)?);
    m.begin_session(&SessionStart {
        file_dts_90k: 0,
        wall_ms: START_S * 1000,
        spliced: false,
    })?;
    Ok(m)
}

/// The write pass: `packets` as one session following `plan`, closed as `base`.
fn follow(
    config: &CodecConfig,
    plan: Option<FilePlan>,
    packets: &[Packet],
    dir: &Path,
    base: &str,
) -> Result<Produced> {
    let mut m = follower(config, plan, dir)?;
    for p in packets {
        m.write(p)?;
    }
    m.finish(&FileClose {
        base_name: base.to_string(),
    })
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map_or(Vec::new(), |d| {
        d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    })
}

#[test]
fn following_a_plan_gives_the_spooled_bytes() {
    for (name, width, height) in [
        ("studio-1764072000.flv", 320, 240),
        ("radio-1764072000.flv", 0, 0),
        ("silent-1764072000.flv", 160, 120),
    ] {
        let fx = read_flv(&testdata(name), width, height);
        let dir = scratch(&format!("mp4-planned-{name}"));
        let spooled = mux(&fx.config, &fx.packets, &dir.join("spooled"), "out");
        let plan = plan_of(&fx.config, &fx.packets, "out");
        let planned = follow(
            &fx.config,
            Some(plan),
            &fx.packets,
            &dir.join("planned"),
            "out",
        )
        .unwrap();
        let bytes = std::fs::read(&planned.path).unwrap();
        assert!(
            bytes == std::fs::read(&spooled.path).unwrap(),
            "{name}: planned and spooled files differ"
        );
        assert_eq!((planned.size, planned.md5), (spooled.size, spooled.md5));
        assert_eq!(entries(&dir.join("planned")), ["out.mp4"]);
    }
}

/// Packets changed one way each, as an input rewritten between the two passes would be.
fn changed(packets: &[Packet]) -> Vec<(&'static str, Vec<Packet>)> {
    // Where the 8th video and the 6th audio packet are.
    let nth = |track, n| {
        let mut of_track = packets
            .iter()
            .enumerate()
            .filter(|(_, p)| p.track.kind == track);
        of_track.nth(n).unwrap().0
    };
    let (v, a) = (nth(TrackKind::Video, 7), nth(TrackKind::Audio, 5));
    let with = |i: usize, f: &dyn Fn(&mut Packet)| {
        let mut p = packets.to_vec();
        f(&mut p[i]);
        p
    };
    let mut swapped = packets.to_vec();
    let i = (1..swapped.len())
        .find(|&i| swapped[i].track != swapped[i - 1].track)
        .unwrap();
    swapped.swap(i - 1, i);
    let mut extra = packets.to_vec();
    let mut last = packets.last().unwrap().clone();
    last.dts_90k += 3600;
    extra.push(last);
    vec![
        ("video sample 8 has size", with(v, &|p| p.data.push(0))),
        ("audio sample 6 has dts_90k", with(a, &|p| p.dts_90k += 90)),
        (
            "video sample 8 has cts_90k",
            with(v, &|p| p.cts_90k += 3600),
        ),
        (
            "video sample 8 has keyframe",
            with(v, &|p| p.keyframe = !p.keyframe),
        ),
        ("has mdat offset", swapped),
        (
            "the write pass ended after",
            packets[..packets.len() - 1].to_vec(),
        ),
        ("is beyond the", extra),
    ]
}

#[test]
fn a_write_pass_that_differs_from_its_plan_fails_and_leaves_nothing() {
    let fx = read_flv(&testdata("studio-1764072000.flv"), 320, 240);
    let root = scratch("mp4-planned-differs");
    for (n, (what, packets)) in changed(&fx.packets).into_iter().enumerate() {
        let dir = root.join(n.to_string());
        let plan = plan_of(&fx.config, &fx.packets, "out");
        let err = follow(&fx.config, Some(plan), &packets, &dir, "out").unwrap_err();
        let err = format!("{err:#}");
        assert!(
            err.contains(&format!(
                "{INPUT} changed between the index pass and the write pass"
            )) && err.contains(what),
            "{what}: {err}"
        );
        assert_eq!(entries(&dir), Vec::<String>::new(), "{what}: {err}");
    }

    // The packets match, but the file closes under another name (its end moved).
    let dir = root.join("name");
    let plan = plan_of(&fx.config, &fx.packets, "out");
    let err = follow(&fx.config, Some(plan), &fx.packets, &dir, "other").unwrap_err();
    assert!(format!("{err:#}").contains("closes as other, planned as out"));
    assert_eq!(entries(&dir), Vec::<String>::new());

    // No plan, or the plan of a file starting at another time.
    for plan in [None, Some(plan_of(&fx.config, &[], "out"))] {
        let mut plan = plan;
        if let Some(p) = plan.as_mut() {
            p.start_time_s += 1;
        }
        let dir = root.join("none");
        let err = follow(&fx.config, plan, &fx.packets, &dir, "out").unwrap_err();
        assert!(
            format!("{err:#}").contains("changed between the index pass"),
            "{err:#}"
        );
        assert_eq!(entries(&dir), Vec::<String>::new());
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// A packet the spooling writer refuses is refused with the same error when following a plan,
/// before the plan is consulted, so both passes end the push at the same packet.
#[test]
fn refusals_match_the_spooling_writer() {
    let fx = read_flv(&testdata("studio-1764072000.flv"), 320, 240);
    let dir = scratch("mp4-planned-refusals");
    let mut backwards = fx.packets[..20].to_vec();
    let video = |p: &Packet| p.track.kind == TrackKind::Video;
    let last_video = backwards.iter().rposition(video).unwrap();
    let mut early = backwards[last_video].clone();
    early.dts_90k = 0;
    backwards.push(early);
    let spool_err = {
        let options = MuxOptions::default();
        let mut m = Mp4Muxer::open(&opening(&dir, &fx.config, &options)).unwrap();
        let mut last = Ok(());
        for p in &backwards {
            last = m.write(p);
        }
        format!("{:#}", last.unwrap_err())
    };
    let plan = plan_of(&fx.config, &backwards[..20], "out");
    let err = follow(&fx.config, Some(plan), &backwards, &dir.join("f"), "out").unwrap_err();
    assert_eq!(format!("{err:#}"), spool_err);
    assert!(spool_err.contains("is before the previous"), "{spool_err}");
}

/// When a push of the write pass stops early on an error of its own (another format's full
/// disk, say), the file fails saying so, not blaming the input.
#[test]
fn a_push_cut_short_by_a_write_error_is_named_as_such() {
    let fx = read_flv(&testdata("studio-1764072000.flv"), 320, 240);
    let dir = scratch("mp4-planned-cut");
    let plan = plan_of(&fx.config, &fx.packets, "out");
    let mut m = follower(&fx.config, Some(plan), &dir).unwrap();
    for p in &fx.packets[..fx.packets.len() / 2] {
        m.write(p).unwrap();
    }
    m.push_ended_early();
    let err = m
        .finish(&FileClose {
            base_name: "out".into(),
        })
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(
        err.starts_with(&format!("a push from {INPUT} stopped early on an error"))
            && err.contains("the write pass ended after"),
        "{err}"
    );
    assert_eq!(entries(&dir), Vec::<String>::new());
}
