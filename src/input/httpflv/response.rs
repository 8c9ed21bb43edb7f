//! HTTP/1.1 responses on one connection (RFC 9112): status line and header fields (§2, §4, §5),
//! then a body framed by `Transfer-Encoding: chunked` (§7.1), `Content-Length` (§6.3) or the
//! close of the connection, then the next response (keep-alive). FLV bodies go through
//! [`super::tags::FlvTags`]; other bodies are read past.

use super::tags::{FlvTags, SIGNATURE};
use crate::input::flv::Tag;
use crate::input::rtmp::Position;
use crate::media::Damage;

/// A response head longer than this is not HTTP worth reading: the connection is given up.
const MAX_HEAD: usize = 64 * 1024;
/// A chunk-size line (§7.1: hex size, extensions) longer than this is damage.
const MAX_CHUNK_LINE: usize = 1024;
/// The media type of FLV.
const FLV_CONTENT_TYPE: &str = "video/x-flv";

/// What the parser finds, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpEvent {
    /// A response head: its status code and whether its body is FLV.
    Response {
        status: u16,
        content_type: Option<String>,
        flv: bool,
        at: Position,
    },
    /// One FLV tag of an FLV body.
    Tag(Tag, Position),
    /// The body of the last response ended.
    BodyEnd {
        at: Position,
    },
    Damage(Damage),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Head,
    /// Inside a chunked body, reading a chunk-size line.
    ChunkSize,
    /// `n` bytes of chunk data left, then its CRLF.
    ChunkData(u64),
    ChunkCrlf(u8),
    /// After the last chunk: trailer lines up to the empty one.
    Trailer,
    Body(Framing),
    /// Not HTTP any more: nothing further is read.
    Dead,
}

/// One direction (server to client) of an HTTP connection.
#[derive(Debug)]
pub struct ResponseParser {
    input: String,
    state: State,
    line: Vec<u8>,
    flv: Option<FlvTags>,
    /// A chunked body's first chunk-size line is still to come.
    first_chunk: bool,
    events: Vec<HttpEvent>,
}

impl ResponseParser {
    pub fn new(input: &str) -> ResponseParser {
        ResponseParser {
            input: input.to_string(),
            state: State::Head,
            line: Vec::new(),
            flv: None,
            first_chunk: false,
            events: Vec::new(),
        }
    }

    /// The next bytes; `input_offset`: where the first of them lies in the input.
    pub fn feed(&mut self, mut bytes: &[u8], arrival_ms: Option<i64>, input_offset: u64) {
        let mut offset = input_offset;
        while !bytes.is_empty() && self.state != State::Dead {
            let at = Position {
                input_offset: offset,
                arrival_ms,
            };
            let used = self.step(bytes, at).max(1).min(bytes.len());
            bytes = &bytes[used..];
            offset += used as u64;
        }
    }

    /// `lost` bytes are missing: the response in progress cannot be followed further.
    pub fn gap(&mut self, lost: u64, input_offset: u64) {
        if self.state != State::Dead {
            self.events.push(HttpEvent::Damage(Damage::Skipped {
                offset: input_offset,
                len: lost,
                what: format!(
                    "{}: {lost} bytes of the HTTP response missing; the rest of the connection \
                     is not read",
                    self.input
                ),
            }));
        }
        self.end_body(input_offset, None);
        self.state = State::Dead;
    }

    /// The connection closed: a body that runs to the close ends here.
    pub fn finish(&mut self, input_offset: u64) {
        match self.state {
            State::Head | State::Dead => {}
            State::Body(Framing::UntilClose) => self.end_body(input_offset, None),
            State::ChunkSize
            | State::ChunkData(_)
            | State::ChunkCrlf(_)
            | State::Trailer
            | State::Body(Framing::Length(_) | Framing::Chunked) => {
                let what = format!("{}: the HTTP body ends before its framing says", self.input);
                self.events.push(HttpEvent::Damage(Damage::Truncated {
                    offset: input_offset,
                    what,
                }));
                self.end_body(input_offset, None);
            }
        }
        self.state = State::Dead;
    }

    pub fn drain(&mut self) -> std::vec::Drain<'_, HttpEvent> {
        self.events.drain(..)
    }

    /// Consumes the start of `bytes`; returns how many.
    fn step(&mut self, bytes: &[u8], at: Position) -> usize {
        match self.state {
            State::Head => self.head(bytes, at),
            State::ChunkSize => self.chunk_size(bytes, at),
            State::ChunkData(left) => {
                let n = (left.min(bytes.len() as u64)) as usize;
                self.body(&bytes[..n], at);
                self.state = if left == n as u64 {
                    State::ChunkCrlf(2)
                } else {
                    State::ChunkData(left - n as u64)
                };
                n
            }
            State::ChunkCrlf(left) => {
                self.state = if left == 1 {
                    State::ChunkSize
                } else {
                    State::ChunkCrlf(left - 1)
                };
                1
            }
            State::Trailer => {
                let (line, used) = self.take_line(bytes, MAX_CHUNK_LINE);
                if line.is_some_and(|l| l.is_empty()) {
                    self.end_body(at.input_offset, at.arrival_ms);
                    self.state = State::Head;
                }
                used
            }
            State::Body(Framing::Length(left)) => {
                let n = (left.min(bytes.len() as u64)) as usize;
                self.body(&bytes[..n], at);
                if left == n as u64 {
                    self.end_body(at.input_offset + n as u64, at.arrival_ms);
                    self.state = State::Head;
                } else {
                    self.state = State::Body(Framing::Length(left - n as u64));
                }
                n
            }
            State::Body(Framing::UntilClose | Framing::Chunked) => {
                self.body(bytes, at);
                bytes.len()
            }
            State::Dead => bytes.len(),
        }
    }

    /// Collects a line ending in CRLF (or LF); `Some(line)` once complete.
    fn take_line(&mut self, bytes: &[u8], max: usize) -> (Option<Vec<u8>>, usize) {
        match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.line.extend_from_slice(&bytes[..i]);
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                (Some(line), i + 1)
            }
            None => {
                self.line.extend_from_slice(bytes);
                if self.line.len() > max {
                    self.line.clear();
                    self.state = State::Dead;
                }
                (None, bytes.len())
            }
        }
    }

    fn head(&mut self, bytes: &[u8], at: Position) -> usize {
        let before = self.line.len();
        // The terminator may straddle two pieces: look again from the last 3 bytes kept.
        let from = before.saturating_sub(3);
        self.line.extend_from_slice(bytes);
        match self.line[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            Some(i) => {
                let end = from + i;
                let head = self.line[..end].to_vec();
                self.line.clear();
                self.response(&head, at);
                end + 4 - before
            }
            None => {
                if self.line.len() > MAX_HEAD {
                    self.line.clear();
                    self.give_up(at, "a response head over 64 KiB");
                }
                bytes.len()
            }
        }
    }

    fn give_up(&mut self, at: Position, why: &str) {
        self.events.push(HttpEvent::Damage(Damage::Dropped {
            offset: at.input_offset,
            what: format!(
                "{}: {why}: the rest of the connection is not read",
                self.input
            ),
        }));
        self.state = State::Dead;
    }

    /// A complete head: its status line and the fields that frame and type the body.
    fn response(&mut self, head: &[u8], at: Position) {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
        let status_line = lines.next().unwrap_or("");
        let status = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|s| s.get(2..5))
            .and_then(|s| s.parse::<u16>().ok());
        let Some(status) = status else {
            return self.give_up(at, "not an HTTP/1.x status line");
        };
        let (mut content_type, mut chunked, mut length) = (None, false, None);
        for l in lines {
            let Some((name, value)) = l.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-type" => content_type = Some(value.to_string()),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "content-length" => length = value.parse::<u64>().ok(),
                _ => {}
            }
        }
        let typed_flv = content_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().starts_with(FLV_CONTENT_TYPE));
        let framing = match (chunked, length) {
            (true, _) => Framing::Chunked,
            (false, Some(n)) => Framing::Length(n),
            (false, None) => Framing::UntilClose,
        };
        // Without a type, the body's first bytes decide (see `body`).
        self.flv = Some(FlvTags::new(&self.input, typed_flv));
        self.events.push(HttpEvent::Response {
            status,
            content_type,
            flv: typed_flv,
            at,
        });
        self.state = match framing {
            Framing::Chunked => {
                self.first_chunk = true;
                State::ChunkSize
            }
            Framing::Length(0) => {
                self.end_body(at.input_offset, at.arrival_ms);
                State::Head
            }
            f @ (Framing::Length(_) | Framing::UntilClose) => State::Body(f),
        };
    }

    fn chunk_size(&mut self, bytes: &[u8], at: Position) -> usize {
        if self.first_chunk {
            let mut peek = self.line.clone();
            peek.extend(bytes.iter().take(SIGNATURE.len()));
            if peek.len() < SIGNATURE.len() && !peek.contains(&b'\n') {
                self.line.extend_from_slice(bytes);
                return bytes.len();
            }
            self.first_chunk = false;
            if peek.starts_with(SIGNATURE) {
                // `curl -i` saves the decoded body under the original Transfer-Encoding.
                let kept = std::mem::take(&mut self.line);
                self.state = State::Body(Framing::UntilClose);
                self.body(&kept, at);
                self.body(bytes, at);
                return bytes.len();
            }
        }
        let (line, used) = self.take_line(bytes, MAX_CHUNK_LINE);
        let Some(line) = line else {
            if self.state == State::Dead {
                self.give_up(at, "a chunk-size line over 1 KiB");
            }
            return used;
        };
        let text = String::from_utf8_lossy(&line);
        let hex = text.split(';').next().unwrap_or("").trim();
        match u64::from_str_radix(hex, 16) {
            Ok(0) => self.state = State::Trailer,
            Ok(n) => self.state = State::ChunkData(n),
            Err(_) => self.give_up(at, &format!("chunk-size line {text:?} is not hexadecimal")),
        }
        used
    }

    fn body(&mut self, bytes: &[u8], at: Position) {
        if let Some(flv) = &mut self.flv {
            flv.feed(bytes, at, &mut self.events);
        }
    }

    fn end_body(&mut self, input_offset: u64, arrival_ms: Option<i64>) {
        if let Some(mut flv) = self.flv.take() {
            let at = Position {
                input_offset,
                arrival_ms,
            };
            flv.finish(at, &mut self.events);
            self.events.push(HttpEvent::BodyEnd { at });
        }
    }
}

#[cfg(test)]
mod tests;
