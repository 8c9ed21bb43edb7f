//! What differs between two configurations of a track, named for the messages that explain a
//! codec change (README "The rules" rule 2).

use super::{AudioConfig, VideoConfig};

/// A track's configuration, whose differing fields have names.
pub(super) trait Differs {
    /// The kind's word in messages.
    const KIND: &'static str;

    /// Names the fields that differ from `other`'s, each after `name`.
    fn fields(&self, other: &Self, name: &str, out: &mut Vec<String>);
}

impl Differs for VideoConfig {
    const KIND: &'static str = "video";

    fn fields(&self, b: &VideoConfig, name: &str, out: &mut Vec<String>) {
        let a = self;
        if a.codec != b.codec {
            out.push(format!("{name}video codec {:?} vs {:?}", a.codec, b.codec));
        }
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

    fn fields(&self, b: &AudioConfig, name: &str, out: &mut Vec<String>) {
        let a = self;
        if a.codec != b.codec {
            out.push(format!("{name}audio codec {:?} vs {:?}", a.codec, b.codec));
        }
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
/// single-track file): its presence, else its fields.
fn track<T: Differs>(track: Option<usize>, a: Option<&T>, b: Option<&T>, out: &mut Vec<String>) {
    let kind = T::KIND;
    let name = track
        .map(|n| format!("{kind} track {n} "))
        .unwrap_or_default();
    match (a, b) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => out.push(format!("{name}{kind} track present")),
        (Some(a), Some(b)) => a.fields(b, &name, out),
    }
}
