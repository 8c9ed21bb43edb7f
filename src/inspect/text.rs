//! The human report: one block per input, labels in a fixed-width column, lines kept within
//! about 80 columns (long values such as damage descriptions wrap only where the terminal does).

use std::fmt::Write as _;

use super::scan::{GAP_FACTOR, SessionScan, TrackScan};
use super::{ContainerFacts, Inspection, Probe, SessionReport};
use crate::input::WallClockSource;
use crate::input::mp4::Movie;
use crate::input::mp4::entry::EntryCodec;
use crate::input::rtmp::DumpSummary;
use crate::media::{AudioConfig, CodecConfig, Track, VideoConfig};
use crate::rules::duration_display;

/// Configuration bytes shown in hex before eliding.
const HEX_SHOWN: usize = 16;
/// Gaps, damage reports and configuration changes listed per session.
const LISTED: usize = 10;

/// The report for one input.
pub(crate) fn render(ins: &Inspection, probe: &Probe) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "{}: {}, {} bytes",
        ins.input,
        ins.container.label(),
        ins.size
    );
    if let Some(d) = &probe.format.duration {
        let _ = write!(o, ", duration {d} s");
    }
    o.push('\n');
    facts(&mut o, &ins.facts);
    streams(&mut o, probe);
    for s in &ins.sessions {
        session(&mut o, s);
    }
    o
}

fn facts(o: &mut String, facts: &ContainerFacts) {
    match facts {
        ContainerFacts::Flv {
            meta_duration_s,
            last_tag_ms,
            ..
        } => {
            let meta = meta_duration_s.map_or("none".to_string(), |d| format!("{d} s"));
            let last = last_tag_ms.map_or("unknown".to_string(), |t| format!("{t} ms"));
            line(
                o,
                2,
                "onMetaData",
                &format!("duration {meta}; last tag at {last}"),
            );
        }
        ContainerFacts::Mp4(ix) => mp4_facts(o, ix),
        ContainerFacts::Hls {
            segments,
            missing_segments,
            endlist,
            ..
        } => line(
            o,
            2,
            "playlist",
            &format!(
                "{segments} segments ({missing_segments} missing), {}",
                if *endlist {
                    "VOD (ENDLIST)"
                } else {
                    "no ENDLIST (live)"
                }
            ),
        ),
        ContainerFacts::Rtmp(summary) => rtmp_facts(o, summary),
        ContainerFacts::Capture(scan) => super::connections::write(o, scan),
        ContainerFacts::MpegTs(_) | ContainerFacts::None => {}
    }
}

/// An MP4's `ftyp`, `moov` and tracks.
fn mp4_facts(o: &mut String, ix: &Movie) {
    let brands: Vec<String> = ix.compatible_brands.iter().map(|b| b.to_string()).collect();
    let brands = brands.join(",");
    line(
        o,
        2,
        "ftyp",
        &format!(
            "{} ({brands})",
            ix.major_brand.map_or("?".to_string(), |b| b.to_string())
        ),
    );
    line(
        o,
        2,
        "moov",
        &format!(
            "{} mdat, timescale {}, duration {}",
            if ix.moov_first { "before" } else { "after" },
            ix.timescale,
            ix.duration
        ),
    );
    for t in &ix.tracks {
        let mut v = format!(
            "{} {} {}, {} samples, timescale {}",
            t.id,
            t.handler,
            t.entry
                .as_ref()
                .map_or("-".to_string(), |e| e.fourcc.to_string()),
            t.samples(),
            t.timescale
        );
        if t.edit.empty_movie > 0 || t.edit.media_time != 0 {
            let _ = write!(
                v,
                ", edit: empty {} + media from {}",
                t.edit.empty_movie, t.edit.media_time
            );
        }
        if let Some(EntryCodec::Unsupported(why)) = t.entry.as_ref().map(|e| &e.codec) {
            let _ = write!(v, " ({why})");
        }
        line(o, 2, "trak", &v);
    }
    for w in &ix.warnings {
        line(o, 2, "warning", w);
    }
}

/// A raw RTMP dump's publishes and plays.
fn rtmp_facts(o: &mut String, summary: &DumpSummary) {
    line(o, 2, "connection", &format!("{} bytes", summary.bytes));
    for p in &summary.publishes {
        let v = format!(
            "#{} app {:?} stream {:?} vdoid {:?}",
            p.index,
            p.app,
            p.name,
            p.vdoid.as_deref().unwrap_or("")
        );
        // A played stream's media ran server to client (a player's side of the connection).
        let label = if p.played { "played" } else { "publish" };
        line(o, 2, label, &v);
        line(
            o,
            2,
            "",
            &format!("tcUrl {}", p.tc_url.as_deref().unwrap_or("-")),
        );
        let times = match (p.first_timestamp_ms, p.last_timestamp_ms) {
            (Some(a), Some(b)) => format!("timestamps {a}..{b} ms"),
            _ => "no media".into(),
        };
        line(
            o,
            2,
            "",
            &format!(
                "bytes {}..{}, {times}, {}",
                p.at.input_offset,
                p.end_offset,
                if p.unpublished {
                    "unpublished"
                } else {
                    "no unpublish"
                }
            ),
        );
        line(
            o,
            2,
            "",
            &format!(
                "{} video, {} audio, {} data messages, {} media bytes",
                p.video_messages, p.audio_messages, p.data_messages, p.media_bytes
            ),
        );
    }
    if summary.media_outside > 0 {
        line(
            o,
            2,
            "outside",
            &format!(
                "{} media messages outside any publish",
                summary.media_outside
            ),
        );
    }
}

/// The stream durations and bit rates the container states, as `--json` prints them, and the
/// streams that are not media (an MPEG-TS's data PIDs).
fn streams(o: &mut String, probe: &Probe) {
    for s in &probe.streams {
        let media = matches!(s.codec_type.as_deref(), Some("video" | "audio"));
        if !media {
            let id = s.id.as_deref().unwrap_or("?");
            let v = format!(
                "#{} {} {}, PID {id}, {} packets",
                s.index,
                s.codec_type.as_deref().unwrap_or("unknown"),
                s.codec_name.as_deref().unwrap_or("unknown"),
                s.nb_read_packets
            );
            line(o, 2, "stream", &v);
            continue;
        }
        if s.duration.is_none() && s.bit_rate.is_none() {
            continue;
        }
        let mut v = format!(
            "#{} {} {}",
            s.index,
            s.codec_type.as_deref().unwrap_or("unknown"),
            s.codec_name.as_deref().unwrap_or("unknown")
        );
        if let Some(d) = &s.duration {
            let _ = write!(v, ", duration {d} s");
        }
        if let Some(b) = &s.bit_rate {
            let _ = write!(v, ", bit rate {b} bit/s");
        }
        line(o, 2, "stream", &v);
    }
}

fn session(o: &mut String, s: &SessionReport) {
    let _ = writeln!(o, "  push #{}  {}", s.info.index, s.info.key);
    if s.info.played {
        line(
            o,
            4,
            "played",
            "what a viewer received, not the publisher's push",
        );
    }
    line(
        o,
        4,
        "wall clock",
        &format!(
            "{} ({})",
            utc(s.info.wall_start_ms),
            clock_source(s.info.wall_clock)
        ),
    );
    for w in &s.info.warnings {
        line(o, 4, "warning", w);
    }
    if let Some(e) = &s.error {
        line(o, 4, "error", e);
    }
    let Some(scan) = &s.scan else {
        return;
    };
    line(
        o,
        4,
        "duration",
        &duration_display(crate::media::to_ms(scan.duration_90k())),
    );
    if !s.has_media {
        line(o, 4, "media", "none (times from the log or playlist only)");
        return;
    }
    for (track, v) in scan.config.video_tracks() {
        if let Some(t) = scan.track(track) {
            video(o, track, v, t, scan);
        }
    }
    for (track, a) in scan.config.audio_tracks() {
        if let Some(t) = scan.track(track) {
            audio(o, track, a, t);
        }
    }
    if scan.config.video.is_none() && scan.config.audio.is_none() {
        line(o, 4, "tracks", "none");
    }
    changes(o, scan);
    gaps(o, scan);
    damage(o, scan);
    for n in &scan.not_recorded {
        line(
            o,
            4,
            "not recorded",
            &format!("{} (at byte {}; not damage)", n.what, n.offset),
        );
    }
}

fn video(o: &mut String, track: Track, v: &VideoConfig, t: &TrackScan, scan: &SessionScan) {
    let config = CodecConfig {
        video: Some(v.clone()),
        ..CodecConfig::default()
    };
    // This track's counters as a first track's, for its frame rate.
    let stats = crate::mediainfo::FileStats::first_video(
        scan.stats.track(track).cloned().unwrap_or_default(),
    );
    let info = crate::mediainfo::describe(crate::format::Format::Flv, 0, &config, &stats);
    let (profile, level) = super::probe::profile_level(&config, Track::VIDEO);
    let rate = info
        .streams
        .first()
        .and_then(|s| s.r_frame_rate.clone())
        .unwrap_or_default();
    // A codec without profiles (the Flash-era ones) leaves the gap out.
    let profile = profile.map_or(String::new(), |p| format!(" {p}"));
    let level = level.map_or(String::new(), |l| {
        format!(", level {}", level_display(v.codec, l))
    });
    line(
        o,
        4,
        &track.to_string(),
        &format!(
            "{}{profile}{level}, {}x{}, {rate} fps",
            codec_video(v),
            v.width,
            v.height
        ),
    );
    // The codecs only FLV carries have no configuration record: each frame stands alone.
    let record = if v.record.is_empty() {
        "none".to_string()
    } else {
        hex_short(&v.record)
    };
    line(o, 4, "", &format!("config {record}"));
    if let (0, Some(built)) = (track.index, &scan.config.video_built) {
        line(o, 4, "", &built.describe(v.codec));
    }
    counts(o, t, true);
}

fn audio(o: &mut String, track: Track, a: &AudioConfig, t: &TrackScan) {
    let config = CodecConfig {
        audio: Some(a.clone()),
        ..CodecConfig::default()
    };
    let (profile, _) = super::probe::profile_level(&config, Track::AUDIO);
    let name = a.codec.name();
    let profile = profile.map_or(String::new(), |p| format!(" {p}"));
    let label = track.to_string();
    line(
        o,
        4,
        &label,
        &format!(
            "{name}{profile}, {} Hz, {} channel{}",
            a.sample_rate,
            a.channels,
            if a.channels == 1 { "" } else { "s" }
        ),
    );
    if !a.specific.is_empty() {
        line(o, 4, "", &format!("config {}", hex_short(&a.specific)));
    }
    counts(o, t, false);
}

fn counts(o: &mut String, t: &TrackScan, video: bool) {
    let rate = t.bit_rate().map_or("-".to_string(), |b| {
        format!("{:.1} kbit/s", b as f64 / 1000.0)
    });
    let keys = if video {
        format!(", {} keyframes", t.keyframes)
    } else {
        String::new()
    };
    line(
        o,
        4,
        "",
        &format!("{} packets{keys}, {} bytes, {rate}", t.packets, t.bytes),
    );
    if video && t.gop.count > 0 {
        let g = &t.gop;
        let s = |v: i64| format!("{:.3}", v as f64 / 90_000.0);
        line(
            o,
            4,
            "",
            &format!(
                "GOP min/avg/max {}/{:.1}/{} frames, {}/{}/{} s ({} GOPs)",
                g.min_frames,
                g.total_frames as f64 / g.count as f64,
                g.max_frames,
                s(g.min_90k),
                s(g.total_90k / i64::try_from(g.count).unwrap_or(1).max(1)),
                s(g.max_90k),
                g.count
            ),
        );
    }
}

fn changes(o: &mut String, scan: &SessionScan) {
    for c in scan.config_changes.iter().take(LISTED) {
        line(
            o,
            4,
            "config",
            &format!(
                "changes at byte {} ({} ms): {}",
                c.byte,
                c.at_ms,
                c.differences.join(", ")
            ),
        );
    }
    more(o, scan.config_change_count, LISTED);
}

fn gaps(o: &mut String, scan: &SessionScan) {
    let mut any = false;
    for (kind, t) in [("video", &scan.video), ("audio", &scan.audio)] {
        for g in t.gaps.iter().take(LISTED) {
            any = true;
            line(
                o,
                4,
                "gap",
                &format!(
                    "{kind} DTS step {} ms at {} (byte {}), median {} ms",
                    g.step_ms,
                    duration_display(g.at_ms),
                    g.byte,
                    crate::media::to_ms(t.median_step_90k)
                ),
            );
        }
        more(o, t.gap_count, LISTED.min(t.gaps.len()));
    }
    if !any {
        line(
            o,
            4,
            "gaps",
            &format!("none (DTS step > {GAP_FACTOR}x the median)"),
        );
    }
}

fn damage(o: &mut String, scan: &SessionScan) {
    if scan.damage_count == 0 {
        line(o, 4, "damage", "none");
        return;
    }
    for d in scan.damage.iter().take(LISTED) {
        line(o, 4, "damage", d);
    }
    more(o, scan.damage_count, LISTED.min(scan.damage.len()));
}

fn more(o: &mut String, total: u64, shown: usize) {
    if total > shown as u64 {
        line(o, 4, "", &format!("... {} more", total - shown as u64));
    }
}

fn line(o: &mut String, indent: usize, label: &str, value: &str) {
    let _ = writeln!(o, "{:indent$}{label:<11} {value}", "");
}

fn codec_video(v: &VideoConfig) -> &'static str {
    v.codec.name()
}

/// H.264 level_idc is ten times the level; HEVC general_level_idc thirty times.
fn level_display(codec: crate::media::VideoCodec, idc: i32) -> String {
    let per = match codec {
        crate::media::VideoCodec::H264 => 10,
        crate::media::VideoCodec::Hevc => 30,
        // AV1 seq_level_idx and VP9 level are shown as the number itself.
        crate::media::VideoCodec::Av1
        | crate::media::VideoCodec::Vp9
        | crate::media::VideoCodec::FlvOnly(_) => 1,
    };
    if idc % per == 0 {
        format!("{}", idc / per)
    } else {
        format!("{:.1}", f64::from(idc) / f64::from(per))
    }
}

fn clock_source(s: WallClockSource) -> &'static str {
    match s {
        WallClockSource::Flag => "from --start-time",
        WallClockSource::FileName => "from the file name",
        WallClockSource::ModifiedTime => "guessed: file mtime minus duration",
        WallClockSource::ReadTime => "guessed: when reading began",
        WallClockSource::Capture => "from the capture's packet times",
        WallClockSource::Log => "from the log or playlist",
    }
}

/// The first bytes in hex, then the total length.
pub(crate) fn hex_short(bytes: &[u8]) -> String {
    let mut s: String = bytes
        .iter()
        .take(HEX_SHOWN)
        .map(|b| format!("{b:02x}"))
        .collect();
    if bytes.len() > HEX_SHOWN {
        s.push('…');
    }
    let _ = write!(s, " ({} bytes)", bytes.len());
    s
}

/// Unix milliseconds as `YYYY-MM-DD hh:mm:ss.mmm UTC`.
pub(crate) fn utc(ms: i64) -> String {
    let (y, m, d, h, mi, s, ms) = crate::wallclock::utc_fields(ms);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{ms:03} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_hex() {
        assert_eq!(utc(1_764_072_000_000), "2025-11-25 12:00:00.000 UTC");
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(hex_short(&[0x12, 0x10]), "1210 (2 bytes)");
        assert!(hex_short(&[0; 40]).ends_with("… (40 bytes)"));
    }

    #[test]
    fn levels() {
        use crate::media::VideoCodec;
        assert_eq!(level_display(VideoCodec::H264, 13), "1.3");
        assert_eq!(level_display(VideoCodec::H264, 40), "4");
        assert_eq!(level_display(VideoCodec::Hevc, 93), "3.1");
    }
}
