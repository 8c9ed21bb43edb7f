//! One pass over a capture: frames ([`super::capture`]) → TCP segments ([`super::link`]) →
//! the client streams of RTMP connections ([`super::flows`]), with the damage found on the way
//! named by capture position (packet number, capture time, byte offset of the record).

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use super::capture::{CaptureItem, CaptureReader};
use super::flows::{FlowEvent, Flows};
use super::link::{self, Decoded};
use super::spool::Counted;
use super::tcp::{DEFAULT_WINDOW, Mark};
use crate::input::InputError;
use crate::media::Damage;
use crate::wallclock::rfc3339_ms;

/// Reports of unreadable packets given one by one; later ones are counted in one last report.
const MAX_PACKET_REPORTS: u64 = 64;

/// What a pass yields, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Flow(FlowEvent),
    /// Damage not tied to one connection (a truncated capture, an unreadable packet).
    Damage(Damage),
}

/// A pass over one capture file.
pub struct Pass {
    capture: CaptureReader,
    flows: Flows,
    queue: VecDeque<Item>,
    events: Vec<FlowEvent>,
    links_reported: HashSet<u32>,
    packet_reports: u64,
    last: Mark,
    finished: bool,
}

impl Pass {
    /// Opens `path`; `only`: the one connection to reassemble (`None`: all of them).
    pub fn open(path: &Path, input: &str, only: Option<u64>) -> Result<Pass, InputError> {
        let file = File::open(path).map_err(|e| InputError::io(input, None, e))?;
        Ok(Pass::new(
            CaptureReader::new(BufReader::new(Counted(file)), input)?,
            only,
        ))
    }

    pub fn new(capture: CaptureReader, only: Option<u64>) -> Pass {
        Pass {
            capture,
            flows: Flows::new(DEFAULT_WINDOW, only),
            queue: VecDeque::new(),
            events: Vec::new(),
            links_reported: HashSet::new(),
            packet_reports: 0,
            last: Mark::default(),
            finished: false,
        }
    }

    /// Bytes of the capture read so far.
    pub fn position(&self) -> u64 {
        self.capture.position()
    }

    /// The next item; `None` once the capture and every connection in it have ended.
    pub fn next_item(&mut self) -> Result<Option<Item>, InputError> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Ok(Some(item));
            }
            if self.finished {
                return Ok(None);
            }
            match self.capture.next_item()? {
                None => {
                    self.finished = true;
                    if self.packet_reports > MAX_PACKET_REPORTS {
                        let more = self.packet_reports - MAX_PACKET_REPORTS;
                        self.queue.push_back(Item::Damage(Damage::Dropped {
                            offset: self.last.offset,
                            what: format!("{more} more unreadable TCP packets (not listed)"),
                        }));
                    }
                    self.flows.finish(self.last, &mut self.events);
                    self.queue.extend(self.events.drain(..).map(Item::Flow));
                }
                Some(CaptureItem::Damage(d)) => self.queue.push_back(Item::Damage(d)),
                Some(CaptureItem::Frame) => self.frame(),
            }
        }
    }

    fn frame(&mut self) {
        let frame = self.capture.frame();
        let mark = Mark {
            frame: frame.number,
            offset: frame.offset,
            time_ms: frame.time_ms(),
        };
        self.last = mark;
        match link::decode(frame.link_type, &frame.data) {
            Decoded::Tcp(seg) => self.flows.segment(&seg, mark, &mut self.events),
            Decoded::Other => {}
            Decoded::UnsupportedLink(l) => {
                if self.links_reported.insert(l) {
                    self.queue.push_back(Item::Damage(Damage::Dropped {
                        offset: mark.offset,
                        what: format!(
                            "{}: packets of link type {l} (not read; later ones are dropped \
                             without another report)",
                            describe(mark)
                        ),
                    }));
                }
            }
            Decoded::Unreadable(why) => {
                self.packet_reports += 1;
                if self.packet_reports <= MAX_PACKET_REPORTS {
                    self.queue.push_back(Item::Damage(Damage::Dropped {
                        offset: mark.offset,
                        what: format!("{}: {why}", describe(mark)),
                    }));
                }
            }
        }
        self.queue.extend(self.events.drain(..).map(Item::Flow));
    }
}

/// Names a capture position for people: packet number and UTC capture time.
pub(crate) fn describe(mark: Mark) -> String {
    format!(
        "capture packet #{} ({})",
        mark.frame,
        rfc3339_ms(mark.time_ms)
    )
}
