use super::*;
use crate::input::pcap::tcp::DEFAULT_WINDOW;

const CLIENT: &str = "10.0.0.1:50000";
const SERVER: &str = "10.0.0.2:19350";
/// An HTTP-FLV request, the client's first bytes.
const GET: &[u8] = b"GET /live/a.flv HTTP/1.1\r\n\r\n";

struct Seg {
    from_client: bool,
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    rst: bool,
    payload: Vec<u8>,
}

fn seg(from_client: bool, seq: u32, payload: &[u8]) -> Seg {
    Seg {
        from_client,
        seq,
        ack: Some(1),
        syn: false,
        fin: false,
        rst: false,
        payload: payload.to_vec(),
    }
}

fn syn(seq: u32) -> Seg {
    Seg {
        syn: true,
        ack: None,
        ..seg(true, seq, b"")
    }
}

fn feed(flows: &mut Flows, segs: &[Seg], client: &str) -> Vec<FlowEvent> {
    let (c, s): (SocketAddr, SocketAddr) = (client.parse().unwrap(), SERVER.parse().unwrap());
    let mut out = Vec::new();
    for (i, x) in segs.iter().enumerate() {
        let (src, dst) = if x.from_client { (c, s) } else { (s, c) };
        let segment = Segment {
            src,
            dst,
            seq: x.seq,
            ack: x.ack,
            syn: x.syn,
            fin: x.fin,
            rst: x.rst,
            payload: &x.payload,
        };
        let mark = Mark {
            frame: i as u64 + 1,
            ..Mark::default()
        };
        flows.segment(&segment, mark, &mut out);
    }
    out
}

fn fin(from_client: bool, seq: u32) -> Seg {
    Seg {
        fin: true,
        ..seg(from_client, seq, b"")
    }
}

fn rst(from_client: bool, seq: u32) -> Seg {
    Seg {
        rst: true,
        ..seg(from_client, seq, b"")
    }
}

/// The segments through a fresh reassembler with the default window, from `CLIENT`.
fn run(segs: &[Seg]) -> Vec<FlowEvent> {
    feed(&mut Flows::new(DEFAULT_WINDOW, None), segs, CLIENT)
}

/// Connection `conn`'s bytes in direction `dir`, in the order they were handed on.
fn bytes_of(events: &[FlowEvent], conn: u64, dir: Dir) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            FlowEvent::Data {
                conn: c,
                dir: d,
                bytes,
                ..
            } if *c == conn && *d == dir => Some(bytes.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn data_of(events: &[FlowEvent], conn: u64) -> Vec<u8> {
    bytes_of(events, conn, Dir::ClientToServer)
}

fn assert_ends(events: &[FlowEvent], conn: u64) {
    assert!(
        matches!(events.last(), Some(FlowEvent::End { conn: c, .. }) if *c == conn),
        "connection {conn} does not end the events: {events:?}"
    );
}

/// A push: SYN, SYN+ACK, C0+C1 split in two, a reply from the server, more client bytes, FIN.
fn push(isn: u32) -> Vec<Seg> {
    let s = isn.wrapping_add(1);
    vec![
        syn(isn),
        Seg {
            syn: true,
            ack: Some(s),
            ..seg(false, 7000, b"")
        },
        seg(true, s, b"\x03abc"),
        seg(true, s.wrapping_add(4), b"def"),
        seg(false, 7001, b"\x03server"),
        seg(true, s.wrapping_add(7), b"ghi"),
        fin(true, s.wrapping_add(10)),
        fin(false, 7008),
    ]
}

#[test]
fn rtmp_connection_client_stream_only() {
    let ev = run(&push(u32::MAX - 5));
    assert_eq!(
        ev.first(),
        Some(&FlowEvent::Start {
            conn: 0,
            client: CLIENT.parse().unwrap(),
            server: SERVER.parse().unwrap(),
            carrier: Carrier::Rtmp,
        })
    );
    assert_eq!(data_of(&ev, 0), b"\x03abcdefghi");
    assert_ends(&ev, 0);
}

#[test]
fn reconnect_on_the_same_ports_is_a_new_connection() {
    let mut segs = push(1000);
    segs.extend(push(900_000));
    let ev = run(&segs);
    let starts = ev
        .iter()
        .filter(|e| matches!(e, FlowEvent::Start { .. }))
        .count();
    assert_eq!(starts, 2);
    assert_eq!(data_of(&ev, 0), b"\x03abcdefghi");
    assert_eq!(data_of(&ev, 1), b"\x03abcdefghi");
    // A retransmitted SYN is not a new connection.
    let mut segs = vec![syn(5)];
    segs.extend(push(5));
    let ev = run(&segs);
    assert_eq!(data_of(&ev, 0), b"\x03abcdefghi");
    assert!(data_of(&ev, 1).is_empty());
}

#[test]
fn neither_rtmp_nor_http_is_reported_once_and_not_read() {
    let ev = run(&[
        syn(1),
        seg(false, 50, b"+OK hello\r\n"),
        seg(true, 2, b"PING\r\n"),
        seg(true, 8, b"\x03"),
    ]);
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(matches!(&ev[0], FlowEvent::Other { first, .. } if first == b"PING\r\n"));
}

#[test]
fn http_carries_both_directions_the_server_bytes_held_until_the_request() {
    let ev = run(&[
        syn(1),
        // The response's packet captured before the request's (reordered on the wire).
        seg(false, 100, b"HTTP/1.1 200 OK\r\n"),
        seg(true, 2, GET),
        fin(false, 117),
        fin(true, 29),
    ]);
    assert!(matches!(
        ev[0],
        FlowEvent::Start {
            carrier: Carrier::Http,
            ..
        }
    ));
    assert_eq!(
        bytes_of(&ev, 0, Dir::ServerToClient),
        b"HTTP/1.1 200 OK\r\n"
    );
    assert_ends(&ev, 0);
}

#[test]
fn rst_and_fin_end_the_connection_once_its_bytes_are_handed_on() {
    // (case, segments, the client's bytes, bytes lost in a hole)
    let cases = [
        (
            "an RST flushes the holes",
            vec![
                syn(1),
                seg(true, 2, b"\x03ab"),
                seg(true, 8, b"xyz"),
                rst(false, 1),
            ],
            &b"\x03abxyz"[..],
            Some(3),
        ),
        (
            "a FIN before the last data waits for it",
            vec![
                syn(1),
                seg(true, 2, b"\x03ab"),
                fin(true, 8),
                fin(false, 1),
                seg(true, 5, b"cde"),
            ],
            &b"\x03abcde"[..],
            None,
        ),
    ];
    for (case, segs, client_bytes, lost) in cases {
        let ev = run(&segs);
        let gap = ev.iter().find_map(|e| match e {
            FlowEvent::Gap { conn: 0, lost, .. } => Some(*lost),
            _ => None,
        });
        assert_eq!(gap, lost, "{case}: {ev:?}");
        assert_eq!(data_of(&ev, 0), client_bytes, "{case}");
        let ends = matches!(ev.last(), Some(FlowEvent::End { conn: 0, .. }));
        assert!(
            ends,
            "{case}: the connection does not end the events: {ev:?}"
        );
    }
}

#[test]
fn only_one_connection_is_reassembled_and_numbers_stay() {
    let mut all = Flows::new(DEFAULT_WINDOW, None);
    let mut one = Flows::new(DEFAULT_WINDOW, Some(1));
    let mut ev_all = feed(&mut all, &push(10), CLIENT);
    ev_all.extend(feed(&mut all, &push(20), "10.0.0.1:50001"));
    let mut ev_one = feed(&mut one, &push(10), CLIENT);
    ev_one.extend(feed(&mut one, &push(20), "10.0.0.1:50001"));
    assert!(
        ev_one
            .iter()
            .all(|e| !matches!(e, FlowEvent::Data { conn: 0, .. }))
    );
    assert_eq!(data_of(&ev_one, 1), data_of(&ev_all, 1));
}

#[test]
fn capture_starting_mid_connection() {
    // No SYN: a stray server ACK first, then client bytes that begin with the C0 byte.
    let mut f = Flows::new(DEFAULT_WINDOW, None);
    let mut ev = feed(
        &mut f,
        &[
            seg(false, 50, b""),
            seg(true, 1000, b"\x03x"),
            seg(true, 1002, b"y"),
        ],
        CLIENT,
    );
    f.finish(Mark::default(), &mut ev);
    assert_eq!(data_of(&ev, 0), b"\x03xy");
    assert_ends(&ev, 0);
}

#[test]
fn unrecognisable_connection_holds_little_memory() {
    // The first client bytes are missing: the connection cannot be recognised, and what follows
    // the hole is not kept beyond the detection window.
    let mut f = Flows::new(DEFAULT_WINDOW, None);
    let chunk = vec![0x03u8; 60_000];
    let mut segs = vec![syn(0)];
    for i in 0..10u32 {
        segs.push(seg(true, 1 + 1000 + 60_000 * i, &chunk));
    }
    let ev = feed(&mut f, &segs, CLIENT);
    assert!(
        matches!(&ev[..], [FlowEvent::Other { first, .. }] if first.is_empty()),
        "{ev:?}"
    );
    let c = f.conns.values().next().unwrap();
    assert_eq!(c.kind, Kind::NotCarried);
    assert!(!c.stream.has_pending());
}

#[test]
fn the_syn_ack_starts_the_server_stream_whichever_data_segment_comes_first() {
    let ev = run(&[
        syn(1),
        Seg {
            syn: true,
            ..seg(false, 99, b"")
        },
        seg(true, 2, GET),
        // The response's second segment captured before its first.
        seg(false, 115, b"\r\n\r\nFLV"),
        seg(false, 100, b"HTTP/1.1 200 OK"),
    ]);
    assert_eq!(
        bytes_of(&ev, 0, Dir::ServerToClient),
        b"HTTP/1.1 200 OK\r\n\r\nFLV"
    );
}
