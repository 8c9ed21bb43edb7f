//! The first pass over a capture: every TCP connection it understood ([`Connection`], what
//! `inspect` lists) and every push in them ([`Publish`]): an RTMP publish (client to server), an
//! RTMP play (the server's media to a client that sent `play`), an HTTP-FLV download (an FLV
//! response body). The pass also spools what the sessions read ([`super::spool`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

use super::flows::{Carrier, Dir, FlowEvent};
use super::spool::{Spool, SpoolWriter};
use super::stream::{Item, Pass};
use crate::input::InputError;
use crate::input::httpflv::request::path_of;
use crate::input::httpflv::{HttpEvent, RequestLines, ResponseParser, key_of_path};
use crate::input::rtmp::{Position, RtmpEvent, RtmpParser};

/// How a push reached the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// An RTMP publish: the client's media.
    Published,
    /// An RTMP play: the server's media to a player.
    Played,
    /// An HTTP-FLV response: the server's FLV body to a player.
    HttpFlv,
}

impl Delivery {
    /// The session was what a viewer received, not what a publisher sent.
    pub(crate) fn played(self) -> bool {
        match self {
            Delivery::Published => false,
            Delivery::Played | Delivery::HttpFlv => true,
        }
    }

    /// The direction its media run.
    pub(crate) fn dir(self) -> Dir {
        match self {
            Delivery::Published => Dir::ClientToServer,
            Delivery::Played | Delivery::HttpFlv => Dir::ServerToClient,
        }
    }

    pub(crate) fn word(self) -> &'static str {
        match self {
            Delivery::Published => "RTMP publish",
            Delivery::Played => "RTMP play",
            Delivery::HttpFlv => "HTTP-FLV download",
        }
    }
}

/// One push found by the first pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publish {
    /// The connection's number in the capture ([`super::flows`]).
    pub conn: u64,
    /// Index among the connection's pushes of its delivery (publishes, play starts, responses).
    pub(crate) index: usize,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    pub delivery: Delivery,
    /// `app` from `connect`, or from an HTTP path (`None` without one).
    pub(crate) app: Option<String>,
    pub name: String,
    pub(crate) vdoid: Option<String>,
    /// Capture time of the push's first media message (`None`: it carried none).
    pub first_media_ms: Option<i64>,
    /// Audio, video and script messages (RTMP) or tags (HTTP-FLV), and their body bytes.
    pub(crate) media_messages: u64,
    pub(crate) media_bytes: u64,
}

/// One TCP connection of the capture, as `inspect` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Connection {
    pub(crate) conn: u64,
    pub(crate) client: SocketAddr,
    pub(crate) server: SocketAddr,
    /// `None`: neither RTMP nor HTTP.
    pub(crate) carrier: Option<Carrier>,
    /// RTMP commands and statuses, or HTTP request and status lines, in order.
    pub(crate) steps: Vec<String>,
    /// The first client bytes of a connection of no known carrier.
    pub(crate) first: Vec<u8>,
    /// Bytes seen client to server and server to client.
    pub(crate) bytes: [u64; 2],
    /// Indexes in [`Scan::pushes`] of its pushes.
    pub(crate) pushes: Vec<usize>,
    /// A `play` whose media the capture does not hold (client bytes only).
    pub(crate) plays_without_media: Vec<String>,
}

/// What the first pass found.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    pub pushes: Vec<Publish>,
    pub(crate) connections: Vec<Connection>,
    /// The first damage not tied to a connection.
    pub(crate) damage: Option<crate::media::Damage>,
}

#[derive(Debug)]
enum Sides {
    Rtmp {
        client: Box<RtmpParser>,
        server: Box<RtmpParser>,
        app: Option<String>,
        /// The client's last `play`: name and vdoid.
        play: Option<(String, Option<String>)>,
    },
    Http {
        requests: RequestLines,
        responses: ResponseParser,
    },
}

#[derive(Debug)]
struct ConnScan {
    /// Index in [`Scan::connections`].
    row: usize,
    sides: Sides,
    /// Pushes begun per delivery (publishes, plays, responses).
    begun: [usize; 3],
    /// The push in progress per direction, an index in [`Scan::pushes`].
    current: [Option<usize>; 2],
    /// HTTP responses begun, and the last one's number and key until its body gives a tag.
    responses: usize,
    response: Option<(usize, Key)>,
}

fn dir_index(dir: Dir) -> usize {
    match dir {
        Dir::ClientToServer => 0,
        Dir::ServerToClient => 1,
    }
}

fn delivery_index(d: Delivery) -> usize {
    match d {
        Delivery::Published => 0,
        Delivery::Played => 1,
        Delivery::HttpFlv => 2,
    }
}

/// Lists the connections and pushes of a capture.
pub fn scan(path: &Path, input: &str) -> Result<Scan, InputError> {
    scan_into(path, input, None)
}

/// Lists the connections and pushes of a capture and spools what their sessions read.
pub(crate) fn scan_spooled(path: &Path, input: &str) -> Result<(Scan, Spool), InputError> {
    let spool_error = |e| InputError::new(input, None, format!("capture spool: {e}"));
    let mut spool = SpoolWriter::create().map_err(spool_error)?;
    let found = scan_into(path, input, Some(&mut spool))?;
    Ok((found, spool.finish().map_err(spool_error)?))
}

fn scan_into(
    path: &Path,
    input: &str,
    mut spool: Option<&mut SpoolWriter>,
) -> Result<Scan, InputError> {
    let mut pass = Pass::open(path, input, None)?;
    let mut conns: HashMap<u64, ConnScan> = HashMap::new();
    let mut found = Scan::default();
    while let Some(item) = pass.next_item()? {
        if let Some(spool) = spool.as_deref_mut() {
            spool
                .item(&item, pass.position())
                .map_err(|e| InputError::new(input, None, format!("capture spool: {e}")))?;
        }
        match item {
            Item::Flow(ev) => flow(input, ev, &mut conns, &mut found),
            Item::Damage(d) => {
                found.damage.get_or_insert(d);
            }
        }
    }
    Ok(found)
}

fn flow(input: &str, ev: FlowEvent, conns: &mut HashMap<u64, ConnScan>, found: &mut Scan) {
    let conn = match ev {
        FlowEvent::Start {
            conn,
            client,
            server,
            carrier,
        } => {
            let row = connection(conn, client, server, Some(carrier));
            let c = start(input, carrier, row, found);
            conns.insert(conn, c);
            conn
        }
        FlowEvent::Other {
            conn,
            client,
            server,
            first,
            ..
        } => {
            let mut c = connection(conn, client, server, None);
            c.first = first;
            found.connections.push(c);
            return;
        }
        FlowEvent::Data {
            conn,
            dir,
            ref bytes,
            mark,
        } => {
            if let Some(c) = conns.get_mut(&conn) {
                found.connections[c.row].bytes[dir_index(dir)] += bytes.len() as u64;
                c.feed(dir, bytes, mark.time_ms, mark.offset);
            }
            conn
        }
        FlowEvent::Gap {
            conn,
            dir,
            lost,
            mark,
        } => {
            if let Some(c) = conns.get_mut(&conn) {
                c.gap(dir, lost, mark.offset);
            }
            conn
        }
        FlowEvent::End { conn, mark } => {
            if let Some(mut c) = conns.remove(&conn) {
                c.finish(mark.offset);
                c.drain(conn, found);
                c.close_plays(found);
            }
            return;
        }
    };
    if let Some(c) = conns.get_mut(&conn) {
        c.drain(conn, found);
    }
}

/// A connection of a known carrier begins: its row in the listing, the parsers of its sides.
fn start(input: &str, carrier: Carrier, row: Connection, found: &mut Scan) -> ConnScan {
    let (client, server) = (row.client, row.server);
    let name = |d: &str| format!("{input} ({client} -> {server}, {d})");
    let sides = match carrier {
        Carrier::Rtmp => Sides::Rtmp {
            client: Box::new(RtmpParser::new()),
            server: Box::new(RtmpParser::new()),
            app: None,
            play: None,
        },
        Carrier::Http => Sides::Http {
            requests: RequestLines::new(),
            responses: ResponseParser::new(&name("HTTP response")),
        },
    };
    found.connections.push(row);
    ConnScan {
        row: found.connections.len() - 1,
        sides,
        begun: [0; 3],
        current: [None; 2],
        responses: 0,
        response: None,
    }
}

fn connection(
    conn: u64,
    client: SocketAddr,
    server: SocketAddr,
    carrier: Option<Carrier>,
) -> Connection {
    Connection {
        conn,
        client,
        server,
        carrier,
        steps: Vec::new(),
        first: Vec::new(),
        bytes: [0; 2],
        pushes: Vec::new(),
        plays_without_media: Vec::new(),
    }
}

impl ConnScan {
    fn feed(&mut self, dir: Dir, bytes: &[u8], time_ms: i64, offset: u64) {
        match (&mut self.sides, dir) {
            (Sides::Rtmp { client, .. }, Dir::ClientToServer) => {
                client.feed(bytes, Some(time_ms), offset)
            }
            (Sides::Rtmp { server, .. }, Dir::ServerToClient) => {
                server.feed(bytes, Some(time_ms), offset)
            }
            (Sides::Http { requests, .. }, Dir::ClientToServer) => requests.feed(bytes),
            (Sides::Http { responses, .. }, Dir::ServerToClient) => {
                responses.feed(bytes, Some(time_ms), offset)
            }
        }
    }

    fn gap(&mut self, dir: Dir, lost: u64, offset: u64) {
        match (&mut self.sides, dir) {
            (Sides::Rtmp { client, .. }, Dir::ClientToServer) => client.gap(lost, offset),
            (Sides::Rtmp { server, .. }, Dir::ServerToClient) => server.gap(lost, offset),
            (Sides::Http { .. }, Dir::ClientToServer) => {}
            (Sides::Http { responses, .. }, Dir::ServerToClient) => responses.gap(lost, offset),
        }
    }

    fn finish(&mut self, offset: u64) {
        match &mut self.sides {
            Sides::Rtmp { client, server, .. } => {
                client.finish();
                server.finish();
            }
            Sides::Http { responses, .. } => responses.finish(offset),
        }
    }

    /// Takes the events both sides produced so far into the scan.
    fn drain(&mut self, conn: u64, found: &mut Scan) {
        match &mut self.sides {
            Sides::Rtmp { client, server, .. } => {
                let client: Vec<_> = client.drain().collect();
                let server: Vec<_> = server.drain().collect();
                for e in client {
                    self.rtmp(conn, Dir::ClientToServer, e, found);
                }
                for e in server {
                    self.rtmp(conn, Dir::ServerToClient, e, found);
                }
            }
            Sides::Http {
                requests,
                responses,
            } => {
                let lines = requests.lines().to_vec();
                let events: Vec<_> = responses.drain().collect();
                let row = &mut found.connections[self.row];
                let asked = row.steps.iter().filter(|s| s.starts_with("GET ")).count();
                row.steps.extend(lines.iter().skip(asked).cloned());
                for e in events {
                    self.http(conn, &lines, e, found);
                }
            }
        }
    }

    fn begin(&mut self, conn: u64, delivery: Delivery, key: Key, found: &mut Scan) {
        let row = &mut found.connections[self.row];
        let slot = delivery_index(delivery);
        row.pushes.push(found.pushes.len());
        self.current[dir_index(delivery.dir())] = Some(found.pushes.len());
        found.pushes.push(Publish {
            conn,
            index: self.begun[slot],
            client: row.client,
            server: row.server,
            delivery,
            app: key.0,
            name: key.1,
            vdoid: key.2,
            first_media_ms: None,
            media_messages: 0,
            media_bytes: 0,
        });
        self.begun[slot] += 1;
    }

    fn media(&mut self, dir: Dir, at: Position, bytes: usize, found: &mut Scan) {
        if let Some(p) = self.current[dir_index(dir)].and_then(|i| found.pushes.get_mut(i)) {
            p.first_media_ms = p.first_media_ms.or(at.arrival_ms);
            p.media_messages += 1;
            p.media_bytes += bytes as u64;
        }
    }

    fn rtmp(&mut self, conn: u64, dir: Dir, e: RtmpEvent, found: &mut Scan) {
        let Sides::Rtmp { app, play, .. } = &mut self.sides else {
            return;
        };
        let app_now = app.clone();
        let play_now = play.clone();
        let steps = &mut found.connections[self.row].steps;
        match e {
            RtmpEvent::Connect { app: a, tc_url, .. } => {
                steps.push(format!(
                    "connect app {a:?} tcUrl {:?}",
                    tc_url.as_deref().unwrap_or("")
                ));
                *app = Some(a);
            }
            RtmpEvent::Publish { name, vdoid, .. } => {
                steps.push(format!("publish {name:?}"));
                let key = (app_now, name, vdoid);
                self.begin(conn, Delivery::Published, key, found);
            }
            RtmpEvent::Play { name, vdoid, .. } => {
                steps.push(format!("play {name:?}"));
                *play = Some((name, vdoid));
            }
            RtmpEvent::PlayStart { name, .. } => {
                steps.push(format!(
                    "onStatus NetStream.Play.Start {:?}",
                    name.as_deref().unwrap_or("")
                ));
                // The client's `play` names the stream; the server's details where it is absent.
                let (asked, vdoid) = play_now.unwrap_or_default();
                let name = if asked.is_empty() {
                    name.unwrap_or_default()
                } else {
                    asked
                };
                let key = (app_now, name, vdoid);
                self.begin(conn, Delivery::Played, key, found);
            }
            RtmpEvent::Media { at, body, .. } => self.media(dir, at, body.len(), found),
            RtmpEvent::Unpublish { .. } => {
                steps.push(match dir {
                    Dir::ClientToServer => "unpublish".to_string(),
                    Dir::ServerToClient => "onStatus NetStream.Play.Stop".to_string(),
                });
                self.current[dir_index(dir)] = None;
            }
            RtmpEvent::Damage(_) => {}
        }
    }

    fn http(&mut self, conn: u64, lines: &[String], e: HttpEvent, found: &mut Scan) {
        match e {
            HttpEvent::Response {
                status,
                content_type,
                ..
            } => {
                found.connections[self.row].steps.push(format!(
                    "HTTP {status} {}",
                    content_type.as_deref().unwrap_or("(no Content-Type)")
                ));
                let number = self.responses;
                let path = lines.get(number).and_then(|l| path_of(l)).unwrap_or("");
                self.response = Some((number, key_of_path(path)));
                self.responses += 1;
            }
            HttpEvent::Tag(tag, at) => {
                // A response is a push once its body gives a tag (not a crossdomain.xml).
                if let Some((number, key)) = self.response.take() {
                    self.begun[delivery_index(Delivery::HttpFlv)] = number;
                    self.begin(conn, Delivery::HttpFlv, key, found);
                }
                self.media(Dir::ServerToClient, at, tag.data.len(), found)
            }
            HttpEvent::BodyEnd { .. } => {
                self.response = None;
                self.current[dir_index(Dir::ServerToClient)] = None;
            }
            HttpEvent::Damage(_) => {}
        }
    }

    /// A client's `play` whose media the capture lacks (only the client's side was captured).
    fn close_plays(&self, found: &mut Scan) {
        let Sides::Rtmp {
            play: Some((name, _)),
            ..
        } = &self.sides
        else {
            return;
        };
        let row = &found.connections[self.row];
        let played = row
            .pushes
            .iter()
            .any(|&i| found.pushes[i].delivery == Delivery::Played);
        if !played && row.bytes[dir_index(Dir::ServerToClient)] == 0 {
            found.connections[self.row]
                .plays_without_media
                .push(name.clone());
        }
    }
}

/// App, name, vdoid.
type Key = (Option<String>, String, Option<String>);
