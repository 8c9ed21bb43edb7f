//! TCP connections of a capture → the client-to-server byte streams of those that carry RTMP.
//!
//! A connection is a 4-tuple incarnation: it begins with a SYN (or, in a capture that starts
//! mid-connection, with the first segment carrying a payload) and ends with the client's FIN
//! once every byte before it is in, a RST, a new SYN on the same 4-tuple (ports reused after a
//! close), or the end of the capture. Connections are numbered in the order they begin, the
//! same way on every pass over a capture, so a later pass can pick one by number.
//!
//! The client is the SYN's sender (else the first payload's sender). A connection carries RTMP
//! when the client's stream begins with the handshake's C0 byte, version 3 (RTMP 1.0 §5.2.2),
//! whatever the ports.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::link::Segment;
use super::tcp::{Mark, Output, Reassembler};

/// RTMP handshake C0: the protocol version.
const RTMP_VERSION: u8 = 3;
/// Reassembly window until a connection is known to carry RTMP: a connection whose first bytes
/// the capture lacks cannot be recognised, so it may not hold the full window of memory.
const DETECT_WINDOW: u64 = 256 * 1024;

/// What the flow table reports, in capture order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowEvent {
    /// An RTMP connection begins (its first client bytes follow).
    Start {
        conn: u64,
        client: SocketAddr,
        server: SocketAddr,
    },
    /// Client-to-server bytes, in stream order.
    Data {
        conn: u64,
        bytes: Vec<u8>,
        mark: Mark,
    },
    /// Bytes of the client's stream that the capture does not hold.
    Gap { conn: u64, lost: u64, mark: Mark },
    /// The RTMP connection ended.
    End { conn: u64, mark: Mark },
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// No client byte yet.
    Unknown,
    Rtmp,
    NotRtmp,
}

#[derive(Debug)]
struct Conn {
    id: u64,
    client: SocketAddr,
    server: SocketAddr,
    isn: Option<u32>,
    stream: Reassembler,
    kind: Kind,
    /// Stream offset of the client's FIN.
    fin_at: Option<u64>,
    ended: bool,
}

/// The connections of one capture.
#[derive(Debug)]
pub struct Flows {
    /// By (client, server).
    conns: HashMap<(SocketAddr, SocketAddr), Conn>,
    next_id: u64,
    window: u64,
    /// Only this connection is reassembled (a later pass reads one publish); `None`: all.
    only: Option<u64>,
    scratch: Vec<Output>,
}

impl Flows {
    pub fn new(window: u64, only: Option<u64>) -> Flows {
        Flows {
            conns: HashMap::new(),
            next_id: 0,
            window,
            only,
            scratch: Vec::new(),
        }
    }

    /// Takes one segment; events go to `out`.
    pub fn segment(&mut self, seg: &Segment<'_>, mark: Mark, out: &mut Vec<FlowEvent>) {
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
        if seg.src != c.client || c.ended || c.kind == Kind::NotRtmp {
            return;
        }
        if self.only.is_some_and(|o| o != c.id) {
            // Not the connection this pass reads: only its boundaries matter.
            c.kind = Kind::NotRtmp;
            return;
        }
        if seg.syn {
            c.isn.get_or_insert(seg.seq);
        }
        // The payload starts after the SYN's sequence number.
        let seq = if seg.syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let mut outputs = std::mem::take(&mut self.scratch);
        c.stream.push(seq, seg.payload, mark, &mut outputs);
        if seg.fin {
            c.fin_at = c
                .stream
                .offset_of(seq.wrapping_add(seg.payload.len() as u32));
        }
        Self::emit(c, self.window, &mut outputs, out);
        self.scratch = outputs;
        let c = &self.conns[&key];
        if c.fin_at.is_some_and(|f| c.stream.delivered() >= f) && !c.stream.has_pending() {
            self.end(key, mark, out);
        }
    }

    /// End of the capture: every open connection ends, holes declared lost.
    pub fn finish(&mut self, mark: Mark, out: &mut Vec<FlowEvent>) {
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
        self.conns.insert(
            (client, server),
            Conn {
                id: self.next_id,
                client,
                server,
                isn,
                stream: Reassembler::new(isn, self.window.min(DETECT_WINDOW)),
                kind: Kind::Unknown,
                fin_at: None,
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
        if c.kind != Kind::NotRtmp {
            c.stream.flush(&mut outputs);
            Self::emit(c, self.window, &mut outputs, out);
        }
        c.ended = true;
        if c.kind == Kind::Rtmp {
            out.push(FlowEvent::End { conn: c.id, mark });
        }
        self.scratch = outputs;
    }

    /// Turns reassembled output into events, deciding on the first byte whether it is RTMP.
    fn emit(c: &mut Conn, window: u64, outputs: &mut Vec<Output>, out: &mut Vec<FlowEvent>) {
        for o in outputs.drain(..) {
            if c.kind == Kind::Unknown {
                c.kind = match &o {
                    Output::Data { bytes, .. } if bytes.first() == Some(&RTMP_VERSION) => {
                        out.push(FlowEvent::Start {
                            conn: c.id,
                            client: c.client,
                            server: c.server,
                        });
                        c.stream.set_window(window);
                        Kind::Rtmp
                    }
                    _ => {
                        // Nothing more of it is read: drop what waits.
                        c.stream = Reassembler::new(None, 1);
                        Kind::NotRtmp
                    }
                };
            }
            if c.kind != Kind::Rtmp {
                continue;
            }
            out.push(match o {
                Output::Data { bytes, mark } => FlowEvent::Data {
                    conn: c.id,
                    bytes,
                    mark,
                },
                Output::Gap { lost, mark } => FlowEvent::Gap {
                    conn: c.id,
                    lost,
                    mark,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests;
