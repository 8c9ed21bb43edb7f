//! Session semantics on FLV streams built byte by byte: the prelude, configuration changes,
//! HEVC in both conventions, MP3, unsupported codecs, timestamps, video sent without a record.

use super::*;
use crate::codec::h264;
use crate::codec::testhex::hex;
use crate::media::{AudioCodec, BuiltRecord, FlvVideoSignal, VideoCodec};
use crate::testutil::fixtures::{HVCC_330X186_HEX, configs, damage, packets};

/// An FLV stream under construction.
struct Flv(Vec<u8>);

impl Flv {
    fn new() -> Flv {
        Flv(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec())
    }

    /// The offset the next tag will have.
    fn at(&self) -> u64 {
        self.0.len() as u64
    }

    fn tag(mut self, tag_type: u8, ts: u32, body: &[u8]) -> Flv {
        let size = (body.len() as u32).to_be_bytes();
        let t = ts.to_be_bytes();
        self.0.push(tag_type);
        self.0.extend_from_slice(&size[1..]);
        // Timestamp (low 24 bits), then TimestampExtended (the high byte), then StreamID.
        self.0.extend_from_slice(&[t[1], t[2], t[3], t[0], 0, 0, 0]);
        self.0.extend_from_slice(body);
        self.0
            .extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
        self
    }

    fn video(self, ts: u32, body: &[u8]) -> Flv {
        self.tag(9, ts, body)
    }

    fn audio(self, ts: u32, body: &[u8]) -> Flv {
        self.tag(8, ts, body)
    }

    fn read(&self) -> (Arc<CodecConfig>, Vec<Event>) {
        let mut s = FlvSession::new(&self.0[..], "built").unwrap();
        let config = s.config().clone();
        let mut events = Vec::new();
        while let Some(e) = s.next_event().unwrap() {
            events.push(e);
        }
        (config, events)
    }
}

fn avc_seq(record: &[u8]) -> Vec<u8> {
    [&[0x17, 0, 0, 0, 0][..], record].concat()
}

fn avc_frame(key: bool, cts_ms: i32, data: &[u8]) -> Vec<u8> {
    let ct = cts_ms.to_be_bytes();
    let first = if key { 0x17 } else { 0x27 };
    [&[first, 1, ct[1], ct[2], ct[3]][..], data].concat()
}

fn aac_seq(asc: &[u8]) -> Vec<u8> {
    [&[0xAF, 0][..], asc].concat()
}

fn aac_frame(data: &[u8]) -> Vec<u8> {
    [&[0xAF, 1][..], data].concat()
}

const AVC_A: &[u8] = &[1, 0x64, 0, 0x1F, 0xFF, 0xE0, 0];
const AVC_B: &[u8] = &[1, 0x4D, 0, 0x1E, 0xFF, 0xE0, 0];
const ASC: &[u8] = &[0x12, 0x10];

#[test]
fn a_late_audio_header_belongs_to_the_start() {
    let (config, events) = Flv::new()
        .video(0, &avc_seq(AVC_A))
        .video(0, &avc_frame(true, 80, &[0, 0, 0, 1, 0x65]))
        .video(40, &avc_frame(false, -40, &[0, 0, 0, 1, 0x41]))
        .audio(60, &aac_seq(ASC))
        .audio(60, &aac_frame(&[0x21, 0x22]))
        .video(80, &avc_frame(false, 0, &[0, 0, 0, 1, 0x01]))
        .read();
    assert_eq!(config.video.as_ref().unwrap().record, AVC_A);
    assert_eq!(config.audio.as_ref().unwrap().specific, ASC);
    assert_eq!(config.audio.as_ref().unwrap().sample_rate, 44_100);
    assert!(configs(&events).is_empty());
    assert!(damage(&events).is_empty());
    let p = packets(&events);
    assert_eq!(p.len(), 4);
    assert_eq!(
        (p[0].dts_90k, p[0].cts_90k, p[0].keyframe),
        (0, 80 * 90, true)
    );
    assert_eq!(
        (p[1].dts_90k, p[1].cts_90k, p[1].keyframe),
        (40 * 90, -40 * 90, false)
    );
    assert_eq!(p[1].data, [0, 0, 0, 1, 0x41]);
    assert_eq!(
        (p[2].track, &p[2].data[..]),
        (Track::AUDIO, &[0x21, 0x22][..])
    );
}

/// An Enhanced RTMP v2 multitrack audio tag (OneTrack, `mp4a`) of `packet_type` for `id`.
fn mp4a_track(packet_type: u8, id: u8, body: &[u8]) -> Vec<u8> {
    [&[0x95, packet_type, b'm', b'p', b'4', b'a', id][..], body].concat()
}

#[test]
fn multitrack_audio_tracks_are_tracks_of_their_own() {
    const ASC_48K_MONO: &[u8] = &[0x11, 0x88];
    let (config, events) = Flv::new()
        .video(0, &avc_seq(AVC_A))
        .audio(0, &aac_seq(ASC))
        // Track 5's SequenceStart after the others: still the start's.
        .audio(0, &mp4a_track(0, 5, ASC_48K_MONO))
        .video(0, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]))
        .audio(10, &aac_frame(&[0x21]))
        .audio(12, &mp4a_track(1, 5, &[0x31]))
        // A frame of an id never configured is not a packet.
        .audio(14, &mp4a_track(1, 7, &[0x41]))
        .read();
    assert_eq!(config.audio.as_ref().unwrap().flv_track, None);
    let more = &config.more_audio;
    assert_eq!(more.len(), 1);
    assert_eq!(
        (more[0].specific.as_slice(), more[0].flv_track),
        (ASC_48K_MONO, Some(5))
    );
    assert_eq!((more[0].sample_rate, more[0].channels), (48_000, 1));
    assert!(configs(&events).is_empty());
    let p: Vec<_> = packets(&events)
        .iter()
        .map(|p| (p.track, p.data.clone()))
        .collect();
    assert_eq!(
        p,
        [
            (Track::VIDEO, vec![0, 0, 0, 1, 0x65]),
            (Track::AUDIO, vec![0x21]),
            (Track::audio(1), vec![0x31]),
        ]
    );
    assert_eq!(damage(&events).len(), 1, "{events:?}");
}

fn avc1_track(packet_type: u8, frame_type: u8, id: u8, body: &[u8]) -> Vec<u8> {
    let first = 0x80 | (frame_type << 4) | 6;
    [&[first, packet_type, b'a', b'v', b'c', b'1', id][..], body].concat()
}

#[test]
fn multitrack_video_tracks_are_tracks_of_their_own() {
    let frame = |id, data: &[u8]| avc1_track(1, 1, id, &[&[0, 0, 0][..], data].concat());
    let (config, events) = Flv::new()
        .video(0, &avc_seq(AVC_A))
        // Ids 4 then 2: numbered in the order their configuration comes.
        .video(0, &avc1_track(0, 1, 4, AVC_B))
        .video(0, &avc1_track(0, 1, 2, AVC_A))
        .video(0, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]))
        .video(0, &frame(2, &[0x66]))
        .video(0, &frame(4, &[0x67]))
        // A frame of an id never configured is not a packet.
        .video(40, &frame(9, &[0x68]))
        // Track 4's new configuration after the start: a configuration change.
        .video(80, &avc1_track(0, 1, 4, AVC_A))
        .video(80, &frame(4, &[0x69]))
        .read();
    let tracks: Vec<_> = config
        .video_tracks()
        .map(|(t, v)| (t, v.flv_track, v.record.clone()))
        .collect();
    assert_eq!(
        tracks,
        [
            (Track::VIDEO, None, AVC_A.to_vec()),
            (Track::video(1), Some(4), AVC_B.to_vec()),
            (Track::video(2), Some(2), AVC_A.to_vec()),
        ]
    );
    let changes = configs(&events);
    assert_eq!(changes.len(), 1, "{events:?}");
    assert_eq!(changes[0].video_track(1).unwrap().record, AVC_A);
    assert_eq!(
        changes[0].differences(&config),
        ["video track 1 video decoder configuration (SPS/PPS/VPS)"]
    );
    let p: Vec<_> = packets(&events)
        .iter()
        .map(|p| (p.track, p.data[0]))
        .collect();
    assert_eq!(
        p,
        [
            (Track::VIDEO, 0),
            (Track::video(2), 0x66),
            (Track::video(1), 0x67),
            (Track::video(1), 0x69),
        ]
    );
    assert_eq!(damage(&events).len(), 1, "{events:?}");
}

#[test]
fn a_new_header_after_the_start_is_an_event_and_a_repeat_is_not() {
    let mut flv = Flv::new().video(0, &avc_seq(AVC_A)).audio(0, &aac_seq(ASC));
    for i in 0..10 {
        flv = flv.video(i * 40, &avc_frame(i == 0, 0, &[0, 0, 0, 1, 0x65]));
    }
    flv = flv.video(400, &avc_seq(AVC_A)).audio(400, &aac_seq(ASC));
    flv = flv.video(400, &avc_frame(false, 0, &[0, 0, 0, 1, 0x41]));
    flv = flv.video(440, &avc_seq(AVC_B));
    flv = flv.video(440, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]));
    let (config, events) = flv.read();
    assert_eq!(config.video.as_ref().unwrap().record, AVC_A);
    let changes = configs(&events);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].video.as_ref().unwrap().record, AVC_B);
    assert_eq!(changes[0].audio, config.audio);
    // The change sits right before the packet that needs it.
    let n = events.len();
    assert!(matches!(events[n - 2], Event::Config(_)));
    assert!(matches!(&events[n - 1], Event::Packet(p) if p.keyframe && p.dts_90k == 440 * 90));
}

#[test]
fn a_change_within_the_prelude_ends_it() {
    let (config, events) = Flv::new()
        .video(0, &avc_seq(AVC_A))
        .video(0, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]))
        .video(40, &avc_seq(AVC_B))
        .video(40, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]))
        .read();
    assert_eq!(config.video.as_ref().unwrap().record, AVC_A);
    assert!(config.audio.is_none());
    assert_eq!(configs(&events).len(), 1);
    assert!(matches!(events[0], Event::Packet(_)));
    assert!(matches!(events[1], Event::Config(_)));
}

fn on_metadata(props: Vec<(&str, Value)>) -> Vec<u8> {
    let mut out = Vec::new();
    amf0::encode(&Value::String("onMetaData".into()), &mut out);
    let props = props.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    amf0::encode(&Value::EcmaArray(props), &mut out);
    out
}

#[test]
fn the_prelude_waits_only_for_announced_tracks() {
    // onMetaData announces audio only: the start is settled at the AudioSpecificConfig, so a
    // video header arriving later is a change.
    let meta = on_metadata(vec![
        ("duration", Value::Number(5.0)),
        ("audiocodecid", Value::Number(10.0)),
    ]);
    let mut flv = Flv::new().tag(18, 0, &meta).audio(0, &aac_seq(ASC));
    for i in 0..5 {
        flv = flv.audio(i * 23, &aac_frame(&[1]));
    }
    let flv = flv.video(115, &avc_seq(AVC_A));
    let mut s = FlvSession::new(&flv.0[..], "built").unwrap();
    assert_eq!(s.metadata().and_then(|m| m.duration_ms), Some(5_000));
    assert!(s.config().video.is_none() && s.config().audio.is_some());
    let mut changes = 0;
    while let Some(e) = s.next_event().unwrap() {
        changes += usize::from(matches!(e, Event::Config(_)));
    }
    assert_eq!(changes, 1);

    // Without onMetaData, audio alone settles the start after the prelude's span of media.
    let mut flv = Flv::new().audio(0, &aac_seq(ASC));
    for i in 0..200u32 {
        flv = flv.audio(i * 23, &aac_frame(&[1]));
    }
    let (config, events) = flv.video(4_600, &avc_seq(AVC_A)).read();
    assert!(config.video.is_none());
    assert_eq!(configs(&events).len(), 1);
    assert_eq!(packets(&events).len(), 200);
}

/// Checks that a session's video is HEVC signalled as `signal`, its configuration `record`.
fn assert_hevc(config: &CodecConfig, signal: FlvVideoSignal, record: &[u8]) {
    let v = config.video.as_ref().unwrap();
    assert_eq!((v.codec, v.flv_signal), (VideoCodec::Hevc, signal), "{v:?}");
    assert_eq!(v.record, record);
}

#[test]
fn hevc_by_legacy_codec_id_and_by_enhanced_fourcc() {
    let record = hex(HVCC_330X186_HEX);
    // Legacy CodecID 12.
    let (config, events) = Flv::new()
        .video(0, &[&[0x1C, 0, 0, 0, 0][..], &record].concat())
        .video(0, &[0x1C, 1, 0, 0, 40, 0, 0, 0, 2, 0x26, 0x01])
        .video(40, &[0x2C, 2, 0, 0, 0])
        .read();
    assert_hevc(&config, FlvVideoSignal::CodecId, &record);
    let p = packets(&events);
    assert_eq!(p.len(), 1, "the end-of-sequence tag is not a packet");
    assert_eq!((p[0].cts_90k, p[0].keyframe), (40 * 90, true));
    assert_eq!(p[0].data, [0, 0, 0, 2, 0x26, 0x01]);

    // Enhanced RTMP: SequenceStart, CodedFrames (with CompositionTime), CodedFramesX, SequenceEnd.
    let (config, events) = Flv::new()
        .video(0, &[&[0x90, b'h', b'v', b'c', b'1'][..], &record].concat())
        .video(
            0,
            &[0x91, b'h', b'v', b'c', b'1', 0, 0, 80, 0, 0, 0, 1, 0x26],
        )
        .video(40, &[0xA3, b'h', b'v', b'c', b'1', 0, 0, 0, 1, 0x02])
        .video(80, &[0x92, b'h', b'v', b'c', b'1'])
        .read();
    assert_hevc(&config, FlvVideoSignal::Enhanced, &record);
    let p = packets(&events);
    assert_eq!(p.len(), 2);
    assert_eq!(
        (p[0].cts_90k, p[0].keyframe, p[0].data.len()),
        (80 * 90, true, 5)
    );
    assert_eq!(
        (p[1].cts_90k, p[1].keyframe, p[1].dts_90k),
        (0, false, 40 * 90)
    );
    assert!(damage(&events).is_empty());
}

#[test]
fn unsupported_codecs_and_headerless_frames_are_reported_once() {
    let mut flv = Flv::new().video(0, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]));
    let headerless_at = Flv::new().at();
    for i in 0..3 {
        flv = flv
            .video(i * 40, &[0x91, b'v', b'p', b'0', b'8', 0, 0, 0, 7])
            .audio(i * 40, &[0xC2, 0x55]);
    }
    let flv = flv.audio(200, &aac_seq(ASC)).audio(200, &aac_frame(&[3]));
    let (config, events) = flv.read();
    assert!(config.video.is_none());
    let d = damage(&events);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        matches!(d[0], Damage::Dropped { offset, what } if *offset == headerless_at && what.contains("before the first video sequence header"))
    );
    // Codecs kls-rec does not read are not damage: reported once each as not recorded.
    let n: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::NotRecorded(n) => Some(n.what.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(n.len(), 2, "{n:?}");
    assert!(
        n[0].contains("vp08") && n[1].contains("reserved 12"),
        "{n:?}"
    );
    assert_eq!(packets(&events).len(), 1);
}

#[test]
fn mp3_is_configured_from_its_frame_header() {
    // MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo.
    let frame = [0xFF, 0xFB, 0x90, 0x44, 0, 0, 0];
    let (config, events) = Flv::new()
        .audio(0, &[&[0x2F][..], &frame].concat())
        .audio(26, &[&[0x2F][..], &frame].concat())
        .read();
    let a = config.audio.as_ref().unwrap();
    assert_eq!(
        (a.codec, a.sample_rate, a.channels),
        (AudioCodec::Mp3, 44_100, 2)
    );
    assert_eq!(a.flv_sound_byte, 0x2F);
    assert!(a.specific.is_empty());
    assert!(configs(&events).is_empty());
    let p = packets(&events);
    assert_eq!(p.len(), 2);
    assert_eq!(p[1].data, frame);
    assert_eq!(p[1].dts_90k, 26 * 90);
}

#[test]
fn timestamps_follow_the_rollover_and_jumps_are_repaired() {
    let mut flv = Flv::new().audio(0, &aac_seq(ASC));
    let start = u32::MAX - 45;
    for i in 0..4u32 {
        flv = flv.audio(start.wrapping_add(i * 23), &aac_frame(&[1]));
    }
    let jump_at = flv.at();
    let flv = flv
        .audio(start - 1_000, &aac_frame(&[1]))
        .audio(start - 977, &aac_frame(&[1]));
    let (_, events) = flv.read();
    let dts_ms: Vec<i64> = packets(&events).iter().map(|p| p.dts_90k / 90).collect();
    let s = i64::from(start);
    assert_eq!(dts_ms, [s, s + 23, s + 46, s + 69, s + 92, s + 115]);
    assert_eq!(
        damage(&events),
        [&Damage::Discontinuity {
            track: crate::media::Track::AUDIO,
            offset: jump_at,
            from_dts_90k: (s + 69) * 90,
            to_dts_90k: (s - 1_000) * 90,
        }]
    );
}

#[test]
fn empty_and_non_media_tags_are_not_packets() {
    let (_, events) = Flv::new()
        .video(0, &avc_seq(AVC_A))
        .video(0, &avc_frame(true, 0, &[]))
        .video(0, &[0x57, 0])
        .video(40, &avc_frame(true, 0, &[0, 0, 0, 1, 0x65]))
        .tag(18, 0, &on_metadata(vec![]))
        .read();
    assert_eq!(packets(&events).len(), 1);
    assert!(damage(&events).is_empty());
}

#[test]
fn a_malformed_script_or_media_tag_is_reported() {
    let (_, events) = Flv::new()
        .tag(18, 0, &[0x02, 0xFF, 0xFF])
        .video(0, &[0x17, 1])
        .audio(0, &[0xAF])
        .read();
    let d = damage(&events);
    assert_eq!(d.len(), 3, "{d:?}");
    assert!(matches!(d[0], Damage::Dropped { offset: 13, what } if what.contains("AMF0")));
    assert!(matches!(d[1], Damage::Dropped { what, .. } if what.contains("AVCVIDEOPACKET")));
    assert!(matches!(d[2], Damage::Dropped { what, .. } if what.contains("AACPacketType")));
}

mod without_a_record {
    use super::*;
    use crate::input::flv::paramsets::sample::{PPS, SPS, annex_b, length_prefixed};

    const IDR: &[u8] = &[0x65, 0x88, 0x84, 0x00];
    const SLICE: &[u8] = &[0x41, 0x9a, 0x02];

    #[test]
    fn an_annex_b_sequence_header_gets_a_built_record() {
        let body = annex_b(&[SPS, PPS]);
        let frame = length_prefixed(&[IDR]);
        let (config, events) = Flv::new()
            .video(0, &avc_seq(&body))
            .video(0, &avc_frame(true, 0, &frame))
            .read();
        let v = config.video.as_ref().unwrap();
        assert_eq!(config.video_built, Some(BuiltRecord::AnnexB(body.clone())));
        let avc = h264::parse_avcc(&v.record).unwrap();
        assert_eq!((avc.sps, avc.pps), (vec![SPS.to_vec()], vec![PPS.to_vec()]));
        assert_eq!((v.width, v.height), (160, 120));
        assert_eq!(packets(&events)[0].data, frame);
        // Annex B from which no record can be built is carried as received.
        let body = annex_b(&[SPS]);
        let (config, _) = Flv::new().video(0, &avc_seq(&body)).read();
        assert_eq!(config.video.as_ref().unwrap().record, body);
        assert_eq!(config.video_built, None);
    }

    #[test]
    fn in_band_parameter_sets_configure_the_track() {
        let key = length_prefixed(&[SPS, PPS, IDR]);
        let (config, events) = Flv::new()
            .video(0, &avc_frame(false, 0, &length_prefixed(&[SLICE])))
            .video(40, &avc_frame(true, 0, &key))
            .video(80, &avc_frame(false, 0, &length_prefixed(&[SLICE])))
            .read();
        assert_eq!(config.video_built, Some(BuiltRecord::InBand));
        let v = config.video.as_ref().unwrap();
        let expected = super::paramsets::from_annex_b(VideoCodec::H264, &annex_b(&[SPS, PPS]));
        assert_eq!(Ok(v.record.clone()), expected);
        assert_eq!((v.width, v.height), (160, 120));
        let p = packets(&events);
        assert_eq!(p.len(), 2, "the inter frame before the keyframe is dropped");
        assert_eq!(
            (p[0].data.as_slice(), p[0].keyframe),
            (key.as_slice(), true)
        );
        assert!(
            events.iter().any(
                |e| matches!(e, Event::Damage(Damage::Dropped { offset: 13, what })
                if what.contains("before the first video sequence header"))
            ),
            "{events:?}"
        );
    }

    #[test]
    fn incomplete_in_band_sets_are_reported() {
        let key = length_prefixed(&[SPS, IDR]);
        let (config, events) = Flv::new().video(0, &avc_frame(true, 0, &key)).read();
        assert_eq!(config.video, None);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Damage(Damage::Dropped { what, .. })
                if what.contains("in-band parameter sets are incomplete: no PPS"))),
            "{events:?}"
        );
    }
}
