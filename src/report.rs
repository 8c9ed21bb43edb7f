//! What a `record` run (or dry run) decided, as data: per stream, its push sessions, the files
//! each format got with the reasons they opened and closed, and the damage found. Printed by
//! `--json`, drawn by `--timeline`, asserted by tests.

use serde::Serialize;

use crate::rules::{Reason, Settings};

/// One stream key's story.
#[derive(Clone, Debug, Serialize)]
pub struct StreamReport {
    pub app: String,
    pub stream: String,
    pub settings: SettingsReport,
    pub sessions: Vec<SessionSpan>,
    pub files: Vec<FileSpan>,
    pub damage: Vec<DamageMark>,
    /// Streams the inputs carry that are not recorded (data PIDs, codecs not read): not damage.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_recorded: Vec<NotRecordedMark>,
}

/// The rules' settings, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct SettingsReport {
    pub slice_ms: i64,
    pub period_ms: Option<i64>,
    pub splice_window_ms: i64,
}

impl From<&Settings> for SettingsReport {
    fn from(s: &Settings) -> Self {
        SettingsReport {
            slice_ms: s.slice_ms,
            period_ms: s.period_ms,
            splice_window_ms: s.splice_window_ms,
        }
    }
}

/// A push session as it was read.
#[derive(Clone, Debug, Serialize)]
pub struct SessionSpan {
    /// The input's display name.
    pub input: String,
    /// The push's number in its stream, as `--explain` numbers it (`push #1`).
    pub push: usize,
    /// Index of the session within its input.
    pub index: usize,
    pub vdoid: Option<String>,
    pub wall_start_ms: i64,
    /// End of its last packet; equal to the start for a session without packets.
    pub wall_end_ms: i64,
    pub packets: u64,
    /// What a viewer received (an RTMP play, an HTTP-FLV download), not what was published;
    /// written only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub played: bool,
}

/// A recording file (the same span in every requested format).
#[derive(Clone, Debug, Serialize)]
pub struct FileSpan {
    /// The file's key for each requested format.
    pub keys: Vec<String>,
    pub wall_start_ms: i64,
    pub wall_end_ms: i64,
    /// Media duration written into the file; `length_ms` in JSON, as in the summary's files.
    #[serde(rename = "length_ms")]
    pub len_ms: i64,
    pub opened: Reason,
    pub closed: Reason,
    /// Sessions (indexes into `sessions`) that wrote into the file, in order.
    pub sessions: Vec<usize>,
}

/// Damage found while reading, placed on the wall clock of the packet near it.
#[derive(Clone, Debug, Serialize)]
pub struct DamageMark {
    pub wall_ms: i64,
    pub input: String,
    pub what: String,
}

/// A stream not recorded, once per input.
#[derive(Clone, Debug, Serialize)]
pub struct NotRecordedMark {
    pub(crate) input: String,
    /// Byte offset where it was first seen.
    pub(crate) offset: u64,
    pub(crate) what: String,
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
