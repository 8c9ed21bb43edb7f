//! The `--json` object: `ffprobe -show_format -show_streams -count_packets -of json` (FFmpeg
//! 5.1) for the fields both know, with ffprobe's names, types (numbers as strings where it
//! prints strings) and values. The rules per container are in the parent module's doc.

use serde::Serialize;

use super::scan::SessionScan;
use super::ts_spans::{TsSpans, ts_spans};
use super::{Container, ContainerFacts, Inspection, ts_facts};
use crate::codec::{aac, av1, h264, hevc, vp9};
use crate::format::Format;
use crate::input::ts::psi::EsKind;
use crate::media::{AudioCodec, CodecConfig, Track, TrackKind, VideoCodec, rescale};
use crate::mediainfo::{self, StreamInfo};

/// ffprobe's output for one file: `streams` then `format`, as ffprobe orders them; then what
/// ffprobe does not say: the damage found (the exit status is 3 when there is any) and the
/// streams not recorded, each omitted when empty.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Probe {
    pub(crate) streams: Vec<ProbeStream>,
    pub(crate) format: ProbeFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) damage: Option<ProbeDamage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) not_recorded: Vec<ProbeNotRecorded>,
}

/// A stream not recorded, and the byte where it was first seen (the PMT, the tag).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ProbeNotRecorded {
    pub(crate) what: String,
    pub(crate) offset: u64,
}

/// Damage across the input's sessions: how many reports, and the first ones (with their byte
/// offsets) as the report prints them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ProbeDamage {
    pub(crate) count: u64,
    pub(crate) reports: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ProbeFormat {
    pub(crate) filename: String,
    pub(crate) nb_streams: usize,
    pub(crate) format_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<String>,
    pub(crate) size: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bit_rate: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct ProbeStream {
    pub(crate) index: usize,
    /// Absent where ffprobe knows no codec (an MPEG-TS stream_type it does not map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) codec_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) codec_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) level: Option<i32>,
    pub(crate) r_frame_rate: String,
    pub(crate) avg_frame_rate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sample_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) channels: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bit_rate: Option<String>,
    pub(crate) nb_read_packets: String,
    /// MPEG-TS: the PID, as ffprobe prints it (`0x100`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<String>,
}

/// ffprobe's values for an inspected file.
pub(crate) fn probe(ins: &Inspection) -> Probe {
    // The first session with media gives the configuration and the frame-rate analysis (ffprobe
    // analyses the start of a file); packets are counted over all sessions.
    let first = ins.sessions.iter().find_map(|s| s.scan.as_ref());
    let config = first.map(|s| s.config.as_ref().clone()).unwrap_or_default();
    let stats = first.map(|s| s.stats.clone()).unwrap_or_default();
    let info = mediainfo::describe(stats_format(ins.container), ins.size, &config, &stats);
    let ts = ts_spans(ins, &info.streams);
    let duration_us = format_duration_us(ins, &ts);
    let mut streams: Vec<ProbeStream> = (info.streams.iter().enumerate())
        .map(|(index, s)| probe_stream(ins, first, &config, &ts, index, s))
        .collect();
    if let ContainerFacts::MpegTs(pmt) = &ins.facts {
        streams = ts_streams(streams, pmt);
    }
    let size = probed_size(ins);
    Probe {
        format: ProbeFormat {
            filename: ins.input.clone(),
            nb_streams: streams.len(),
            format_name: ins.container.format_name().into(),
            duration: duration_us.map(|d| format!("{:.6}", d as f64 / 1e6)),
            size: size.to_string(),
            bit_rate: duration_us
                .filter(|&d| d > 0)
                .map(|d| ((size as f64 * 8.0 * 1e6 / d as f64) as u64).to_string()),
        },
        streams,
        damage: damage(ins),
        not_recorded: not_recorded(ins),
    }
}

/// The output format whose statistics ffprobe's reading of the container matches.
fn stats_format(container: Container) -> Format {
    match container {
        Container::Mp4 => Format::Mp4,
        Container::Hls | Container::MpegTs => Format::Hls,
        // FLV-like inputs: tags, messages, or their segment logs.
        Container::Flv
        | Container::HttpFlv
        | Container::RtmpDump
        | Container::Pcap
        | Container::SegmentLog
        | Container::Unknown => Format::Flv,
    }
}

/// One stream as ffprobe lists it: the file statistics' description, profile and level, the
/// frame rates of the first session's start, timing, and the packets of every session.
fn probe_stream(
    ins: &Inspection,
    first: Option<&SessionScan>,
    config: &CodecConfig,
    ts: &TsSpans,
    index: usize,
    s: &StreamInfo,
) -> ProbeStream {
    let track = s.track;
    let (profile, level) = profile_level(config, track);
    let r_frame_rate = s.r_frame_rate.as_deref().unwrap_or("0/0");
    let (duration, bit_rate) = stream_timing(ins, track, ts);
    let packets: u64 = (ins.sessions.iter())
        .filter_map(|s| s.scan.as_ref())
        .filter_map(|s| s.track(track))
        .map(|t| t.packets)
        .sum();
    ProbeStream {
        index,
        codec_name: Some(s.codec_name.clone()),
        codec_type: Some(s.codec_type.clone()),
        profile,
        width: s.width,
        height: s.height,
        level,
        r_frame_rate: r_frame_rate.to_string(),
        avg_frame_rate: match track.kind {
            TrackKind::Video => avg_frame_rate(
                first
                    .and_then(|s| s.track(track))
                    .map_or(&[][..], |t| &t.early_dts_90k),
                r_frame_rate,
            ),
            TrackKind::Audio => "0/0".into(),
        },
        sample_rate: s.sample_rate.map(|r| r.to_string()),
        channels: s.channels,
        duration,
        bit_rate: bit_rate.map(|b| b.to_string()),
        nb_read_packets: packets.to_string(),
        id: None,
    }
}

/// The size ffprobe gives the input: an HLS playlist's own, any other file's.
fn probed_size(ins: &Inspection) -> u64 {
    match &ins.facts {
        ContainerFacts::Hls { playlist_size, .. } => *playlist_size,
        ContainerFacts::Flv { .. }
        | ContainerFacts::Mp4(_)
        | ContainerFacts::MpegTs(_)
        | ContainerFacts::Rtmp(_)
        | ContainerFacts::Capture(_)
        | ContainerFacts::None => ins.size,
    }
}

/// The streams not recorded, each named once, at its first offset.
fn not_recorded(ins: &Inspection) -> Vec<ProbeNotRecorded> {
    let mut out: Vec<ProbeNotRecorded> = Vec::new();
    let scans = ins.sessions.iter().filter_map(|s| s.scan.as_ref());
    for n in scans.flat_map(|s| &s.not_recorded) {
        if !out.iter().any(|p| p.what == n.what) {
            out.push(ProbeNotRecorded {
                what: n.what.clone(),
                offset: n.offset,
            });
        }
    }
    out
}

/// The input's damage, when there is any: reports, and sessions that could not be read.
fn damage(ins: &Inspection) -> Option<ProbeDamage> {
    let count = ins.damage_count();
    let reports = ins
        .sessions
        .iter()
        .flat_map(|s| {
            let scanned = s.scan.iter().flat_map(|x| x.damage.iter().cloned());
            scanned.chain(s.error.clone())
        })
        .collect();
    (count > 0).then_some(ProbeDamage { count, reports })
}

/// The media streams and every other PMT entry in PMT order, as ffprobe lists an MPEG-TS: the
/// streams kls-rec reads (each video and audio entry that carries a PES, matched to the
/// session's tracks of its kind in order, as the reader numbers them) keep their values and
/// gain their PID; the others are listed with the codec FFmpeg names and their unit count.
fn ts_streams(media: Vec<ProbeStream>, pmt: &[ts_facts::TsStream]) -> Vec<ProbeStream> {
    let mut media: Vec<Option<ProbeStream>> = media.into_iter().map(Some).collect();
    let mut take = |kind: &str| {
        media
            .iter_mut()
            .find(|s| {
                s.as_ref()
                    .is_some_and(|s| s.codec_type.as_deref() == Some(kind))
            })
            .and_then(Option::take)
    };
    let mut out = Vec::new();
    for s in pmt {
        let read = match s.kind {
            EsKind::Video(_) if s.units > 0 => take("video"),
            EsKind::Audio(_) if s.units > 0 => take("audio"),
            EsKind::Video(_) | EsKind::Audio(_) | EsKind::Other { .. } => None,
        };
        let (codec_type, codec_name) = match s.kind {
            EsKind::Video(c) => (Some("video"), Some(mediainfo::video_codec_name(c))),
            EsKind::Audio(c) => (Some("audio"), Some(mediainfo::audio_codec_name(c))),
            EsKind::Other {
                codec_type,
                codec_name,
                ..
            } => (codec_type, codec_name),
        };
        let stream = read.unwrap_or_else(|| ProbeStream {
            index: 0,
            codec_name: codec_name.map(str::to_string),
            codec_type: codec_type.map(str::to_string),
            profile: None,
            width: None,
            height: None,
            level: None,
            r_frame_rate: "0/0".into(),
            avg_frame_rate: "0/0".into(),
            sample_rate: None,
            channels: None,
            duration: None,
            bit_rate: None,
            nb_read_packets: s.units.to_string(),
            id: None,
        });
        out.push(ProbeStream {
            index: out.len(),
            id: Some(format!("0x{:x}", s.pid)),
            ..stream
        });
    }
    // A track read without a PMT entry (none was found) stays listed.
    out.extend(
        media
            .into_iter()
            .flatten()
            .map(|s| ProbeStream { index: 0, ..s }),
    );
    for (i, s) in out.iter_mut().enumerate() {
        s.index = i;
    }
    out
}

/// The format duration in µs, by the container's rule.
fn format_duration_us(ins: &Inspection, ts: &TsSpans) -> Option<i64> {
    match &ins.facts {
        ContainerFacts::Flv {
            meta_duration_s,
            last_tag_ms,
            ..
        } => match (meta_duration_s, last_tag_ms) {
            // FFmpeg: s->duration = num_val * AV_TIME_BASE, truncated.
            (Some(d), _) => Some((d * 1e6) as i64),
            (None, Some(ms)) => Some(i64::from(*ms) * 1000),
            (None, None) => Some(scanned_duration_us(ins)),
        },
        ContainerFacts::Mp4(index) => Some(
            i64::try_from(rescale(
                index.duration,
                1_000_000,
                u64::from(index.timescale),
            ))
            .unwrap_or(i64::MAX),
        ),
        ContainerFacts::Hls {
            extinf_us, endlist, ..
        } => endlist.then_some(*extinf_us),
        ContainerFacts::MpegTs(_) => Some(ts.format_duration_us()),
        ContainerFacts::Rtmp(_) | ContainerFacts::Capture(_) | ContainerFacts::None => {
            Some(scanned_duration_us(ins))
        }
    }
}

/// ffprobe's `%f` of a duration in ticks of `1 / timescale`: ticks × av_q2d(time base).
fn seconds(ticks: i64, timescale: u32) -> String {
    format!("{:.6}", ticks as f64 * (1.0 / f64::from(timescale)))
}

/// The sessions' durations added up.
fn scanned_duration_us(ins: &Inspection) -> i64 {
    ins.sessions
        .iter()
        .filter_map(|s| s.scan.as_ref())
        .map(|s| s.duration_90k())
        .fold(0i64, i64::saturating_add)
        .saturating_mul(100)
        / 9
}

/// Stream `duration` and `bit_rate` where ffprobe prints them: MP4 (`mdhd`, `stts` and the
/// edit list), FLV (`onMetaData` data rates × 1024), MPEG-TS (the PTS spans; the audio parser's
/// bit rate) and HLS (an MP3 frame's bit rate, which the MP3 decoder reports).
fn stream_timing(ins: &Inspection, track: Track, ts: &TsSpans) -> (Option<String>, Option<u64>) {
    let kind = track.kind;
    let parsed_audio_bit_rate = || {
        let first = ins.sessions.iter().find_map(|s| s.scan.as_ref())?;
        let parse = (track.kind == TrackKind::Audio)
            .then(|| first.audio_parse.get(usize::from(track.index)))??;
        u64::try_from(parse.bit_rate).ok().filter(|&b| b > 0)
    };
    match &ins.facts {
        ContainerFacts::Mp4(index) => {
            let mut of_kind = index.tracks.iter().filter(|t| t.kind == Some(kind));
            let Some(t) = of_kind.nth(usize::from(track.index)) else {
                return (None, None);
            };
            // mov.c: the mdhd duration, cut to the stts total (mov_read_stts), which gives the
            // bit rate (mov_build_index); then cut to the edit list's span (mov_fix_index).
            let mut media = t.duration;
            let stts = t.stts_duration();
            if stts > 0 {
                media = media.min(stts);
            }
            let bit_rate = (media > 0).then(|| {
                let v =
                    u128::from(t.sample_bytes()) * 8 * u128::from(t.timescale) / u128::from(media);
                u64::try_from(v).unwrap_or(u64::MAX)
            });
            let edited = match t.edit.span_media {
                Some(span) if t.samples() > 0 => media.min(span),
                _ => media,
            };
            let duration = (t.timescale > 0)
                .then(|| seconds(i64::try_from(edited).unwrap_or(i64::MAX), t.timescale));
            (duration, bit_rate)
        }
        ContainerFacts::Flv {
            videodatarate,
            audiodatarate,
            ..
        } => {
            // `onMetaData` speaks of the first audio track only.
            let rate = match (kind, track.index) {
                (TrackKind::Video, _) => videodatarate,
                (TrackKind::Audio, 0) => audiodatarate,
                (TrackKind::Audio, _) => &None,
            };
            // FFmpeg: bit_rate = num_val * 1024.0, truncated; 0 is "unknown".
            (None, rate.map(|r| (r * 1024.0) as u64).filter(|&b| b > 0))
        }
        ContainerFacts::MpegTs(_) => (
            ts.of(track)
                .map(|(start, end)| seconds(end.saturating_sub(start), 90_000)),
            parsed_audio_bit_rate(),
        ),
        // hls.c runs no parser on its streams: the decoder alone may report a bit rate.
        ContainerFacts::Hls { .. } => {
            let first = ins.sessions.iter().find_map(|s| s.scan.as_ref());
            let reported = first
                .and_then(|s| s.config.audio_track(track.index))
                .is_some_and(|a| a.codec.ids().path.decoder_bit_rate);
            (None, parsed_audio_bit_rate().filter(|_| reported))
        }
        ContainerFacts::Rtmp(_) | ContainerFacts::Capture(_) | ContainerFacts::None => (None, None),
    }
}

/// ffprobe's profile string and level number from the codec configuration.
pub(super) fn profile_level(config: &CodecConfig, track: Track) -> (Option<String>, Option<i32>) {
    match track.kind {
        TrackKind::Video => {
            let Some(v) = config.video_track(track.index) else {
                return (None, None);
            };
            match v.codec {
                VideoCodec::H264 => h264::parse_avcc(&v.record).map_or((None, None), |c| {
                    (
                        Some(h264::profile_name(c.profile_idc, c.profile_compatibility).into()),
                        Some(i32::from(c.level_idc)),
                    )
                }),
                VideoCodec::Hevc => hevc::parse_hvcc(&v.record).map_or((None, None), |c| {
                    (
                        Some(hevc::profile_name(c.general_profile_idc).into()),
                        Some(i32::from(c.general_level_idc)),
                    )
                }),
                // FFmpeg's AV1 parser sets the level to seq_level_idx[0].
                VideoCodec::Av1 => av1::parse_av1c(&v.record).map_or((None, None), |c| {
                    (
                        Some(av1::profile_name(c.seq_profile).into()),
                        Some(i32::from(c.seq_level_idx_0)),
                    )
                }),
                VideoCodec::Vp9 => vp9::parse_vpcc(&v.record).map_or((None, None), |c| {
                    (Some(vp9::profile_name(c.profile).into()), None)
                }),
                // No profile in a tag header; ffprobe's comes from decoding.
                VideoCodec::FlvOnly(_) => (None, None),
            }
        }
        TrackKind::Audio => match config.audio_track(track.index) {
            Some(a) if a.codec == AudioCodec::Aac => (
                aac::parse_asc(&a.specific)
                    .ok()
                    .map(|asc| aac::profile_name(asc.object_type).to_string()),
                None,
            ),
            _ => (None, None),
        },
    }
}

/// Frames over their DTS span in the first [`super::scan::EARLY_DTS`] packets, reduced; within
/// 1 % of `r_frame_rate` it is that rate (FFmpeg rounds its estimate to a standard rate there).
fn avg_frame_rate(early_dts_90k: &[i64], r_frame_rate: &str) -> String {
    let (Some(first), Some(last)) = (early_dts_90k.first(), early_dts_90k.last()) else {
        return "0/0".into();
    };
    let span = last.saturating_sub(*first);
    let frames = i64::try_from(early_dts_90k.len()).unwrap_or(0) - 1;
    if frames < 1 || span <= 0 {
        return "0/0".into();
    }
    let avg = frames as f64 * 90_000.0 / span as f64;
    if let Some((n, d)) = r_frame_rate.split_once('/')
        && let (Ok(n), Ok(d)) = (n.parse::<f64>(), d.parse::<f64>())
        && d > 0.0
        && n > 0.0
        && (avg - n / d).abs() <= 0.01 * n / d
    {
        return r_frame_rate.to_string();
    }
    let (num, den) = (frames.saturating_mul(90_000), span);
    let g = gcd(num, den);
    format!("{}/{}", num / g, den / g)
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

#[cfg(test)]
mod tests {
    use super::super::ts_spans::ticks_to_us;
    use super::*;

    #[test]
    fn rescale_rounds_like_ffmpeg() {
        assert_eq!(rescale(30_023, 1_000_000, 1000), 30_023_000);
        assert_eq!(rescale(1, 1_000_000, 3), 333_333);
        assert_eq!(rescale(2, 1_000_000, 3), 666_667);
        assert_eq!(rescale(5, 5, 0), 0);
        // 90 kHz ticks: 1 tick is 11.1 µs, 5 ticks 55.6 µs; halves go away from zero.
        assert_eq!(ticks_to_us(1), 11);
        assert_eq!(ticks_to_us(5), 56);
        assert_eq!(ticks_to_us(-5), -56);
        assert_eq!(seconds(363_619, 90_000), "4.040211");
        assert_eq!(seconds(4000, 1000), "4.000000");
    }
}
