//! The replay of one push of a capture ([`CaptureSession`]) — an RTMP publish, an RTMP play,
//! an HTTP-FLV download, as [`mod@super::scan`] found them — through the FLV session logic, since
//! RTMP media bodies and HTTP-FLV tags have the FLV tag body layout.
//!
//! Each session replays its connection from the spool the first pass wrote, seeing the items
//! and capture positions a pass of its own would see; only the direction its media run in is
//! parsed (a play's name is the first pass's, from the client's `play`).

use super::flows::FlowEvent;
use super::scan::{Delivery, Publish};
use super::spool::{Spool, SpoolReader};
use super::stream::{Item, describe};
use crate::input::DEFAULT_APP;
use crate::input::InputError;
use crate::input::flv::Tag;
use crate::input::flv::session::{TagSession, TagSessionReader, TagSource};
use crate::input::httpflv::{HttpEvent, ResponseParser};
use crate::input::rtmp::{RtmpEvent, RtmpParser};
use crate::media::Damage;

/// The parser of the direction a push's media run in.
enum Parser {
    Rtmp(RtmpParser),
    Http(ResponseParser),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before the publish's `publish` command.
    Before,
    During,
    /// The publish ended: nothing more is read.
    After,
}

/// One publish of a capture, replayed from the spool: the source of a [`CaptureSession`].
pub(crate) struct CaptureTags {
    input: String,
    items: SpoolReader,
    /// The capture position of the last item read.
    position: u64,
    target: Publish,
    parser: Option<Parser>,
    /// Pushes of the target's delivery begun so far on its connection.
    publishes_seen: usize,
    phase: Phase,
}

/// Replays one publish of a capture.
pub(crate) type CaptureSession = TagSessionReader<CaptureTags>;

impl CaptureSession {
    /// Opens the publish's connection in the spool and reads up to the publish's settled
    /// starting configuration.
    pub(crate) fn new(
        spool: &Spool,
        input: &str,
        target: Publish,
    ) -> Result<CaptureSession, InputError> {
        let carrier = match target.delivery {
            Delivery::Published | Delivery::Played => super::flows::Carrier::Rtmp,
            Delivery::HttpFlv => super::flows::Carrier::Http,
        };
        let start = FlowEvent::Start {
            conn: target.conn,
            client: target.client,
            server: target.server,
            carrier,
        };
        let tags = CaptureTags {
            input: input.to_string(),
            items: spool.reader(target.conn, start),
            position: 0,
            target,
            parser: None,
            publishes_seen: 0,
            phase: Phase::Before,
        };
        TagSessionReader::settle(tags, TagSession::new())
    }
}

impl TagSource for CaptureTags {
    /// Reads one capture item into the session; false once the publish has ended.
    fn feed(&mut self, session: &mut TagSession) -> Result<bool, InputError> {
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
                    session.push_damage(d);
                }
                return Ok(true);
            }
            Item::Flow(f) => f,
        };
        let (target, dir) = (self.target.conn, self.target.delivery.dir());
        match flow {
            FlowEvent::Start { conn, .. } if conn == target => self.parser = Some(self.parser()),
            FlowEvent::Data {
                conn,
                dir: d,
                bytes,
                mark,
            } if conn == target && d == dir => match &mut self.parser {
                Some(Parser::Rtmp(p)) => p.feed(&bytes, Some(mark.time_ms), mark.offset),
                Some(Parser::Http(p)) => p.feed(&bytes, Some(mark.time_ms), mark.offset),
                None => {}
            },
            FlowEvent::Gap {
                conn,
                dir: d,
                lost,
                mark,
            } if conn == target && d == dir => {
                if self.phase == Phase::During {
                    session.push_damage(Damage::Skipped {
                        offset: mark.offset,
                        len: lost,
                        what: format!(
                            "TCP stream {}: {lost} bytes missing from the capture before \
                             {}; resynchronised after them",
                            self.direction(),
                            describe(mark)
                        ),
                    });
                }
                match &mut self.parser {
                    Some(Parser::Rtmp(p)) => p.gap(lost, mark.offset),
                    Some(Parser::Http(p)) => p.gap(lost, mark.offset),
                    None => {}
                }
            }
            FlowEvent::End { conn, mark } if conn == target => {
                match &mut self.parser {
                    Some(Parser::Rtmp(p)) => p.finish(),
                    Some(Parser::Http(p)) => p.finish(mark.offset),
                    None => {}
                }
                self.drain_parser(session);
                self.phase = Phase::After;
                return Ok(false);
            }
            _ => return Ok(true),
        }
        self.drain_parser(session);
        Ok(self.phase != Phase::After)
    }

    fn consumed(&self) -> u64 {
        self.position
    }
}

impl CaptureTags {
    /// "client -> server", the way the target's media run.
    fn direction(&self) -> String {
        let (c, s) = (self.target.client, self.target.server);
        match self.target.delivery {
            Delivery::Published => format!("{c} -> {s}"),
            Delivery::Played | Delivery::HttpFlv => format!("{s} -> {c}"),
        }
    }

    fn parser(&self) -> Parser {
        let name = format!("{} ({})", self.input, self.direction());
        match self.target.delivery {
            Delivery::Published | Delivery::Played => Parser::Rtmp(RtmpParser::new()),
            Delivery::HttpFlv => Parser::Http(ResponseParser::new(&name)),
        }
    }

    /// The target's push begins (its index reached) or a later one ends it.
    fn begins(&mut self) {
        self.phase = match self.phase {
            Phase::Before if self.publishes_seen == self.target.index => Phase::During,
            Phase::Before => Phase::Before,
            Phase::During | Phase::After => Phase::After,
        };
        self.publishes_seen += 1;
    }

    fn drain_parser(&mut self, session: &mut TagSession) {
        match &mut self.parser {
            Some(Parser::Rtmp(p)) => {
                let events: Vec<_> = p.drain().collect();
                events.into_iter().for_each(|e| self.rtmp(e, session));
            }
            Some(Parser::Http(p)) => {
                let events: Vec<_> = p.drain().collect();
                events.into_iter().for_each(|e| self.http(e, session));
            }
            None => {}
        }
    }

    fn rtmp(&mut self, e: RtmpEvent, session: &mut TagSession) {
        let played = self.target.delivery == Delivery::Played;
        match e {
            RtmpEvent::Publish { .. } if !played => self.begins(),
            RtmpEvent::PlayStart { .. } if played => self.begins(),
            RtmpEvent::Unpublish { .. } if self.phase == Phase::During => {
                self.phase = Phase::After;
            }
            RtmpEvent::Media {
                kind,
                timestamp_ms,
                body,
                at,
            } if self.phase == Phase::During => session.push_tag(&Tag {
                offset: at.input_offset,
                kind,
                timestamp_ms,
                data: body,
            }),
            RtmpEvent::Damage(d) if self.phase == Phase::During => session.push_damage(d),
            _ => {}
        }
    }

    fn http(&mut self, e: HttpEvent, session: &mut TagSession) {
        match e {
            // Responses are numbered as the first pass numbered them: every one counts.
            HttpEvent::Response { .. } => self.begins(),
            HttpEvent::BodyEnd { .. } if self.phase == Phase::During => self.phase = Phase::After,
            HttpEvent::Tag(tag, _) if self.phase == Phase::During => session.push_tag(&tag),
            HttpEvent::Damage(d) if self.phase == Phase::During => session.push_damage(d),
            HttpEvent::BodyEnd { .. } | HttpEvent::Tag(..) | HttpEvent::Damage(_) => {}
        }
    }
}

/// The stream key's app: from `connect`, else the default.
pub(crate) fn app_of(p: &Publish) -> String {
    p.app.clone().unwrap_or_else(|| DEFAULT_APP.to_string())
}
