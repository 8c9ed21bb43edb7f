//! The MP4 recording writer (`Format::Mp4`, README "Outputs"): ISO/IEC 14496-12 (ISO base media
//! file format) with ISO/IEC 14496-14 (MP4) and ISO/IEC 14496-15 (AVC/HEVC carriage), faststart
//! layout, payloads and decoder configuration bytes carried over unchanged.
//!
//! ```text
//!                           the head, written first ([`Head`]):
//! ftyp                      isom, minor 512, compatible isom iso2 [avc1] mp41 [iso4]
//! moov
//!   mvhd                    times from the recording start (1904 epoch), never "now"
//!   trak                    video first (track_ID 1), then audio; only configured tracks
//!     tkhd
//!     edts/elst             when the track presents from a PTS other than movie time 0
//!     mdia/mdhd, hdlr
//!     mdia/minf/vmhd|smhd, dinf/dref/url
//!     mdia/minf/stbl
//!       stsd                avc1+avcC | hvc1+hvcC (source record) | mp4a+esds (source ASC)
//!       stts ctts stss      decode deltas, composition offsets, keyframes
//!       stsc stsz stco|co64 chunking, sizes, offsets (co64 once one passes 4 GiB)
//! mdat                      header: 64-bit largesize when over 4 GiB
//!                           then the payloads, in arrival order, chunked ([`layout`])
//! ```
//!
//! Boxes are written here rather than with a crate: the `mp4` crate rebuilds avcC and the
//! AudioSpecificConfig and writes no edit lists (DEPENDENCIES.md), and `mp4-atom` would still
//! leave the sample tables and layout to us; the boxes themselves are ~300 lines more, and
//! owning them gives deterministic bytes with no young API pinned.
//!
//! `moov` comes first but describes every sample, so the writer must know the file's
//! [`layout`] (sample tables and chunking) before the first payload byte goes out. Two ways,
//! one box writer ([`Head`]):
//!
//! - **Planned** ([`Mp4Muxer::follow`]), when the recording pipeline ran an index pass (inputs
//!   that can be read twice; `record::index_pass` says when) through the same readers and rules:
//!   it built the file's [`FilePlan`]; `ftyp` + `moov` + the `mdat` header are written at once,
//!   then each packet straight into the final [`OutFile`], hashed as it is written, each checked
//!   against the plan ([`follow`]). The MD5 is done with the last packet.
//! - **Spooled** ([`Mp4Muxer::open`]), otherwise (stdin, streamed objects): packets
//!   stream into a [`Spool`] while the layout is learnt; [`Muxer::finish`] writes the head,
//!   then copies the spool after it.
//!
//! Both give the same bytes: the planned head is built from a layout the index pass learnt with
//! the same code the spooling writer runs.
//!
//! Timescales: each track uses 1000 when every DTS and composition offset is a whole
//! millisecond (FLV and RTMP sources), else 90000, so every timestamp survives exactly; the
//! movie uses 1000 when all tracks do. See [`plan`] for the edit lists. Composition offsets
//! are written as received (`ctts` version 1 when one is negative), except when a sample would
//! present before the track's first decode time, which no edit can express: then every offset
//! of that track is raised by the same amount, so presentation times are still exact.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};

use super::{CHANGED, FileClose, FileOpen, Format, Muxer, Produced, SessionStart};
use crate::container;
use crate::media::{CodecConfig, Packet};
use crate::sink::local::{OutFile, Spool};

mod bmff;
mod follow;
pub(crate) mod fragment;
mod index;
mod layout;
mod moov;
mod plan;
mod stsd;
#[cfg(test)]
mod tests;

use follow::Follower;
use layout::Layout;
pub use layout::{FilePlan, Planner};
use plan::MoviePlan;

/// Version of the bytes this writer produces. Bump it whenever any output byte changes for the
/// same input, so a changed ETag is always deliberate.
pub const FORMAT_VERSION: u32 = 5;

pub struct Mp4Muxer {
    dir: PathBuf,
    start_time_s: i64,
    config: CodecConfig,
    media: Media,
}

/// Where the media goes, by how the file learns its layout.
enum Media {
    /// Into a spool, while the layout is learnt; `finish` writes the head, then copies.
    Spooled(Box<Spooled>),
    /// Straight into the final file, whose head was written from the index pass's plan.
    Planned(Box<Planned>),
    /// The file cannot be completed: `finish` reports why.
    Failed(anyhow::Error),
}

struct Spooled {
    layout: Layout,
    spool: Spool,
}

struct Planned {
    plan: FilePlan,
    follower: Follower,
    /// Push sessions begun so far.
    sessions: usize,
    /// The input of a push that stopped early on an error in the write pass (one the index
    /// pass need not have met, such as a full disk): the packets no longer follow the plan.
    ended_early: Option<String>,
    out: OutFile,
}

impl Mp4Muxer {
    /// A writer that spools its media and lays the file out once every packet is known.
    pub(crate) fn open(file: &FileOpen<'_>) -> Result<Mp4Muxer> {
        let layout = Layout::new(file.config)?;
        Ok(Mp4Muxer {
            dir: file.dir.to_path_buf(),
            start_time_s: file.start_time_s,
            config: file.config.clone(),
            media: Media::Spooled(Box::new(Spooled {
                layout,
                spool: Spool::create(file.dir, file.stream_name)?,
            })),
        })
    }

    /// A writer that follows `plan`, the index pass's plan for this file: the head goes out
    /// now, then every packet straight after it. `None` (the index pass planned no more
    /// files), or a plan for another file, fails the file, naming `input`.
    pub fn follow(file: &FileOpen<'_>, plan: Option<FilePlan>, input: &str) -> Result<Mp4Muxer> {
        // Refuses what `open` refuses, with the same error.
        Layout::new(file.config)?;
        let media = match plan {
            Some(plan)
                if plan.start_time_s == file.start_time_s && plan.layout.fits(file.config) =>
            {
                let head = Head::new(&plan.layout, file.config, file.start_time_s)?;
                let mut out = OutFile::create(file.dir, &plan.base_name)?;
                head.write_to(&mut out)?;
                Media::Planned(Box::new(Planned {
                    plan,
                    follower: Follower::default(),
                    sessions: 0,
                    ended_early: None,
                    out,
                }))
            }
            Some(plan) => Media::Failed(anyhow!(
                "{input} {CHANGED}: the file opening at {} is not the planned {}",
                file.start_time_s,
                plan.base_name
            )),
            None => Media::Failed(anyhow!(
                "{input} {CHANGED}: the index pass planned no MP4 file opening at {}",
                file.start_time_s
            )),
        };
        Ok(Mp4Muxer {
            dir: file.dir.to_path_buf(),
            start_time_s: file.start_time_s,
            config: file.config.clone(),
            media,
        })
    }
}

/// The `ftyp` box (ISO/IEC 14496-12 §4.3), with the brands ffmpeg writes for MP4.
fn ftyp(config: &CodecConfig, negative_offsets: bool) -> Result<Vec<u8>> {
    let mut w = bmff::BoxWriter::new();
    w.open(b"ftyp");
    w.bytes(b"isom"); // major_brand
    w.u32(0x200); // minor_version
    w.bytes(b"isom");
    w.bytes(b"iso2");
    if let Some(brand) = config.video.as_ref().and_then(|v| v.codec.mp4_brand()) {
        w.bytes(&brand);
    }
    w.bytes(b"mp41");
    if negative_offsets {
        // ctts version 1 (negative composition offsets) is an iso4 feature.
        w.bytes(b"iso4");
    }
    w.close();
    w.finish()
}

/// Everything before the first payload byte of a file: `ftyp`, `moov` and the `mdat` header,
/// kept apart because joining them would copy `moov` (megabytes on a long file).
struct Head {
    ftyp: Vec<u8>,
    moov: Vec<u8>,
    mdat: Vec<u8>,
}

impl Head {
    /// The head of a file laid out by `layout` (sealed): `moov`'s chunk offsets are computed
    /// knowing its own size.
    fn new(layout: &Layout, config: &CodecConfig, start_time_s: i64) -> Result<Head> {
        let payload_len = layout.payload_len();
        let mdat = container::mp4::box_header(b"mdat", payload_len);
        let plan = MoviePlan::new(layout.tracks(config), start_time_s);
        let ftyp = ftyp(config, plan.negative_offsets())?;

        // The moov's size does not depend on the offsets it holds, only on their width.
        let head_len = |moov_len: usize| (ftyp.len() + moov_len + mdat.len()) as u64;
        let last_chunk = plan
            .tracks
            .iter()
            .filter_map(|t| t.index.chunk_offsets.last().copied())
            .max()
            .unwrap_or(0);
        let fits_u32 = |at: u64| at <= u64::from(u32::MAX);
        let mut co64 = !fits_u32(last_chunk);
        let mut moov_len = moov::write_moov(&plan, 0, co64)?.len();
        if !co64 && !fits_u32(last_chunk + head_len(moov_len)) {
            co64 = true;
            moov_len = moov::write_moov(&plan, 0, true)?.len();
        }
        let moov = moov::write_moov(&plan, head_len(moov_len), co64)?;
        Ok(Head { ftyp, moov, mdat })
    }

    fn write_to(&self, out: &mut OutFile) -> Result<()> {
        for part in [&self.ftyp, &self.moov, &self.mdat] {
            out.write_all(part)
                .with_context(|| format!("writing {}", out.temp_path().display()))?;
        }
        Ok(())
    }
}

impl Muxer for Mp4Muxer {
    fn begin_session(&mut self, _session: &SessionStart) -> Result<()> {
        // A spliced session continues the file's timeline: nothing in MP4 marks the join.
        if let Media::Planned(p) = &mut self.media {
            p.sessions += 1;
            if p.sessions > p.plan.inputs.len() {
                let last = p.plan.inputs.last().map_or("?", String::as_str);
                self.media = Media::Failed(anyhow!(
                    "the inputs {CHANGED}: a push after {last} joins {}, which the index pass \
                     did not plan",
                    p.plan.base_name
                ));
            }
        }
        Ok(())
    }

    fn write(&mut self, packet: &Packet) -> Result<()> {
        match &mut self.media {
            Media::Spooled(s) => {
                s.layout.push(packet)?;
                s.spool
                    .write_all(&packet.data)
                    .context("mp4: spooling media data")?;
            }
            Media::Planned(p) => {
                if let Err(d) = p.follower.check(&p.plan.layout, packet)? {
                    let e = p.deviation(&d.to_string());
                    self.media = Media::Failed(e);
                    return Ok(());
                }
                if let Err(e) = p.out.write_all(&packet.data) {
                    let e = anyhow::Error::new(e)
                        .context(format!("writing {}", p.out.temp_path().display()));
                    let reported = anyhow!("{e:#}");
                    self.media = Media::Failed(e);
                    return Err(reported);
                }
            }
            // Reported by `finish`; the file's temporary is gone already.
            Media::Failed(_) => {}
        }
        Ok(())
    }

    fn push_ended_early(&mut self) {
        if let Media::Planned(p) = &mut self.media
            && p.ended_early.is_none()
        {
            p.ended_early = Some(p.input().to_string());
        }
    }

    fn finish(self: Box<Self>, close: &FileClose) -> Result<Produced> {
        let name = self
            .dir
            .join(format!("{}.{}", close.base_name, Format::Mp4.extension()));
        let committed = match self.media {
            Media::Spooled(s) => {
                let Spooled {
                    mut layout,
                    mut spool,
                } = *s;
                layout.seal();
                let head = Head::new(&layout, &self.config, self.start_time_s)?;
                drop(layout);
                let mut out = OutFile::create(&self.dir, &close.base_name)?;
                head.write_to(&mut out)?;
                drop(head);
                spool.copy_to(&mut out)?;
                out.commit(&name)?
            }
            Media::Planned(p) => {
                if let Err(d) = p.follower.finish(&p.plan.layout) {
                    return Err(p.deviation(&d.to_string()));
                }
                if close.base_name != p.plan.base_name {
                    return Err(p.deviation(&format!(
                        "the file closes as {}, planned as {}",
                        close.base_name, p.plan.base_name
                    )));
                }
                p.out.commit(&name)?
            }
            Media::Failed(e) => return Err(e),
        };
        Ok(Produced::single(Format::Mp4, committed))
    }
}

impl Planned {
    /// The input of the push being written.
    fn input(&self) -> &str {
        crate::mux::push_input(&self.plan.inputs, self.sessions)
    }

    /// The error for a write pass that no longer follows the plan, naming the input.
    fn deviation(&self, what: &str) -> anyhow::Error {
        let file = format!("{}.{}", self.plan.base_name, Format::Mp4.extension());
        match &self.ended_early {
            Some(input) => anyhow!(
                "a push from {input} stopped early on an error (reported above), so the write \
                 pass no longer follows the index pass ({what}); {file} is not written"
            ),
            None => anyhow!("{} {CHANGED}: {what}; {file} is not written", self.input()),
        }
    }
}
