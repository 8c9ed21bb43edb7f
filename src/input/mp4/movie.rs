//! The file's top-level boxes (ISO/IEC 14496-12 §4.2, walked by seeking, never reading `mdat`)
//! and the `moov` box (§8.2), read into memory wherever it sits (before or after `mdat`).

use std::io::{Read, Seek, SeekFrom};

use super::boxes::{BoxError, BoxHeader, FourCc, MemBox};
use super::fragment::{self, Appender};
use super::track::{self, Track};
use crate::container::mp4::EPOCH_1904_TO_1970_S;

/// Largest `moov` read into memory: a day of 60 fps video with audio needs about 50 MiB.
pub(crate) const MAX_MOOV_BYTES: u64 = 512 << 20;

/// Deepest box nesting listed in the layout (the sample tables sit at depth 6).
const MAX_LAYOUT_DEPTH: usize = 8;

/// Boxes whose payload is only boxes (§8 box definitions), walked for the layout.
const CONTAINERS: [&[u8; 4]; 11] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"udta", b"moof",
    b"traf",
];

/// One box of the layout, for `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxInfo {
    /// Nesting depth: 0 for top-level boxes.
    pub(crate) depth: usize,
    pub(crate) kind: String,
    pub(crate) offset: u64,
    pub(crate) size: u64,
}

/// What the top-level walk and `moov` give.
#[derive(Clone, Debug)]
pub struct Movie {
    pub file_len: u64,
    pub(crate) major_brand: Option<FourCc>,
    pub(crate) compatible_brands: Vec<FourCc>,
    pub(crate) timescale: u32,
    /// `mvhd` duration, movie timescale.
    pub(crate) duration: u64,
    /// `mvhd` creation_time, seconds since 1904-01-01 (0 when unset).
    pub(crate) creation_time_1904_s: u64,
    pub tracks: Vec<Track>,
    pub layout: Vec<BoxInfo>,
    /// `moov` comes before the first `mdat` (faststart).
    pub(crate) moov_first: bool,
    /// Damage the walk stepped over (a cut `mdat`, trailing garbage).
    pub warnings: Vec<String>,
}

/// The top-level walk: the layout, and the boxes read into memory.
#[derive(Default)]
struct TopLevel {
    layout: Vec<BoxInfo>,
    warnings: Vec<String>,
    ftyp: Option<Vec<u8>>,
    moov: Option<(BoxHeader, Vec<u8>)>,
    /// Movie fragments (§8.8), read once `moov` gives their defaults.
    moofs: Vec<(BoxHeader, Vec<u8>)>,
    moof_bytes: u64,
    mdat_seen: bool,
    moov_first: bool,
}

impl Movie {
    /// `mvhd` creation_time as Unix seconds, when set.
    pub fn creation_time_s(&self) -> Option<i64> {
        (self.creation_time_1904_s > 0).then(|| {
            i64::try_from(self.creation_time_1904_s).unwrap_or(i64::MAX) - EPOCH_1904_TO_1970_S
        })
    }
}

/// Walks the top-level boxes of a file of `file_len` bytes and reads its `moov`.
pub fn read_movie(f: &mut (impl Read + Seek), file_len: u64) -> Result<Movie, BoxError> {
    let mut top = TopLevel::default();
    let mut pos = 0u64;
    while pos < file_len {
        let Some(header) = top.next_header(f, pos, file_len)? else {
            break;
        };
        top.layout.push(BoxInfo {
            depth: 0,
            kind: header.kind.to_string(),
            offset: header.offset,
            size: header.size,
        });
        top.keep(f, &header)?;
        pos = header.end();
    }
    let TopLevel {
        mut layout,
        mut warnings,
        ftyp,
        moov,
        moofs,
        moov_first,
        ..
    } = top;
    let Some((moov_header, moov_bytes)) = moov else {
        return Err(BoxError::new(
            file_len,
            "no 'moov' box: the file is truncated or not a complete MP4",
        ));
    };
    let moov = MemBox {
        header: moov_header,
        payload: &moov_bytes,
    };
    insert_children(&mut layout, &moov)?;
    let (major_brand, compatible_brands) = ftyp.map(|b| brands(&b)).unwrap_or_default();
    let (creation_time_1904_s, timescale, duration) = read_mvhd(&moov)?;
    let mut tracks = Vec::new();
    for b in moov.children() {
        let b = b?;
        if &b.header.kind.0 == b"trak" {
            tracks.push(track::read_trak(&b, timescale)?);
        }
    }
    if !moofs.is_empty() {
        let defaults = match moov.child(b"mvex")? {
            Some(mvex) => fragment::read_mvex(&mvex)?,
            None => Default::default(),
        };
        let mut appender = Appender::new(defaults);
        for (header, payload) in &moofs {
            let moof = MemBox {
                header: *header,
                payload,
            };
            appender.moof(&moof, &mut tracks)?;
            insert_children(&mut layout, &moof)?;
        }
        warnings.extend(appender.warnings);
    }
    Ok(Movie {
        file_len,
        major_brand,
        compatible_brands,
        timescale,
        duration,
        creation_time_1904_s,
        tracks,
        layout,
        moov_first,
        warnings,
    })
}

impl TopLevel {
    /// The header of the box at `pos`; `None` ends the walk (damage after `moov`, noted).
    fn next_header(
        &mut self,
        f: &mut (impl Read + Seek),
        pos: u64,
        file_len: u64,
    ) -> Result<Option<BoxHeader>, BoxError> {
        let mut head = [0u8; 16];
        let n = read_at(f, pos, &mut head)?;
        match BoxHeader::parse(&head[..n], pos, file_len) {
            Ok(h) => Ok(Some(h)),
            Err(e) if &head[4..8] == b"mdat" && n >= 8 => {
                // An mdat cut short: what is inside the file is still readable.
                self.warnings.push(format!(
                    "{e}: the file is truncated; samples past its end are lost"
                ));
                let header_len = if head[..4] == [0, 0, 0, 1] { 16 } else { 8 };
                Ok(Some(BoxHeader {
                    kind: FourCc(*b"mdat"),
                    offset: pos,
                    header_len,
                    size: file_len - pos,
                }))
            }
            Err(e) if self.moov.is_some() => {
                self.warnings
                    .push(format!("{e}: the rest of the file is ignored"));
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the boxes the movie needs (`ftyp`, the first `moov`, every `moof`) into memory.
    fn keep(&mut self, f: &mut (impl Read + Seek), header: &BoxHeader) -> Result<(), BoxError> {
        match &header.kind.0 {
            b"ftyp" if self.ftyp.is_none() => self.ftyp = Some(read_payload(f, header, 1 << 16)?),
            b"moov" if self.moov.is_none() => {
                self.moov_first = !self.mdat_seen;
                self.moov = Some((*header, read_payload(f, header, MAX_MOOV_BYTES)?));
            }
            b"mdat" => self.mdat_seen = true,
            b"moof" => {
                self.moof_bytes += header.payload_len();
                if self.moof_bytes > MAX_MOOV_BYTES {
                    return Err(BoxError::new(
                        header.offset,
                        format!(
                            "the movie fragments' 'moof' boxes exceed the {MAX_MOOV_BYTES} bytes \
                             kls-rec reads into memory"
                        ),
                    ));
                }
                self.moofs
                    .push((*header, read_payload(f, header, MAX_MOOV_BYTES)?));
            }
            _ => {}
        }
        Ok(())
    }
}

/// `mvhd` (§8.2.2): creation time (seconds since 1904), timescale and duration.
fn read_mvhd(moov: &MemBox<'_>) -> Result<(u64, u32, u64), BoxError> {
    let mvhd = moov.require(b"mvhd")?;
    let (version, _, mut r) = mvhd.full()?;
    let creation_time_1904_s = r.versioned(version, "creation_time")?;
    r.versioned(version, "modification_time")?;
    let timescale = r.u32("timescale")?;
    if timescale == 0 {
        return Err(r.err("timescale", "is 0"));
    }
    let duration = r.versioned(version, "duration")?;
    Ok((creation_time_1904_s, timescale, duration))
}

/// Lists the boxes inside `container` right after it in the layout, so the layout reads
/// depth-first in file order.
fn insert_children(layout: &mut Vec<BoxInfo>, container: &MemBox<'_>) -> Result<(), BoxError> {
    let mut inside = Vec::new();
    list_children(container, 1, &mut inside)?;
    let at = layout
        .iter()
        .position(|b| b.offset == container.header.offset)
        .map_or(layout.len(), |i| i + 1);
    layout.splice(at..at, inside);
    Ok(())
}

/// Reads up to `buf.len()` bytes at `pos`; returns how many the file had.
fn read_at(f: &mut (impl Read + Seek), pos: u64, buf: &mut [u8]) -> Result<usize, BoxError> {
    let io = |e: std::io::Error| BoxError::new(pos, e.to_string());
    f.seek(SeekFrom::Start(pos)).map_err(io)?;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A box's payload, refused beyond `max` bytes (the size was already checked against the file).
fn read_payload(f: &mut (impl Read + Seek), h: &BoxHeader, max: u64) -> Result<Vec<u8>, BoxError> {
    if h.payload_len() > max {
        return Err(BoxError::new(
            h.offset,
            format!(
                "box '{}' of {} bytes exceeds the {max} bytes kls-rec reads into memory",
                h.kind,
                h.payload_len()
            ),
        ));
    }
    let mut buf = vec![0u8; h.payload_len() as usize];
    let n = read_at(f, h.payload_offset(), &mut buf)?;
    if n < buf.len() {
        return Err(BoxError::new(
            h.payload_offset() + n as u64,
            format!("box '{}' is cut short", h.kind),
        ));
    }
    Ok(buf)
}

/// Lists the boxes inside a container, depth-first, no deeper than [`MAX_LAYOUT_DEPTH`].
fn list_children(b: &MemBox<'_>, depth: usize, out: &mut Vec<BoxInfo>) -> Result<(), BoxError> {
    if depth > MAX_LAYOUT_DEPTH {
        return Ok(());
    }
    for child in b.children() {
        let child = child?;
        out.push(BoxInfo {
            depth,
            kind: child.header.kind.to_string(),
            offset: child.header.offset,
            size: child.header.size,
        });
        if CONTAINERS.contains(&&child.header.kind.0) {
            list_children(&child, depth + 1, out)?;
        }
    }
    Ok(())
}

/// `ftyp` (§4.3): major brand, minor version, compatible brands.
fn brands(payload: &[u8]) -> (Option<FourCc>, Vec<FourCc>) {
    let four = |c: &[u8]| {
        let mut b = [0u8; 4];
        b.copy_from_slice(c);
        FourCc(b)
    };
    let major = payload.get(..4).map(four);
    let compatible = payload
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(four)
        .collect();
    (major, compatible)
}
