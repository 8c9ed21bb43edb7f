//! kls-rec: replays captured live pushes through a cloud live service's recording rules and
//! writes the recording files the service would have written.
//!
//! Data flows through the modules in this order: [`input`] (captures → push sessions) →
//! [`rules`] (pure decisions) → [`mux`] (FLV, MP4, MPEG-TS/HLS writers) → [`sink`] (local files)
//! and [`callback`].

pub mod amf0;
pub mod callback;
pub mod cli;
pub mod codec;
pub mod deliver;
pub mod input;
pub mod inspect;
#[doc(hidden)]
pub mod killpoint;
pub mod media;
pub mod mediainfo;
pub mod mux;
pub mod record;
pub mod report;
pub mod rules;
pub mod sink;
#[doc(hidden)]
pub mod testutil;
pub mod timeline;
pub mod wallclock;
