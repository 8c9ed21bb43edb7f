//! Hostile and broken input through the whole binary (README "Bad input, crashes, full disks"):
//! empty files, random bytes, every fixture cut short, impossible sizes, deep AMF0 nesting, lying
//! counts and timestamps that go back, jump ahead, roll over or use the extended byte; plus the
//! inputs that once made a parser fail, kept in `testdata/regress/`.
//!
//! Each run must exit 0, 1 or 3 as `src/cli/mod.rs` documents, or 5 where it reports lost media
//! (the Flash-era fixtures, which MP4 and HLS cannot carry), never a panic's 101 or a signal;
//! name the file and the byte offset of damage, leave no temporary file behind and
//! nothing under a final name when the input holds no valid media, and stay within memory:
//! the child runs under an address-space limit, and every test checks the children's peak RSS.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use kls_rec::input::flv::{TagEvent, TagReader};
use kls_rec::testutil::{assert_no_temporaries, recording_files, scratch, testdata};

/// Address space the child may map: room for its threads' stacks and allocator arenas, far less
/// than an allocation sized by a hostile 32-bit length field would ask.
const AS_LIMIT_KB: u64 = 1 << 20;
/// Peak resident memory any child may reach on these small inputs.
const MAX_RSS_KB: i64 = 256 * 1024;
const FORMATS: &str = "hls,mp4,flv";

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `kls-rec record --quiet -o OUT --formats hls,mp4,flv EXTRA… INPUTS…` under the memory limit.
fn record(out: &Path, extra: &[&str], inputs: &[&Path], stdin: Option<&[u8]>) -> Run {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {AS_LIMIT_KB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kls-rec"))
        .args(["record", "--quiet", "--formats", FORMATS, "-o"])
        .arg(out)
        .args(extra)
        .args(inputs);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            c.env_remove(k);
        }
    }
    c.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("running kls-rec");
    if let Some(bytes) = stdin {
        // The binary may stop reading early (a broken pipe is then expected).
        let _ = child.stdin.take().unwrap().write_all(bytes);
    }
    let output = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.signal().is_none(),
        "{inputs:?}: killed by signal {:?}: {stderr}",
        output.status.signal()
    );
    let run = Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    };
    let lost_media = run.code == Some(5) && run.stderr.contains(": lost media: ");
    assert!(
        matches!(run.code, Some(0 | 1 | 3)) || lost_media,
        "{inputs:?}: exit status {:?} is not 0, 1 or 3 (nor 5 with lost media): {}",
        run.code,
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "{inputs:?}: {}",
        run.stderr
    );
    assert_no_temporaries(out);
    run
}

/// Recording files under `out` that are not HLS segments: one per format and recording.
fn main_files(out: &Path) -> usize {
    recording_files(out)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e != "ts"))
        .count()
}

/// Every FLV recording under `out` reads back without a single damage report, and per track
/// its timestamps never decrease.
fn assert_flv_outputs_whole(out: &Path) {
    for p in recording_files(out) {
        if p.extension().is_none_or(|e| e != "flv") {
            continue;
        }
        let f = std::fs::File::open(&p).unwrap();
        let (mut tags, damage) = TagReader::new(std::io::BufReader::new(f), "out").unwrap();
        assert!(damage.is_empty(), "{}: {damage:?}", p.display());
        let mut last = [0u32; 2];
        while let Some(e) = tags.next_event().unwrap() {
            match e {
                TagEvent::Damage(d) => panic!("{}: {d}", p.display()),
                TagEvent::Tag(t) => {
                    let i = usize::from(t.kind == kls_rec::input::flv::TagKind::Audio);
                    assert!(t.timestamp_ms >= last[i], "{}: time goes back", p.display());
                    last[i] = t.timestamp_ms;
                }
            }
        }
    }
}

/// Peak RSS of the children waited for so far, in KiB (Linux reports `ru_maxrss` in KiB).
fn assert_children_memory_bounded() {
    // SAFETY: getrusage writes only into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0);
    assert!(
        ru.ru_maxrss < MAX_RSS_KB,
        "a child reached {} KiB resident",
        ru.ru_maxrss
    );
}

/// Every FLV fixture.
fn fixtures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![testdata("")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.ends_with("regress") {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "flv") {
                found.push(p);
            }
        }
    }
    found.sort();
    assert!(found.len() >= 7, "fixtures: {found:?}");
    found
}

/// The tags of a well-formed FLV: (offset of the tag header, DataSize).
fn tags_of(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 13;
    while pos + 11 <= b.len() {
        let size = u32::from_be_bytes([0, b[pos + 1], b[pos + 2], b[pos + 3]]) as usize;
        out.push((pos, size));
        pos += 11 + size + 4;
    }
    out
}

/// Sets a tag's timestamp: the low 24 bits, then TimestampExtended as the high byte (E.4.1).
fn set_timestamp(b: &mut [u8], tag: usize, ms: u32) {
    let be = ms.to_be_bytes();
    b[tag + 4..tag + 7].copy_from_slice(&be[1..]);
    b[tag + 7] = be[0];
}

fn timestamp(b: &[u8], tag: usize) -> u32 {
    u32::from_be_bytes([b[tag + 7], b[tag + 4], b[tag + 5], b[tag + 6]])
}

/// One FLV tag with its trailing PreviousTagSize.
fn flv_tag(kind: u8, ms: u32, body: &[u8]) -> Vec<u8> {
    let mut t = vec![kind];
    t.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    let mut head = [0u8; 7];
    head[..3].copy_from_slice(&ms.to_be_bytes()[1..]);
    head[3] = ms.to_be_bytes()[0];
    t.extend_from_slice(&head);
    t.extend_from_slice(body);
    t.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    t
}

/// The studio fixture with its script tag replaced by `script` (an AMF0 body).
fn studio_with_script(script: &[u8]) -> Vec<u8> {
    let b = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let mut out = b[..13].to_vec();
    out.extend(flv_tag(18, 0, script));
    for (pos, size) in tags_of(&b) {
        if b[pos] != 18 {
            out.extend_from_slice(&b[pos..pos + 11 + size + 4]);
        }
    }
    out
}

fn amf_string(s: &str) -> Vec<u8> {
    let mut v = vec![0x02];
    v.extend_from_slice(&(s.len() as u16).to_be_bytes());
    v.extend_from_slice(s.as_bytes());
    v
}

/// Writes `bytes` as `dir/{stem}-1764072000.flv` (the Unix time gives the wall clock).
fn input(dir: &Path, stem: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(format!("{stem}-1764072000.flv"));
    std::fs::write(&p, bytes).unwrap();
    p
}

/// xorshift64*: seeded, so a failure reproduces.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn an_empty_file_is_a_failure_naming_it() {
    let dir = scratch("bad-empty");
    let p = input(&dir, "empty", b"");
    let out = dir.join("out");
    let r = record(&out, &[], &[&p], None);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{} at byte 0", p.display())),
        "{}",
        r.stderr
    );
    assert!(recording_files(&out).is_empty());
    // The same through stdin.
    let r = record(
        &out,
        &["--start-time", "1764072000"],
        &[Path::new("-")],
        Some(b""),
    );
    assert!(matches!(r.code, Some(1 | 3)), "{}", r.stderr);
    assert!(recording_files(&out).is_empty());
    assert_children_memory_bounded();
}

#[test]
fn random_bytes_record_nothing() {
    let dir = scratch("bad-random");
    let out = dir.join("out");
    let header = &std::fs::read(testdata("studio-1764072000.flv")).unwrap()[..13];
    for seed in 1..=16u64 {
        let len = [1, 9, 13, 24, 200, 4096, 65_536, 300_000][seed as usize % 8];
        let mut bytes = random_bytes(seed, len);
        // Half behind a valid FLV header, so the tag reader (not only the probe) sees them.
        if seed % 2 == 0 {
            bytes.splice(0..0, header.iter().copied());
        }
        let p = input(&dir, &format!("random{seed}"), &bytes);
        let r = record(&out, &[], &[&p], None);
        if r.code != Some(0) {
            assert!(
                r.stderr.contains(&p.display().to_string()) && r.stderr.contains("at byte "),
                "seed {seed}: {}",
                r.stderr
            );
        }
        assert!(recording_files(&out).is_empty(), "seed {seed}");
        assert!(
            r.stdout.is_empty(),
            "no callbacks without files: {}",
            r.stdout
        );
    }
    // Through stdin as well.
    let mut bytes = header.to_vec();
    bytes.extend(random_bytes(99, 100_000));
    let r = record(
        &out,
        &["--start-time", "1764072000"],
        &[Path::new("-")],
        Some(&bytes),
    );
    assert!(r.code != Some(0), "{}", r.stderr);
    assert!(recording_files(&out).is_empty());
    assert_children_memory_bounded();
}

/// Cuts `fixture` at `cut` and records it: checks the report and the outputs.
fn record_cut(dir: &Path, fixture: &Path, bytes: &[u8], cut: usize, boundaries: &[usize]) {
    let stem = fixture.file_stem().unwrap().to_string_lossy();
    let stem = stem.split('-').next().unwrap();
    let p = input(dir, &format!("{stem}_cut{cut}"), &bytes[..cut]);
    let out = dir.join(format!("out{cut}"));
    let r = record(&out, &[], &[&p], None);
    let at_boundary = boundaries.contains(&cut);
    if !at_boundary {
        assert_ne!(r.code, Some(0), "{}: a cut must be reported", p.display());
        assert!(
            r.stderr.contains(&p.display().to_string()) && r.stderr.contains("at byte "),
            "{}: {}",
            p.display(),
            r.stderr
        );
    }
    // Every callback printed is for a file that exists, complete.
    for line in r.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = v["itmes"][0]["keys"][0].as_str().unwrap();
        assert!(out.join(key).is_file(), "{key}");
    }
    assert_flv_outputs_whole(&out);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&p);
}

/// Offsets where a cut leaves only whole tags: the end of the header (with or without
/// PreviousTagSize0, which carries nothing) and after each PreviousTagSize.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut b = vec![9, 13];
    b.extend(tags_of(bytes).iter().map(|(pos, size)| pos + 11 + size + 4));
    b
}

#[test]
fn every_fixture_cut_at_fifty_places() {
    let dir = scratch("bad-cuts");
    for fixture in fixtures() {
        let bytes = std::fs::read(&fixture).unwrap();
        let bounds = boundaries(&bytes);
        for i in 1..=50 {
            record_cut(&dir, &fixture, &bytes, bytes.len() * i / 51, &bounds);
        }
    }
    assert_children_memory_bounded();
}

#[test]
fn the_first_600_bytes_cut_at_every_offset() {
    let dir = scratch("bad-cuts600");
    let fixture = testdata("studio-1764072000.flv");
    let bytes = std::fs::read(&fixture).unwrap();
    let bounds = boundaries(&bytes);
    let first_media_end = tags_of(&bytes)
        .iter()
        .find(|(pos, size)| matches!(bytes[*pos], 8 | 9) && bytes[pos + 12] == 1 && *size > 5)
        .map(|(pos, size)| pos + 11 + size)
        .unwrap();
    assert!(
        first_media_end > 600,
        "no media frame ends in the first 600 bytes"
    );
    // Thirty inputs per run: each is its own stream, and each must be reported by name.
    let cuts: Vec<usize> = (0..600).collect();
    for batch in cuts.chunks(30) {
        let paths: Vec<PathBuf> = batch
            .iter()
            .map(|&cut| input(&dir, &format!("studio_cut{cut}"), &bytes[..cut]))
            .collect();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let out = dir.join("out");
        let r = record(&out, &[], &refs, None);
        assert!(
            recording_files(&out).is_empty(),
            "no media, no recording: {:?}",
            recording_files(&out)
        );
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        for (&cut, p) in batch.iter().zip(&paths) {
            if !bounds.contains(&cut) {
                let named = format!("{}", p.display());
                assert!(
                    r.stderr
                        .lines()
                        .any(|l| l.contains(&named) && l.contains("at byte ")),
                    "cut {cut} is not reported: {}",
                    r.stderr
                );
            }
        }
        for p in &paths {
            let _ = std::fs::remove_file(p);
        }
    }
    assert_children_memory_bounded();
}

#[test]
fn a_data_size_beyond_the_file_is_skipped_and_named() {
    let dir = scratch("bad-datasize");
    let bytes = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let tags = tags_of(&bytes);
    for (name, victim) in [
        ("middle", tags[tags.len() / 2].0),
        ("last", tags.last().unwrap().0),
    ] {
        let mut b = bytes.clone();
        b[victim + 1..victim + 4].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        let p = input(&dir, name, &b);
        let out = dir.join(format!("out-{name}"));
        let r = record(&out, &[], &[&p], None);
        assert_eq!(r.code, Some(3), "{}", r.stderr);
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(&p.display().to_string())
                    && l.contains(&format!("at byte {victim}"))),
            "{name}: {}",
            r.stderr
        );
        assert_eq!(
            recording_files(&out)
                .iter()
                .filter(|f| f.extension().unwrap() == "flv")
                .count(),
            1
        );
        assert_flv_outputs_whole(&out);
    }
    assert_children_memory_bounded();
}

#[test]
fn deeply_nested_metadata_is_dropped_without_overflowing_the_stack() {
    let dir = scratch("bad-nesting");
    const DEPTH: usize = 10_000;
    // Objects, ECMA arrays and strict arrays, 10 000 deep, each level holding the next (under
    // the key "a"), the innermost a null, every level properly closed.
    for (name, open, close) in [
        (
            "objects",
            &[0x03, 0x00, 0x01, b'a'][..],
            &[0x00, 0x00, 0x09][..],
        ),
        (
            "ecma",
            &[0x08, 0, 0, 0, 1, 0x00, 0x01, b'a'][..],
            &[0x00, 0x00, 0x09][..],
        ),
        ("strict", &[0x0A, 0, 0, 0, 1][..], &[][..]),
    ] {
        let mut script = amf_string("onMetaData");
        for _ in 0..DEPTH {
            script.extend_from_slice(open);
        }
        script.push(0x05);
        for _ in 0..DEPTH {
            script.extend_from_slice(close);
        }
        let p = input(&dir, name, &studio_with_script(&script));
        let out = dir.join(format!("out-{name}"));
        let r = record(&out, &[], &[&p], None);
        assert_eq!(r.code, Some(3), "{name}: {}", r.stderr);
        assert!(r.stderr.contains("at byte 13"), "{name}: {}", r.stderr);
        assert_eq!(main_files(&out), 3, "{name}: the media is recorded");
    }
    assert_children_memory_bounded();
}

#[test]
fn lying_amf0_counts_allocate_nothing() {
    let dir = scratch("bad-counts");
    let mut ecma = amf_string("onMetaData");
    // An ECMA array claiming 2^32 − 1 entries holding two: the count is only a hint.
    ecma.extend_from_slice(&[0x08, 0xFF, 0xFF, 0xFF, 0xFF]);
    for (k, v) in [("duration", 30.0f64), ("width", 320.0)] {
        ecma.extend_from_slice(&(k.len() as u16).to_be_bytes());
        ecma.extend_from_slice(k.as_bytes());
        ecma.push(0x00);
        ecma.extend_from_slice(&v.to_be_bytes());
    }
    ecma.extend_from_slice(&[0x00, 0x00, 0x09]);
    let p = input(&dir, "ecma", &studio_with_script(&ecma));
    let out = dir.join("out-ecma");
    let r = record(&out, &[], &[&p], None);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(main_files(&out), 3);

    // A strict array, a long string and an XML document claiming 2^32 − 1 elements or bytes.
    for (name, value) in [
        ("strict", &[0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x05][..]),
        ("longstring", &[0x0C, 0xFF, 0xFF, 0xFF, 0xFF, b'x'][..]),
        ("xml", &[0x0F, 0xFF, 0xFF, 0xFF, 0xFF, b'<'][..]),
    ] {
        let mut script = amf_string("onMetaData");
        script.extend_from_slice(value);
        let p = input(&dir, name, &studio_with_script(&script));
        let out = dir.join(format!("out-{name}"));
        let r = record(&out, &[], &[&p], None);
        assert_eq!(r.code, Some(3), "{name}: {}", r.stderr);
        assert!(r.stderr.contains("at byte 13"), "{name}: {}", r.stderr);
        assert_eq!(main_files(&out), 3, "{name}");
    }
    assert_children_memory_bounded();
}

/// The studio fixture with `f(original timestamp)` applied to the timestamp of every tag from
/// the `from`-th on; returns the bytes and the offset of that tag.
fn retimed(from: usize, f: impl Fn(u32) -> u32) -> (Vec<u8>, usize) {
    let mut b = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let tags = tags_of(&b);
    for &(pos, _) in &tags[from..] {
        let t = timestamp(&b, pos);
        set_timestamp(&mut b, pos, f(t));
    }
    (b, tags[from].0)
}

/// The media (first `max_end` seconds) of each FLV recording under `out`: its file name's
/// EndTime − StartTime.
fn spans_s(out: &Path) -> Vec<i64> {
    recording_files(out)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "flv"))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let mut parts = stem.rsplit('-');
            let end: i64 = parts.next().unwrap().parse().unwrap();
            let start: i64 = parts.next().unwrap().parse().unwrap();
            end - start
        })
        .collect()
}

#[test]
fn timestamps_going_back_or_jumping_ahead_are_reported_and_repaired() {
    let dir = scratch("bad-jumps");
    let n = tags_of(&std::fs::read(testdata("studio-1764072000.flv")).unwrap()).len();
    for (name, f) in [
        (
            "back",
            Box::new(|t: u32| t.saturating_sub(10_000)) as Box<dyn Fn(u32) -> u32>,
        ),
        ("ahead", Box::new(|t: u32| t + 3 * 3_600_000)),
    ] {
        let (bytes, first) = retimed(n / 2, f);
        let p = input(&dir, name, &bytes);
        let out = dir.join(format!("out-{name}"));
        let r = record(&out, &[], &[&p], None);
        assert_eq!(r.code, Some(3), "{name}: {}", r.stderr);
        assert!(
            r.stderr
                .lines()
                .any(|l| l.contains(&p.display().to_string())
                    && l.contains("discontinuity")
                    && l.contains(&format!("at byte {first}"))),
            "{name}: {}",
            r.stderr
        );
        // The timeline stays monotonic and the media keeps its 30 s length.
        assert_flv_outputs_whole(&out);
        let spans = spans_s(&out);
        assert_eq!(spans.len(), 1, "{name}");
        assert!((29..=31).contains(&spans[0]), "{name}: {spans:?}");
    }
    assert_children_memory_bounded();
}

#[test]
fn rollover_and_the_extended_timestamp_byte_change_nothing() {
    let dir = scratch("bad-rollover");
    let plain = std::fs::read(testdata("studio-1764072000.flv")).unwrap();
    let p = input(&dir, "studio", &plain);
    let reference = dir.join("out-plain");
    let r = record(&reference, &[], &[&p], None);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let want: Vec<(PathBuf, Vec<u8>)> = recording_files(&reference)
        .into_iter()
        .map(|f| {
            (
                f.strip_prefix(&reference).unwrap().to_path_buf(),
                std::fs::read(&f).unwrap(),
            )
        })
        .collect();
    // The same push starting 10 s before the 32-bit millisecond clock wraps, and one whose
    // every timestamp needs the TimestampExtended byte (past 2^24 ms, about 4 h 39 min).
    for (name, offset_ms) in [("rollover", u32::MAX - 9_999), ("extended", 0x0100_0000)] {
        let (bytes, _) = retimed(0, |t| t.wrapping_add(offset_ms));
        let p = input(&dir.join(name), "studio", &{
            std::fs::create_dir_all(dir.join(name)).unwrap();
            bytes
        });
        let out = dir.join(format!("out-{name}"));
        let r = record(&out, &[], &[&p], None);
        assert_eq!(r.code, Some(0), "{name}: not a discontinuity: {}", r.stderr);
        let got: Vec<(PathBuf, Vec<u8>)> = recording_files(&out)
            .into_iter()
            .map(|f| {
                (
                    f.strip_prefix(&out).unwrap().to_path_buf(),
                    std::fs::read(&f).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got.iter().map(|g| &g.0).collect::<Vec<_>>(),
            want.iter().map(|w| &w.0).collect::<Vec<_>>(),
            "{name}: file names"
        );
        for (g, w) in got.iter().zip(&want) {
            assert!(g.1 == w.1, "{name}: {} differs", g.0.display());
        }
    }
    assert_children_memory_bounded();
}

/// Feeds one kept crash input to the parser its name starts with (`amf0-`, `flv_tags-`,
/// `flv_session-`, `codec-`, `rtmp_chunks-`, `mpegts-`, `pcap-`, `mp4_boxes-`, the fuzz target that found it): it must not panic, and it must end.
fn replay(name: &str, data: &[u8]) {
    use kls_rec::codec::{aac, h264, hevc, mp3, nal_units};
    use kls_rec::input::SessionReader;
    use kls_rec::input::flv::FlvSession;
    let target = name.split('-').next().unwrap_or_default();
    match target {
        "amf0" => {
            if let Ok(values) = kls_rec::amf0::decode_all(data) {
                let mut out = Vec::new();
                for v in &values {
                    kls_rec::amf0::encode(v, &mut out);
                }
                kls_rec::amf0::decode_all(&out).expect("a re-encoded value decodes");
            }
        }
        "flv_tags" => {
            if let Ok((mut tags, _)) = TagReader::new(data, name) {
                let mut n = 0;
                while let Ok(Some(_)) = tags.next_event() {
                    n += 1;
                    assert!(n <= data.len() + 2, "{name}: the tag reader does not end");
                }
            }
        }
        "flv_session" => {
            if let Ok(mut s) = FlvSession::new(data, name) {
                let mut n = 0;
                while let Ok(Some(_)) = s.next_event() {
                    n += 1;
                    assert!(n <= 4 * data.len() + 8, "{name}: the session does not end");
                }
            }
        }
        "codec" => {
            if let Ok(c) = h264::parse_avcc(data) {
                c.sps.iter().for_each(|s| drop(h264::parse_sps(s)));
            }
            let _ = h264::parse_sps(data);
            if let Ok(c) = hevc::parse_hvcc(data) {
                c.nal_units_of(hevc::NAL_SPS)
                    .for_each(|s| drop(hevc::parse_sps(s)));
            }
            let _ = hevc::parse_sps(data);
            if let Ok(asc) = aac::parse_asc(data) {
                let _ = aac::adts_header_checked(&asc, data.len());
            }
            let _ = mp3::parse_header(data);
            for length_size in 0..=5 {
                nal_units(data, length_size).for_each(drop);
            }
        }
        "rtmp_chunks" => {
            use kls_rec::input::rtmp::{RtmpEvent, RtmpParser};
            use kls_rec::media::Damage;
            // In one-byte pieces, as the fuzz target fed it.
            let mut parser = RtmpParser::new();
            let mut events = Vec::new();
            for (i, b) in data.iter().enumerate() {
                parser.feed(std::slice::from_ref(b), None, i as u64);
                events.extend(parser.drain());
            }
            parser.finish();
            events.extend(parser.drain());
            for e in events {
                if let RtmpEvent::Damage(d @ Damage::Skipped { offset, len, .. }) = &e {
                    assert!(offset + len <= data.len() as u64, "{name}: {d}");
                }
            }
        }
        "mpegts" => {
            let mut demux = kls_rec::input::ts::TsDemuxer::new(Default::default());
            demux.set_input(Box::new(std::io::Cursor::new(data.to_vec())));
            let mut n = 0;
            while let Ok(Some(item)) = demux.next_item() {
                if let kls_rec::input::ts::Demuxed::Packet(p) = item {
                    assert!(!p.data.is_empty(), "{name}: empty packet");
                }
                n += 1;
                assert!(
                    n <= data.len() + 64,
                    "{name}: the demultiplexer does not end"
                );
            }
        }
        "pcap" => {
            use kls_rec::input::pcap::tcp::{Mark, Reassembler};
            let cursor = std::io::Cursor::new(data.to_vec());
            if let Ok(c) = kls_rec::input::pcap::capture::CaptureReader::new(cursor, name) {
                let mut pass = kls_rec::input::pcap::stream::Pass::new(c, None);
                let mut n = 0;
                while let Ok(Some(_)) = pass.next_item() {
                    n += 1;
                    assert!(n <= 4 * data.len() + 64, "{name}: the pass does not end");
                }
            }
            // As the fuzz target reads it too: a window byte, then segments of a 4-byte
            // sequence number, a length byte and the payload.
            let Some((&first, mut rest)) = data.split_first() else {
                return;
            };
            let isn = (first & 1 == 1).then_some(u32::from(first).wrapping_mul(0x0101_0101));
            let mut r = Reassembler::new(isn, u64::from(first >> 1) * 8);
            let mut out = Vec::new();
            while let [a, b, c, d, n, tail @ ..] = rest {
                let (payload, next) = tail.split_at(usize::from(*n).min(tail.len()));
                r.push(
                    u32::from_be_bytes([*a, *b, *c, *d]),
                    payload,
                    Mark::default(),
                    &mut out,
                );
                rest = next;
            }
            r.flush(&mut out);
        }
        "mp4_boxes" => {
            use kls_rec::media::Damage;
            let path = scratch("bad-regress-mp4").join(name);
            std::fs::write(&path, data).unwrap();
            if let Ok(mut s) = kls_rec::input::mp4::Mp4Session::open(&path) {
                let mut n = 0;
                while let Ok(Some(e)) = s.next_event() {
                    if let kls_rec::media::Event::Damage(d @ Damage::Truncated { offset, .. }) = &e
                    {
                        assert!(*offset <= data.len() as u64, "{name}: {d}");
                    }
                    n += 1;
                    assert!(n <= 100_000, "{name}: the session does not end");
                }
            }
        }
        // Muxer findings are kept as unit tests beside the writer they concern.
        _ => panic!("{name}: no parser for this regression input (name it <target>-<what>)"),
    }
}

#[test]
fn kept_crash_inputs_stay_fixed() {
    let dir = testdata("regress");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    let out = scratch("bad-regress").join("out");
    for p in paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            continue;
        }
        let data = std::fs::read(&p).unwrap();
        assert!(
            data.len() <= 64 * 1024,
            "{name}: keep regression inputs tiny"
        );
        replay(&name, &data);
        if name.starts_with("flv_") || name.starts_with("pcap-block") {
            // And through the whole binary (captures: those that are capture files).
            record(&out, &["--start-time", "1764072000"], &[&p], None);
        }
    }
    assert_children_memory_bounded();
}
