//! Packets built in the test: negative composition offsets, HEVC and MP3 sample entries,
//! refused packets.

use super::*;
use crate::media::VideoCodec;
use crate::testutil::fixtures::file_open;

fn synthetic(track: TrackKind, dts_ms: i64, cts_ms: i32, keyframe: bool) -> Packet {
    Packet {
        track: crate::media::Track {
            kind: track,
            index: 0,
        },
        dts_90k: dts_ms * 90,
        cts_90k: cts_ms * 90,
        keyframe,
        data: vec![0, 0, 0, 1, 0x09],
        offset_ns: 0,
    }
}

fn synthetic_config(video: Option<VideoCodec>, audio: Option<AudioCodec>) -> CodecConfig {
    CodecConfig {
        more_video: Vec::new(),
        video: video.map(|codec| VideoConfig {
            flv_track: None,
            codec,
            record: vec![1, 0x64, 0, 0x1F, 0xFF, 0xE0, 0x00],
            width: 1920,
            height: 1080,
            flv_signal: Default::default(),
        }),
        audio: audio.map(|codec| AudioConfig {
            codec,
            specific: if codec == AudioCodec::Aac {
                vec![0x11, 0x90]
            } else {
                Vec::new()
            },
            sample_rate: 48_000,
            channels: 2,
            flv_sound_byte: 0x2F,
            flv_track: None,
        }),
        video_built: None,
        more_audio: Vec::new(),
    }
}

#[test]
fn negative_composition_offsets() {
    let config = synthetic_config(Some(VideoCodec::H264), None);
    let dir = scratch("mp4-negcts");
    // A later frame presents before its decode time, never before the first: ctts version 1.
    let packets = [
        synthetic(TrackKind::Video, 0, 0, true),
        synthetic(TrackKind::Video, 80, -40, false),
        synthetic(TrackKind::Video, 120, 0, false),
    ];
    let p = mux(&config, &packets, &dir, "v1");
    let bytes = std::fs::read(&p.path).unwrap();
    assert!(
        find(&bytes, &[b"ftyp"])
            .unwrap()
            .windows(4)
            .any(|w| w == b"iso4")
    );
    let stbl = find(&bytes, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]).unwrap();
    let ctts = find(stbl, &[b"ctts"]).unwrap();
    assert_eq!(ctts[0], 1, "ctts version");
    assert_eq!(&ctts[20..24], (-40i32).to_be_bytes()); // second run's offset

    // The first frame presents 40 ms before it decodes: offsets are raised by 40 ms and the
    // edit starts at media time 0.
    let packets = [
        synthetic(TrackKind::Video, 0, -40, true),
        synthetic(TrackKind::Video, 40, -40, false),
    ];
    let p = mux(&config, &packets, &dir, "shifted");
    let bytes = std::fs::read(&p.path).unwrap();
    let trak = find(&bytes, &[b"moov", b"trak"]).unwrap();
    let ctts = find(trak, &[b"mdia", b"minf", b"stbl", b"ctts"]).unwrap();
    assert_eq!(&ctts[..12], [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
    assert_eq!(&ctts[12..16], 0u32.to_be_bytes());
    assert!(find(trak, &[b"edts"]).is_none());
}

#[test]
fn hevc_and_mp3_sample_entries() {
    let dir = scratch("mp4-entries");
    let config = synthetic_config(Some(VideoCodec::Hevc), Some(AudioCodec::Mp3));
    let packets = [
        synthetic(TrackKind::Video, 0, 0, true),
        synthetic(TrackKind::Audio, 0, 0, true),
        synthetic(TrackKind::Video, 40, 0, false),
    ];
    let p = mux(&config, &packets, &dir, "hevc");
    let bytes = std::fs::read(&p.path).unwrap();
    assert!(
        !find(&bytes, &[b"ftyp"])
            .unwrap()
            .windows(4)
            .any(|w| w == b"avc1")
    );
    let moov = find(&bytes, &[b"moov"]).unwrap();
    let t = traks(moov);
    let stsd = [b"mdia", b"minf", b"stbl", b"stsd"];
    let hvcc = find(t[0], &[stsd.as_slice(), &[b"hvc1", b"hvcC"]].concat());
    assert_eq!(
        hvcc.unwrap(),
        config.video.as_ref().unwrap().record.as_slice()
    );
    let esds = find(t[1], &[stsd.as_slice(), &[b"mp4a", b"esds"]].concat()).unwrap();
    // ES_Descriptor header (5) + ES_ID (2) + flags (1) + DecoderConfigDescriptor header (5).
    assert_eq!(esds[4 + 13], 0x6B, "MPEG-1 audio objectTypeIndication");
    // No DecoderSpecificInfo for MP3: the SLConfigDescriptor follows the 13-byte config.
    assert_eq!(esds[4 + 13 + 13], 0x06);
    // A lone MP3 frame lasts 1152 samples at 48 kHz: 24 ms.
    let stts = find(t[1], &[b"mdia", b"minf", b"stbl", b"stts"]).unwrap();
    assert_eq!(&stts[4..16], [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 24]);
}

#[test]
fn refuses_what_the_file_cannot_hold() {
    let dir = scratch("mp4-refuse");
    let config = synthetic_config(Some(VideoCodec::H264), None);
    let options = MuxOptions::default();
    let open = file_open((&dir, "x"), 0, &config, &options);
    let mut m = Mp4Muxer::open(&open).unwrap();
    let err = m
        .write(&synthetic(TrackKind::Audio, 0, 0, true))
        .unwrap_err();
    assert!(err.to_string().contains("no audio configuration"), "{err}");
    m.write(&synthetic(TrackKind::Video, 40, 0, true)).unwrap();
    let err = m
        .write(&synthetic(TrackKind::Video, 0, 0, true))
        .unwrap_err();
    assert!(
        err.to_string().contains("video sample 2: dts_90k 0"),
        "{err}"
    );
    // The refused packets left no trace: the file holds the one good sample.
    let p = Box::new(m)
        .finish(&FileClose {
            base_name: "x".to_string(),
        })
        .unwrap();
    let bytes = std::fs::read(&p.path).unwrap();
    let stsz = find(
        &bytes,
        &[b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsz"],
    )
    .unwrap();
    assert_eq!(&stsz[8..12], 1u32.to_be_bytes());
    let empty = CodecConfig::default();
    let open = FileOpen {
        config: &empty,
        ..open
    };
    assert!(Mp4Muxer::open(&open).is_err());
}
