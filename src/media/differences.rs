//! What differs between two configurations of a track, named for the messages that explain a
//! codec change (README "The rules" rule 2).

use std::fmt;

use super::{AudioCodec, AudioConfig, VideoCodec, VideoConfig};

/// A track's configuration, whose differing fields have names.
pub(super) trait Differs {
    /// The kind's word in messages.
    const KIND: &'static str;
    type Codec: PartialEq + fmt::Debug;

    fn codec(&self) -> Self::Codec;

    /// Names the fields but the codec that differ between `a` and `b`, each after `name`.
    fn fields(a: &Self, b: &Self, name: &str, out: &mut Vec<String>);
}

impl Differs for VideoConfig {
    const KIND: &'static str = "video";
    type Codec = VideoCodec;

    fn codec(&self) -> VideoCodec {
        self.codec
    }

    fn fields(a: &VideoConfig, b: &VideoConfig, name: &str, out: &mut Vec<String>) {
        if (a.width, a.height) != (b.width, b.height) {
            out.push(format!(
                "{name}resolution {}x{} vs {}x{}",
                a.width, a.height, b.width, b.height
            ));
        }
        if a.record != b.record {
            out.push(format!("{name}video decoder configuration (SPS/PPS/VPS)"));
        }
        if a.flv_track != b.flv_track {
            out.push(format!("{name}Enhanced RTMP track id"));
        }
    }
}

impl Differs for AudioConfig {
    const KIND: &'static str = "audio";
    type Codec = AudioCodec;

    fn codec(&self) -> AudioCodec {
        self.codec
    }

    fn fields(a: &AudioConfig, b: &AudioConfig, name: &str, out: &mut Vec<String>) {
        if a.sample_rate != b.sample_rate {
            out.push(format!(
                "{name}sample rate {} vs {}",
                a.sample_rate, b.sample_rate
            ));
        }
        if a.channels != b.channels {
            out.push(format!("{name}channels {} vs {}", a.channels, b.channels));
        }
        if a.specific != b.specific {
            out.push(format!("{name}AudioSpecificConfig"));
        }
        if a.flv_sound_byte != b.flv_sound_byte && a.codec.ids().path.flv_flags_describe {
            out.push(format!("{name}FLV sound flags"));
        }
        if a.flv_track != b.flv_track {
            out.push(format!("{name}Enhanced RTMP track id"));
        }
    }
}

/// Names what differs between two configurations' tracks of one kind, each given as its first
/// track and the tracks after it: the first track, then tracks 1, 2, ….
pub(super) fn tracks<T: Differs>(
    (a, more_a): (Option<&T>, &[T]),
    (b, more_b): (Option<&T>, &[T]),
    out: &mut Vec<String>,
) {
    track(None, a, b, out);
    for i in 0..more_a.len().max(more_b.len()) {
        track(Some(i + 1), more_a.get(i), more_b.get(i), out);
    }
}

/// Names what differs in one track (`track` `None` for the first, whose words stay those of a
/// single-track file): its presence, else its codec, then its other fields.
fn track<T: Differs>(track: Option<usize>, a: Option<&T>, b: Option<&T>, out: &mut Vec<String>) {
    let kind = T::KIND;
    let name = track
        .map(|n| format!("{kind} track {n} "))
        .unwrap_or_default();
    match (a, b) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => out.push(format!("{name}{kind} track present")),
        (Some(a), Some(b)) => {
            let (codec_a, codec_b) = (a.codec(), b.codec());
            if codec_a != codec_b {
                out.push(format!("{name}{kind} codec {codec_a:?} vs {codec_b:?}"));
            }
            T::fields(a, b, &name, out);
        }
    }
}
