//! Program-specific information (ISO/IEC 13818-1 §2.4.4): the program association section
//! (§2.4.4.3) and the TS program map section (§2.4.4.8), each sent in one transport packet.

use super::{PMT_PID, PROGRAM_NUMBER, TRANSPORT_STREAM_ID};
use crate::container::ts::{PACKET_LEN, PacketHeader, TABLE_PAT, TABLE_PMT, crc32_mpeg2};

/// One elementary stream as the PMT lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PmtStream {
    /// stream_type (§2.4.4.9 Table 2-34).
    pub(crate) stream_type: u8,
    pub(crate) pid: u16,
}

/// The program association section: program [`PROGRAM_NUMBER`] → PMT on [`PMT_PID`].
pub(crate) fn pat_section() -> Vec<u8> {
    let mut body = Vec::with_capacity(4);
    body.extend_from_slice(&PROGRAM_NUMBER.to_be_bytes()); // program_number
    body.extend_from_slice(&(0xE000 | PMT_PID).to_be_bytes()); // reserved '111' + program_map_PID
    section(TABLE_PAT, TRANSPORT_STREAM_ID, &body)
}

/// The program map section listing `streams` in order, PCR carried on `pcr_pid`.
pub(crate) fn pmt_section(pcr_pid: u16, streams: &[PmtStream]) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + 5 * streams.len());
    body.extend_from_slice(&(0xE000 | pcr_pid).to_be_bytes()); // reserved '111' + PCR_PID
    body.extend_from_slice(&0xF000u16.to_be_bytes()); // reserved '1111' + program_info_length 0
    for s in streams {
        body.push(s.stream_type); // stream_type
        body.extend_from_slice(&(0xE000 | s.pid).to_be_bytes()); // reserved + elementary_PID
        body.extend_from_slice(&0xF000u16.to_be_bytes()); // reserved + ES_info_length 0
    }
    section(TABLE_PMT, PROGRAM_NUMBER, &body)
}

/// A long-form section (§2.4.4.10 syntax): header, `body`, CRC-32. Version 0, current, one
/// section: the tables never change within a recording file.
fn section(table_id: u8, table_id_extension: u16, body: &[u8]) -> Vec<u8> {
    // section_length counts from after itself through the CRC: 5 header bytes + body + 4.
    let section_length = (5 + body.len() + 4) as u16;
    let mut s = Vec::with_capacity(3 + section_length as usize);
    s.push(table_id); // table_id
    // section_syntax_indicator 1, '0', reserved '11', section_length (12 bits)
    s.extend_from_slice(&(0xB000 | (section_length & 0x0FFF)).to_be_bytes());
    s.extend_from_slice(&table_id_extension.to_be_bytes()); // transport_stream_id / program_number
    s.push(0xC1); // reserved '11', version_number 0, current_next_indicator 1
    s.push(0x00); // section_number
    s.push(0x00); // last_section_number
    s.extend_from_slice(body);
    let crc = crc32_mpeg2(&s);
    s.extend_from_slice(&crc.to_be_bytes()); // CRC_32
    s
}

/// One transport packet carrying a whole section: payload_unit_start set, pointer_field 0,
/// the rest stuffed with 0xFF (§2.4.4.1). `cc` is the packet's continuity_counter.
pub(crate) fn section_packet(pid: u16, cc: u8, section: &[u8]) -> [u8; PACKET_LEN] {
    let mut p = [0xFFu8; PACKET_LEN];
    let header = PacketHeader {
        pid,
        unit_start: true,
        adaptation_field: false,
        payload: true,
        continuity_counter: cc,
    };
    p[..4].copy_from_slice(&header.bytes());
    p[4] = 0x00; // pointer_field
    // Our sections are at most 12 + 5 × 2 + 4 bytes: always fits in one packet.
    let n = section.len().min(PACKET_LEN - 5);
    p[5..5 + n].copy_from_slice(&section[..n]);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ts::{STREAM_TYPE_AAC, STREAM_TYPE_H264};
    use crate::mux::ts::{AUDIO_PID, VIDEO_PID};

    #[test]
    fn pat_matches_ffmpeg() {
        assert_eq!(
            pat_section(),
            [
                0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
                0x04, 0xB2
            ]
        );
    }

    #[test]
    fn pmt_lists_streams_and_checks() {
        let pmt = pmt_section(
            VIDEO_PID,
            &[
                PmtStream {
                    stream_type: STREAM_TYPE_H264,
                    pid: VIDEO_PID,
                },
                PmtStream {
                    stream_type: STREAM_TYPE_AAC,
                    pid: AUDIO_PID,
                },
            ],
        );
        assert_eq!(&pmt[..3], &[0x02, 0xB0, 0x17]);
        assert_eq!(&pmt[8..10], &[0xE1, 0x00]); // PCR_PID 0x100
        assert_eq!(&pmt[12..17], &[0x1B, 0xE1, 0x00, 0xF0, 0x00]);
        assert_eq!(&pmt[17..22], &[0x0F, 0xE1, 0x01, 0xF0, 0x00]);
        assert_eq!(crc32_mpeg2(&pmt), 0);
        let p = section_packet(PMT_PID, 3, &pmt);
        assert_eq!(&p[..5], &[0x47, 0x50, 0x00, 0x13, 0x00]);
        assert_eq!(p[5 + pmt.len()], 0xFF);
    }
}
