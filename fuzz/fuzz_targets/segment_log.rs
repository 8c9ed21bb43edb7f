//! Segment logs (JSON Lines or CSV, one recorded segment or push per line) over arbitrary bytes
//! as a log file in /dev/shm: no panic; lines come in file order, numbered from 1, and a line
//! with an end does not end before it starts.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use kls_rec::input::log::read_lines;
use libfuzzer_sys::fuzz_target;

/// A file of this process in /dev/shm (memory-backed: no disk traffic per execution).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(format!("/dev/shm/kls-rec-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory in /dev/shm");
        dir.join("pushes.jsonl")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = scratch();
    std::fs::write(path, data).expect("write the scratch file");
    let Ok(lines) = read_lines(path) else {
        return;
    };
    let mut last = 0;
    for l in &lines {
        assert!(l.line_no > last, "line {} after line {last}", l.line_no);
        last = l.line_no;
        if let Some(end_ms) = l.end_ms {
            assert!(
                end_ms >= l.start_ms,
                "line {} ends before it starts",
                l.line_no
            );
        }
        let _ = format!("{l:?}");
    }
});
