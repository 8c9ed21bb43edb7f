//! Audio tags → the audio track: legacy AAC and MP3, and the Enhanced RTMP v2 codecs (Opus,
//! FLAC, AC-3, E-AC-3, and AAC/MP3 under their FourCC).
//!
//! The configuration is the source's SequenceStart: AudioSpecificConfig, OpusHead (RFC 7845
//! §5.1), FLAC STREAMINFO. AC-3 and E-AC-3 send an empty one; their `dac3` / `dec3` is built
//! from the first syncframe (ETSI TS 102 366 Annex F), the one audio configuration kls-rec
//! builds rather than receives, and the FLV writer writes the empty SequenceStart again.
//!
//! E-RTMP v2 multitrack tags carry several audio tracks: each is a track of the session (plain
//! tags and track id 0 are track 0; other ids are numbered in the order their first
//! configuration arrives), with its id kept so the FLV writer signals it the same way.

use super::{Slot, TagSession, body};
use crate::codec::{aac, ac3, flac, mp3, opus};
use crate::input::flv::body::AudioBody;
use crate::input::flv::tags::TagRef;
use crate::media::{AudioCodec, AudioConfig, FlvAudio, Track};

use crate::container::flv::SOUND_BYTE_EX_HEADER as EX_SOUND_BYTE;

impl TagSession {
    pub(super) fn audio_body(&mut self, tag: TagRef<'_>, slot: Slot, body: AudioBody<'_>) {
        match body {
            AudioBody::AacConfig { sound_byte, asc } => self.aac_config(slot, sound_byte, asc),
            AudioBody::Mp3Frame { sound_byte, data } => self.mp3_frame(tag, slot, sound_byte, data),
            AudioBody::ExConfig { codec, config } => self.ex_audio_config(tag, slot, codec, config),
            AudioBody::Frame { codec, data } => match codec {
                AudioCodec::Mp3 => self.mp3_frame(tag, slot, EX_SOUND_BYTE, data),
                AudioCodec::Ac3 | AudioCodec::Eac3 => self.ac3_frame(tag, slot, codec, data),
                // No FourCC names a codec only FLV carries.
                AudioCodec::Aac | AudioCodec::Opus | AudioCodec::Flac | AudioCodec::FlvOnly(_) => {
                    self.coded_audio(tag, slot, codec, data)
                }
            },
            AudioBody::FlvOnly {
                codec,
                sound_byte,
                tag: body,
            } => self.flv_only_audio(tag, slot, codec, sound_byte, body),
            AudioBody::NotMedia => {}
            AudioBody::Unsupported(what) => self.not_recorded(what, tag.offset),
        }
    }

    /// The session track of a tag's audio track, once its first configuration has come.
    fn audio_track(&self, slot: Slot) -> Option<Track> {
        self.audio_ids.index(slot).map(Track::audio)
    }

    fn audio_config(&self, slot: Slot) -> Option<&AudioConfig> {
        self.current.audio_track(self.audio_track(slot)?.index)
    }

    /// Installs an audio track's configuration, numbering a new multitrack id.
    fn configure_audio(&mut self, slot: Slot, new: AudioConfig) {
        let Some(index) = self.audio_ids.assign(slot) else {
            return;
        };
        let old = self.current.audio_track(index);
        if old == Some(&new) {
            return;
        }
        let first = old.is_none();
        self.install(first, move |c| c.set_audio_track(index, new));
    }

    fn aac_config(&mut self, slot: Slot, sound_byte: u8, asc: &[u8]) {
        let (sample_rate, channels) = aac::parse_asc(asc)
            .map(|i| (i.sample_rate, i.channels))
            .unwrap_or((0, 0));
        let cfg = AudioConfig {
            flv_sound_byte: sound_byte,
            flv_track: slot.id,
            ..aac::audio_config(asc.to_vec(), sample_rate, channels)
        };
        self.configure_audio(slot, cfg);
    }

    /// A frame of a codec whose configuration came in its own sequence header.
    fn coded_audio(&mut self, tag: TagRef<'_>, slot: Slot, codec: AudioCodec, data: &[u8]) {
        match (self.audio_track(slot), self.audio_config(slot)) {
            (Some(track), Some(a)) if a.codec == codec => self.packet(tag, track, true, 0, data),
            _ => self.report_once(
                format!(
                    "{} frames before the first {} sequence header",
                    codec.name(),
                    codec.name()
                ),
                tag.offset,
            ),
        }
    }

    /// MP3 has no sequence header: the first frame's header and the sound byte are its
    /// configuration, and a change of either is a configuration change.
    fn mp3_frame(&mut self, tag: TagRef<'_>, slot: Slot, sound_byte: u8, data: &[u8]) {
        let (sample_rate, channels) = mp3::parse_header(data)
            .map(|h| (h.sample_rate, h.channels))
            .unwrap_or_else(|_| body::sound_byte_rate_channels(sound_byte));
        let cfg = AudioConfig {
            flv_sound_byte: sound_byte,
            flv_track: slot.id,
            ..mp3::audio_config(sample_rate, channels)
        };
        self.configure_audio(slot, cfg);
        self.track_packet(tag, slot, data);
    }

    /// A codec only FLV carries has no sequence header either: the first tag configures the
    /// track (rate and channels as ffmpeg reads them), a change of either reconfigures it, and
    /// the whole tag body, sound byte included, is the packet.
    fn flv_only_audio(
        &mut self,
        tag: TagRef<'_>,
        slot: Slot,
        legacy: FlvAudio,
        sound_byte: u8,
        body: &[u8],
    ) {
        let codec: AudioCodec = legacy.into();
        let (sample_rate, channels) = body::flv_only_rate_channels(legacy, sound_byte);
        let configured = self.audio_config(slot).is_some_and(|a| {
            (a.codec, a.sample_rate, a.channels) == (codec, sample_rate, channels)
        });
        if !configured {
            let cfg = AudioConfig {
                codec,
                specific: Vec::new(),
                sample_rate,
                channels,
                flv_sound_byte: sound_byte,
                flv_track: slot.id,
            };
            self.configure_audio(slot, cfg);
        }
        self.track_packet(tag, slot, body);
    }

    /// A packet of a track whose configuration this tag itself installed.
    fn track_packet(&mut self, tag: TagRef<'_>, slot: Slot, data: &[u8]) {
        if let Some(track) = self.audio_track(slot) {
            self.packet(tag, track, true, 0, data);
        }
    }

    fn ex_audio_config(&mut self, tag: TagRef<'_>, slot: Slot, codec: AudioCodec, config: &[u8]) {
        let parsed = match codec {
            AudioCodec::Aac => return self.aac_config(slot, EX_SOUND_BYTE, config),
            // Configured by their frames.
            AudioCodec::Mp3 | AudioCodec::Ac3 | AudioCodec::Eac3 | AudioCodec::FlvOnly(_) => return,
            AudioCodec::Opus => opus::parse_opus_head(config)
                .map(|h| (opus::DECODE_RATE, h.channels))
                .map_err(|e| e.to_string()),
            AudioCodec::Flac => match flac::streaminfo_bytes(config).map(flac::parse_streaminfo) {
                Ok(Ok(info)) if self.same_flac_stream(slot, codec, &info) => return,
                Ok(Ok(info)) => Ok((info.sample_rate, info.channels)),
                Ok(Err(e)) | Err(e) => Err(e.to_string()),
            },
        };
        match parsed {
            Ok((sample_rate, channels)) => {
                let cfg = AudioConfig {
                    codec,
                    specific: config.to_vec(),
                    sample_rate,
                    channels,
                    flv_sound_byte: EX_SOUND_BYTE,
                    flv_track: slot.id,
                };
                self.configure_audio(slot, cfg);
            }
            Err(e) => self.dropped(tag, format!("{} sequence header: {e}", codec.name())),
        }
    }

    /// FFmpeg sends STREAMINFO again at the end of a push with the frame sizes, sample count and
    /// MD5 filled in: the same stream, not a configuration change.
    fn same_flac_stream(&self, slot: Slot, codec: AudioCodec, info: &flac::StreamInfo) -> bool {
        let Some(a) = self.audio_config(slot).filter(|a| a.codec == codec) else {
            return false;
        };
        let Ok(Ok(old)) = flac::streaminfo_bytes(&a.specific).map(flac::parse_streaminfo) else {
            return false;
        };
        (old.min_block_size, old.max_block_size, old.sample_rate)
            == (info.min_block_size, info.max_block_size, info.sample_rate)
            && (old.channels, old.bits_per_sample) == (info.channels, info.bits_per_sample)
    }

    /// An AC-3 or E-AC-3 access unit: the first one (and any whose rate or channels differ)
    /// configures the track.
    fn ac3_frame(&mut self, tag: TagRef<'_>, slot: Slot, codec: AudioCodec, data: &[u8]) {
        let frame = match ac3::parse_syncframe(data) {
            Ok(frame) => frame,
            Err(e) => return self.dropped(tag, format!("{} frame: {e}", codec.name())),
        };
        let configured = self.audio_config(slot).is_some_and(|a| {
            (a.codec, a.sample_rate, a.channels) == (codec, frame.sample_rate, frame.channels())
        });
        if !configured {
            let specific = match ac3::configuration(codec, &frame, data) {
                Ok(s) => s,
                Err(e) => return self.dropped(tag, format!("{} frame: {e}", codec.name())),
            };
            let cfg = AudioConfig {
                codec,
                specific,
                sample_rate: frame.sample_rate,
                channels: frame.channels(),
                flv_sound_byte: EX_SOUND_BYTE,
                flv_track: slot.id,
            };
            self.configure_audio(slot, cfg);
        }
        self.track_packet(tag, slot, data);
    }
}
