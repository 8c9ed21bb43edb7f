//! Fragmented MP4 (ISO/IEC 14496-12 §8.8) as CMAF (ISO/IEC 23000-19) uses it: the init segment
//! (`ftyp` + `moov` with `mvex`, written by the same `moov`/`stsd` writers as a whole file) and
//! the head of one fragment (`moof` + the `mdat` header), whose payloads the caller writes after
//! it unchanged.
//!
//! ```text
//! ftyp                 major iso6, compatible iso6 cmfc mp41 (CMAF structural brand, §7.2)
//! moov                 mvhd, trak (tkhd, mdia … stsd: the source's configuration, empty tables)
//!   mvex/trex          per track, no defaults
//! ─── per fragment ───
//! moof
//!   mfhd               sequence_number, from 1
//!   traf               per track with samples in the fragment, video first
//!     tfhd             default-base-is-moof (CMAF §7.5.16), track_ID
//!     tfdt             version 1: the first sample's DTS, 90 kHz
//!     trun             version 1 (signed composition offsets), data offset, and per sample:
//!                      duration, size, flags (key or not), composition offset
//! mdat                 the tracks' payloads, one track after the other, in the traf order
//! ```

use anyhow::{Result, bail};

use super::bmff::BoxWriter;
use super::layout::Layout;
use super::moov;
use super::plan::MoviePlan;
use crate::container::mp4::{
    BOX_HEADER_LEN, SAMPLE_FLAGS_NON_SYNC, SAMPLE_FLAGS_SYNC, TFHD_DEFAULT_BASE_IS_MOOF,
    TRUN_DATA_OFFSET, TRUN_SAMPLE_CTS, TRUN_SAMPLE_DURATION, TRUN_SAMPLE_FLAGS, TRUN_SAMPLE_SIZE,
    box_header,
};
use crate::media::CodecConfig;

/// The init segment of a fragmented file with the tracks `config` configures (video first, as
/// track 1, as the whole-file writer numbers them).
pub(crate) fn init_segment(config: &CodecConfig, start_time_s: i64) -> Result<Vec<u8>> {
    let layout = Layout::new(config)?;
    let plan = MoviePlan::fragmented(layout.tracks(config), start_time_s);
    let mut w = BoxWriter::new();
    // §4.3 File type, with the CMAF structural brand.
    w.open(b"ftyp");
    w.bytes(b"iso6"); // major_brand
    w.u32(0); // minor_version
    w.bytes(b"iso6");
    w.bytes(b"cmfc");
    w.bytes(b"mp41");
    w.close();
    let mut out = w.finish()?;
    out.extend(moov::write_moov(&plan, 0, false)?);
    Ok(out)
}

/// One sample of a fragment, in the 90 kHz media clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FragmentSample {
    pub(crate) duration_90k: u32,
    pub(crate) size: u32,
    pub(crate) keyframe: bool,
    pub(crate) cts_90k: i32,
}

/// One track's run of samples in a fragment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TrackFragment<'a> {
    pub(crate) track_id: u32,
    /// DTS of the first sample (`tfdt`).
    pub(crate) base_dts_90k: u64,
    pub(crate) samples: &'a [FragmentSample],
}

/// `moof` and the `mdat` header of one fragment; the tracks' payloads follow, in `tracks` order.
pub(crate) fn fragment_head(sequence: u32, tracks: &[TrackFragment<'_>]) -> Result<Vec<u8>> {
    let payload: u64 = tracks
        .iter()
        .flat_map(|t| t.samples)
        .map(|s| u64::from(s.size))
        .sum();
    if u32::try_from(payload + BOX_HEADER_LEN).is_err() {
        bail!("fmp4: a fragment of {payload} bytes exceeds 4 GiB");
    }
    // The moof's size does not depend on the data offsets it holds.
    let moof_len = moof(sequence, tracks, 0)?.len() as u64;
    let mut out = moof(sequence, tracks, moof_len + BOX_HEADER_LEN)?;
    out.extend_from_slice(&box_header(b"mdat", payload));
    Ok(out)
}

/// §8.8.4 Movie fragment; `data_start` is the offset of the first payload byte from the
/// `moof`'s first byte.
fn moof(sequence: u32, tracks: &[TrackFragment<'_>], data_start: u64) -> Result<Vec<u8>> {
    let mut w = BoxWriter::new();
    w.open(b"moof");
    w.open_full(b"mfhd", 0, 0); // §8.8.5
    w.u32(sequence);
    w.close();
    let mut offset = data_start;
    for t in tracks {
        w.open(b"traf");
        w.open_full(b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF); // §8.8.7
        w.u32(t.track_id);
        w.close();
        w.open_full(b"tfdt", 1, 0); // §8.8.12
        w.u64(t.base_dts_90k);
        w.close();
        let flags = TRUN_DATA_OFFSET
            | TRUN_SAMPLE_DURATION
            | TRUN_SAMPLE_SIZE
            | TRUN_SAMPLE_FLAGS
            | TRUN_SAMPLE_CTS;
        w.open_full(b"trun", 1, flags); // §8.8.8
        w.u32(t.samples.len() as u32);
        let Ok(data_offset) = i32::try_from(offset) else {
            bail!("fmp4: a data offset of {offset} bytes does not fit 'trun'");
        };
        w.i32(data_offset);
        for s in t.samples {
            w.u32(s.duration_90k);
            w.u32(s.size);
            w.u32(if s.keyframe {
                SAMPLE_FLAGS_SYNC
            } else {
                SAMPLE_FLAGS_NON_SYNC
            });
            w.i32(s.cts_90k);
            offset += u64::from(s.size);
        }
        w.close();
        w.close();
    }
    w.close();
    w.finish()
}
