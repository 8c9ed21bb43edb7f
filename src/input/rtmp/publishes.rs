//! Per-publish facts from a connection's events (a played stream, README "Played streams", is
//! one more push, marked [`PublishSummary::played`]): the first pass over an RTMP input (which
//! publishes there are, their keys, first timestamps and byte ranges), kept cheap (nothing of the
//! media is retained), and the summary `inspect` prints.

use std::fmt;

use super::{Position, RtmpEvent};
use crate::input::flv::TagKind;
use crate::media::Damage;

/// Damage reports kept in a summary (the rest are only counted).
pub(crate) const MAX_DAMAGE_KEPT: usize = 32;

/// One publish of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublishSummary {
    /// Index among the connection's publishes.
    pub(crate) index: usize,
    /// A played stream (the server's media to a player), not a publish.
    pub(crate) played: bool,
    /// `app` of the connection's `connect` ("" when there was none).
    pub(crate) app: String,
    pub(crate) tc_url: Option<String>,
    /// Publish name without its query.
    pub(crate) name: String,
    pub(crate) query: Option<String>,
    pub(crate) vdoid: Option<String>,
    /// The publish command.
    pub(crate) at: Position,
    /// Input offset where the publish ended (its unpublish, the next publish, or the end).
    pub(crate) end_offset: u64,
    /// The publish ended with FCUnpublish / deleteStream / closeStream.
    pub(crate) unpublished: bool,
    /// Raw message timestamps of the first and last media messages.
    pub(crate) first_timestamp_ms: Option<u32>,
    pub(crate) last_timestamp_ms: Option<u32>,
    /// The first media message's timestamp unwrapped over the whole connection (serial-number
    /// arithmetic), so publishes of one connection can be placed relative to each other.
    pub(crate) first_unwrapped_ms: Option<i64>,
    /// Largest unwrapped media timestamp.
    pub(crate) last_unwrapped_ms: Option<i64>,
    /// Capture time of the first media message (None for a raw dump).
    pub(crate) first_media_arrival_ms: Option<i64>,
    pub(crate) audio_messages: u64,
    pub(crate) video_messages: u64,
    pub(crate) data_messages: u64,
    /// Media and data body bytes.
    pub(crate) media_bytes: u64,
    pub(crate) damage_count: u64,
}

impl PublishSummary {
    /// Media duration by message timestamps (0 without media).
    pub(crate) fn duration_ms(&self) -> i64 {
        match (self.first_unwrapped_ms, self.last_unwrapped_ms) {
            (Some(f), Some(l)) => (l - f).max(0),
            _ => 0,
        }
    }

    pub(crate) fn has_media(&self) -> bool {
        self.audio_messages + self.video_messages > 0
    }
}

impl fmt::Display for PublishSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} #{} app={:?} tcUrl={:?} name={:?} vdoid={:?} bytes {}..{}",
            if self.played { "played" } else { "publish" },
            self.index,
            self.app,
            self.tc_url.as_deref().unwrap_or(""),
            self.name,
            self.vdoid.as_deref().unwrap_or(""),
            self.at.input_offset,
            self.end_offset,
        )?;
        match (self.first_timestamp_ms, self.last_timestamp_ms) {
            (Some(a), Some(b)) => write!(f, " timestamps {a}..{b} ms")?,
            _ => write!(f, " no media")?,
        }
        write!(
            f,
            " ({} ms): {} video, {} audio, {} metadata messages, {} media bytes",
            self.duration_ms(),
            self.video_messages,
            self.audio_messages,
            self.data_messages,
            self.media_bytes
        )?;
        if !self.unpublished {
            write!(f, ", no unpublish")?;
        }
        if self.damage_count > 0 {
            write!(f, ", {} damage reports", self.damage_count)?;
        }
        Ok(())
    }
}

/// What one connection (a dump) holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DumpSummary {
    pub(crate) input: String,
    pub(crate) bytes: u64,
    pub(crate) publishes: Vec<PublishSummary>,
    /// Names of the `play` commands a client sent (a client-side dump of a player).
    pub(crate) plays_requested: Vec<String>,
    /// Media messages outside any publish (before the first, after an unpublish).
    pub(crate) media_outside: u64,
    pub(crate) damage_count: u64,
    /// The first [`MAX_DAMAGE_KEPT`] damage reports.
    pub(crate) damage: Vec<Damage>,
}

impl fmt::Display for DumpSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: RTMP dump, {} bytes, {} publishes",
            self.input,
            self.bytes,
            self.publishes.len()
        )?;
        for p in &self.publishes {
            writeln!(f, "  {p}")?;
        }
        for name in &self.plays_requested {
            writeln!(f, "  play {name:?} requested by the client")?;
        }
        if self.media_outside > 0 {
            writeln!(
                f,
                "  {} media messages outside any publish",
                self.media_outside
            )?;
        }
        for d in &self.damage {
            writeln!(f, "  damage: {d}")?;
        }
        if self.damage_count > self.damage.len() as u64 {
            writeln!(
                f,
                "  ... {} more damage reports",
                self.damage_count - self.damage.len() as u64
            )?;
        }
        Ok(())
    }
}

/// Turns a connection's events into [`PublishSummary`]s, one event at a time.
#[derive(Debug, Default)]
pub(crate) struct PublishTracker {
    app: String,
    tc_url: Option<String>,
    publishes: Vec<PublishSummary>,
    /// The client's last `play`: name, query, vdoid (named the played stream that follows).
    play: Option<(String, Option<String>, Option<String>)>,
    plays_requested: Vec<String>,
    open: bool,
    /// Last raw media timestamp and its unwrapped value, over the whole connection.
    unwrap: Option<(u32, i64)>,
    media_outside: u64,
    damage_count: u64,
    damage: Vec<Damage>,
}

impl PublishTracker {
    pub(crate) fn new() -> PublishTracker {
        PublishTracker::default()
    }

    pub(crate) fn push(&mut self, e: &RtmpEvent) {
        match e {
            RtmpEvent::Connect { app, tc_url, .. } => {
                self.app.clone_from(app);
                self.tc_url.clone_from(tc_url);
            }
            RtmpEvent::Publish {
                name,
                query,
                vdoid,
                at,
            } => self.begin(false, name.clone(), query.clone(), vdoid.clone(), *at),
            RtmpEvent::Play {
                name, query, vdoid, ..
            } => {
                self.plays_requested.push(name.clone());
                self.play = Some((name.clone(), query.clone(), vdoid.clone()));
            }
            RtmpEvent::PlayStart { name, at } => {
                let (asked, query, vdoid) = self.play.clone().unwrap_or_default();
                let name = name.clone().unwrap_or(asked);
                self.begin(true, name, query, vdoid, *at);
            }
            RtmpEvent::Unpublish { at } => self.close(at.input_offset, true),
            RtmpEvent::Media {
                kind,
                timestamp_ms,
                body,
                at,
            } => self.media(*kind, *timestamp_ms, body.len(), *at),
            RtmpEvent::Damage(d) => {
                self.damage_count += 1;
                if self.damage.len() < MAX_DAMAGE_KEPT {
                    self.damage.push(d.clone());
                }
                if let Some(p) = self.publishes.last_mut().filter(|_| self.open) {
                    p.damage_count += 1;
                }
            }
        }
    }

    /// A publish or played stream begins.
    fn begin(
        &mut self,
        played: bool,
        name: String,
        query: Option<String>,
        vdoid: Option<String>,
        at: Position,
    ) {
        self.close(at.input_offset, false);
        self.publishes.push(PublishSummary {
            index: self.publishes.len(),
            played,
            app: self.app.clone(),
            tc_url: self.tc_url.clone(),
            name,
            query,
            vdoid,
            at,
            end_offset: at.input_offset,
            unpublished: false,
            first_timestamp_ms: None,
            last_timestamp_ms: None,
            first_unwrapped_ms: None,
            last_unwrapped_ms: None,
            first_media_arrival_ms: None,
            audio_messages: 0,
            video_messages: 0,
            data_messages: 0,
            media_bytes: 0,
            damage_count: 0,
        });
        self.open = true;
    }

    /// The summary, once the connection has ended at input offset `end_offset`.
    pub(crate) fn finish(mut self, input: &str, end_offset: u64) -> DumpSummary {
        self.close(end_offset, false);
        DumpSummary {
            input: input.to_string(),
            bytes: end_offset,
            publishes: self.publishes,
            plays_requested: self.plays_requested,
            media_outside: self.media_outside,
            damage_count: self.damage_count,
            damage: self.damage,
        }
    }

    fn close(&mut self, end_offset: u64, unpublished: bool) {
        if let Some(p) = self.publishes.last_mut().filter(|_| self.open) {
            p.end_offset = end_offset;
            p.unpublished = unpublished;
        }
        self.open = false;
    }

    fn media(&mut self, kind: TagKind, timestamp_ms: u32, len: usize, at: Position) {
        let Some(p) = self.publishes.last_mut().filter(|_| self.open) else {
            self.media_outside += 1;
            return;
        };
        match kind {
            TagKind::Audio => p.audio_messages += 1,
            TagKind::Video => p.video_messages += 1,
            TagKind::Script => p.data_messages += 1,
        }
        p.media_bytes += len as u64;
        if kind == TagKind::Script {
            // Metadata timestamps are often 0 whatever the media clock: not a media time.
            return;
        }
        // Serial-number arithmetic (RFC 1982), as the session timeline does.
        let unwrapped = match self.unwrap {
            Some((raw, prev)) => prev + i64::from(timestamp_ms.wrapping_sub(raw) as i32),
            None => i64::from(timestamp_ms),
        };
        self.unwrap = Some((timestamp_ms, unwrapped));
        if p.first_timestamp_ms.is_none() {
            p.first_timestamp_ms = Some(timestamp_ms);
            p.first_unwrapped_ms = Some(unwrapped);
            p.first_media_arrival_ms = at.arrival_ms;
        }
        p.last_timestamp_ms = Some(timestamp_ms);
        p.last_unwrapped_ms = Some(p.last_unwrapped_ms.map_or(unwrapped, |l| l.max(unwrapped)));
    }
}
