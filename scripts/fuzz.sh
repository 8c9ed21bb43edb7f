#!/usr/bin/env bash
# Runs kls-rec's fuzz targets (fuzz/, cargo-fuzz + libFuzzer), each for a bounded time, one at a
# time, and prints per target: executions, executions per second, coverage, crashes.
#
#   scripts/fuzz.sh SECONDS [TARGET...]        # default: every target in fuzz/Cargo.toml
#   scripts/fuzz.sh 300 flv_session codec
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`, 0.13.2 here) and a C++ compiler
# (libfuzzer-sys builds libFuzzer from source). The first build compiles every dependency in
# release mode with coverage instrumentation into fuzz/target/: minutes on a 2-core machine.
#
# Toolchain: cargo-fuzz's instrumentation (-Cpasses=sancov-module, -Cllvm-args=…) is stable;
# only a sanitizer (-Zsanitizer) needs nightly features. Checked with rustc 1.95 stable: the
# default build (no sanitizer) needs nothing more; -Zsanitizer=address is refused ("only
# accepted on the nightly compiler") unless RUSTC_BOOTSTRAP=1, and then builds and runs. This
# script always exports RUSTC_BOOTSTRAP=1, so switching sanitizers does not change the build
# environment. With a nightly toolchain instead: FUZZ_TOOLCHAIN=nightly scripts/fuzz.sh …
# (RUSTC_BOOTSTRAP is then not set).
#
# Sanitizer: none by default (FUZZ_SANITIZER=address to change). kls-rec is safe Rust (one
# flock(2) call aside), so AddressSanitizer finds nothing the Rust checks do not, at a fraction
# of the speed. Debug assertions and overflow checks are on (cargo-fuzz's default), so an
# integer overflow on hostile input is a finding like a panic.
#
# One fuzzing process at a time (libFuzzer's default of one job, no -workers): the machine's
# cores are shared. Limits: -rss_limit_mb=2048 (an allocation sized by a hostile length field
# shows as an "oom" finding), -max_len per target (below), -timeout=10 s per input.
#
# Seed corpora come from the committed fixtures, extracted by this script into
# fuzz/corpus/<target>/ (not committed; libFuzzer adds what it finds there). Findings land in
# fuzz/artifacts/<target>/ (crash-*, oom-*, timeout-*, leak-*). Reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run -s none <target> fuzz/artifacts/<target>/crash-…
# Once fixed, keep the (minimised: `cargo fuzz tmin`) input as testdata/regress/<target>-<what>
# (tiny); tests/bad_input.rs replays every file there through the matching parser.
#
# Adding a target (RTMP chunk streams, pcap/pcapng + TCP reassembly, segment logs, m3u8,
# MPEG-TS, MP4 boxes):
#   1. copy the nearest target: cp fuzz/fuzz_targets/flv_tags.rs fuzz/fuzz_targets/rtmp_chunks.rs
#      (a byte-stream reader: flv_tags/flv_session, using kls_rec_fuzz::ChunkedReader for short
#      reads and check_damage for the offsets; a pure parser over a slice: codec/amf0);
#   2. add its [[bin]] block to fuzz/Cargo.toml (copy one, change name and path);
#   3. give it seeds and a -max_len in seed_corpus/max_len below (one `case` line each);
#   4. add its name prefix to `replay` in tests/bad_input.rs for its regression inputs.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi
SECONDS_PER_TARGET=$1
shift

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
    exit 1
fi

SANITIZER=${FUZZ_SANITIZER:-none}
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    CARGO=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
    export RUSTC_BOOTSTRAP=1
    CARGO=(cargo fuzz)
fi

if [ $# -gt 0 ]; then
    TARGETS=("$@")
else
    mapfile -t TARGETS < <(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^kls-rec-fuzz$')
fi

# Largest input per target: stream readers get enough for a few dozen tags; parsers of one
# structure need little. Small inputs mean many more executions per second.
max_len() {
    case $1 in
        flv_tags | flv_session | mp4_boxes) echo 65536 ;;
        mux_roundtrip | rtmp_chunks | pcap | mpegts) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

# Writes seeds for one target into fuzz/corpus/<target>/ from the fixtures.
seed_corpus() {
    local target=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    python3 - "$target" "$dir" testdata <<'PY'
import hashlib, os, pathlib, shutil, subprocess, sys, tempfile

target, out, testdata = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
fixtures = sorted(p for p in testdata.rglob("*.flv") if "regress" not in p.parts)

def save(data):
    if data:
        (out / ("seed-" + hashlib.sha1(data).hexdigest()[:16])).write_bytes(data)

def tags(b):
    pos = 13
    while pos + 11 <= len(b):
        size = int.from_bytes(b[pos + 1:pos + 4], "big")
        body = b[pos + 11:pos + 11 + size]
        if len(body) < size:
            return
        yield b[pos], body
        pos += 11 + size + 4

def ffmpeg(src, fmt, *args):
    """The first seconds of a fixture remuxed by ffmpeg (None without ffmpeg)."""
    if not shutil.which("ffmpeg"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / ("seed." + fmt)
        cmd = ["ffmpeg", "-v", "error", "-i", str(src), "-t", "1", "-c", "copy", *args, str(out)]
        if subprocess.run(cmd, stdin=subprocess.DEVNULL).returncode != 0:
            return None
        return out.read_bytes()

# Targets of the other input kinds: prefixes of their fixtures, or fixtures remuxed.
push = testdata / "push" / "show-1764075600.flv"
if target == "rtmp_chunks":
    for f in sorted((testdata / "rtmp").glob("*.rtmp")):
        for n in (1600, 3200, 8192, 16000):
            save(f.read_bytes()[:n])
elif target == "pcap":
    for f in sorted((testdata / "capture").glob("*.pcap*")):
        for n in (512, 4096, 16000):
            save(f.read_bytes()[:n])
elif target == "mpegts":
    ts = ffmpeg(push, "ts", "-f", "mpegts")
    for n in (188 * 8, 188 * 40, 188 * 85):
        save(ts and ts[:n])
elif target == "mp4_boxes":
    save(ffmpeg(push, "mp4", "-t", "0.4", "-movflags", "+faststart"))
    mp4 = ffmpeg(push, "mp4", "-t", "0.2")
    save(mp4)
    save(mp4 and mp4[:2000])
elif target == "m3u8":
    seg = "#EXTINF:{:.3f},\nlive-{}.ts\n"
    save(b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
         + "".join(seg.format(10, i) for i in range(3)).encode() + b"#EXT-X-ENDLIST\n")
    save(b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2025-11-25T12:00:00.000Z\n"
         + seg.format(6, 0).encode() + b"#EXT-X-DISCONTINUITY\n"
         + b"#EXT-X-PROGRAM-DATE-TIME:2025-11-25T12:05:00+08:00\n" + seg.format(4.2, 1).encode()
         + b"#EXT-X-DISCONTINUITY\n" + seg.format(2.5, 2).encode()
         + b"#EXT-X-KEY:METHOD=NONE\n#EXT-X-BYTERANGE:100@0\n" + seg.format(1, 3).encode())
elif target == "segment_log":
    for f in sorted(testdata.rglob("*.jsonl")) + sorted(testdata.rglob("*.csv")):
        save(f.read_bytes())

for f in fixtures:
    b = f.read_bytes()
    if target in ("flv_tags", "flv_session"):
        for n in (2048, 16384, 60000):
            save(b[:n])
    elif target == "mux_roundtrip":
        save(b[13:4096])
    elif target == "amf0":
        for kind, body in tags(b):
            if kind == 18:
                save(body)
    elif target == "codec":
        seen = 0
        for kind, body in tags(b):
            if kind == 9 and len(body) > 5:
                if body[0] & 0x80:  # Enhanced RTMP: FourCC, then the record or frames
                    save(body[5:] if body[0] & 0x0F == 0 else body[8:8 + 200])
                elif body[1] == 0:
                    save(body[5:])  # AVC/HEVC decoder configuration record
                    if body[5:6] == b"\x01" and len(body) > 13:
                        n = int.from_bytes(body[11:13], "big")
                        save(body[13:13 + n])  # the first SPS
                elif seen < 3:
                    save(body[5:5 + 200])  # length-prefixed NAL units
                    seen += 1
            elif kind == 8 and len(body) > 2:
                if body[0] >> 4 == 10 and body[1] == 0:
                    save(body[2:])  # AudioSpecificConfig
                elif body[0] >> 4 == 2:
                    save(body[1:1 + 64])  # MP3 frame header
PY
}

printf '%-14s %8s %12s %10s %8s %8s  %s\n' target seconds runs "exec/s" cov crashes findings
status=0
for t in "${TARGETS[@]}"; do
    seed_corpus "$t"
    mkdir -p "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    log=$(mktemp)
    set +e
    "${CARGO[@]}" run -s "$SANITIZER" "$t" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$t")" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    after=$(find "fuzz/artifacts/$t" -type f | wc -l)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    # No coverage line (a target that failed to build or to start) must not end the loop: with
    # pipefail, grep's status 1 would stop the script before this target's row.
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    new=$((after - before))
    findings=$(find "fuzz/artifacts/$t" -type f -newer "$log" | tr '\n' ' ')
    printf '%-14s %8s %12s %10s %8s %8s  %s\n' "$t" "$SECONDS_PER_TARGET" "${runs:-?}" \
        "${speed:-?}" "${cov:-?}" "$new" "$findings"
    if [ "$rc" -ne 0 ] || [ "$new" -ne 0 ]; then
        status=1
        echo "--- $t exited $rc; the end of its log ($log):" >&2
        grep -m1 -A3 "panicked at\|ERROR: libFuzzer" "$log" >&2 || true
        tail -25 "$log" >&2
    else
        rm -f "$log"
    fi
done
cd "$ROOT"
exit $status
