//! The client's side of an HTTP connection: its request lines (RFC 9112 §3), one per request
//! on a keep-alive connection, and the stream key an HTTP-FLV path names.

/// A request head longer than this is not followed further.
const MAX_HEAD: usize = 64 * 1024;
/// The extension an HTTP-FLV path's last segment carries.
const FLV_EXTENSION: &str = ".flv";

/// Request lines of one connection, in order.
#[derive(Debug, Default)]
pub struct RequestLines {
    buf: Vec<u8>,
    lines: Vec<String>,
    given_up: bool,
}

impl RequestLines {
    pub fn new() -> RequestLines {
        RequestLines::default()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        if self.given_up {
            return;
        }
        let from = self.buf.len().saturating_sub(3);
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut scan = from;
        while let Some(i) = self.buf[scan..].windows(4).position(|w| w == b"\r\n\r\n") {
            let end = scan + i;
            let head = String::from_utf8_lossy(&self.buf[start..end]);
            if let Some(line) = head.lines().next() {
                self.lines.push(line.to_string());
            }
            start = end + 4;
            scan = start;
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_HEAD {
            self.given_up = true;
            self.buf.clear();
        }
    }

    /// Request lines seen so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

/// The path of a request line `GET /live/hot.flv?token=… HTTP/1.1`.
pub(crate) fn path_of(line: &str) -> Option<&str> {
    let mut parts = line.split(' ');
    let _method = parts.next()?;
    parts.next()
}

/// The stream key an HTTP-FLV path names: `/app/stream.flv?query` gives `app` (the segment
/// before the last; `None` for a path of one segment), `stream` (the last segment without
/// `.flv`), and the vdoid of a `vdoid=` query parameter, as an RTMP play name gives them.
pub fn key_of_path(path: &str) -> (Option<String>, String, Option<String>) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut segments = path.split('/').filter(|s| !s.is_empty()).rev();
    let last = segments.next().unwrap_or("");
    let stream = last.strip_suffix(FLV_EXTENSION).unwrap_or(last).to_string();
    let app = segments.next().map(str::to_string);
    let vdoid = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("vdoid="))
        .map(str::to_string);
    (app, stream, vdoid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_across_pieces_and_keep_alive() {
        let mut r = RequestLines::new();
        r.feed(b"GET /crossdomain.xml HTTP/1.1\r\nHost: x\r\n\r");
        r.feed(b"\nGET /live/hot.flv?token=abc HTTP/1.1\r\n\r\n");
        assert_eq!(
            r.lines(),
            [
                "GET /crossdomain.xml HTTP/1.1",
                "GET /live/hot.flv?token=abc HTTP/1.1"
            ]
        );
    }

    #[test]
    fn keys_of_paths() {
        assert_eq!(
            key_of_path("/live/hot.flv?token=abc&vdoid=7"),
            (Some("live".into()), "hot".into(), Some("7".into()))
        );
        assert_eq!(key_of_path("/hot.flv"), (None, "hot".into(), None));
        assert_eq!(path_of("GET /a/b.flv HTTP/1.1"), Some("/a/b.flv"));
    }
}
