//! RTMP publishes in a capture: the first pass that lists them ([`scan`]) and the reader that
//! replays one of them ([`CaptureSession`]) through the FLV session logic, since RTMP media
//! bodies have the FLV tag body layout.
//!
//! The capture is read once: the first pass also spools what each RTMP connection's sessions
//! read ([`super::spool`]), and each session replays its connection from the spool, seeing the
//! items and capture positions a pass of its own would see.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use super::flows::FlowEvent;
use super::spool::{Spool, SpoolReader, SpoolWriter};
use super::stream::{Item, Pass, describe};
use crate::input::flv::session::{TagFeed, TagSession, next_event};
use crate::input::flv::{DEFAULT_APP, Tag};
use crate::input::rtmp::{RtmpEvent, RtmpParser};
use crate::input::{InputError, SessionReader};
use crate::media::{CodecConfig, Damage, Event};

/// One publish found by the first pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// The connection's number in the capture ([`super::flows`]).
    pub conn: u64,
    /// Index among the connection's publishes.
    pub index: usize,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// `app` from `connect` (`None` without one).
    pub app: Option<String>,
    pub name: String,
    pub vdoid: Option<String>,
    /// Capture time of the publish's first media message (`None`: it carried none).
    pub first_media_ms: Option<i64>,
}

#[derive(Debug)]
struct ConnScan {
    parser: RtmpParser,
    app: Option<String>,
    publishes: usize,
    /// Index in the result of the publish in progress.
    current: Option<usize>,
}

/// Lists the publishes of a capture, in the order they began.
pub fn scan(path: &Path, input: &str) -> Result<Vec<Publish>, InputError> {
    scan_into(path, input, None)
}

/// Lists the publishes of a capture and spools what their sessions read, in one pass.
pub fn scan_spooled(path: &Path, input: &str) -> Result<(Vec<Publish>, Spool), InputError> {
    let spool_error = |e| InputError::new(input, None, format!("capture spool: {e}"));
    let mut spool = SpoolWriter::create().map_err(spool_error)?;
    let found = scan_into(path, input, Some(&mut spool))?;
    Ok((found, spool.finish().map_err(spool_error)?))
}

fn scan_into(
    path: &Path,
    input: &str,
    mut spool: Option<&mut SpoolWriter>,
) -> Result<Vec<Publish>, InputError> {
    let mut pass = Pass::open(path, input, None)?;
    let mut conns: HashMap<u64, (SocketAddr, SocketAddr, ConnScan)> = HashMap::new();
    let mut found = Vec::new();
    let mut damage = None;
    while let Some(item) = pass.next_item()? {
        if let Some(spool) = spool.as_deref_mut() {
            spool
                .item(&item, pass.position())
                .map_err(|e| InputError::new(input, None, format!("capture spool: {e}")))?;
        }
        let ev = match item {
            Item::Flow(ev) => ev,
            Item::Damage(d) => {
                damage.get_or_insert(d);
                continue;
            }
        };
        let (conn, ended) = match ev {
            FlowEvent::Start {
                conn,
                client,
                server,
            } => {
                let name = format!("{input} ({client} -> {server})");
                let scan = ConnScan {
                    parser: RtmpParser::new(&name),
                    app: None,
                    publishes: 0,
                    current: None,
                };
                conns.insert(conn, (client, server, scan));
                (conn, false)
            }
            FlowEvent::Data { conn, bytes, mark } => {
                if let Some((_, _, c)) = conns.get_mut(&conn) {
                    c.parser.feed(&bytes, Some(mark.time_ms), mark.offset);
                }
                (conn, false)
            }
            FlowEvent::Gap { conn, lost, mark } => {
                if let Some((_, _, c)) = conns.get_mut(&conn) {
                    c.parser.gap(lost, mark.offset);
                }
                (conn, false)
            }
            FlowEvent::End { conn, .. } => {
                if let Some((_, _, c)) = conns.get_mut(&conn) {
                    c.parser.finish();
                }
                (conn, true)
            }
        };
        let Some((client, server, c)) = conns.get_mut(&conn) else {
            continue;
        };
        for e in c.parser.drain() {
            match e {
                RtmpEvent::Connect { app, .. } => c.app = Some(app),
                RtmpEvent::Publish { name, vdoid, .. } => {
                    c.current = Some(found.len());
                    found.push(Publish {
                        conn,
                        index: c.publishes,
                        client: *client,
                        server: *server,
                        app: c.app.clone(),
                        name,
                        vdoid,
                        first_media_ms: None,
                    });
                    c.publishes += 1;
                }
                RtmpEvent::Media { at, .. } => {
                    if let Some(p) = c.current.and_then(|i| found.get_mut(i)) {
                        p.first_media_ms = p.first_media_ms.or(at.arrival_ms);
                    }
                }
                RtmpEvent::Unpublish { .. } => c.current = None,
                // Only the client's direction is read here: a play's media are not in it.
                RtmpEvent::Play { .. } | RtmpEvent::PlayStart { .. } | RtmpEvent::Damage(_) => {}
            }
        }
        if ended {
            conns.remove(&conn);
        }
    }
    match damage {
        // Nothing found and the capture is damaged: the damage is the likelier story.
        Some(d) if found.is_empty() => Err(InputError::new(
            input,
            None,
            format!("no RTMP publish before the capture's damage {d}"),
        )),
        // Otherwise each session reports the damage when its pass reaches it.
        _ => Ok(found),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the publish's `publish` command.
    Before,
    During,
    /// The publish ended: nothing more is read.
    After,
}

/// Replays one publish of a capture.
pub struct CaptureSession {
    input: String,
    items: SpoolReader,
    /// The capture position of the last item read.
    position: u64,
    target: Publish,
    parser: Option<RtmpParser>,
    publishes_seen: usize,
    phase: Phase,
    session: TagSession,
}

impl CaptureSession {
    /// Opens the publish's connection in the spool and reads up to the publish's settled
    /// starting configuration.
    pub fn new(spool: &Spool, input: &str, target: Publish) -> Result<CaptureSession, InputError> {
        let start = FlowEvent::Start {
            conn: target.conn,
            client: target.client,
            server: target.server,
        };
        let mut s = CaptureSession {
            input: input.to_string(),
            items: spool.reader(target.conn, start),
            position: 0,
            target,
            parser: None,
            publishes_seen: 0,
            phase: Phase::Before,
            session: TagSession::new(),
        };
        while !s.session.settled() {
            if !s.read_one()? {
                s.session.settle();
            }
        }
        Ok(s)
    }

    /// Reads one capture item into the session; false once the publish has ended.
    fn read_one(&mut self) -> Result<bool, InputError> {
        if self.phase == Phase::After {
            return Ok(false);
        }
        let next = self.items.next_item().map_err(|e| {
            InputError::new(
                &self.input,
                Some(self.position),
                format!("capture spool: {e}"),
            )
        })?;
        let Some((item, position)) = next else {
            self.phase = Phase::After;
            return Ok(false);
        };
        self.position = position;
        let flow = match item {
            Item::Damage(d) => {
                if self.phase == Phase::During {
                    self.session.push_damage(d);
                }
                return Ok(true);
            }
            Item::Flow(f) => f,
        };
        let target = self.target.conn;
        match flow {
            FlowEvent::Start { conn, .. } if conn == target => {
                let name = format!(
                    "{} ({} -> {})",
                    self.input, self.target.client, self.target.server
                );
                self.parser = Some(RtmpParser::new(&name));
            }
            FlowEvent::Data { conn, bytes, mark } if conn == target => {
                if let Some(p) = &mut self.parser {
                    p.feed(&bytes, Some(mark.time_ms), mark.offset);
                }
            }
            FlowEvent::Gap { conn, lost, mark } if conn == target => {
                if self.phase == Phase::During {
                    self.session.push_damage(Damage::Skipped {
                        offset: mark.offset,
                        len: lost,
                        what: format!(
                            "TCP stream {} -> {}: {lost} bytes missing from the capture before \
                             {}; resynchronised after them",
                            self.target.client,
                            self.target.server,
                            describe(mark)
                        ),
                    });
                }
                if let Some(p) = &mut self.parser {
                    p.gap(lost, mark.offset);
                }
            }
            FlowEvent::End { conn, .. } if conn == target => {
                if let Some(p) = &mut self.parser {
                    p.finish();
                }
                self.drain_parser();
                self.phase = Phase::After;
                return Ok(false);
            }
            _ => return Ok(true),
        }
        self.drain_parser();
        Ok(self.phase != Phase::After)
    }

    fn drain_parser(&mut self) {
        let Some(parser) = &mut self.parser else {
            return;
        };
        for e in parser.drain() {
            match e {
                RtmpEvent::Publish { .. } => {
                    self.phase = match self.phase {
                        Phase::Before if self.publishes_seen == self.target.index => Phase::During,
                        Phase::Before => Phase::Before,
                        Phase::During | Phase::After => Phase::After,
                    };
                    self.publishes_seen += 1;
                }
                RtmpEvent::Unpublish { .. } if self.phase == Phase::During => {
                    self.phase = Phase::After;
                }
                RtmpEvent::Media {
                    kind,
                    timestamp_ms,
                    body,
                    at,
                } if self.phase == Phase::During => self.session.push_tag(&Tag {
                    offset: at.input_offset,
                    kind,
                    timestamp_ms,
                    data: body,
                }),
                RtmpEvent::Damage(d) if self.phase == Phase::During => self.session.push_damage(d),
                _ => {}
            }
        }
    }
}

impl TagFeed for CaptureSession {
    fn session(&mut self) -> &mut TagSession {
        &mut self.session
    }

    fn feed(&mut self) -> Result<bool, InputError> {
        self.read_one()
    }
}

impl SessionReader for CaptureSession {
    fn config(&self) -> &Arc<CodecConfig> {
        self.session.start_config()
    }

    fn next_event(&mut self) -> Result<Option<Event>, InputError> {
        next_event(self)
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// The stream key's app: from `connect`, else the default.
pub fn app_of(p: &Publish) -> String {
    p.app.clone().unwrap_or_else(|| DEFAULT_APP.to_string())
}
