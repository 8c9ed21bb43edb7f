//! A file past 4 GiB: `co64` chunk offsets and a 64-bit `mdat` size.

use std::path::PathBuf;
use std::process::Command;

use md5::Digest;

use super::*;
use crate::testutil::fixtures::file_open;

/// A video payload of `len` bytes: one filler-data NAL unit (H.264 §7.3.2.7), so decoders skip it.
fn filler_packet(len: usize) -> Vec<u8> {
    let mut d = vec![0xFF; len];
    d[..4].copy_from_slice(&(len as u32 - 4).to_be_bytes());
    d[4] = 0x0C;
    d[len - 1] = 0x80;
    d
}

/// Past 4 GiB: `co64` offsets and a 64-bit `mdat`; the last samples land where the index says.
/// Memory stays at one packet plus the index.
#[test]
fn over_4_gib_uses_co64_and_largesize() {
    const VIDEO_PACKETS: usize = 4300;
    let studio = read_flv(&testdata("studio-1764072000.flv"), 320, 240);
    let dir = scratch("mp4-4gib");
    // Removes the gigabytes even when an assertion fails.
    struct Cleanup(PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _cleanup = Cleanup(dir.clone());
    let options = MuxOptions::default();
    let open = file_open((&dir, "big"), 1_764_072_000, &studio.config, &options);
    let mut m: Box<dyn Muxer> = Box::new(Mp4Muxer::open(&open).unwrap());
    let mut video = Packet {
        track: crate::media::Track::VIDEO,
        dts_90k: 0,
        cts_90k: 0,
        keyframe: true,
        data: Vec::new(),
        offset_ns: 0,
    };
    let audio = &studio
        .packets
        .iter()
        .find(|p| p.track.kind == TrackKind::Audio)
        .unwrap();
    let mut audio = (*audio).clone();
    // Sizes vary so the last packets are told apart by size and hash.
    let size_of = |i: usize| (1 << 20) + i % 251;
    for i in 0..VIDEO_PACKETS {
        video.dts_90k = i as i64 * 3600;
        video.keyframe = i % 100 == 0;
        video.data = filler_packet(size_of(i));
        m.write(&video).unwrap();
        audio.dts_90k = video.dts_90k;
        m.write(&audio).unwrap();
    }
    let produced = m
        .finish(&FileClose {
            base_name: "big".to_string(),
        })
        .unwrap();
    assert!(produced.size > 1 << 32);

    let mut f = std::fs::File::open(&produced.path).unwrap();
    let mut head = vec![0u8; 1 << 20];
    std::io::Read::read_exact(&mut f, &mut head).unwrap();
    let moov = find(&head, &[b"moov"]).unwrap();
    let mdat_at = 8 + moov.len() + top_boxes(&head)[0].2 as usize;
    assert_eq!(
        &head[mdat_at..mdat_at + 8],
        [0, 0, 0, 1, b'm', b'd', b'a', b't']
    );
    let largesize = u64::from_be_bytes(head[mdat_at + 8..mdat_at + 16].try_into().unwrap());
    assert_eq!(mdat_at as u64 + largesize, produced.size);
    for trak in traks(moov) {
        assert!(find(trak, &[b"mdia", b"minf", b"stbl", b"co64"]).is_some());
        assert!(find(trak, &[b"mdia", b"minf", b"stbl", b"stco"]).is_none());
    }

    if have_ffprobe() {
        let out = Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v",
                "-read_intervals",
                "170%",
            ])
            .args(["-show_packets", "-show_data_hash", "MD5"])
            .args([
                "-show_entries",
                "packet=pos,size,data_hash",
                "-of",
                "csv=p=0",
            ])
            .arg(&produced.path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
        let size = size_of(VIDEO_PACKETS - 1);
        let md5: [u8; 16] = md5::Md5::digest(filler_packet(size)).into();
        let pos: u64 = last[1].parse().unwrap();
        assert_eq!(last[0], size.to_string());
        assert!(pos > 1 << 32, "last sample at {pos}");
        // The last video sample is followed by the last audio sample and nothing else.
        assert_eq!(pos + size as u64 + audio.data.len() as u64, produced.size);
        assert_eq!(last[2], format!("MD5:{}", crate::sink::local::hex(&md5)));
    }
}
