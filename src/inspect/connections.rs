//! `inspect`'s listing of a capture's TCP connections (README "Played streams"): per
//! connection its addresses, what it carries, the bytes each way, its RTMP command sequence or
//! HTTP request and status lines, the pushes found in it with their direction and stream key,
//! and why nothing was recorded when nothing was.

use std::fmt::Write;

use crate::input::DEFAULT_APP;
use crate::input::pcap::flows::Carrier;
use crate::input::pcap::{Connection, Publish, Scan};

/// Steps printed per connection; the rest are counted.
const MAX_STEPS: usize = 12;

pub(crate) fn write(o: &mut String, scan: &Scan) {
    for c in &scan.connections {
        connection(o, c, scan);
    }
}

fn connection(o: &mut String, c: &Connection, scan: &Scan) {
    let carrier = match c.carrier {
        Some(Carrier::Rtmp) => "RTMP",
        Some(Carrier::Http) => "HTTP",
        None => "TCP, neither RTMP nor HTTP",
    };
    let _ = writeln!(
        o,
        "  connection #{} {} -> {} ({carrier}): {} bytes client to server, {} bytes server to \
         client",
        c.conn, c.client, c.server, c.bytes[0], c.bytes[1]
    );
    for s in c.steps.iter().take(MAX_STEPS) {
        let _ = writeln!(o, "              {s}");
    }
    if c.steps.len() > MAX_STEPS {
        let _ = writeln!(o, "              ... {} more", c.steps.len() - MAX_STEPS);
    }
    for p in c.pushes.iter().filter_map(|&i| scan.pushes.get(i)) {
        push(o, p);
    }
    if let Some(why) = why_nothing(c, scan) {
        let _ = writeln!(o, "              nothing recorded: {why}");
    }
}

fn push(o: &mut String, p: &Publish) {
    let (from, to) = if p.delivery.played() {
        (p.server, p.client)
    } else {
        (p.client, p.server)
    };
    let _ = writeln!(
        o,
        "              {} of {}/{} ({}{}), {from} -> {to}: {} media messages, {} bytes",
        p.delivery.word(),
        p.app.as_deref().unwrap_or(DEFAULT_APP),
        p.name,
        if p.delivery.played() {
            "played, server to client"
        } else {
            "published, client to server"
        },
        p.vdoid
            .as_deref()
            .map(|v| format!(", vdoid {v}"))
            .unwrap_or_default(),
        p.media_messages,
        p.media_bytes
    );
}

/// Why a connection gave no push with media.
fn why_nothing(c: &Connection, scan: &Scan) -> Option<String> {
    let with_media = c
        .pushes
        .iter()
        .filter_map(|&i| scan.pushes.get(i))
        .any(|p| p.first_media_ms.is_some());
    if with_media {
        return None;
    }
    Some(match c.carrier {
        None => format!(
            "it carries neither RTMP nor HTTP (client's first bytes {:?})",
            String::from_utf8_lossy(&c.first)
        ),
        Some(Carrier::Rtmp) if !c.plays_without_media.is_empty() => format!(
            "only the client's side of the play of {:?} is in the capture; its media went \
             server to client",
            c.plays_without_media.join(", ")
        ),
        Some(Carrier::Rtmp) if c.pushes.is_empty() => "no publish and no play".to_string(),
        Some(Carrier::Http) if c.pushes.is_empty() => "no response with an FLV body".to_string(),
        Some(Carrier::Rtmp | Carrier::Http) => "its pushes carried no media".to_string(),
    })
}
