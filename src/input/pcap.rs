//! Packet captures (pcap, pcapng) as inputs (README "Inputs", "Played streams"): every RTMP
//! `publish`, every RTMP play (the server's media to a client) and every HTTP-FLV download on
//! the capture's TCP connections becomes one push session, keyed by the `connect` command's
//! `app` and the publish or play name (its `?vdoid=` query giving the vdoid), or by the HTTP
//! path, its wall clock the capture time of its first media message.
//!
//! - [`capture`]: pcap / pcapng records → frames with capture times;
//! - [`link`]: frames → TCP segments (Ethernet, Linux cooked v1/v2, BSD/OpenBSD loopback, raw IP);
//! - [`tcp`]: one direction's byte stream, reassembled (wrap, reordering, overlaps, holes);
//! - [`flows`]: connections → both streams of those that carry RTMP or HTTP;
//! - [`stream`]: one pass over a capture, damage named by capture position;
//! - [`spool`]: what that pass spools per connection for the sessions;
//! - [`mod@scan`]: the connections and pushes a first pass finds (what `inspect` lists);
//! - [`session`]: the replay of one push through `input::rtmp`'s or `input::httpflv`'s parser
//!   and the FLV session logic.
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
pub(crate) mod link;
pub mod scan;
pub(crate) mod session;
pub(crate) mod spool;
pub mod stream;
pub mod tcp;

pub(crate) use scan::Connection;
pub use scan::{Delivery, Publish, Scan, scan};
pub(crate) use session::CaptureSession;

/// The first bytes of a capture file: pcap in both byte orders, microsecond and nanosecond
/// variants, and a pcapng section header block.
pub(crate) fn is_capture_magic(magic: &[u8]) -> bool {
    use capture::{PCAP_MAGIC_NS, PCAP_MAGIC_US, SHB_MAGIC};
    let Some(&word) = magic.first_chunk::<4>() else {
        return false;
    };
    [u32::from_le_bytes(word), u32::from_be_bytes(word)]
        .iter()
        .any(|m| [PCAP_MAGIC_US, PCAP_MAGIC_NS, SHB_MAGIC].contains(m))
}

/// Opens a capture: one pending session per push that carried media, in capture order.
pub(crate) fn open_path(
    path: &Path,
    opts: &InputOptions,
) -> Result<Vec<PendingSession>, InputError> {
    let input = path.display().to_string();
    let size = std::fs::metadata(path)
        .map_err(|e| InputError::io(&input, None, e))?
        .len();
    let (found, spool) = scan::scan_spooled(path, &input)?;
    let mut sessions = Vec::new();
    let mut warnings = Vec::new();
    for p in found.pushes.iter().cloned() {
        let Some(wall_start_ms) = p.first_media_ms else {
            warnings.push(format!(
                "{input}: {} \"{}\" on {} -> {} carried no media: no session",
                p.delivery.word(),
                p.name,
                p.client,
                p.server
            ));
            continue;
        };
        let info = SessionInfo {
            key: StreamKey {
                app: opts.app.clone().unwrap_or_else(|| session::app_of(&p)),
                stream: opts.stream.clone().unwrap_or_else(|| p.name.clone()),
                vdoid: opts.vdoid.clone().or_else(|| p.vdoid.clone()),
            },
            wall_start_ms,
            wall_clock: WallClockSource::Capture,
            played: p.delivery.played(),
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
        return Err(InputError::new(
            &input,
            None,
            nothing_found(&found, warnings),
        ));
    }
    if let Some(last) = sessions.last_mut() {
        last.info.warnings.extend(warnings);
    }
    Ok(sessions)
}

/// Why a capture gives no session, in one line.
fn nothing_found(found: &Scan, warnings: Vec<String>) -> String {
    let plays: Vec<String> = found
        .connections
        .iter()
        .flat_map(|c| {
            c.plays_without_media
                .iter()
                .map(move |n| format!("{n:?} on {} -> {}", c.client, c.server))
        })
        .collect();
    let mut message = if !plays.is_empty() {
        format!(
            "nothing to record: the capture holds the client's side of a play of {}; the media \
             went the other way (server to client), which it does not hold",
            plays.join(", ")
        )
    } else if let Some(d) = found.damage.as_ref().filter(|_| found.pushes.is_empty()) {
        // Nothing found and the capture is damaged: the damage is the likelier story.
        format!("no RTMP publish or play and no HTTP-FLV before the capture's damage {d}")
    } else {
        format!(
            "no RTMP publish or play and no HTTP-FLV download with media in the capture ({} TCP \
             connections)",
            found.connections.len()
        )
    };
    for w in warnings {
        message.push_str("; ");
        message.push_str(&w);
    }
    message
}

#[cfg(test)]
mod tests;
