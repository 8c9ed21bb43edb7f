#!/usr/bin/env bash
# Regenerates the committed fixtures in testdata/ with ffmpeg (Debian's ffmpeg 5.1 is enough).
# The fixtures are committed so `cargo test` needs no ffmpeg; run this only to change them.
#
# Every file is small (low resolution, low bitrate) and deterministic for a given ffmpeg build
# (-bitexact, single-threaded x264). Unix start times are in the names, as nginx-rtmp's
# record_unique and SRS DVR write them, so the wall clock never depends on file mtimes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=testdata
mkdir -p "$out/push"
ff=(ffmpeg -hide_banner -loglevel error -y)
x264=(-c:v libx264 -threads 1 -preset veryfast -pix_fmt yuv420p -g 50 -keyint_min 50 -sc_threshold 0)
aac=(-c:a aac -b:a 32k -ar 44100 -ac 2)
flv=(-f flv -flvflags no_duration_filesize -fflags +bitexact -map_metadata -1)

# 30 s, H.264 High with B-frames, 320x240 at 25 fps, AAC LC stereo: the main sample.
"${ff[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -t 30 "${x264[@]}" -profile:v high -bf 2 -b:v 80k -maxrate 100k -bufsize 200k "${aac[@]}" "${flv[@]}" "$out/studio-1764072000.flv"

# 20 s audio only (AAC).
"${ff[@]}" -f lavfi -i "sine=frequency=660:sample_rate=44100" -t 20 "${aac[@]}" "${flv[@]}" \
  "$out/radio-1764072000.flv"

# 20 s video only (H.264 Main, no B-frames).
"${ff[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25" -t 20 -vf scale=160:120 "${x264[@]}" -profile:v main -bf 0 \
  -b:v 60k -maxrate 80k -bufsize 160k "${flv[@]}" "$out/silent-1764072000.flv"

# Three pushes of one stream, 10 s each; gaps between them 60 s and 300 s:
# default splice window (3 min) → 2 files; --splice-window 0 → 3 files.
t0=1764075600
for i in 0 1 2; do
  start=$(( t0 + (i >= 1 ? 10 + 60 : 0) + (i >= 2 ? 10 + 300 : 0) ))
  "${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=25" -f lavfi -i "sine=frequency=$((300 + 100 * i)):sample_rate=44100" \
    -t 10 "${x264[@]}" -profile:v high -bf 2 -b:v 50k -maxrate 60k -bufsize 120k "${aac[@]}" "${flv[@]}" "$out/push/show-$start.flv"
done

# A push whose resolution changes midway (320x240 → 256x144 after 6 s): the second part's
# sequence headers follow the first part's tags in one FLV, as a live encoder restart sends them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"${ff[@]}" -f lavfi -i "testsrc2=size=320x240:rate=25" -f lavfi -i "sine=frequency=500:sample_rate=44100" \
  -t 6 "${x264[@]}" -profile:v high -bf 2 -b:v 50k -maxrate 60k -bufsize 120k "${aac[@]}" "${flv[@]}" "$tmp/a.flv"
"${ff[@]}" -f lavfi -i "testsrc2=size=256x144:rate=25" -f lavfi -i "sine=frequency=500:sample_rate=44100" \
  -t 6 "${x264[@]}" -profile:v high -bf 2 -b:v 50k -maxrate 60k -bufsize 120k "${aac[@]}" "${flv[@]}" "$tmp/b.flv"
python3 scripts/flv-concat.py "$tmp/a.flv" "$tmp/b.flv" "$out/reschange-1764072000.flv"

# HEVC (x265 Main, B-frames) + AAC, 4 s, carried into FLV both ways Chinese CDNs and Enhanced
# RTMP signal it. ffmpeg 5.1 can neither write nor read HEVC in FLV, so the FLVs are built from
# the MP4's packets by scripts/flv-from-mp4.py, and the MP4 stays as the packets' reference.
mkdir -p "$out/hevc"
"${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=25" -f lavfi -i "sine=frequency=700:sample_rate=44100" \
  -t 4 -c:v libx265 -x265-params "log-level=error:keyint=25:min-keyint=25:bframes=2:pools=1:frame-threads=1" \
  -b:v 60k "${aac[@]}" -fflags +bitexact -map_metadata -1 "$out/hevc/source.mp4"
python3 scripts/flv-from-mp4.py "$out/hevc/source.mp4" "$out/hevc/cdn-1764072000.flv" codecid
python3 scripts/flv-from-mp4.py "$out/hevc/source.mp4" "$out/hevc/ertmp-1764072000.flv" enhanced

# 8 s of AAC, video (H.264 Main, no B-frames) only from 4 s on: a track that starts late, whose
# bit rate over the file differs from its bit rate over its own span.
"${ff[@]}" -f lavfi -i "sine=frequency=550:sample_rate=44100" -itsoffset 4 -f lavfi -i "testsrc2=size=160x120:rate=25" \
  -t 8 -map 1:v -map 0:a "${x264[@]}" -profile:v main -bf 0 -b:v 50k -maxrate 60k -bufsize 120k "${aac[@]}" \
  "${flv[@]}" "$out/late-video-1764072000.flv"

# MPEG-TS with data PIDs beside H.264 + AAC (4 s, ffmpeg's mpegts muxer, which puts several AAC
# frames in one PES): SCTE-35 and timed ID3 (cue-*.ts), and KLV as well (klv-*.ts), added to the
# ffmpeg-written file by scripts/ts-add-data.py. Not recorded; ffprobe lists them as data streams.
mkdir -p "$out/data-streams"
"${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" \
  -t 4 "${x264[@]}" -profile:v high -bf 2 -b:v 50k -maxrate 60k -bufsize 120k "${aac[@]}" \
  -fflags +bitexact -map_metadata -1 -f mpegts "$tmp/base.ts"
python3 scripts/ts-add-data.py "$tmp/base.ts" "$out/data-streams/cue-1764072000.ts"
python3 scripts/ts-add-data.py "$tmp/base.ts" "$out/data-streams/klv-1764072000.ts" --klv

# H.264 + MP3, 5 s.
"${ff[@]}" -f lavfi -i "testsrc2=size=160x120:rate=25" -f lavfi -i "sine=frequency=800:sample_rate=44100" \
  -t 5 "${x264[@]}" -profile:v main -bf 0 -b:v 50k -c:a libmp3lame -b:a 32k -ar 44100 -ac 1 \
  "${flv[@]}" "$out/mp3-1764072000.flv"

# Audio 600 ms ahead of and behind the video in file order (FLV and MPEG-TS), for cuts.
python3 scripts/gen-audio-lead.py "$out/audio-lead"

# An audio track that first appears 4 s into the push, stamped from 0.5 s (a codec change whose
# first frames lie before the cut).
mkdir -p "$out/late-track"
python3 scripts/gen-late-audio.py "$out/push/show-1764075600.flv" "$out/late-track/late-audio-1764072000.flv"

# Two pushes shorter than a second, 0.6 s apart at two picture sizes: files that start and end in
# the same second.
scripts/gen-same-second.sh "$out/same-second"

# MPEG-TS programs with two video streams (one listed after the audio), and the same with the
# first video stream silent.
scripts/gen-ts-tracks.sh "$out/ts/tracks"

# Single-track pushes for HLS: MP3 only (the H.264 + MP3 push without its video tags), and
# pushes too short to fill 2048 bytes of MPEG-TS (MP3 only, AAC only, video only).
mkdir -p "$out/single"
python3 scripts/flv-rewrite.py novideo "$out/mp3-1764072000.flv" "$out/single/mp3-1764072000.flv"
python3 scripts/flv-rewrite.py novideo "$out/mp3-1764072000.flv" "$out/single/mp3short-1764072000.flv" --max-ms 200
python3 scripts/flv-rewrite.py noop "$out/radio-1764072000.flv" "$out/single/aacshort-1764072000.flv" --max-ms 100
python3 scripts/flv-rewrite.py noaudio "$out/mp3-1764072000.flv" "$out/single/videoshort-1764072000.flv" --max-ms 40

# Video sent without a decoder configuration record, as some cameras and small encoders send it
# (3 s each): the sequence header's body as Annex B parameter sets, or no sequence header and
# the parameter sets in-band in the first keyframe; H.264 and HEVC (both FLV conventions).
mkdir -p "$out/annexb"
for mode in annexb inband; do
  python3 scripts/flv-rewrite.py $mode "$out/mp3-1764072000.flv" "$out/annexb/avc-$mode-1764072000.flv" --max-ms 3000
done
python3 scripts/flv-rewrite.py annexb "$out/hevc/cdn-1764072000.flv" "$out/annexb/hevc-annexb-1764072000.flv" --max-ms 3000
python3 scripts/flv-rewrite.py inband "$out/hevc/ertmp-1764072000.flv" "$out/annexb/hevc-inband-1764072000.flv" --max-ms 3000
python3 scripts/flv-rewrite.py badrecord "$out/mp3-1764072000.flv" "$out/annexb/badrecord-1764072000.flv" --max-ms 1000

du -ch "$out"/*.flv "$out"/push/*.flv "$out"/hevc/* "$out"/annexb/* "$out"/single/* "$out"/audio-lead/* "$out"/late-track/* | tail -n 1
