//! MPEG-2 transport stream vocabulary (ISO/IEC 13818-1; ATSC A/52 Annex G and ETSI EN 300 468
//! for AC-3): packet and section layouts, stream types, stream ids, descriptor tags, the 5-byte
//! PES timestamp, the PCR and CRC-32/MPEG-2, for the reader (`input/ts/`) and the writer
//! (`mux/ts/`).

/// Transport packet size (§2.4.3.2) and its first byte.
pub(crate) const PACKET_LEN: usize = 188;
pub(crate) const SYNC_BYTE: u8 = 0x47;
/// Bytes of a transport packet after its 4-byte header.
pub(crate) const PACKET_BODY_LEN: usize = PACKET_LEN - 4;

/// PIDs with a fixed meaning (§2.4.3.3 Table 2-3).
pub(crate) const PAT_PID: u16 = 0x0000;
pub(crate) const NULL_PID: u16 = 0x1FFF;

/// table_id values (§2.4.4.4 Table 2-31); 0xFF is stuffing: no section follows.
pub(crate) const TABLE_PAT: u8 = 0x00;
pub(crate) const TABLE_PMT: u8 = 0x02;
pub(crate) const TABLE_STUFFING: u8 = 0xFF;
/// Largest section: 3 header bytes + section_length ≤ 1021 (§2.4.4.4, §2.4.4.9).
pub(crate) const MAX_SECTION_LEN: usize = 3 + 1021;

/// stream_type values (§2.4.4.9 Table 2-34 and its amendments).
pub(crate) const STREAM_TYPE_MPEG2_VIDEO: u8 = 0x02;
pub(crate) const STREAM_TYPE_MPEG1_AUDIO: u8 = 0x03;
pub(crate) const STREAM_TYPE_MPEG2_AUDIO: u8 = 0x04;
pub(crate) const STREAM_TYPE_PRIVATE_SECTIONS: u8 = 0x05;
pub(crate) const STREAM_TYPE_PRIVATE_DATA: u8 = 0x06;
pub(crate) const STREAM_TYPE_AAC: u8 = 0x0F;
pub(crate) const STREAM_TYPE_METADATA: u8 = 0x15;
pub(crate) const STREAM_TYPE_H264: u8 = 0x1B;
pub(crate) const STREAM_TYPE_HEVC: u8 = 0x24;
/// ATSC A/52 Annex G (and ffmpeg's default): AC-3 and E-AC-3 by stream_type alone. DVB signals
/// them as private data with an AC-3 / E-AC-3 descriptor instead.
pub(crate) const STREAM_TYPE_AC3: u8 = 0x81;
pub(crate) const STREAM_TYPE_EAC3: u8 = 0x87;

/// PES stream_id values (§2.4.3.7 Table 2-22): the first video and audio streams, and
/// private_stream_1, which carries AC-3 and E-AC-3 (A/52 Annex G).
pub(crate) const STREAM_ID_VIDEO: u8 = 0xE0;
pub(crate) const STREAM_ID_AUDIO: u8 = 0xC0;
pub(crate) const STREAM_ID_PRIVATE_1: u8 = 0xBD;
/// packet_start_code_prefix (§2.4.3.7).
pub(crate) const PES_START_CODE: [u8; 3] = [0x00, 0x00, 0x01];

/// descriptor_tag values: registration_descriptor (§2.6.8), and the DVB AC-3 and enhanced AC-3
/// descriptors (EN 300 468 §6.1, Annex D).
pub(crate) const DESCRIPTOR_REGISTRATION: u8 = 0x05;
pub(crate) const DESCRIPTOR_DVB_AC3: u8 = 0x6A;
pub(crate) const DESCRIPTOR_DVB_EAC3: u8 = 0x7A;

/// adaptation_field flag bits (§2.4.3.4).
pub(crate) const AF_DISCONTINUITY: u8 = 0x80;
pub(crate) const AF_RANDOM_ACCESS: u8 = 0x40;
pub(crate) const AF_PCR: u8 = 0x10;

/// PTS, DTS and PCR base are 33-bit counters that wrap (§2.4.3.7).
pub(crate) const WRAP_90K: i64 = 1 << 33;
/// Where ffmpeg's MPEG-TS output, and kls-rec's, starts its timestamps: 1.4 s. The writer adds
/// it to every file-relative time; the reader takes it off files that start there.
pub(crate) const TS_OFFSET_90K: i64 = 126_000;

/// The 4-byte transport packet header (§2.4.3.2), transport_error and priority clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PacketHeader {
    pub(crate) pid: u16,
    pub(crate) unit_start: bool,
    pub(crate) adaptation_field: bool,
    pub(crate) payload: bool,
    pub(crate) continuity_counter: u8,
}

impl PacketHeader {
    pub(crate) fn bytes(self) -> [u8; 4] {
        let afc = (u8::from(self.adaptation_field) << 1) | u8::from(self.payload);
        [
            SYNC_BYTE,
            (u8::from(self.unit_start) << 6) | ((self.pid >> 8) as u8 & 0x1F),
            self.pid as u8,
            (afc << 4) | (self.continuity_counter & 0x0F),
        ]
    }

    /// The header of a packet that starts with [`SYNC_BYTE`], with its transport_error bit.
    pub(crate) fn parse(p: &[u8; 4]) -> (PacketHeader, bool) {
        let afc = (p[3] >> 4) & 0x03;
        let header = PacketHeader {
            pid: u16::from_be_bytes([p[1] & 0x1F, p[2]]),
            unit_start: p[1] & 0x40 != 0,
            adaptation_field: afc & 0x02 != 0,
            payload: afc & 0x01 != 0,
            continuity_counter: p[3] & 0x0F,
        };
        (header, p[1] & 0x80 != 0)
    }
}

/// PTS_DTS_flags prefixes of the 5-byte timestamps (§2.4.3.7): PTS alone, PTS before a DTS,
/// the DTS.
pub(crate) const PREFIX_PTS_ONLY: u8 = 0b0010;
pub(crate) const PREFIX_PTS: u8 = 0b0011;
pub(crate) const PREFIX_DTS: u8 = 0b0001;

/// A 33-bit timestamp (taken modulo 2^33) in the 5-byte PES layout: 4-bit prefix, then 3 + 15
/// + 15 bits, each group followed by a marker_bit.
pub(crate) fn timestamp_bytes(prefix: u8, t_90k: i64) -> [u8; 5] {
    let t = t_90k.rem_euclid(WRAP_90K) as u64;
    [
        (prefix << 4) | (((t >> 29) as u8) & 0x0E) | 1,
        (t >> 22) as u8,
        (((t >> 14) as u8) & 0xFE) | 1,
        (t >> 7) as u8,
        ((t << 1) as u8) | 1,
    ]
}

/// The 33-bit value of a 5-byte PES timestamp; prefix and marker bits are not checked.
pub(crate) fn parse_timestamp(b: &[u8; 5]) -> u64 {
    (u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

/// program_clock_reference_base (33 bits, taken modulo 2^33), 6 reserved bits, extension
/// (9 bits) = 0.
pub(crate) fn pcr_bytes(base_90k: i64) -> [u8; 6] {
    let b = base_90k.rem_euclid(WRAP_90K) as u64;
    [
        (b >> 25) as u8,
        (b >> 17) as u8,
        (b >> 9) as u8,
        (b >> 1) as u8,
        (((b & 1) as u8) << 7) | 0x7E,
        0x00,
    ]
}

/// One entry per byte value of CRC-32/MPEG-2, computed at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-32/MPEG-2 (Annex A): polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no
/// final XOR. Every PSI section ends with it; a section including its CRC gives 0.
pub(crate) fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xFFFF_FFFF, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_check_value() {
        // The catalogue check value of CRC-32/MPEG-2.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn section_with_its_crc_sums_to_zero() {
        // A PAT as ffmpeg writes it (program 1 → PMT PID 0x1000), CRC included.
        let pat = [
            0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
            0x04, 0xB2,
        ];
        assert_eq!(crc32_mpeg2(&pat), 0);
    }

    #[test]
    fn headers_and_timestamps_read_back() {
        let h = PacketHeader {
            pid: 0x1ABC,
            unit_start: true,
            adaptation_field: true,
            payload: false,
            continuity_counter: 0x1B,
        };
        let b = h.bytes();
        assert_eq!(b, [0x47, 0x5A, 0xBC, 0x2B]);
        let (back, error) = PacketHeader::parse(&b);
        assert!(!error);
        assert_eq!(
            back,
            PacketHeader {
                continuity_counter: 0x0B,
                ..h
            }
        );
        for t in [0, 1, 126_000, WRAP_90K - 1] {
            assert_eq!(parse_timestamp(&timestamp_bytes(PREFIX_PTS, t)), t as u64);
        }
        assert_eq!(
            parse_timestamp(&timestamp_bytes(PREFIX_DTS, -1)),
            WRAP_90K as u64 - 1
        );
    }
}
