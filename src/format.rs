//! The output formats (README "Outputs" `--formats`): the word every stage shares, from the
//! command line through the muxers and sinks to the callbacks and reports.

use std::fmt;
use std::str::FromStr;

/// An output container (README "Outputs" `--formats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Hls,
    Mp4,
    Flv,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Hls, Format::Mp4, Format::Flv];

    /// Directory under `record/{App}/{StreamName}/` and the name used on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Hls => "hls",
            Format::Mp4 => "mp4",
            Format::Flv => "flv",
        }
    }

    /// Extension of the main file (the playlist for HLS).
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Hls => "m3u8",
            Format::Mp4 => "mp4",
            Format::Flv => "flv",
        }
    }
}

/// The media type (`Content-Type`) of each kind of file kls-rec writes, by extension: the
/// formats' main files, MPEG-TS and fMP4 HLS segments (`video/iso.segment`, RFC 8216bis §4.4.4
/// / IANA) and fMP4 init segments (`.mp4`).
const MEDIA_TYPES: [(&str, &str); 5] = [
    ("m3u8", "application/vnd.apple.mpegurl"),
    ("ts", "video/mp2t"),
    ("m4s", "video/iso.segment"),
    ("mp4", "video/mp4"),
    ("flv", "video/x-flv"),
];

/// The media type of a file with `extension`; `application/octet-stream` for any other.
pub(crate) fn media_type(extension: &str) -> &'static str {
    (MEDIA_TYPES.iter())
        .find(|(e, _)| *e == extension)
        .map_or("application/octet-stream", |(_, t)| t)
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hls" | "m3u8" => Ok(Format::Hls),
            "mp4" => Ok(Format::Mp4),
            "flv" => Ok(Format::Flv),
            other => Err(format!(
                "unknown format '{other}' (expected hls, mp4 or flv)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_written_has_its_media_type() {
        for f in Format::ALL {
            assert_ne!(media_type(f.extension()), "application/octet-stream", "{f}");
        }
        // HLS segments (MPEG-TS, fMP4) and the fMP4 init segment.
        assert_eq!(media_type("ts"), "video/mp2t");
        assert_eq!(media_type("m4s"), "video/iso.segment");
        assert_eq!(media_type("mp4"), "video/mp4");
        assert_eq!(media_type("txt"), "application/octet-stream");
    }
}
