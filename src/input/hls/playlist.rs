//! A media playlist as read (RFC 8216 §4.3), by a small hand parser: the tags that place
//! segments in time (`EXTINF` §4.3.2.1, `EXT-X-DISCONTINUITY` §4.3.2.3,
//! `EXT-X-PROGRAM-DATE-TIME` §4.3.2.6), the init segment of fMP4 segments (`EXT-X-MAP` §4.3.2.5,
//! its URI; a BYTERANGE is refused) and the URIs. Tags that would make the segments unreadable
//! (`EXT-X-KEY` with a method, `EXT-X-BYTERANGE`) and master playlists are refused with the line
//! number; other tags are ignored.

/// One segment line and the tags before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentLine {
    pub uri: String,
    /// `EXTINF` duration, milliseconds (rounded).
    pub(crate) duration_ms: i64,
    /// `EXT-X-PROGRAM-DATE-TIME`, Unix milliseconds.
    pub(crate) program_date_time_ms: Option<i64>,
    /// `EXT-X-DISCONTINUITY` before it.
    pub(crate) discontinuity: bool,
    /// The URI of the `EXT-X-MAP` in force: the segment is a fragment of that init segment.
    pub(crate) map: Option<String>,
    /// 1-based line number of the URI.
    pub(crate) line: usize,
}

/// Parses a media playlist's text. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<SegmentLine>, String> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
    match lines.next() {
        Some((_, "#EXTM3U")) => {}
        _ => return Err("line 1: not an HLS playlist (no #EXTM3U)".into()),
    }
    let mut out = Vec::new();
    let mut duration_ms = None;
    let mut pdt = None;
    let mut discontinuity = false;
    let mut map: Option<String> = None;
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        let Some(tag) = line.strip_prefix('#') else {
            let Some(d) = duration_ms.take() else {
                return Err(format!("line {n}: segment URI without #EXTINF"));
            };
            out.push(SegmentLine {
                uri: line.to_string(),
                duration_ms: d,
                program_date_time_ms: pdt.take(),
                discontinuity: std::mem::take(&mut discontinuity),
                map: map.clone(),
                line: n,
            });
            continue;
        };
        let (name, value) = tag.split_once(':').unwrap_or((tag, ""));
        match name {
            "EXTINF" => {
                let secs = value.split(',').next().unwrap_or("").trim();
                duration_ms = Some(parse_seconds_ms(secs).ok_or_else(|| {
                    format!("line {n}: #EXTINF duration '{secs}' is not a number of seconds")
                })?);
            }
            "EXT-X-DISCONTINUITY" => discontinuity = true,
            "EXT-X-PROGRAM-DATE-TIME" => {
                pdt = Some(parse_date_time_ms(value).ok_or_else(|| {
                    format!(
                        "line {n}: #EXT-X-PROGRAM-DATE-TIME '{value}' is not an ISO 8601 date-time"
                    )
                })?);
            }
            "EXT-X-STREAM-INF" | "EXT-X-I-FRAME-STREAM-INF" => {
                return Err(format!(
                    "line {n}: a master playlist; give one of its media playlists"
                ));
            }
            "EXT-X-KEY" if !value.contains("METHOD=NONE") => {
                return Err(format!(
                    "line {n}: encrypted segments (#EXT-X-KEY) are not supported"
                ));
            }
            "EXT-X-MAP" => map = Some(map_uri(value).map_err(|e| format!("line {n}: {e}"))?),
            "EXT-X-BYTERANGE" => {
                return Err(format!("line {n}: byte-range segments are not supported"));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The URI attribute of an `EXT-X-MAP` (a quoted string, §4.2).
fn map_uri(attributes: &str) -> Result<String, String> {
    if attributes.contains("BYTERANGE=") {
        return Err("#EXT-X-MAP with a BYTERANGE is not supported".into());
    }
    let uri = attributes
        .split_once("URI=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(uri, _)| uri);
    match uri {
        Some(u) if !u.is_empty() => Ok(u.to_string()),
        _ => Err("#EXT-X-MAP without a quoted URI".into()),
    }
}

/// Decimal seconds (`10`, `9.960`) to milliseconds, rounded; refuses negatives and nonsense.
fn parse_seconds_ms(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) || int.len() > 12 {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    // Milliseconds from the first three fraction digits, rounded by the fourth.
    let mut digits = frac
        .bytes()
        .map(|b| i64::from(b - b'0'))
        .chain(std::iter::repeat(0));
    let ms = (0..3).fold(0, |acc, _| acc * 10 + digits.next().unwrap_or(0));
    let round = i64::from(digits.next().unwrap_or(0) >= 5);
    Some(whole * 1000 + ms + round)
}

/// ISO 8601 / RFC 3339 date-time (`2025-11-25T13:00:00.123Z`, `…+08:00`, `…+0800`) to Unix ms.
pub fn parse_date_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let end = f.find(|c: char| !c.is_ascii_digit()).unwrap_or(f.len());
        let digits = &f[..end];
        if digits.is_empty() {
            return None;
        }
        ms = digits
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0, |acc, c| acc * 10 + i64::from(c - b'0'));
        rest = &f[end..];
    }
    let offset_min = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let t = rest[1..].replace(':', "");
            if t.len() != 4 || !t.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let hh: i64 = t[..2].parse().ok()?;
            let mm: i64 = t[2..].parse().ok()?;
            sign * (hh * 60 + mm)
        }
    };
    let days = crate::wallclock::days_from_civil(y, mo, d)?;
    Some(((days * 86_400 + h * 3600 + mi * 60 + sec - offset_min * 60) * 1000) + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(
            parse_date_time_ms("2025-11-25T13:00:00.123Z"),
            Some(1_764_075_600_123)
        );
        assert_eq!(
            parse_date_time_ms("2025-11-25T21:00:00+08:00"),
            Some(1_764_075_600_000)
        );
        assert_eq!(
            parse_date_time_ms("2025-11-25T21:00:00.5+0800"),
            Some(1_764_075_600_500)
        );
        assert_eq!(
            parse_date_time_ms("2000-02-29T00:00:00Z"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_date_time_ms("1969-12-31T23:59:59.999Z"), Some(-1));
        for bad in [
            "",
            "2025-13-01T00:00:00Z",
            "2025-11-25T13:00:00.Z",
            "2025-11-25T13:00:00+8",
            "ééééééééééééééééééééé",
        ] {
            assert_eq!(parse_date_time_ms(bad), None, "{bad}");
        }
        assert_eq!(parse_seconds_ms("10.040"), Some(10_040));
        assert_eq!(parse_seconds_ms("9.9605"), Some(9_961));
        assert_eq!(parse_seconds_ms("3"), Some(3_000));
        assert_eq!(parse_seconds_ms("-1"), None);
        assert_eq!(parse_seconds_ms("1e9"), None);
        assert_eq!(parse_seconds_ms("99999999999999999"), None);
    }

    #[test]
    fn segments_and_refusals() {
        let text = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:00:00.000Z\n\
                    #EXTINF:10.040,\na.ts\n\n#EXT-X-DISCONTINUITY\n#EXTINF:9.96,title\nsub/b.ts\n#EXT-X-ENDLIST\n";
        let s = parse(text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (
                s[0].duration_ms,
                s[0].program_date_time_ms,
                s[0].discontinuity
            ),
            (10_040, Some(1_764_075_600_000), false)
        );
        assert_eq!(
            (
                s[1].uri.as_str(),
                s[1].duration_ms,
                s[1].program_date_time_ms,
                s[1].discontinuity,
                s[1].line
            ),
            ("sub/b.ts", 9_960, None, true, 9)
        );
        assert!(parse("a.ts").is_err());
        assert!(parse("#EXTM3U\na.ts\n").unwrap_err().contains("line 2"));
        assert!(
            parse("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx.m3u8\n")
                .unwrap_err()
                .contains("master")
        );
        assert!(parse("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n").is_err());
        assert!(parse("#EXTM3U\n#EXT-X-KEY:METHOD=NONE\n").is_ok());
        assert!(
            parse("#EXTM3U\n#EXTINF:abc,\nx.ts\n")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn init_segments() {
        let text = "#EXTM3U\n#EXT-X-MAP:URI=\"s-init.mp4\"\n#EXTINF:4,\ns-0.m4s\n#EXTINF:4,\ns-1.m4s\n\
                    #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"t-init.mp4\"\n#EXTINF:4,\nt-0.m4s\n";
        let s = parse(text).unwrap();
        let maps: Vec<_> = s.iter().map(|l| l.map.as_deref()).collect();
        assert_eq!(
            maps,
            [Some("s-init.mp4"), Some("s-init.mp4"), Some("t-init.mp4")]
        );
        assert!(
            parse("#EXTM3U\n#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"100@0\"\n")
                .unwrap_err()
                .contains("line 2: #EXT-X-MAP with a BYTERANGE")
        );
        assert!(parse("#EXTM3U\n#EXT-X-MAP:URI=i.mp4\n").is_err());
        assert_eq!(parse("#EXTM3U\n#EXTINF:1,\na.ts\n").unwrap()[0].map, None);
    }
}
