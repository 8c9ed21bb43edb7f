//! What differs between two configurations of a track, named for the messages that explain a
//! codec change (README "The rules" rule 2).

use super::{AudioConfig, VideoConfig};

/// Names the fields that differ between two configurations of one video track (`track` `None`
/// for the first, whose words stay those of a single-track file).
pub(super) fn video(
    track: Option<usize>,
    a: Option<&VideoConfig>,
    b: Option<&VideoConfig>,
    out: &mut Vec<String>,
) {
    let name = track
        .map(|n| format!("video track {n} "))
        .unwrap_or_default();
    match (a, b) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => out.push(format!("{name}video track present")),
        (Some(a), Some(b)) => {
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
}

/// Names the fields that differ between two configurations of one audio track (`track` `None`
/// for the first, whose words stay those of a single-track file).
pub(super) fn audio(
    track: Option<usize>,
    a: Option<&AudioConfig>,
    b: Option<&AudioConfig>,
    out: &mut Vec<String>,
) {
    let name = track
        .map(|n| format!("audio track {n} "))
        .unwrap_or_default();
    match (a, b) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => out.push(format!("{name}audio track present")),
        (Some(a), Some(b)) => {
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
}
