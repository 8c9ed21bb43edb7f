//! Packet captures (pcap, pcapng) of RTMP pushes as inputs (README "Inputs"): every `publish` on
//! every TCP connection that carries RTMP becomes one push session, keyed by the `connect`
//! command's `app` and the publish name (its `?vdoid=` query giving the vdoid), its wall clock the
//! capture time of its first media message.
//!
//! - [`capture`]: pcap / pcapng records → frames with capture times;
//! - [`link`]: frames → TCP segments (Ethernet, Linux cooked v1/v2, BSD/OpenBSD loopback, raw IP);
//! - [`tcp`]: one direction's byte stream, reassembled (wrap, reordering, overlaps, holes);
//! - [`flows`]: connections → the client streams of those that carry RTMP;
//! - [`stream`]: one pass over a capture, damage named by capture position;
//! - [`spool`]: what that pass spools per connection for the sessions;
//! - [`session`]: the publishes a first pass finds, and the replay of one of them through
//!   `input::rtmp`'s parser and the FLV session logic.
//!
//! Opening a capture reads it once, whole, to list its publishes and spool each RTMP
//! connection's client stream; each session replays its connection from the spool, so the
//! capture is read once however many publishes it holds (see [`spool`]). `--app` / `--stream` /
//! `--vdoid` replace what the commands say, for every session of the capture; `--start-time` is
//! not used: the capture's clock is the wall clock.

use std::path::Path;

use super::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
};
use crate::media::StreamKey;

pub mod capture;
pub mod flows;
pub mod link;
pub mod session;
pub mod spool;
pub mod stream;
pub mod tcp;

pub use session::{CaptureSession, Publish, scan};

/// The first bytes of a capture file: pcap in both byte orders, microsecond and nanosecond
/// variants, and a pcapng section header block.
pub fn is_capture_magic(magic: &[u8]) -> bool {
    matches!(
        magic,
        [0xa1, 0xb2, 0xc3, 0xd4, ..]
            | [0xd4, 0xc3, 0xb2, 0xa1, ..]
            | [0xa1, 0xb2, 0x3c, 0x4d, ..]
            | [0x4d, 0x3c, 0xb2, 0xa1, ..]
            | [0x0a, 0x0d, 0x0d, 0x0a, ..]
    )
}

/// Opens a capture: one pending session per publish that carried media, in capture order.
pub fn open_path(path: &Path, opts: &InputOptions) -> Result<Vec<PendingSession>, InputError> {
    let input = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| InputError::io(&input, None, e))?
        .len();
    let (publishes, spool) = session::scan_spooled(path, &input)?;
    let mut sessions = Vec::new();
    let mut warnings = Vec::new();
    for p in publishes {
        let Some(wall_start_ms) = p.first_media_ms else {
            warnings.push(format!(
                "{input}: publish \"{}\" on {} -> {} carried no media: no session",
                p.name, p.client, p.server
            ));
            continue;
        };
        let key = StreamKey {
            app: opts.app.clone().unwrap_or_else(|| session::app_of(&p)),
            stream: opts.stream.clone().unwrap_or_else(|| p.name.clone()),
            vdoid: opts.vdoid.clone().or_else(|| p.vdoid.clone()),
        };
        let info = SessionInfo {
            key,
            wall_start_ms,
            wall_clock: WallClockSource::Capture,
            played: false,
            input: input.clone(),
            index: sessions.len(),
            warnings: std::mem::take(&mut warnings),
        };
        let (spool, input) = (spool.clone(), input.clone());
        let opener = Box::new(move || {
            let reader: Box<dyn SessionReader> =
                Box::new(CaptureSession::new(&spool, &input, p.clone())?);
            Ok(reader)
        });
        sessions.push(PendingSession::rereadable(info, Some(size), opener));
    }
    if sessions.is_empty() {
        let mut message = "no RTMP publish with media in the capture".to_string();
        for w in warnings {
            message.push_str("; ");
            message.push_str(&w);
        }
        return Err(InputError::new(&input, None, message));
    }
    if let Some(last) = sessions.last_mut() {
        last.info.warnings.extend(warnings);
    }
    Ok(sessions)
}

#[cfg(test)]
mod tests;
