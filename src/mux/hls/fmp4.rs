//! Fragmented MP4 HLS segments (RFC 8216 §3.3, CMAF ISO/IEC 23000-19): one init segment per
//! recording and one `moof` + `mdat` fragment per media segment, written by
//! [`crate::mux::mp4::fragment`].
//!
//! Packet-exact: each sample's size, payload and key flag are the packet's; `tfdt` is the
//! track's first DTS in the segment (file-relative, 90 kHz, the same clock as the whole-file
//! writers) and each sample's duration the step to the next DTS of its track, so every DTS is
//! the packet's; composition offsets go as they are (`trun` version 1, signed). The last sample
//! of a track in a segment lasts as long as the track's previous step (the next segment's `tfdt`
//! states the true DTS that follows); a track's only sample lasts one frame (25 fps video, 1024
//! or 1152 samples of audio).
//!
//! A segment's media is held in memory until it closes, because `moof` precedes `mdat` and
//! states every sample: memory is one segment's payload.

use anyhow::{Result, bail};
use std::io::Write;

use super::segment::SegmentWriter;
use crate::media::{CodecConfig, Packet, Track};
use crate::mux::mp4::fragment::{self, FragmentSample, TrackFragment};
use crate::sink::local::PlainFile;

/// One track's samples of the open segment.
struct TrackBuffer {
    kind: Track,
    track_id: u32,
    /// DTS and the sample without its duration, in arrival order.
    samples: Vec<(i64, FragmentSample)>,
    data: Vec<u8>,
    /// The last step between two DTS of the track, across segments.
    last_step_90k: Option<u32>,
    /// Duration of a lone sample (no step known).
    lone_90k: u32,
}

impl TrackBuffer {
    /// The buffered samples with their durations, and the track's first DTS.
    fn fragment_samples(&mut self) -> Result<Option<(u64, Vec<FragmentSample>)>> {
        let Some(&(first_dts, _)) = self.samples.first() else {
            return Ok(None);
        };
        let Ok(base) = u64::try_from(first_dts) else {
            bail!(
                "fmp4: {} DTS {first_dts} is before the file's start",
                self.kind
            );
        };
        let mut out = Vec::with_capacity(self.samples.len());
        for i in 0..self.samples.len() {
            let (dts, mut s) = self.samples[i];
            s.duration_90k = match self.samples.get(i + 1) {
                Some(&(next, _)) => {
                    let Ok(step) = u32::try_from(next - dts) else {
                        bail!(
                            "fmp4: {} DTS step {} does not fit 'trun'",
                            self.kind,
                            next - dts
                        );
                    };
                    if step > 0 {
                        self.last_step_90k = Some(step);
                    }
                    step
                }
                None => self.last_step_90k.unwrap_or(self.lone_90k),
            };
            out.push(s);
        }
        Ok(Some((base, out)))
    }
}

/// Writes fMP4 segments for one recording file.
pub(crate) struct Fmp4Segments {
    init: Vec<u8>,
    tracks: Vec<TrackBuffer>,
    /// `mfhd` sequence number of the next fragment.
    sequence: u32,
}

impl Fmp4Segments {
    pub(crate) fn new(config: &CodecConfig, start_time_s: i64) -> Result<Fmp4Segments> {
        let init = fragment::init_segment(config, start_time_s)?;
        let mut tracks = Vec::new();
        // Track ids as the init segment numbers them: video first.
        for (track, _) in config.video_tracks() {
            tracks.push((track, 90_000 / 25));
        }
        for (track, a) in config.audio_tracks() {
            let samples = a.codec.frame_samples();
            let lone =
                crate::media::rescale(u64::from(samples), 90_000, u64::from(a.sample_rate.max(1)));
            tracks.push((track, u32::try_from(lone).unwrap_or(u32::MAX)));
        }
        let tracks = tracks
            .into_iter()
            .enumerate()
            .map(|(i, (kind, lone_90k))| TrackBuffer {
                kind,
                track_id: i as u32 + 1,
                samples: Vec::new(),
                data: Vec::new(),
                last_step_90k: None,
                lone_90k,
            })
            .collect();
        Ok(Fmp4Segments {
            init,
            tracks,
            sequence: 1,
        })
    }
}

impl SegmentWriter for Fmp4Segments {
    fn extension(&self) -> &'static str {
        "m4s"
    }

    fn init_segment(&self) -> Option<&[u8]> {
        Some(&self.init)
    }

    fn start_segment(&mut self, _out: &mut PlainFile) -> Result<()> {
        Ok(())
    }

    fn write_packet(&mut self, packet: &Packet, _out: &mut PlainFile) -> Result<()> {
        let Some(t) = self.tracks.iter_mut().find(|t| t.kind == packet.track) else {
            bail!(
                "fmp4: a {} packet in a file without that track",
                packet.track
            );
        };
        let Ok(size) = u32::try_from(packet.data.len()) else {
            bail!(
                "fmp4: a {} packet of {} bytes",
                packet.track,
                packet.data.len()
            );
        };
        t.samples.push((
            packet.dts_90k,
            FragmentSample {
                duration_90k: 0,
                size,
                keyframe: packet.keyframe,
                cts_90k: packet.cts_90k,
            },
        ));
        t.data.extend_from_slice(&packet.data);
        Ok(())
    }

    fn end_segment(&mut self, out: &mut PlainFile) -> Result<()> {
        let mut runs = Vec::new();
        for t in &mut self.tracks {
            if let Some((base, samples)) = t.fragment_samples()? {
                runs.push((t.track_id, base, samples));
            }
        }
        let fragments: Vec<TrackFragment<'_>> = runs
            .iter()
            .map(|(track_id, base, samples)| TrackFragment {
                track_id: *track_id,
                base_dts_90k: *base,
                samples,
            })
            .collect();
        if !fragments.is_empty() {
            out.write_all(&fragment::fragment_head(self.sequence, &fragments)?)?;
            self.sequence = self.sequence.saturating_add(1);
        }
        for t in &mut self.tracks {
            out.write_all(&t.data)?;
            t.data.clear();
            t.samples.clear();
        }
        Ok(())
    }
}
