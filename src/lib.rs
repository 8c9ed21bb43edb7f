//! kls-rec: replays captured live pushes through a cloud live service's recording rules and
//! writes the recording files the service would have written.
//!
//! Data flows through the modules in this order: [`input`] (captures → push sessions) →
//! [`rules`] (pure decisions) → [`mux`] (FLV, MP4, MPEG-TS/HLS writers) → [`sink`] (local files)
//! and [`callback`], with [`deliver`] (S3 uploads, HTTP callbacks) and [`record`] running the
//! whole pipeline; [`inspect`] and [`timeline`] read and draw what it saw.
//!
//! # This library is not a stable API
//!
//! kls-rec is a command-line tool. The library is its implementation; it makes no compatibility
//! promise between versions. Items are `pub(crate)` by default: `pub` marks only what the
//! binary (`src/main.rs`), the integration tests (`tests/`) and the fuzz targets (`fuzz/`)
//! reach — the readers and parsers they drive, the writers' entry points and `FORMAT_VERSION`s,
//! the media model they exchange — and the types those items' signatures and fields name (a
//! `pub` that nothing outside uses hides dead code from the compiler). Two modules are public
//! only for the crate's own use and are hidden from the documentation:
//! - `cli`: the command line, for the `kls-rec` binary (`cli::main`) and the test that
//!   regenerates the man pages and completions from its definition (`cli::command`);
//! - `testutil`: helpers of the tests (fixtures, ffprobe cross-checks, scratch directories),
//!   built for the tests only (the `testutil` feature, which `cargo test` turns on).
//!
//! The module docs are the maintainers' map of the pipeline and link to crate-private items, so
//! they are built with `cargo doc --document-private-items`, which CI runs with warnings denied.

#![allow(rustdoc::private_intra_doc_links)]

pub mod amf0;
pub mod callback;
#[doc(hidden)]
pub mod cli;
pub mod codec;
pub mod container;
pub mod deliver;
pub mod format;
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
#[cfg(any(test, feature = "testutil"))]
#[doc(hidden)]
pub mod testutil;
pub mod timeline;
pub mod wallclock;
