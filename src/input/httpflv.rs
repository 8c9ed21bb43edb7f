//! HTTP-FLV: FLV served over HTTP/1.1 (RFC 9112), the usual low-latency delivery of Chinese
//! CDNs, as a player receives it — from the server's side of a captured TCP connection
//! (`input::pcap`) or a response saved with its headers (`curl -i`, [`mod@file`]).
//!
//! - [`response`]: the server's byte stream → responses (status line, `Content-Type`,
//!   `Transfer-Encoding: chunked` §7.1, `Content-Length` §6.3, or the body running to the close),
//!   one after another on a keep-alive connection, each body handed on;
//! - [`tags`]: an FLV body → tags (Annex E.2, E.4.1), fed in pieces as they arrive;
//! - [`request`]: the client's request lines, and the stream key a path names.
//!
//! A response carries FLV when its `Content-Type` is `video/x-flv` or its body begins with the
//! `FLV` signature; other responses (a `crossdomain.xml` first on the same connection) are read
//! past.

pub mod file;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod tags;

pub use request::{RequestLines, key_of_path};
pub use response::{HttpEvent, ResponseParser};
