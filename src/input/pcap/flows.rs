//! TCP connections of a capture → both byte streams of those that carry RTMP or HTTP.
//!
//! A connection is a 4-tuple incarnation: it begins with a SYN (or, in a capture that starts
//! mid-connection, with the first segment carrying a payload) and ends with the client's FIN
//! once every byte before it is in, a RST, a new SYN on the same 4-tuple (ports reused after a
//! close), or the end of the capture. Connections are numbered in the order they begin, the
//! same way on every pass over a capture, so a later pass can pick one by number.
//!
//! The client is the SYN's sender (else the first payload's sender). A connection carries RTMP
//! when the client's stream begins with the handshake's C0 byte, version 3 (RTMP 1.0 §5.2.2),
//! and HTTP when it begins with a `GET ` request line (RFC 9112 §3), whatever the ports. Both
//! directions of such a connection are handed on: a publish's media run client to server, a
//! play's and an HTTP-FLV download's server to client. The server's bytes that arrive before
//! the client's first byte decides the carrier wait (at most the detection window). A
//! connection ends once both sides' FINs are in (or on RST, a new SYN, the end of the capture).
//! Connections that carry neither are reported once ([`FlowEvent::Other`]) for `inspect`.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::link::Segment;
use super::tcp::{Mark, Output, Reassembler};
use crate::input::rtmp::chunk::RTMP_VERSION;

/// The request line an HTTP-FLV player sends (RFC 9112 §3: method, one space).
const HTTP_GET: &[u8] = b"GET ";
/// Reassembly window until a connection is known to carry RTMP: a connection whose first bytes
/// the capture lacks cannot be recognised, so it may not hold the full window of memory.
const DETECT_WINDOW: u64 = 256 * 1024;

/// What a connection carries, as its client's first bytes say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    Rtmp,
    Http,
}

/// Which way bytes run on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ClientToServer,
    ServerToClient,
}

/// What the flow table reports, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowEvent {
    /// An RTMP or HTTP connection begins (its first client bytes follow).
    Start {
        conn: u64,
        client: SocketAddr,
        server: SocketAddr,
        carrier: Carrier,
    },
    /// Bytes of one direction, in that direction's stream order.
    Data {
        conn: u64,
        dir: Dir,
        bytes: Vec<u8>,
        mark: Mark,
    },
    /// Bytes of one direction that the capture does not hold.
    Gap {
        conn: u64,
        dir: Dir,
        lost: u64,
        mark: Mark,
    },
    /// The connection ended.
    End { conn: u64, mark: Mark },
    /// A connection that carries neither RTMP nor HTTP (nothing of it follows): `first` is the
    /// start of the client's bytes, for `inspect`.
    Other {
        conn: u64,
        client: SocketAddr,
        server: SocketAddr,
        first: Vec<u8>,
        mark: Mark,
    },
}

/// Client bytes an [`FlowEvent::Other`] quotes.
const OTHER_QUOTED: usize = 16;

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// No client byte yet.
    Unknown,
    Carried(Carrier),
    NotCarried,
}

#[derive(Debug)]
struct Conn {
    id: u64,
    client: SocketAddr,
    server: SocketAddr,
    isn: Option<u32>,
    stream: Reassembler,
    /// The server's stream (`isn` from its SYN+ACK).
    server_stream: Reassembler,
    /// Server output that waits for the client's first byte to decide the carrier.
    held: Vec<Output>,
    kind: Kind,
    /// Stream offset of the client's FIN.
    fin_at: Option<u64>,
    /// Stream offset of the server's FIN.
    server_fin_at: Option<u64>,
    ended: bool,
}

impl Conn {
    fn side(&mut self, dir: Dir) -> (&mut Reassembler, &mut Option<u64>) {
        match dir {
            Dir::ClientToServer => (&mut self.stream, &mut self.fin_at),
            Dir::ServerToClient => (&mut self.server_stream, &mut self.server_fin_at),
        }
    }

    /// Both sides' FINs are in, every byte before them delivered.
    fn closed(&self) -> bool {
        let done = |s: &Reassembler, fin: Option<u64>| {
            fin.is_some_and(|f| s.delivered() >= f) && !s.has_pending()
        };
        done(&self.stream, self.fin_at) && done(&self.server_stream, self.server_fin_at)
    }
}

/// The connections of one capture.
#[derive(Debug)]
pub(crate) struct Flows {
    /// By (client, server).
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    next_id: u64,
    window: u64,
    /// Only this connection is reassembled (a later pass reads one publish); `None`: all.
    only: Option<u64>,
    scratch: Vec<Output>,
}

impl Flows {
    pub(crate) fn new(window: u64, only: Option<u64>) -> Flows {
        Flows {
            conns: HashMap::new(),
            next_id: 0,
            window,
            only,
            scratch: Vec::new(),
        }
    }

    /// Takes one segment; events go to `out`.
    pub(crate) fn segment(&mut self, seg: &Segment<'_>, mark: Mark, out: &mut Vec<FlowEvent>) {
        let forward = (seg.src, seg.dst);
        let backward = (seg.dst, seg.src);
        let key = if self.conns.contains_key(&forward) {
            Some(forward)
        } else if self.conns.contains_key(&backward) {
            Some(backward)
        } else {
            None
        };
        // A SYN from the client side that is not a retransmission begins a new incarnation.
        if let Some(k) = key
            && seg.syn
            && seg.ack.is_none()
            && let Some(c) = self.conns.get(&k)
            && (c.client != seg.src || c.isn != Some(seg.seq))
        {
            self.end(k, mark, out);
            self.begin(seg);
        } else if key.is_none() {
            if !seg.syn && seg.payload.is_empty() {
                // A stray ACK of a connection begun before the capture: wait for data.
                return;
            }
            self.begin(seg);
        }
        let key = if self.conns.contains_key(&forward) {
            forward
        } else {
            backward
        };
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        if seg.rst {
            self.end(key, mark, out);
            return;
        }
        if c.ended || c.kind == Kind::NotCarried {
            return;
        }
        if self.only.is_some_and(|o| o != c.id) {
            // Not the connection this pass reads: only its boundaries matter.
            c.kind = Kind::NotCarried;
            return;
        }
        let dir = if seg.src == c.client {
            Dir::ClientToServer
        } else {
            Dir::ServerToClient
        };
        if seg.syn && dir == Dir::ClientToServer {
            c.isn.get_or_insert(seg.seq);
        }
        if seg.syn {
            // The SYN+ACK starts the server's stream: its first data segment may come late.
            c.side(dir).0.anchor(seg.seq);
        }
        // The payload starts after the SYN's sequence number.
        let seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let mut outputs = std::mem::take(&mut self.scratch);
        let (stream, fin_at) = c.side(dir);
        stream.push(seq, seg.payload, mark, &mut outputs);
        if seg.fin {
            // A FIN before any byte of its direction: that direction is empty.
            *fin_at = stream
                .offset_of(seq.wrapping_add(seg.payload.len() as u32))
                .or(Some(stream.delivered()));
        }
        Self::emit(c, dir, self.window, &mut outputs, out);
        self.scratch = outputs;
        if self.conns[&key].closed() {
            self.end(key, mark, out);
        }
    }

    /// End of the capture: every open connection ends, holes declared lost.
    pub(crate) fn finish(&mut self, mark: Mark, out: &mut Vec<FlowEvent>) {
        let mut keys: Vec<_> = self.conns.iter().map(|(k, c)| (c.id, *k)).collect();
        keys.sort();
        for (_, k) in keys {
            self.end(k, mark, out);
        }
        self.conns.clear();
    }

    fn begin(&mut self, seg: &Segment<'_>) {
        // A SYN+ACK comes from the server.
        let (client, server) = if seg.syn && seg.ack.is_some() {
            (seg.dst, seg.src)
        } else {
            (seg.src, seg.dst)
        };
        let isn = (seg.syn && seg.ack.is_none()).then_some(seg.seq);
        let server_isn = (seg.syn && seg.ack.is_some()).then_some(seg.seq);
        self.conns.insert(
            (client, server),
            Conn {
                id: self.next_id,
                client,
                server,
                isn,
                stream: Reassembler::new(isn, self.window.min(DETECT_WINDOW)),
                server_stream: Reassembler::new(server_isn, self.window.min(DETECT_WINDOW)),
                held: Vec::new(),
                kind: Kind::Unknown,
                fin_at: None,
                server_fin_at: None,
                ended: false,
            },
        );
        self.next_id += 1;
    }

    /// Ends a connection: its holes are declared lost, what was buffered is handed on.
    fn end(&mut self, key: (SocketAddr, SocketAddr), mark: Mark, out: &mut Vec<FlowEvent>) {
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        if c.ended {
            return;
        }
        let mut outputs = std::mem::take(&mut self.scratch);
        if c.kind != Kind::NotCarried {
            c.stream.flush(&mut outputs);
            Self::emit(c, Dir::ClientToServer, self.window, &mut outputs, out);
            c.server_stream.flush(&mut outputs);
            Self::emit(c, Dir::ServerToClient, self.window, &mut outputs, out);
        }
        c.ended = true;
        if matches!(c.kind, Kind::Carried(_)) {
            out.push(FlowEvent::End { conn: c.id, mark });
        }
        self.scratch = outputs;
    }

    /// Turns reassembled output of direction `dir` into events, deciding on the client's first
    /// byte what the connection carries.
    fn emit(
        c: &mut Conn,
        dir: Dir,
        window: u64,
        outputs: &mut Vec<Output>,
        out: &mut Vec<FlowEvent>,
    ) {
        if c.kind == Kind::Unknown && dir == Dir::ServerToClient {
            c.held.append(outputs);
            let held: usize = c.held.iter().map(output_len).sum();
            if held as u64 > DETECT_WINDOW {
                // A server that speaks first, to a client that never does: not ours.
                let lost = Output::Gap {
                    lost: 0,
                    mark: Mark::default(),
                };
                Self::detect(c, &lost, window, out);
                c.held.clear();
            }
            return;
        }
        for o in outputs.drain(..) {
            if c.kind == Kind::Unknown {
                Self::detect(c, &o, window, out);
                let held = std::mem::take(&mut c.held);
                if matches!(c.kind, Kind::Carried(_)) {
                    // The client's first bytes, then what the server sent before them.
                    Self::push(c, Dir::ClientToServer, o, out);
                    for h in held {
                        Self::push(c, Dir::ServerToClient, h, out);
                    }
                }
                continue;
            }
            if matches!(c.kind, Kind::Carried(_)) {
                Self::push(c, dir, o, out);
            }
        }
    }

    /// Decides the carrier from the client's first output.
    fn detect(c: &mut Conn, o: &Output, window: u64, out: &mut Vec<FlowEvent>) {
        let carrier = match o {
            Output::Data { bytes, .. } if bytes.first() == Some(&RTMP_VERSION) => {
                Some(Carrier::Rtmp)
            }
            Output::Data { bytes, .. } if bytes.starts_with(HTTP_GET) => Some(Carrier::Http),
            Output::Data { .. } | Output::Gap { .. } => None,
        };
        match carrier {
            Some(carrier) => {
                out.push(FlowEvent::Start {
                    conn: c.id,
                    client: c.client,
                    server: c.server,
                    carrier,
                });
                c.stream.set_window(window);
                c.server_stream.set_window(window);
                c.kind = Kind::Carried(carrier);
            }
            None => {
                let (first, mark) = match o {
                    Output::Data { bytes, mark } => {
                        (bytes[..bytes.len().min(OTHER_QUOTED)].to_vec(), *mark)
                    }
                    Output::Gap { mark, .. } => (Vec::new(), *mark),
                };
                out.push(FlowEvent::Other {
                    conn: c.id,
                    client: c.client,
                    server: c.server,
                    first,
                    mark,
                });
                // Nothing more of it is read: drop what waits.
                c.stream = Reassembler::new(None, 1);
                c.server_stream = Reassembler::new(None, 1);
                c.kind = Kind::NotCarried;
            }
        }
    }

    fn push(c: &Conn, dir: Dir, o: Output, out: &mut Vec<FlowEvent>) {
        out.push(match o {
            Output::Data { bytes, mark } => FlowEvent::Data {
                conn: c.id,
                dir,
                bytes,
                mark,
            },
            Output::Gap { lost, mark } => FlowEvent::Gap {
                conn: c.id,
                dir,
                lost,
                mark,
            },
        });
    }
}

fn output_len(o: &Output) -> usize {
    match o {
        Output::Data { bytes, .. } => bytes.len(),
        Output::Gap { .. } => 0,
    }
}

#[cfg(test)]
mod tests;
