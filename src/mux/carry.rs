//! Which of a file's tracks each format can carry (README "Not recorded is not damage"): FLV
//! carries every codec kls-rec reads; MP4 and HLS (MPEG-TS or fMP4 segments) have no sample entry
//! and no stream type for the codecs only FLV carries (Sorenson H.263, Screen video, VP6,
//! Nellymoser, Speex, ADPCM, linear PCM, G.711). Such a track is left out of that format's file
//! and the format's other tracks are written as they are; a file left without any track is not
//! written.

use super::Format;
use crate::media::{AudioCodec, CodecConfig, Track, TrackKind, VideoCodec};

/// Whether `format` can carry a video codec.
pub(crate) fn carries_video(format: Format, codec: VideoCodec) -> bool {
    match format {
        Format::Flv => true,
        Format::Mp4 | Format::Hls => codec.mp4_carries(),
    }
}

/// Whether `format` can carry an audio codec.
pub(crate) fn carries_audio(format: Format, codec: AudioCodec) -> bool {
    match format {
        Format::Flv => true,
        Format::Mp4 | Format::Hls => codec.mp4_carries(),
    }
}

/// What a format's writer gets of a file: the configuration of the tracks it can carry (video
/// and audio tracks each renumbered in order), and which tracks were left out.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Carried {
    pub(crate) config: CodecConfig,
    /// Each track left out, with its codec's ffprobe name.
    pub(crate) left_out: Vec<(Track, &'static str)>,
    /// Per source video track: its track in `config`, `None` when left out.
    video: Vec<Option<Track>>,
    /// Per source audio track: its track in `config`, `None` when left out.
    audio: Vec<Option<Track>>,
}

impl Carried {
    pub(crate) fn new(format: Format, config: &CodecConfig) -> Carried {
        let mut out = CodecConfig::default();
        let mut left_out = Vec::new();
        let mut video = Vec::new();
        for (track, v) in config.video_tracks() {
            if carries_video(format, v.codec) {
                let index = u8::try_from(out.video_tracks().count()).unwrap_or(u8::MAX);
                if index == 0 {
                    out.video_built = config.video_built.clone().filter(|_| track.index == 0);
                }
                out.set_video_track(index, v.clone());
                video.push(Some(Track::video(index)));
            } else {
                left_out.push((track, v.codec.name()));
                video.push(None);
            }
        }
        let mut audio = Vec::new();
        for (track, a) in config.audio_tracks() {
            if carries_audio(format, a.codec) {
                let index = u8::try_from(out.audio_tracks().count()).unwrap_or(u8::MAX);
                out.set_audio_track(index, a.clone());
                audio.push(Some(Track::audio(index)));
            } else {
                left_out.push((track, a.codec.name()));
                audio.push(None);
            }
        }
        Carried {
            config: out,
            left_out,
            video,
            audio,
        }
    }

    /// Whether the format gets no track at all: it writes no file.
    pub(crate) fn is_empty(&self) -> bool {
        self.config.video.is_none() && self.config.audio.is_none()
    }

    /// Whether every track is carried as it is.
    pub(crate) fn is_whole(&self) -> bool {
        self.left_out.is_empty()
    }

    /// The track a source track's packets go to in the format's file; `None` when left out.
    pub(crate) fn track(&self, track: Track) -> Option<Track> {
        let map = match track.kind {
            TrackKind::Video => &self.video,
            TrackKind::Audio => &self.audio,
        };
        map.get(usize::from(track.index)).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{AudioConfig, FlvAudio, FlvVideo, FlvVideoSignal, VideoConfig};

    fn audio(codec: AudioCodec) -> AudioConfig {
        AudioConfig {
            codec,
            specific: Vec::new(),
            sample_rate: 8_000,
            channels: 1,
            flv_sound_byte: 0x52,
            flv_track: None,
        }
    }

    fn video(codec: VideoCodec) -> VideoConfig {
        VideoConfig {
            codec,
            record: Vec::new(),
            width: 176,
            height: 144,
            flv_signal: FlvVideoSignal::CodecId,
            flv_track: None,
        }
    }

    #[test]
    fn flv_only_tracks_are_left_out_of_mp4_and_hls() {
        let nelly = AudioCodec::FlvOnly(FlvAudio::Nellymoser8k);
        let config = CodecConfig {
            video: Some(video(VideoCodec::H264)),
            audio: Some(audio(nelly)),
            more_audio: vec![audio(AudioCodec::Mp3)],
            ..CodecConfig::default()
        };
        let flv = Carried::new(Format::Flv, &config);
        assert!(flv.is_whole());
        assert_eq!(flv.config, config);
        let mp4 = Carried::new(Format::Mp4, &config);
        assert_eq!(mp4.left_out, vec![(Track::AUDIO, "nellymoser")]);
        assert_eq!(
            mp4.config.audio.as_ref().map(|a| a.codec),
            Some(AudioCodec::Mp3)
        );
        assert!(mp4.config.more_audio.is_empty());
        assert_eq!(mp4.track(Track::VIDEO), Some(Track::VIDEO));
        assert_eq!(mp4.track(Track::AUDIO), None);
        assert_eq!(mp4.track(Track::audio(1)), Some(Track::AUDIO));
        let spark = CodecConfig {
            video: Some(video(VideoCodec::FlvOnly(FlvVideo::SorensonH263))),
            ..CodecConfig::default()
        };
        let hls = Carried::new(Format::Hls, &spark);
        assert!(hls.is_empty());
        assert_eq!(hls.left_out, vec![(Track::VIDEO, "flv1")]);
    }
}
