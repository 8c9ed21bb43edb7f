//! HLS media playlists (RFC 8216) → discontinuity runs with wall-clock times, over arbitrary
//! bytes as a playlist file in /dev/shm (segment files are only looked up, never read), and the
//! line parser over the same text: no panic; runs are numbered in order, hold at least one
//! segment, and end no earlier than they start.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kls_rec::input::hls::{playlist, playlist_sessions};
use libfuzzer_sys::fuzz_target;

/// A file of this process in /dev/shm (memory-backed: no disk traffic per execution).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(format!("/dev/shm/kls-rec-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory in /dev/shm");
        dir.join("live-1764072000.m3u8")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(lines) = playlist::parse(text) {
            for l in &lines {
                let _ = playlist::parse_date_time_ms(&l.uri);
            }
        }
    }
    let path = scratch();
    std::fs::write(path, data).expect("write the scratch file");
    let Ok(runs) = playlist_sessions(path) else {
        return;
    };
    for (i, run) in runs.iter().enumerate() {
        assert_eq!(run.index, i, "run numbering");
        assert!(!run.segments.is_empty(), "run {i} without segments");
        assert!(run.duration_ms >= 0, "run {i} lasts {} ms", run.duration_ms);
        assert!(
            run.wall_end_ms >= run.wall_start_ms,
            "run {i} ends at {} before it starts at {}",
            run.wall_end_ms,
            run.wall_start_ms
        );
    }
});
