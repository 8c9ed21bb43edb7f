//! The VOD media playlist (RFC 8216 §4.3), written by hand rather than with `m3u8-rs`'s writer:
//! that writer omits `EXT-X-MEDIA-SEQUENCE` when it is 0, holds `EXTINF` as an `f32` (a 6 h
//! segment loses milliseconds) and takes its decimal precision from process-wide state. Here
//! durations are integer milliseconds printed with 3 decimals, and nothing depends on "now".

use std::fmt::Write as _;

use crate::wallclock::rfc3339_ms;

/// One `EXTINF` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The segment's file name, relative to the playlist.
    pub(crate) uri: String,
    pub(crate) duration_ms: i64,
    /// Wall clock of the segment's first packet, Unix milliseconds.
    pub(crate) program_date_time_ms: i64,
    /// A spliced session begins here (`EXT-X-DISCONTINUITY`, §4.3.2.3).
    pub(crate) discontinuity: bool,
}

/// The playlist text: version 3 (decimal `EXTINF`, §4.3.2.1), target duration the ceiling of
/// the longest segment (§4.3.3.1), media sequence 0, VOD, ended. With an init segment `map`
/// (fMP4), `EXT-X-MAP` names it before the first segment (§4.3.2.5), which needs version 6 in a
/// playlist without `EXT-X-I-FRAMES-ONLY` (§4.3.2.5, §7).
pub(crate) fn render(entries: &[Entry], map: Option<&str>) -> String {
    let longest_ms = entries
        .iter()
        .map(|e| e.duration_ms)
        .max()
        .unwrap_or(0)
        .max(0);
    let target_s = (longest_ms + 999) / 1000;
    let mut s = String::new();
    // Writing to a String cannot fail.
    let version = if map.is_some() { 6 } else { 3 };
    let _ = write!(
        s,
        "#EXTM3U\n#EXT-X-VERSION:{version}\n#EXT-X-TARGETDURATION:{target_s}\n\
         #EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
    );
    if let Some(uri) = map {
        let _ = writeln!(s, "#EXT-X-MAP:URI=\"{uri}\"");
    }
    for e in entries {
        if e.discontinuity {
            s.push_str("#EXT-X-DISCONTINUITY\n");
        }
        let d = e.duration_ms.max(0);
        let _ = write!(
            s,
            "#EXT-X-PROGRAM-DATE-TIME:{}\n#EXTINF:{}.{:03},\n{}\n",
            // RFC 8216 §4.3.2.6: ISO 8601 date-time with milliseconds.
            rfc3339_ms(e.program_date_time_ms),
            d / 1000,
            d % 1000,
            e.uri
        );
    }
    s.push_str("#EXT-X-ENDLIST\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_back() {
        let entries = [
            Entry {
                uri: "show-1764075600-0.ts".into(),
                duration_ms: 10_040,
                program_date_time_ms: 1_764_075_600_000,
                discontinuity: false,
            },
            Entry {
                uri: "show-1764075600-1.ts".into(),
                duration_ms: 9_960,
                program_date_time_ms: 1_764_075_670_000,
                discontinuity: true,
            },
        ];
        let text = render(&entries, None);
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:11\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n\
             #EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:00:00.000Z\n#EXTINF:10.040,\nshow-1764075600-0.ts\n\
             #EXT-X-DISCONTINUITY\n\
             #EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:01:10.000Z\n#EXTINF:9.960,\nshow-1764075600-1.ts\n\
             #EXT-X-ENDLIST\n"
        );
        // An independent parser reads it the same way.
        let pl = m3u8_rs::parse_media_playlist_res(text.as_bytes()).unwrap();
        assert_eq!(pl.version, Some(3));
        assert_eq!(pl.target_duration, 11);
        assert!(pl.end_list);
        assert_eq!(pl.playlist_type, Some(m3u8_rs::MediaPlaylistType::Vod));
        assert_eq!(pl.segments.len(), 2);
        assert!(!pl.segments[0].discontinuity && pl.segments[1].discontinuity);
        assert_eq!(pl.segments[1].duration, 9.96);
        let pdt = pl.segments[1].program_date_time.unwrap();
        assert_eq!(pdt.timestamp_millis(), 1_764_075_670_000);
    }
}
