//! MP4 (ISO/IEC 14496-12) box layout, sample tables and sample reading over arbitrary bytes:
//! the box tree and `moov` from memory, then `read_index` and a whole `Mp4Session` over the
//! bytes as a file in /dev/shm, and the same bytes cut in two files read as an fMP4 HLS run
//! (`Mp4Session::open_segments`, init segment then media segment). No panic; every box and
//! damage report lies inside the file; per track the DTS never decreases; no sample is larger
//! than the file; the two files read as one give the events the one file gives.

#![no_main]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::OnceLock;

use kls_rec::input::SessionReader;
use kls_rec::input::mp4::{Mp4Session, movie, read_index};
use kls_rec::media::Event;
use kls_rec_fuzz::{DtsOrder, MAX_INPUT, check_damage};
use libfuzzer_sys::fuzz_target;

/// Events read per input at most: sample tables may describe billions of empty samples in a few
/// bytes, which is legal and not a finding, only slow.
const MAX_EVENTS: usize = 20_000;

/// This process's directory in /dev/shm (memory-backed: no disk traffic per execution).
fn scratch_dir() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from(format!("/dev/shm/kls-rec-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory in /dev/shm");
        dir
    })
}

fn scratch() -> PathBuf {
    scratch_dir().join("fuzz.mp4")
}

/// Every event of a session, at most [`MAX_EVENTS`], checked as it comes; `None` when opening
/// failed.
fn events(session: Result<Mp4Session, impl Sized>, data: &[u8]) -> Option<Vec<Event>> {
    let mut session = session.ok()?;
    let len = data.len() as u64;
    let _ = session.config();
    let mut dts_order = DtsOrder::default();
    let mut out = Vec::new();
    for _ in 0..MAX_EVENTS {
        let event = match session.next_event() {
            Err(_) | Ok(None) => break,
            Ok(Some(e)) => e,
        };
        match &event {
            Event::Damage(d) => check_damage(d, data.len()),
            Event::Config(_) => {}
            Event::NotRecorded(n) => assert!(n.offset <= len, "{n}"),
            Event::Packet(p) => {
                dts_order.check(p);
                assert!(p.data.len() <= data.len(), "sample larger than the file");
            }
        }
        assert!(session.position() <= len, "position beyond the file");
        out.push(event);
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let len = data.len() as u64;
    if let Ok(m) = movie::read_movie(&mut Cursor::new(data), len) {
        let _ = m.warnings.len();
    }
    let path = &scratch();
    std::fs::write(path, data).expect("write the scratch file");
    if let Ok(index) = read_index(path) {
        assert_eq!(index.file_len, len, "file length");
        for b in &index.layout {
            let _ = format!("{b:?}");
        }
        // What inspect prints of the movie and its tracks.
        let _ = index.creation_time_s();
        for t in &index.tracks {
            let _ = (t.samples(), t.sync_samples(), t.sample_bytes(), t.stts_duration());
        }
    }
    let whole = events(Mp4Session::open(path), data);
    // The same bytes as an init segment and a media segment, cut where the first byte says.
    let cut = data
        .first()
        .map_or(0, |&b| data.len() * usize::from(b) / 255);
    let (init, media) = (scratch_dir().join("init.mp4"), scratch_dir().join("0.m4s"));
    std::fs::write(&init, &data[..cut]).expect("write the scratch init segment");
    std::fs::write(&media, &data[cut..]).expect("write the scratch media segment");
    let parts = events(
        Mp4Session::open_segments("fuzz.m3u8".into(), vec![init, media]),
        data,
    );
    if let (Some(a), Some(b)) = (&whole, &parts) {
        let packets = |e: &[Event]| e.iter().filter(|e| matches!(e, Event::Packet(_))).count();
        assert_eq!(packets(a), packets(b), "the run reads as the one file");
    }
});
