//! FLV input (Adobe "Video File Format Specification" 10.1, Annex E; HEVC by legacy `CodecID` 12
//! and by Enhanced RTMP v1 FourCC): an FLV file or stdin is one push session (README "Inputs").
//!
//! - [`tags`]: framing, streaming over any `Read`, resynchronising after damage;
//! - [`body`]: the audio/video codec headers in front of each payload;
//! - [`paramsets`]: records built for video sent without one (Annex B or in-band parameter sets);
//! - [`session`]: tags → codec configuration, packets on a repaired timeline, reports.
//!
//! Opening is cheap: the header and the first tags are read to validate the input, and, only when
//! neither `--start-time` nor the file name gives the wall clock, the last tag (found through the
//! final `PreviousTagSize`) to estimate the duration subtracted from the file's mtime.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
    stream_from_file_name, time_from_file_name,
};

pub(crate) mod body;
pub(crate) mod paramsets;
pub(crate) mod session;
pub(crate) mod tags;

pub(crate) use session::FlvMetadata;
pub use session::FlvSession;
pub use tags::{Tag, TagEvent, TagKind, TagReader};

/// Stream name for stdin without `--stream`.
pub(crate) const STDIN_STREAM: &str = "stdin";
/// Tags read at most when probing for the first media timestamp and `onMetaData`.
const PROBE_MAX_TAGS: usize = 64;

/// Opens an FLV file as one pending session.
pub(crate) fn open_path(path: &Path, opts: &InputOptions) -> Result<PendingSession, InputError> {
    let input = path.display().to_string();
    let file = File::open(path).map_err(|e| InputError::io(&input, None, e))?;
    let meta = file
        .metadata()
        .map_err(|e| InputError::io(&input, None, e))?;
    let mut warnings = Vec::new();
    let (wall_start_ms, wall_clock) = if let Some(t) = opts.start_time_ms {
        (t, WallClockSource::Flag)
    } else if let Some(t) = time_from_file_name(path) {
        // Still read the header, so a non-FLV input fails here rather than later.
        TagReader::new(BufReader::new(&file), &input)?;
        (t, WallClockSource::FileName)
    } else {
        let mtime_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64);
        let (duration_ms, how) = probe_duration(&file, &input)?;
        warnings.push(format!(
            "{input}: no --start-time and no Unix time in the file name: the wall clock is \
             guessed as the file's modification time ({mtime_ms} ms since the epoch) minus its \
             duration ({duration_ms} ms, {how})"
        ));
        (mtime_ms - duration_ms, WallClockSource::ModifiedTime)
    };
    let info = SessionInfo::single(
        opts.stream_key(|| stream_from_file_name(path)),
        (wall_start_ms, wall_clock),
        input.clone(),
        warnings,
    );
    let path = path.to_path_buf();
    let opener = Box::new(move || {
        let file = File::open(&path).map_err(|e| InputError::io(&input, None, e))?;
        let reader: Box<dyn SessionReader> = Box::new(FlvSession::new(file, &input)?);
        Ok(reader)
    });
    Ok(PendingSession::rereadable(info, Some(meta.len()), opener))
}

/// Opens stdin as one pending session; it is read only when the session is opened.
pub(crate) fn open_stdin(opts: &InputOptions) -> Result<PendingSession, InputError> {
    let mut warnings = Vec::new();
    let (wall_start_ms, wall_clock) = match opts.start_time_ms {
        Some(t) => (t, WallClockSource::Flag),
        None => {
            let now_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            warnings.push(format!(
                "stdin: no --start-time: the wall clock is guessed as the time reading began \
                 ({now_ms} ms since the epoch)"
            ));
            (now_ms, WallClockSource::ReadTime)
        }
    };
    if opts.stream.is_none() {
        warnings.push(format!(
            "stdin: no --stream: the stream is named \"{STDIN_STREAM}\""
        ));
    }
    let info = SessionInfo::single(
        opts.stream_key(|| STDIN_STREAM.to_string()),
        (wall_start_ms, wall_clock),
        "-".into(),
        warnings,
    );
    let opener = Box::new(|| {
        let reader: Box<dyn SessionReader> = Box::new(FlvSession::new(io::stdin(), "-")?);
        Ok(reader)
    });
    Ok(PendingSession::new(info, None, opener))
}

/// The media duration of a file: last tag's timestamp minus the first media tag's, else
/// `onMetaData`'s duration, else 0. Returns it and how it was found, for the warning.
fn probe_duration(mut file: &File, input: &str) -> Result<(i64, &'static str), InputError> {
    let (mut tags, _) = TagReader::new(BufReader::new(file), input)?;
    let mut first_ms = None;
    let mut metadata = None;
    for _ in 0..PROBE_MAX_TAGS {
        match tags.next_event()? {
            None => break,
            Some(TagEvent::Damage(_)) => {}
            Some(TagEvent::Tag(t)) if t.kind == TagKind::Script => {
                if metadata.is_none() {
                    metadata = FlvMetadata::from_script(&t.data).ok().flatten();
                }
            }
            Some(TagEvent::Tag(t)) => {
                first_ms = Some(t.timestamp_ms);
                break;
            }
        }
    }
    let last_ms = last_tag_timestamp(&mut file).map_err(|e| InputError::io(input, None, e))?;
    if let (Some(first), Some(last)) = (first_ms, last_ms) {
        // Wrapping difference: a file may cross the 32-bit rollover.
        return Ok((
            i64::from(last.wrapping_sub(first)),
            "from the last tag's timestamp",
        ));
    }
    match metadata.and_then(|m| m.duration_ms) {
        Some(d) => Ok((d, "from onMetaData")),
        None => Ok((0, "unknown, taken as 0")),
    }
}

/// The timestamp of the last tag, found through the final `PreviousTagSize` (E.3), if that
/// field leads to a plausible tag header.
fn last_tag_timestamp(file: &mut &File) -> io::Result<Option<u32>> {
    use crate::container::flv::{HEADER_LEN, PREV_SIZE_LEN, TAG_HEADER_LEN};
    let (header, prev, tag_header) = (HEADER_LEN as u64, PREV_SIZE_LEN as u64, TAG_HEADER_LEN);
    let len = file.seek(SeekFrom::End(0))?;
    if len < header + prev + tag_header as u64 + prev {
        return Ok(None);
    }
    let mut b = [0u8; PREV_SIZE_LEN];
    file.seek(SeekFrom::Start(len - prev))?;
    file.read_exact(&mut b)?;
    let tag_len = u64::from(u32::from_be_bytes(b));
    if tag_len < tag_header as u64 || tag_len + prev > len - header - prev {
        return Ok(None);
    }
    let mut h = [0u8; TAG_HEADER_LEN];
    file.seek(SeekFrom::Start(len - prev - tag_len))?;
    file.read_exact(&mut h)?;
    let data_size = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
    let plausible = tags::TagKind::from_type(h[0]).is_some() && h[8..] == [0, 0, 0];
    Ok((plausible && data_size + tag_header as u64 == tag_len)
        .then(|| u32::from_be_bytes([h[7], h[4], h[5], h[6]])))
}

#[cfg(test)]
mod tests;
