//! The first pass's copy of what each RTMP connection's sessions read, so a capture is read once
//! however many publishes it holds.
//!
//! While [`super::scan::scan_spooled`] reads the capture, every item a session of a connection would
//! see — the connection's flow events and the capture damage found while it is open — is
//! appended, with the capture position the pass had reached when it was yielded, to one spool
//! file in the temporary directory (`TMPDIR`), in chunks of at most [`CHUNK`] bytes per
//! connection. A session then reads its connection's chunks ([`SpoolReader`]) instead of the
//! capture, and sees the same items at the same positions as a pass of its own would, so its
//! events, damage reports and byte offsets are unchanged.
//!
//! Memory: one chunk buffer per open RTMP or HTTP connection and the chunks' places (16 bytes
//! per chunk). The spool holds both directions of the capture's RTMP and HTTP connections
//! (about the size of the capture); it is an unnamed file (`O_TMPFILE`, else unlinked as soon as it is open),
//! so it goes when the last session is done and leaves nothing behind when the run is killed.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::flows::{Dir, FlowEvent};
use super::stream::Item;
use super::tcp::Mark;
use crate::input::spill::{Fields, put_bytes, put_u64, unnamed_file};
use crate::media::{Damage, Track, TrackKind};

/// A connection's buffer is written out once it holds this much.
pub(crate) const CHUNK: usize = 64 * 1024;

thread_local! {
    static CAPTURE_READ: Cell<u64> = const { Cell::new(0) };
    static SPOOL_READ: Cell<u64> = const { Cell::new(0) };
}

/// Bytes this thread has read from capture files and from spools (tests and benchmarks check
/// that a capture is read once).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg(test)]
pub(crate) struct ReadCounts {
    pub(crate) capture: u64,
    pub(crate) spool: u64,
}

#[cfg(test)]
pub(crate) fn read_counts() -> ReadCounts {
    ReadCounts {
        capture: CAPTURE_READ.with(Cell::get),
        spool: SPOOL_READ.with(Cell::get),
    }
}

/// A capture file, its bytes counted (the tests read the counts with `read_counts`).
pub(crate) struct Counted<R>(pub R);

impl<R: io::Read> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        CAPTURE_READ.with(|c| c.set(c.get() + n as u64));
        Ok(n)
    }
}

#[derive(Clone, Copy, Debug)]
struct Chunk {
    offset: u64,
    len: u32,
}

#[derive(Debug, Default)]
struct Open {
    buf: Vec<u8>,
    chunks: Vec<Chunk>,
}

/// The spool being written by the first pass.
pub(crate) struct SpoolWriter {
    file: File,
    end: u64,
    open: HashMap<u64, Open>,
    /// Chunks of the connections that ended.
    done: HashMap<u64, Vec<Chunk>>,
}

impl SpoolWriter {
    pub(crate) fn create() -> io::Result<SpoolWriter> {
        Ok(SpoolWriter {
            file: unnamed_file()?,
            end: 0,
            open: HashMap::new(),
            done: HashMap::new(),
        })
    }

    /// One item of the pass, yielded at capture position `position`.
    pub(crate) fn item(&mut self, item: &Item, position: u64) -> io::Result<()> {
        match item {
            Item::Damage(d) => {
                let mut keys: Vec<u64> = self.open.keys().copied().collect();
                keys.sort_unstable();
                for conn in keys {
                    let o = self.open.entry(conn).or_default();
                    encode_damage(&mut o.buf, d, position);
                    self.spill(conn, false)?;
                }
            }
            Item::Flow(ev) => {
                let conn = match ev {
                    FlowEvent::Start { conn, .. } => {
                        self.open.insert(*conn, Open::default());
                        *conn
                    }
                    FlowEvent::Data { conn, .. }
                    | FlowEvent::Gap { conn, .. }
                    | FlowEvent::End { conn, .. } => *conn,
                    // Nothing of such a connection is read again.
                    FlowEvent::Other { .. } => return Ok(()),
                };
                let Some(o) = self.open.get_mut(&conn) else {
                    return Ok(());
                };
                encode_flow(&mut o.buf, ev, position);
                self.spill(conn, matches!(ev, FlowEvent::End { .. }))?;
            }
        }
        Ok(())
    }

    /// Writes a connection's buffer out when it is full or the connection has ended.
    fn spill(&mut self, conn: u64, ended: bool) -> io::Result<()> {
        let Some(o) = self.open.get_mut(&conn) else {
            return Ok(());
        };
        if (o.buf.len() >= CHUNK || ended) && !o.buf.is_empty() {
            self.file.write_all_at(&o.buf, self.end)?;
            o.chunks.push(Chunk {
                offset: self.end,
                len: o.buf.len() as u32,
            });
            self.end += o.buf.len() as u64;
            o.buf.clear();
        }
        if ended && let Some(o) = self.open.remove(&conn) {
            self.done.insert(conn, o.chunks);
        }
        Ok(())
    }

    /// The spool, every connection's buffer written out.
    pub(crate) fn finish(mut self) -> io::Result<Spool> {
        let mut keys: Vec<u64> = self.open.keys().copied().collect();
        keys.sort_unstable();
        for conn in keys {
            self.spill(conn, true)?;
        }
        Ok(Spool {
            file: Arc::new(self.file),
            chunks: self
                .done
                .into_iter()
                .map(|(k, v)| (k, Arc::from(v)))
                .collect(),
        })
    }
}

/// The written spool, shared by a capture's sessions.
#[derive(Clone)]
pub(crate) struct Spool {
    file: Arc<File>,
    chunks: HashMap<u64, Arc<[Chunk]>>,
}

impl Spool {
    /// A reader of connection `conn`'s items (none when it carried no RTMP).
    pub(crate) fn reader(&self, conn: u64, start: FlowEvent) -> SpoolReader {
        SpoolReader {
            file: Arc::clone(&self.file),
            chunks: self
                .chunks
                .get(&conn)
                .cloned()
                .unwrap_or_else(|| Arc::from([])),
            next: 0,
            buf: Vec::new(),
            at: 0,
            start,
        }
    }
}

/// One connection's items, in pass order.
pub(crate) struct SpoolReader {
    file: Arc<File>,
    chunks: Arc<[Chunk]>,
    next: usize,
    buf: Vec<u8>,
    at: usize,
    /// The connection's start event (its addresses are not spooled).
    start: FlowEvent,
}

impl SpoolReader {
    /// The next item and the capture position it was yielded at; `None` after the last.
    pub(crate) fn next_item(&mut self) -> io::Result<Option<(Item, u64)>> {
        if self.at >= self.buf.len() {
            let Some(chunk) = self.chunks.get(self.next).copied() else {
                return Ok(None);
            };
            self.next += 1;
            self.buf.resize(chunk.len as usize, 0);
            self.file.read_exact_at(&mut self.buf, chunk.offset)?;
            SPOOL_READ.with(|c| c.set(c.get() + u64::from(chunk.len)));
            self.at = 0;
        }
        let mut fields = Fields::new(&self.buf[self.at..]);
        let item = item(&mut fields, &self.start).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "capture spool is corrupt")
        })?;
        self.at += fields.consumed();
        Ok(Some(item))
    }
}

const START: u8 = 0;
const DATA: u8 = 1;
const GAP: u8 = 2;
const END: u8 = 3;
const SKIPPED: u8 = 4;
const TRUNCATED: u8 = 5;
const DISCONTINUITY: u8 = 6;
const DROPPED: u8 = 7;

/// What every item begins with: its tag, then the capture position it was yielded at.
fn put_head(buf: &mut Vec<u8>, tag: u8, position: u64) {
    buf.push(tag);
    put_u64(buf, position);
}

fn put_mark(buf: &mut Vec<u8>, m: &Mark) {
    put_u64(buf, m.frame);
    put_u64(buf, m.offset);
    put_u64(buf, m.time_ms as u64);
}

fn put_dir(buf: &mut Vec<u8>, dir: Dir) {
    buf.push(match dir {
        Dir::ClientToServer => 0,
        Dir::ServerToClient => 1,
    });
}

fn encode_flow(buf: &mut Vec<u8>, ev: &FlowEvent, position: u64) {
    match ev {
        FlowEvent::Start { .. } => {
            put_head(buf, START, position);
        }
        FlowEvent::Data {
            dir, bytes, mark, ..
        } => {
            put_head(buf, DATA, position);
            put_dir(buf, *dir);
            put_mark(buf, mark);
            put_bytes(buf, bytes);
        }
        FlowEvent::Gap {
            dir, lost, mark, ..
        } => {
            put_head(buf, GAP, position);
            put_dir(buf, *dir);
            put_u64(buf, *lost);
            put_mark(buf, mark);
        }
        FlowEvent::End { mark, .. } => {
            put_head(buf, END, position);
            put_mark(buf, mark);
        }
        // Never spooled (see `SpoolWriter::item`).
        FlowEvent::Other { .. } => {}
    }
}

fn encode_damage(buf: &mut Vec<u8>, d: &Damage, position: u64) {
    match d {
        Damage::Skipped { offset, len, what } => {
            put_head(buf, SKIPPED, position);
            put_u64(buf, *offset);
            put_u64(buf, *len);
            put_bytes(buf, what.as_bytes());
        }
        Damage::Truncated { offset, what } => {
            put_head(buf, TRUNCATED, position);
            put_u64(buf, *offset);
            put_bytes(buf, what.as_bytes());
        }
        Damage::Discontinuity {
            track,
            offset,
            from_dts_90k,
            to_dts_90k,
        } => {
            put_head(buf, DISCONTINUITY, position);
            buf.push(match track.kind {
                TrackKind::Video => 0,
                TrackKind::Audio => 1,
            });
            buf.push(track.index);
            put_u64(buf, *offset);
            put_u64(buf, *from_dts_90k as u64);
            put_u64(buf, *to_dts_90k as u64);
        }
        Damage::Dropped { offset, what } => {
            put_head(buf, DROPPED, position);
            put_u64(buf, *offset);
            put_bytes(buf, what.as_bytes());
        }
    }
}

fn dir(r: &mut Fields<'_>) -> Option<Dir> {
    match r.u8()? {
        0 => Some(Dir::ClientToServer),
        1 => Some(Dir::ServerToClient),
        _ => None,
    }
}

fn mark(r: &mut Fields<'_>) -> Option<Mark> {
    Some(Mark {
        frame: r.u64()?,
        offset: r.u64()?,
        time_ms: r.u64()? as i64,
    })
}

fn item(r: &mut Fields<'_>, start: &FlowEvent) -> Option<(Item, u64)> {
    let conn = match start {
        FlowEvent::Start { conn, .. }
        | FlowEvent::Data { conn, .. }
        | FlowEvent::Gap { conn, .. }
        | FlowEvent::End { conn, .. }
        | FlowEvent::Other { conn, .. } => *conn,
    };
    let tag = r.u8()?;
    let position = r.u64()?;
    let item = match tag {
        START => Item::Flow(start.clone()),
        DATA => {
            let dir = dir(r)?;
            let mark = mark(r)?;
            let bytes = r.bytes()?.to_vec();
            Item::Flow(FlowEvent::Data {
                conn,
                dir,
                bytes,
                mark,
            })
        }
        GAP => {
            let dir = dir(r)?;
            let lost = r.u64()?;
            let mark = mark(r)?;
            Item::Flow(FlowEvent::Gap {
                conn,
                dir,
                lost,
                mark,
            })
        }
        END => Item::Flow(FlowEvent::End {
            conn,
            mark: mark(r)?,
        }),
        SKIPPED => Item::Damage(Damage::Skipped {
            offset: r.u64()?,
            len: r.u64()?,
            what: r.text()?,
        }),
        TRUNCATED => Item::Damage(Damage::Truncated {
            offset: r.u64()?,
            what: r.text()?,
        }),
        DISCONTINUITY => Item::Damage(Damage::Discontinuity {
            track: Track {
                kind: match r.u8()? {
                    0 => TrackKind::Video,
                    1 => TrackKind::Audio,
                    _ => return None,
                },
                index: r.u8()?,
            },
            offset: r.u64()?,
            from_dts_90k: r.u64()? as i64,
            to_dts_90k: r.u64()? as i64,
        }),
        DROPPED => Item::Damage(Damage::Dropped {
            offset: r.u64()?,
            what: r.text()?,
        }),
        _ => return None,
    };
    Some((item, position))
}

#[cfg(test)]
mod tests;
