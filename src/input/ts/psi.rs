//! Program-specific information as read (ISO/IEC 13818-1 §2.4.4): the program association
//! section (§2.4.4.3) and the TS program map section (§2.4.4.8), reassembled across packets
//! (bounded by the 1021-byte section_length limit of §2.4.4.4) and checked with their CRC-32.

use crate::codec::ids;
use crate::container::ts::{
    DESCRIPTOR_DVB_AC3, DESCRIPTOR_DVB_EAC3, DESCRIPTOR_REGISTRATION, MAX_SECTION_LEN,
    STREAM_TYPE_METADATA as METADATA, STREAM_TYPE_MPEG2_VIDEO, STREAM_TYPE_PRIVATE_DATA as PRIVATE,
    STREAM_TYPE_PRIVATE_SECTIONS, TABLE_PAT, TABLE_PMT, TABLE_STUFFING, crc32_mpeg2,
};
use crate::media::{AudioCodec, VideoCodec};

/// Gathers one PID's section bytes from packet payloads.
#[derive(Debug, Default)]
pub(crate) struct SectionBuffer {
    buf: Vec<u8>,
    active: bool,
}

impl SectionBuffer {
    /// Adds a payload; returns a complete section when one ends in it. Sections that start in
    /// the same packet after the first are not needed for PAT/PMT and are ignored.
    pub(crate) fn push(
        &mut self,
        payload: &[u8],
        unit_start: bool,
    ) -> Result<Option<Vec<u8>>, String> {
        let data = if unit_start {
            let pointer = usize::from(*payload.first().ok_or("empty PSI payload")?);
            let rest = payload.get(1..).unwrap_or_default();
            if self.active {
                // The bytes before the pointer end the previous section.
                self.extend(rest.get(..pointer).unwrap_or(rest));
                if let Some(s) = self.complete() {
                    self.start(rest.get(pointer..).unwrap_or_default());
                    return Ok(Some(s));
                }
            }
            self.start(rest.get(pointer..).ok_or("pointer_field past the packet")?);
            return Ok(self.complete());
        } else if self.active {
            payload
        } else {
            return Ok(None);
        };
        self.extend(data);
        Ok(self.complete())
    }

    fn start(&mut self, data: &[u8]) {
        self.buf.clear();
        self.active = true;
        self.extend(data);
    }

    fn extend(&mut self, data: &[u8]) {
        let room = MAX_SECTION_LEN.saturating_sub(self.buf.len());
        self.buf.extend_from_slice(&data[..data.len().min(room)]);
    }

    fn complete(&mut self) -> Option<Vec<u8>> {
        // table_id 0xFF is stuffing (§2.4.4.1): no section follows.
        if self.buf.first() == Some(&TABLE_STUFFING) {
            self.active = false;
            return None;
        }
        let len = self
            .buf
            .get(1..3)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]]) & 0x0FFF))?;
        if self.buf.len() < 3 + len {
            return None;
        }
        self.active = false;
        Some(self.buf[..3 + len].to_vec())
    }
}

/// A long-form section's table_id and body (between the 8-byte header and the CRC), after the
/// CRC check.
fn body(section: &[u8], want_table: u8, name: &str) -> Result<Vec<u8>, String> {
    if section.len() < 12 {
        return Err(format!(
            "{name}: section of {} bytes is too short",
            section.len()
        ));
    }
    if section[0] != want_table {
        return Err(format!(
            "{name}: table_id 0x{:02x}, expected 0x{want_table:02x}",
            section[0]
        ));
    }
    if crc32_mpeg2(section) != 0 {
        return Err(format!("{name}: CRC_32 mismatch"));
    }
    // current_next_indicator 0: a table not yet in force.
    if section[5] & 0x01 == 0 {
        return Err(format!("{name}: not current (current_next_indicator 0)"));
    }
    Ok(section[8..section.len() - 4].to_vec())
}

/// §2.4.4.3: the PMT PID of the first program (program_number ≠ 0).
pub(crate) fn parse_pat(section: &[u8]) -> Result<Option<u16>, String> {
    let b = body(section, TABLE_PAT, "program_association_section")?;
    Ok(b.chunks_exact(4)
        .find(|e| u16::from_be_bytes([e[0], e[1]]) != 0)
        .map(|e| u16::from_be_bytes([e[2] & 0x1F, e[3]])))
}

/// One elementary stream of the PMT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PmtStream {
    pub(crate) stream_type: u8,
    pub(crate) pid: u16,
    /// The format_identifier of its registration_descriptor (tag 0x05, §2.6.8), or the
    /// metadata_format_identifier of its metadata_descriptor (tag 0x26, §2.6.60), if any; DVB's
    /// AC-3 and enhanced AC-3 descriptors (ETSI EN 300 468 tags 0x6A, 0x7A) give `AC-3` / `EAC3`,
    /// the registrations ATSC uses for the same streams.
    pub(crate) format: Option<[u8; 4]>,
}

/// A program map: its own registration (SCTE 35 §8.1 puts `CUEI` there) and its streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pmt {
    pub(crate) format: Option<[u8; 4]>,
    pub(crate) streams: Vec<PmtStream>,
}

/// What a PMT entry carries, as FFmpeg 5.1's `mpegts` demuxer names it (`codec_type`,
/// `codec_name`, `None` where it knows none) and as kls-rec's reports call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EsKind {
    /// A codec kls-rec reads.
    Video(VideoCodec),
    Audio(AudioCodec),
    /// Anything else: not recorded.
    Other {
        codec_type: Option<&'static str>,
        codec_name: Option<&'static str>,
        label: &'static str,
    },
}

/// Classifies a PMT entry (ISO/IEC 13818-1 Table 2-34; the registration formats FFmpeg knows).
pub(crate) fn classify(program_format: Option<[u8; 4]>, s: &PmtStream) -> EsKind {
    let other = |codec_type, codec_name, label| EsKind::Other {
        codec_type: Some(codec_type),
        codec_name,
        label,
    };
    let unnamed = |label| EsKind::Other {
        codec_type: None,
        codec_name: None,
        label,
    };
    // The codecs kls-rec reads, by stream_type or, as private data, by registration (ATSC
    // A/52 Annex G and DVB's AC-3 descriptors for AC-3 and E-AC-3).
    if let Some(codec) = ids::video_by_ts(s.stream_type, s.format.as_ref()) {
        return EsKind::Video(codec);
    }
    if let Some(codec) = ids::audio_by_ts(s.stream_type, s.format.as_ref()) {
        return EsKind::Audio(codec);
    }
    match (s.stream_type, s.format.as_ref().map(|f| &f[..])) {
        (0x86, _) if program_format == Some(*b"CUEI") => other("data", Some("scte_35"), "SCTE-35"),
        (METADATA | PRIVATE, Some(b"ID3 ")) => other("data", Some("timed_id3"), "timed ID3"),
        (METADATA | PRIVATE, Some(b"KLVA")) => other("data", Some("klv"), "KLV"),
        (0x01, _) => other("video", Some("mpeg1video"), "MPEG-1 video"),
        (STREAM_TYPE_MPEG2_VIDEO, _) => other("video", Some("mpeg2video"), "MPEG-2 video"),
        (0x10, _) => other("video", Some("mpeg4"), "MPEG-4 Part 2 video"),
        (0x11, _) => other("audio", Some("aac_latm"), "AAC LATM audio"),
        (PRIVATE, Some(b"Opus")) => other("audio", Some("opus"), "Opus audio"),
        // FFmpeg 5.1 reads a private-data PES it cannot place as bin_data; metadata PES without
        // a format it knows, and private sections, it lists without a codec.
        (PRIVATE, _) => other("data", Some("bin_data"), "private data"),
        (METADATA, _) => unnamed("metadata"),
        (STREAM_TYPE_PRIVATE_SECTIONS, _) => unnamed("private sections"),
        _ => unnamed("unknown stream"),
    }
}

/// The format identifier a descriptor loop names, if any (see [`PmtStream::format`]); with
/// `metadata` false, only a registration_descriptor's (as FFmpeg reads a program loop).
fn descriptor_format(mut d: &[u8], metadata: bool) -> Option<[u8; 4]> {
    while d.len() >= 2 {
        let (tag, len) = (d[0], usize::from(d[1]));
        let body = d.get(2..2 + len)?;
        match tag {
            DESCRIPTOR_REGISTRATION if len >= 4 => {
                return Some([body[0], body[1], body[2], body[3]]);
            }
            DESCRIPTOR_DVB_AC3 if metadata => return Some(*b"AC-3"),
            DESCRIPTOR_DVB_EAC3 if metadata => return Some(*b"EAC3"),
            // metadata_application_format (2), its identifier when 0xFFFF (4), metadata_format
            // (1), then metadata_format_identifier (4) when it is 0xFF.
            0x25 | 0x26 if metadata => {
                let app = u16::from_be_bytes([*body.first()?, *body.get(1)?]);
                let at = if app == 0xFFFF { 6 } else { 2 };
                if body.get(at) == Some(&0xFF) {
                    let f = body.get(at + 1..at + 5)?;
                    return Some([f[0], f[1], f[2], f[3]]);
                }
            }
            _ => {}
        }
        d = &d[2 + len..];
    }
    None
}

/// §2.4.4.8: the elementary streams listed.
pub(crate) fn parse_pmt(section: &[u8]) -> Result<Pmt, String> {
    let b = body(section, TABLE_PMT, "TS_program_map_section")?;
    let info_len = b
        .get(2..4)
        .map(|x| usize::from(u16::from_be_bytes([x[0], x[1]]) & 0x0FFF))
        .ok_or("TS_program_map_section: program_info_length missing")?;
    let info = b
        .get(4..4 + info_len)
        .ok_or("TS_program_map_section: program_info_length past the section")?;
    let mut rest = &b[4 + info_len..];
    let mut out = Pmt {
        format: descriptor_format(info, false),
        streams: Vec::new(),
    };
    while rest.len() >= 5 {
        let es_info_len = usize::from(u16::from_be_bytes([rest[3], rest[4]]) & 0x0FFF);
        out.streams.push(PmtStream {
            stream_type: rest[0],
            pid: u16::from_be_bytes([rest[1] & 0x1F, rest[2]]),
            format: descriptor_format(rest.get(5..5 + es_info_len).unwrap_or(&rest[5..]), true),
        });
        rest = rest.get(5 + es_info_len..).unwrap_or_default();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ts::PACKET_LEN;
    use crate::mux::ts::PMT_PID;

    /// PAT and PMT as kls-rec's writer makes them.
    fn writer_segment() -> Vec<u8> {
        let config = crate::media::CodecConfig {
            video: None,
            ..crate::testutil::fixtures::h264_aac()
        };
        let mut w = crate::mux::ts::TsWriter::new(&config).unwrap();
        let mut out = Vec::new();
        w.start_segment(&mut out).unwrap();
        out
    }

    #[test]
    fn reads_the_writers_tables() {
        let seg = writer_segment();
        let (pat, pmt) = seg.split_at(PACKET_LEN);
        let mut b = SectionBuffer::default();
        let s = b.push(&pat[4..], true).unwrap().unwrap();
        assert_eq!(parse_pat(&s).unwrap(), Some(PMT_PID));
        let s = SectionBuffer::default()
            .push(&pmt[4..], true)
            .unwrap()
            .unwrap();
        assert_eq!(
            parse_pmt(&s).unwrap().streams,
            [PmtStream {
                stream_type: 0x0F,
                pid: 0x101,
                format: None,
            }]
        );
        // A flipped bit fails the CRC.
        let mut bad = s.clone();
        bad[10] ^= 1;
        assert!(parse_pmt(&bad).unwrap_err().contains("CRC"));
    }

    /// The data PIDs of `scripts/ts-add-data.py`: CUEI in the program loop, ID3 and KLVA on
    /// their streams, named as FFmpeg 5.1 names them.
    #[test]
    fn data_streams_are_classified_by_their_descriptors() {
        let ts =
            std::fs::read(crate::testutil::testdata("data-streams/klv-1764072000.ts")).unwrap();
        let pmt = &ts[2 * PACKET_LEN..3 * PACKET_LEN];
        let s = SectionBuffer::default()
            .push(&pmt[4..], true)
            .unwrap()
            .unwrap();
        let pmt = parse_pmt(&s).unwrap();
        assert_eq!(pmt.format, Some(*b"CUEI"));
        let names: Vec<_> = pmt
            .streams
            .iter()
            .map(|st| match classify(pmt.format, st) {
                EsKind::Video(c) => format!("video {c:?}"),
                EsKind::Audio(c) => format!("audio {c:?}"),
                EsKind::Other {
                    codec_type,
                    codec_name,
                    ..
                } => format!("{codec_type:?} {codec_name:?} 0x{:x}", st.pid),
            })
            .collect();
        assert_eq!(
            names,
            [
                "video H264",
                "audio Aac",
                r#"Some("data") Some("scte_35") 0x102"#,
                r#"Some("data") Some("timed_id3") 0x103"#,
                r#"Some("data") Some("klv") 0x104"#,
            ]
        );
        // Without descriptors: private data is FFmpeg's bin_data, metadata has no codec.
        let bare = |stream_type| PmtStream {
            stream_type,
            pid: 0x200,
            format: None,
        };
        assert!(matches!(
            classify(None, &bare(0x06)),
            EsKind::Other {
                codec_name: Some("bin_data"),
                ..
            }
        ));
        assert!(matches!(
            classify(None, &bare(0x15)),
            EsKind::Other {
                codec_type: None,
                ..
            }
        ));
        // Without the program's CUEI, stream_type 0x86 is nothing FFmpeg knows.
        assert!(matches!(
            classify(None, &pmt.streams[2]),
            EsKind::Other {
                codec_type: None,
                ..
            }
        ));
    }

    #[test]
    fn sections_span_packets_and_hostile_pointers_are_errors() {
        let seg = writer_segment();
        let pat = &seg[4..PACKET_LEN];
        let mut b = SectionBuffer::default();
        // Pointer 0, then the section split after 6 bytes.
        assert_eq!(b.push(&pat[..6], true).unwrap(), None);
        let s = b.push(&pat[6..], false).unwrap().unwrap();
        assert_eq!(parse_pat(&s).unwrap(), Some(PMT_PID));
        assert!(SectionBuffer::default().push(&[200, 0, 0], true).is_err());
        assert!(SectionBuffer::default().push(&[], true).is_err());
        assert!(parse_pat(&[0; 3]).is_err());
    }

    /// AC-3 and E-AC-3 by ATSC stream type, by registration, and by DVB descriptor.
    #[test]
    fn ac3_is_read_in_every_signalling() {
        let ac3 = EsKind::Audio(AudioCodec::Ac3);
        let eac3 = EsKind::Audio(AudioCodec::Eac3);
        let kind = |stream_type, descriptors: &[u8]| {
            let stream = PmtStream {
                stream_type,
                pid: 0x101,
                format: descriptor_format(descriptors, true),
            };
            classify(None, &stream)
        };
        assert_eq!(kind(0x81, &[]), ac3);
        assert_eq!(kind(0x87, &[]), eac3);
        assert_eq!(kind(0x06, &[0x05, 4, b'A', b'C', b'-', b'3']), ac3);
        assert_eq!(kind(0x06, &[0x05, 4, b'E', b'A', b'C', b'3']), eac3);
        // DVB: an ISO 639 language descriptor, then the AC-3 / enhanced AC-3 descriptor.
        assert_eq!(kind(0x06, &[0x0A, 4, b'e', b'n', b'g', 0, 0x6A, 1, 0]), ac3);
        assert_eq!(kind(0x06, &[0x7A, 1, 0]), eac3);
        // Not in a program loop.
        assert_eq!(descriptor_format(&[0x6A, 1, 0], false), None);
    }
}
