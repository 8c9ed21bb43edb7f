//! Helpers shared by the unit tests and the end-to-end tests in `tests/` (not part of the
//! product's interface).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[cfg(test)]
pub(crate) mod fixtures;

use crate::input::SessionReader;
use crate::input::flv::{FlvSession, Tag, TagEvent, TagReader};
use crate::media::{CodecConfig, Damage, Event, NotRecorded, Packet};

/// The committed fixtures directory.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kls-rec-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A pcapng block, little-endian: type, total length, `body` padded to 32 bits, total length.
pub fn pcapng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let len = u32::try_from(12 + padded).unwrap().to_le_bytes();
    let mut out = kind.to_le_bytes().to_vec();
    out.extend_from_slice(&len);
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    out.extend_from_slice(&len);
    out
}

/// Writes the little-endian microsecond pcap at `pcap` to `out` as pcapng: a section header,
/// one interface description with its link type, snap length and `if_tsresol` 9 (nanoseconds),
/// then one enhanced packet block per record.
pub fn pcapng_of(pcap: &Path, out: &Path) {
    use crate::input::pcap::capture::{
        BOM_MAGIC, EPB_MAGIC, IDB_MAGIC, OptionCode, PCAP_MAGIC_US, SHB_MAGIC,
    };
    let src = std::fs::read(pcap).unwrap();
    let word = |at: usize| u32::from_le_bytes(src[at..at + 4].try_into().unwrap());
    assert_eq!(
        word(0),
        PCAP_MAGIC_US,
        "{}: not a little-endian microsecond pcap",
        pcap.display()
    );
    let (snaplen, link_type) = (word(16), u16::try_from(word(20)).unwrap());
    // Version 1.0, section length unknown, then the end of options.
    let mut shb = BOM_MAGIC.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    shb.extend_from_slice(&[0; 4]);
    let mut bytes = pcapng_block(SHB_MAGIC, &shb);
    // Link type, reserved, snap length, `if_tsresol` (1 byte: 10^-9 s), the end of options.
    let mut idb = link_type.to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&snaplen.to_le_bytes());
    idb.extend_from_slice(&OptionCode::IfTsresol.0.to_le_bytes());
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 0, 0]);
    idb.extend_from_slice(&[0; 4]);
    bytes.extend(pcapng_block(IDB_MAGIC, &idb));
    let mut pos = 24;
    while pos + 16 <= src.len() {
        let (sec, usec, caplen, origlen) =
            (word(pos), word(pos + 4), word(pos + 8), word(pos + 12));
        let data = &src[pos + 16..pos + 16 + caplen as usize];
        let ns = (u64::from(sec) * 1_000_000 + u64::from(usec)) * 1000;
        // Interface 0, the time's high and low words, captured and original lengths, the frame.
        let mut epb = 0u32.to_le_bytes().to_vec();
        for w in [(ns >> 32) as u32, ns as u32, caplen, origlen] {
            epb.extend_from_slice(&w.to_le_bytes());
        }
        epb.extend_from_slice(data);
        bytes.extend(pcapng_block(EPB_MAGIC, &epb));
        pos += 16 + caplen as usize;
    }
    std::fs::write(out, bytes).unwrap();
}

/// `testdata/capture/cam.pcap` as pcapng ([`pcapng_of`]), written once per test process into a
/// scratch directory as `cam.pcapng`.
pub fn cam_pcapng() -> &'static Path {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        let path = scratch("pcapng").join("cam.pcapng");
        pcapng_of(&testdata("capture/cam.pcap"), &path);
        path
    })
}

/// The two `show-av1` pushes, 62 s apart: the committed `testdata/ertmp/show-av1-1764072000.flv`,
/// and its bytes as `show-av1-1764072062.flv` (the same stream pushed twice: only the name, and
/// so the start second, differs), copied once per test process into a scratch directory.
pub fn show_av1_pushes() -> [&'static Path; 2] {
    static FIRST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    static SECOND: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let first = FIRST.get_or_init(|| testdata("ertmp/show-av1-1764072000.flv"));
    let second = SECOND.get_or_init(|| {
        let path = scratch("show-av1").join("show-av1-1764072062.flv");
        std::fs::copy(first, &path).unwrap();
        path
    });
    [first, second]
}

/// Whether ffprobe/ffmpeg cross-checks can run. In CI (`CI` set) they must: a missing ffprobe
/// fails the test instead of skipping it.
pub fn have_ffprobe() -> bool {
    let ok = Command::new("ffprobe").arg("-version").output().is_ok();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("ffprobe is required in CI (apt-get install ffmpeg)");
    }
    if !ok {
        // Straight to the process's stderr: the test harness keeps `eprintln!` of a passing
        // test to itself, and a skip must show.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** ffprobe not found: SKIPPING the ffprobe cross-check ***\n"
        );
    }
    ok
}

/// Per-stream packets as ffprobe sees them: (stream index, pts, dts, size, flags, data hash),
/// times in the stream's time base converted to milliseconds (rounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbePacket {
    pub codec_type: String,
    pub pts_ms: Option<i64>,
    pub dts_ms: Option<i64>,
    pub size: u64,
    pub keyframe: bool,
    pub hash: String,
}

/// Runs `ffprobe -show_packets -show_data_hash MD5` on a file.
pub fn probe_packets(path: &Path) -> Vec<ProbePacket> {
    probe_stream_packets(path, None)
}

/// [`probe_packets`] of the streams an ffprobe stream specifier selects (`v:1`: the second
/// video stream), or of all.
pub fn probe_stream_packets(path: &Path, streams: Option<&str>) -> Vec<ProbePacket> {
    let select = streams.map_or_else(Vec::new, |s| vec!["-select_streams", s]);
    let entries = [
        "-show_packets",
        "-show_data_hash",
        "MD5",
        "-show_entries",
        "packet=codec_type,pts_time,dts_time,size,flags,data_hash",
    ];
    let v = ffprobe(path, &[&select[..], &entries[..]].concat());
    let ms = |p: &serde_json::Value, k: &str| {
        p.get(k)
            .and_then(|t| t.as_str())
            .and_then(|t| t.parse::<f64>().ok())
            .map(|t| (t * 1000.0).round() as i64)
    };
    v["packets"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|p| ProbePacket {
            codec_type: p["codec_type"].as_str().unwrap_or_default().to_string(),
            pts_ms: ms(p, "pts_time"),
            dts_ms: ms(p, "dts_time"),
            size: p["size"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
            keyframe: p["flags"].as_str().unwrap_or_default().starts_with('K'),
            hash: p["data_hash"].as_str().unwrap_or_default().to_string(),
        })
        .collect()
}

/// Every file under `dir`, sorted, leaving out kls-rec's own state in an output root (the lock,
/// the callback spool and delivered-log: `.kls-rec*`).
pub fn recording_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".kls-rec"))
            {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// The recording files under `dir` with extension `ext`, sorted.
///
/// An fMP4 HLS recording's init segment (`…-init.mp4`) is part of that HLS recording, not an MP4
/// recording: it is not listed under `mp4`.
pub fn with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    recording_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .filter(|p| !p.to_string_lossy().ends_with("-init.mp4"))
        .collect()
}

/// ffprobe's packets of the committed `show` pushes spliced as one file: the first push's, then
/// the second's with their times moved by `join_ms`.
#[cfg(test)]
pub(crate) fn probe_show_spliced(join_ms: i64) -> Vec<ProbePacket> {
    let [first, second] = fixtures::SHOW_PUSHES.map(|p| probe_packets(&testdata(p)));
    let moved = second.into_iter().map(|p| ProbePacket {
        pts_ms: p.pts_ms.map(|t| t + join_ms),
        dts_ms: p.dts_ms.map(|t| t + join_ms),
        ..p
    });
    first.into_iter().chain(moved).collect()
}

/// The packets of one stream kind ("video", "audio").
pub fn of(packets: &[ProbePacket], kind: &str) -> Vec<ProbePacket> {
    packets
        .iter()
        .filter(|p| p.codec_type == kind)
        .cloned()
        .collect()
}

/// Asserts `out` carries `input`'s packets: the same count and keyframe flags, DTS and PTS
/// shifted by one constant, and with `payloads` the same sizes and data hashes.
pub fn assert_same_packets(input: &[ProbePacket], out: &[ProbePacket], payloads: bool, what: &str) {
    assert_eq!(input.len(), out.len(), "{what}: packet count");
    let Some((a0, b0)) = input.first().zip(out.first()) else {
        return;
    };
    let shift = b0.dts_ms.unwrap() - a0.dts_ms.unwrap();
    for (i, (a, b)) in input.iter().zip(out).enumerate() {
        assert_eq!(a.keyframe, b.keyframe, "{what}: packet {i} keyframe");
        assert_eq!(
            b.dts_ms.unwrap() - a.dts_ms.unwrap(),
            shift,
            "{what}: packet {i} dts"
        );
        assert_eq!(
            b.pts_ms.unwrap() - a.pts_ms.unwrap(),
            shift,
            "{what}: packet {i} pts"
        );
        if payloads {
            assert_eq!(
                (a.size, &a.hash),
                (b.size, &b.hash),
                "{what}: packet {i} payload"
            );
        }
    }
}

/// `ffmpeg -v error -i FILE -f null -` succeeds and prints nothing.
pub fn assert_decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("running ffmpeg");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.trim().is_empty(),
        "{}: {err}",
        path.display()
    );
}

/// Runs the binary at `bin` (an end-to-end test's `env!("CARGO_BIN_EXE_kls-rec")`) with
/// `args`, without any `KLS_REC_*` setting of the caller's environment; fails the test if it
/// panicked.
pub fn run_binary(bin: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KLS_REC_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd.args(args).output().expect("running kls-rec");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "kls-rec panicked:\n{stderr}");
    out
}

/// Fails the test if a temporary or partial file (a dot file other than kls-rec's own
/// `.kls-rec*` state) is anywhere under `root`; a missing `root` has none.
pub fn assert_no_temporaries(root: &Path) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("{}: {e}", d.display()),
        };
        for e in entries {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else {
                assert!(
                    !name.starts_with('.') || name.starts_with(".kls-rec"),
                    "temporary file left behind: {}",
                    p.display()
                );
            }
        }
    }
}

/// Relative path → bytes of every recording file under `dir` (see [`recording_files`]).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    recording_files(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

/// `ffprobe -v error -show_format -show_streams EXTRA -of json FILE`, parsed.
pub fn probe_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["-show_format", "-show_streams"];
    args.extend_from_slice(extra);
    ffprobe(path, &args)
}

/// `ffprobe -v error ARGS -of json FILE`, parsed; ffprobe's complaint in the failure.
fn ffprobe(path: &Path, args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .args(["-of", "json"])
        .arg(path)
        .output()
        .expect("running ffprobe");
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A JSON number, or a string holding one (ffprobe prints most numbers as strings).
pub fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Asserts an ffprobe-shaped media description (`outMediainfo`, [`crate::mediainfo`]) says what
/// ffprobe says (`probe_json`) of the same file: format name, size, codecs, sizes, frame and
/// sample rates and channels exactly; durations within 0.05 s; bit rates within 1 %, present
/// where and only where ffprobe prints one.
pub fn assert_mediainfo_like_ffprobe(ours: &Value, theirs: &Value, what: &str) {
    let f64_of = |v: &Value, k: &str| {
        json_f64(v).unwrap_or_else(|| panic!("{what}: {k} is not a number: {v}"))
    };
    let close = |a: f64, b: f64| (a - b).abs() <= 0.01 * b.abs();
    let (of, tf) = (&ours["format"], &theirs["format"]);
    assert_eq!(of["format_name"], tf["format_name"], "{what}: format_name");
    assert_eq!(
        f64_of(&of["size"], "size"),
        f64_of(&tf["size"], "size"),
        "{what}: size"
    );
    let (od, td) = (
        f64_of(&of["duration"], "duration"),
        f64_of(&tf["duration"], "duration"),
    );
    assert!((od - td).abs() <= 0.05, "{what}: duration {od} vs {td}");
    let (ob, tb) = (
        f64_of(&of["bit_rate"], "bit_rate"),
        f64_of(&tf["bit_rate"], "bit_rate"),
    );
    assert!(close(ob, tb), "{what}: bit_rate {ob} vs {tb}");
    let os = ours["streams"].as_array().unwrap();
    let ts = theirs["streams"].as_array().unwrap();
    assert_eq!(os.len(), ts.len(), "{what}: streams");
    for (o, t) in os.iter().zip(ts) {
        let index = &t["index"];
        for k in [
            "index",
            "codec_type",
            "codec_name",
            "width",
            "height",
            "channels",
        ] {
            assert_eq!(o.get(k), t.get(k), "{what}: stream {index}: {k}");
        }
        // ffprobe says "0/0" for an audio stream's frame rate, which ours leave out.
        if t["codec_type"] == "video" {
            assert_eq!(
                o["r_frame_rate"], t["r_frame_rate"],
                "{what}: stream {index}: r_frame_rate"
            );
        }
        if !o["sample_rate"].is_null() {
            assert_eq!(
                json_f64(&o["sample_rate"]),
                json_f64(&t["sample_rate"]),
                "{what}: stream {index}: sample_rate"
            );
        }
        match (json_f64(&o["bit_rate"]), json_f64(&t["bit_rate"])) {
            (Some(a), Some(b)) => {
                assert!(close(a, b), "{what}: stream {index}: bit_rate {a} vs {b}")
            }
            (a, b) => assert_eq!(
                a.is_some(),
                b.is_some(),
                "{what}: stream {index}: bit_rate {o} vs {t}"
            ),
        }
    }
}

/// What a session reader yields, to its end, by kind.
#[derive(Clone, Debug, Default)]
pub(crate) struct Drained {
    /// The configuration in force at the start.
    pub(crate) config: CodecConfig,
    pub(crate) packets: Vec<Packet>,
    pub(crate) damage: Vec<Damage>,
    /// Streams reported as not recorded.
    pub(crate) not_recorded: Vec<NotRecorded>,
    /// Configurations announced later ([`Event::Config`]), in order.
    pub(crate) changes: Vec<CodecConfig>,
}

impl Drained {
    /// Asserts the configuration never changed.
    #[cfg(test)]
    pub(crate) fn unchanged(self) -> Drained {
        assert_eq!(self.changes, [], "unexpected configuration change");
        self
    }
}

/// Reads a session to its end.
pub(crate) fn drain(reader: &mut dyn SessionReader) -> Drained {
    let mut d = Drained {
        config: (**reader.config()).clone(),
        ..Drained::default()
    };
    while let Some(e) = reader.next_event().unwrap() {
        match e {
            Event::Packet(p) => d.packets.push(p),
            Event::Damage(x) => d.damage.push(x),
            Event::NotRecorded(n) => d.not_recorded.push(n),
            Event::Config(c) => d.changes.push((*c).clone()),
        }
    }
    d
}

/// A fixture read through the crate's FLV reader: its starting configuration and packets.
pub fn read_flv(path: &Path) -> (CodecConfig, Vec<Packet>) {
    let f = std::fs::File::open(path).unwrap();
    let mut s = FlvSession::new(std::io::BufReader::new(f), "fixture").unwrap();
    let d = drain(&mut s);
    (d.config, d.packets)
}

/// The header flags byte and the tags of a well-formed FLV, read with the crate's tag reader:
/// any damage it reports (a reserved bit, a StreamID, a PreviousTagSize that does not match,
/// bytes after the last tag) fails the test.
pub fn flv_tags(bytes: &[u8]) -> (u8, Vec<Tag>) {
    let (mut reader, damage) = TagReader::new(bytes, "flv").unwrap();
    assert_eq!(damage, [], "FLV header");
    let mut tags = Vec::new();
    while let Some(e) = reader.next_event().unwrap() {
        match e {
            TagEvent::Tag(t) => tags.push(t),
            TagEvent::Damage(d) => panic!("FLV damage: {d}"),
        }
    }
    (bytes[4], tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pcapng that `pcapng_of` makes of the committed pcap reads, with the capture reader,
    /// as the same frames: times, link types and bytes, in order, without damage.
    #[test]
    fn pcapng_of_the_pcap_reads_as_its_frames() {
        use crate::input::pcap::capture::{CaptureItem, CaptureReader};
        let frames = |path: &Path| {
            let file = std::fs::File::open(path).unwrap();
            let mut r = CaptureReader::new(std::io::BufReader::new(file), "capture").unwrap();
            let mut frames = Vec::new();
            while let Some(item) = r.next_item().unwrap() {
                match item {
                    CaptureItem::Frame => {
                        let f = r.frame();
                        frames.push((f.number, f.time_us, f.link_type, f.data.clone()));
                    }
                    CaptureItem::Damage(d) => panic!("{}: {d}", path.display()),
                }
            }
            frames
        };
        let pcap = frames(&testdata("capture/cam.pcap"));
        assert!(pcap.len() > 100, "{} frames", pcap.len());
        assert!(pcap == frames(cam_pcapng()), "the pcapng's frames differ");
    }

    /// The tag walk used on writers' output fails on what a careless writer would leave.
    #[test]
    fn flv_tags_fail_on_damage() {
        let good = std::fs::read(testdata("radio-1764072000.flv")).unwrap();
        let (flags, tags) = flv_tags(&good);
        assert_eq!(flags, 0x04);
        assert!(tags.len() > 800);
        let last = tags.last().unwrap();
        let end = last.offset as usize + 11 + last.data.len();
        let mut wrong_size = good.clone();
        wrong_size[end + 3] ^= 1;
        let mut trailing = good.clone();
        trailing.extend_from_slice(&[9, 0, 0]);
        let mut stream_id = good.clone();
        stream_id[last.offset as usize + 10] = 1;
        for (what, bytes) in [
            ("PreviousTagSize", wrong_size),
            ("trailing bytes", trailing),
            ("StreamID", stream_id),
        ] {
            let caught = std::panic::catch_unwind(|| flv_tags(&bytes));
            assert!(caught.is_err(), "{what} not caught");
        }
    }
}
