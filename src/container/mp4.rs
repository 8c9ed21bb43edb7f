//! ISOBMFF vocabulary (ISO/IEC 14496-12) and the MPEG-4 descriptors of `esds` (ISO/IEC 14496-1
//! §7.2, ISO/IEC 14496-14 §5.6): the movie clock's epoch, the `tfhd` and `trun` flags of movie
//! fragments and the sample flags, for the reader (`input/mp4/`) and the writer (`mux/mp4/`).
//! The codecs' sample entries, configuration boxes and objectTypeIndications are their
//! descriptors' (`codec/ids.rs`).

/// A box header (§4.2): a 32-bit size and the type; size 1 announces a 64-bit largesize after
/// the type, size 0 a box that runs to the end of what encloses it (the file, at the top).
pub(crate) const BOX_HEADER_LEN: u64 = 8;
pub(crate) const LARGE_BOX_HEADER_LEN: u64 = 16;
pub(crate) const SIZE_IS_LARGE: u32 = 1;
pub(crate) const SIZE_TO_END: u32 = 0;

/// The header of a box of `payload_len` bytes: compact where its size fits 32 bits, with a
/// largesize where it does not.
pub(crate) fn box_header(kind: &[u8; 4], payload_len: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(LARGE_BOX_HEADER_LEN as usize);
    match u32::try_from(payload_len + BOX_HEADER_LEN) {
        Ok(size) if size != SIZE_TO_END && size != SIZE_IS_LARGE => {
            h.extend_from_slice(&size.to_be_bytes());
            h.extend_from_slice(kind);
        }
        Ok(_) | Err(_) => {
            h.extend_from_slice(&SIZE_IS_LARGE.to_be_bytes());
            h.extend_from_slice(kind);
            h.extend_from_slice(&(payload_len + LARGE_BOX_HEADER_LEN).to_be_bytes());
        }
    }
    h
}

/// Seconds from 1904-01-01 (the movie clock's epoch, §8.2.2.3) to 1970-01-01.
pub(crate) const EPOCH_1904_TO_1970_S: i64 = 2_082_844_800;

/// `tfhd` flags (§8.8.7.1): which fields are present, and data offsets relative to the
/// enclosing `moof`.
pub(crate) const TFHD_BASE_DATA_OFFSET: u32 = 0x00_0001;
pub(crate) const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x00_0002;
pub(crate) const TFHD_DEFAULT_DURATION: u32 = 0x00_0008;
pub(crate) const TFHD_DEFAULT_SIZE: u32 = 0x00_0010;
pub(crate) const TFHD_DEFAULT_FLAGS: u32 = 0x00_0020;
pub(crate) const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

/// `trun` flags (§8.8.8.1): which fields are present.
pub(crate) const TRUN_DATA_OFFSET: u32 = 0x00_0001;
pub(crate) const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x00_0004;
pub(crate) const TRUN_SAMPLE_DURATION: u32 = 0x00_0100;
pub(crate) const TRUN_SAMPLE_SIZE: u32 = 0x00_0200;
pub(crate) const TRUN_SAMPLE_FLAGS: u32 = 0x00_0400;
pub(crate) const TRUN_SAMPLE_CTS: u32 = 0x00_0800;

/// Sample flags (§8.8.3.1): sample_is_non_sync_sample, and sample_depends_on 1 (depends on
/// others) and 2 (depends on no other).
pub(crate) const SAMPLE_IS_NON_SYNC: u32 = 0x0001_0000;
pub(crate) const SAMPLE_DEPENDS_ON_OTHERS: u32 = 0x0100_0000;
pub(crate) const SAMPLE_DEPENDS_ON_NONE: u32 = 0x0200_0000;
/// What a writer gives a sync sample, and any other sample.
pub(crate) const SAMPLE_FLAGS_SYNC: u32 = SAMPLE_DEPENDS_ON_NONE;
pub(crate) const SAMPLE_FLAGS_NON_SYNC: u32 = SAMPLE_DEPENDS_ON_OTHERS | SAMPLE_IS_NON_SYNC;

/// MPEG-4 descriptor tags (ISO/IEC 14496-1 §7.2.2.1) inside `esds`.
pub(crate) const ES_DESCR_TAG: u8 = 0x03;
pub(crate) const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
pub(crate) const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;
pub(crate) const SL_CONFIG_DESCR_TAG: u8 = 0x06;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_headers_grow_a_largesize_past_32_bits() {
        assert_eq!(box_header(b"mdat", 4), b"\0\0\0\x0cmdat");
        let large = box_header(b"mdat", u64::from(u32::MAX));
        assert_eq!(&large[..8], b"\0\0\0\x01mdat");
        assert_eq!(large[8..], (u64::from(u32::MAX) + 16).to_be_bytes());
        assert_eq!(box_header(b"mdat", u64::from(u32::MAX) - 8).len(), 8);
    }
}
