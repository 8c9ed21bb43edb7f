//! Capture files → frames: libpcap's format (both byte orders, microsecond `a1b2c3d4` and
//! nanosecond `a1b23c4d` magics) and pcapng (IETF draft-ietf-opsawg-pcapng: SHB, IDB with the
//! per-interface link type, `if_tsresol` and `if_tsoffset`, EPB, SPB), read by `pcap-parser`.
//!
//! Streaming: `pcap-parser` keeps a window of the file; it grows when one record does not fit
//! (loopback frames reach 64 KiB), up to [`MAX_RECORD`], so no length field sizes an allocation
//! beyond that. A record that is cut short or does not parse ends the capture with a damage
//! report naming its byte offset: capture formats have no sync marker to resume on.
//!
//! One check is ours: `pcap-parser` 0.17 subtracts the 12 bytes of a pcapng block's framing
//! from the declared block length without checking it first for block types whose fixed part
//! is shorter (the Process Information Block), which overflows on a hostile length. Every
//! pcapng block header is therefore checked here before the crate sees it (`State::short_block`).

use std::io::Read;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::{PcapNGPacketBlock, PcapReaderIterator};
use pcap_parser::{PcapBlockOwned, PcapError};

use crate::input::InputError;
use crate::media::Damage;

/// The window `pcap-parser` starts with.
const INITIAL_WINDOW: usize = 256 * 1024;
/// The largest record accepted: far above any real snap length (262144 for tcpdump), so only a
/// corrupt length reaches it.
pub(crate) const MAX_RECORD: usize = 16 * 1024 * 1024;
/// Timestamp units per second when an interface does not say (pcapng §4.2 `if_tsresol`).
const DEFAULT_RESOLUTION: u64 = 1_000_000;

/// libpcap's file magic with microsecond times, as a word in the file's byte order.
pub(crate) const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
/// libpcap's file magic with nanosecond times.
pub(crate) const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
/// pcapng's section header block type, as `pcap-parser` names it: it reads the same in either
/// byte order.
pub(crate) use pcap_parser::pcapng::SHB_MAGIC;
/// The section header's byte-order magic, the block types of an interface description and an
/// enhanced packet, and the option codes, for the tests' pcapng writer.
#[cfg(any(test, feature = "testutil"))]
pub(crate) use pcap_parser::pcapng::{BOM_MAGIC, EPB_MAGIC, IDB_MAGIC, OptionCode};
/// The block types of a simple packet and a process information block, for the unit tests.
#[cfg(test)]
pub(crate) use pcap_parser::pcapng::{PIB_MAGIC, SPB_MAGIC};

/// One captured frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    /// 1-based, as Wireshark numbers them.
    pub(crate) number: u64,
    /// Byte offset of its record (pcap) or block (pcapng) in the file.
    pub(crate) offset: u64,
    /// Capture time, Unix microseconds.
    pub(crate) time_us: i64,
    /// `LINKTYPE_*` of its interface.
    pub(crate) link_type: u32,
    /// The captured bytes (possibly fewer than were on the wire: the snap length).
    pub(crate) data: Vec<u8>,
}

impl Frame {
    pub(crate) fn time_ms(&self) -> i64 {
        self.time_us.div_euclid(1000)
    }
}

/// What a capture yields, in file order.
#[derive(Debug)]
pub(crate) enum CaptureItem {
    /// A frame: read it with [`CaptureReader::frame`].
    Frame,
    Damage(Damage),
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: u32,
    units_per_s: u64,
    offset_s: i64,
}

/// Frames of a pcap or pcapng stream.
pub struct CaptureReader {
    input: String,
    inner: Box<dyn PcapReaderIterator + Send>,
    /// Bytes of the file consumed: the offset of the next record.
    consumed: u64,
    state: State,
    window: usize,
    ended: bool,
}

impl CaptureReader {
    /// Reads the file header; `input` names the capture in errors.
    pub fn new<R: Read + Send + 'static>(
        inner: R,
        input: &str,
    ) -> Result<CaptureReader, InputError> {
        let inner = pcap_parser::create_reader(INITIAL_WINDOW, inner).map_err(|e| {
            InputError::new(
                input,
                Some(0),
                format!("not a pcap or pcapng capture ({e:?})"),
            )
        })?;
        Ok(CaptureReader {
            input: input.to_string(),
            inner,
            consumed: 0,
            state: State::default(),
            window: INITIAL_WINDOW,
            ended: false,
        })
    }

    /// The frame of the last [`CaptureItem::Frame`].
    pub(crate) fn frame(&self) -> &Frame {
        &self.state.frame
    }

    /// Bytes of the file consumed so far.
    pub(crate) fn position(&self) -> u64 {
        self.consumed
    }

    /// The next frame or damage report; `None` at the end of the capture.
    pub(crate) fn next_item(&mut self) -> Result<Option<CaptureItem>, InputError> {
        while !self.ended {
            let offset = self.consumed;
            if let Some(damage) = self.state.short_block(self.inner.data(), offset) {
                self.ended = true;
                return Ok(Some(CaptureItem::Damage(damage)));
            }
            let step = match self.inner.next() {
                Ok((size, block)) => {
                    let item = self.state.block(block, offset);
                    self.inner.consume(size);
                    self.consumed += size as u64;
                    match item {
                        Some(item) => return Ok(Some(item)),
                        None => continue,
                    }
                }
                Err(PcapError::Eof) => Step::End,
                Err(PcapError::Incomplete(_)) => Step::Refill,
                Err(PcapError::BufferTooSmall) => Step::Grow,
                Err(PcapError::UnexpectedEof) => Step::Damage(Damage::Truncated {
                    offset,
                    what: "capture record (the capture ends inside it)".into(),
                }),
                Err(PcapError::ReadError) => {
                    return Err(InputError::new(&self.input, Some(offset), "read error"));
                }
                Err(e) => Step::Damage(Damage::Skipped {
                    offset,
                    len: 0,
                    what: format!(
                        "capture record does not parse ({}): the rest of the capture is skipped",
                        short_error(&e)
                    ),
                }),
            };
            match step {
                Step::End => self.ended = true,
                Step::Refill => self.refill(offset)?,
                Step::Grow => {
                    if self.window >= MAX_RECORD {
                        self.ended = true;
                        return Ok(Some(CaptureItem::Damage(Damage::Skipped {
                            offset,
                            len: 0,
                            what: format!(
                                "capture record longer than {MAX_RECORD} bytes (a corrupt length): \
                                 the rest of the capture is skipped"
                            ),
                        })));
                    }
                    self.window = (self.window * 2).min(MAX_RECORD);
                    self.inner.grow(self.window);
                    self.refill(offset)?;
                }
                Step::Damage(d) => {
                    self.ended = true;
                    return Ok(Some(CaptureItem::Damage(d)));
                }
            }
        }
        Ok(None)
    }

    fn refill(&mut self, offset: u64) -> Result<(), InputError> {
        self.inner
            .refill()
            .map_err(|_| InputError::new(&self.input, Some(offset), "read error"))
    }
}

/// What the blocks read so far say.
#[derive(Debug, Default)]
struct State {
    /// pcap: the one interface the file header describes. pcapng: the current section's IDBs.
    interfaces: Vec<Interface>,
    legacy_nanos: bool,
    /// pcapng: the current section's byte order (`None` before a section header, and for pcap).
    ng_big_endian: Option<bool>,
    frame: Frame,
}

impl State {
    /// Takes what a block says; returns an item when it carried a frame.
    fn block(&mut self, block: PcapBlockOwned<'_>, offset: u64) -> Option<CaptureItem> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy_nanos = h.is_nanosecond_precision();
                self.interfaces = vec![Interface {
                    link_type: h.network.0 as u32,
                    units_per_s: if self.legacy_nanos {
                        1_000_000_000
                    } else {
                        1_000_000
                    },
                    offset_s: 0,
                }];
                None
            }
            PcapBlockOwned::Legacy(b) => {
                let sub_us = if self.legacy_nanos {
                    i64::from(b.ts_usec) / 1000
                } else {
                    i64::from(b.ts_usec)
                };
                let link = self.interfaces.first().map_or(0, |i| i.link_type);
                self.set_frame(
                    offset,
                    i64::from(b.ts_sec) * 1_000_000 + sub_us,
                    link,
                    b.data,
                );
                Some(CaptureItem::Frame)
            }
            PcapBlockOwned::NG(Block::SectionHeader(shb)) => {
                // Interface ids and the byte order are per section.
                self.interfaces.clear();
                self.ng_big_endian = Some(shb.big_endian());
                None
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    link_type: idb.linktype.0 as u32,
                    units_per_s: units_per_s(idb.if_tsresol).unwrap_or(DEFAULT_RESOLUTION),
                    offset_s: idb.ts_offset(),
                });
                None
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let Some(iface) = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| self.interfaces.get(i).copied())
                else {
                    return Some(CaptureItem::Damage(Damage::Skipped {
                        offset,
                        len: u64::from(epb.caplen),
                        what: format!(
                            "packet block of interface {} that no interface block describes",
                            epb.if_id
                        ),
                    }));
                };
                let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                let time_us = ts_to_us(ts, iface.units_per_s, iface.offset_s);
                self.set_frame(offset, time_us, iface.link_type, epb.packet_data());
                Some(CaptureItem::Frame)
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                // No timestamp in an SPB: it keeps the previous frame's time.
                let time_us = self.frame.time_us;
                let link = self.interfaces.first().map_or(0, |i| i.link_type);
                self.set_frame(offset, time_us, link, spb.packet_data());
                Some(CaptureItem::Frame)
            }
            // Name resolution, statistics, secrets, custom blocks: nothing for media.
            PcapBlockOwned::NG(_) => None,
        }
    }

    /// A damage report when the pcapng block at the front of `window` declares a length below
    /// the 12 bytes of its own framing (type, length, trailing length). Section headers are
    /// left to the crate: their byte order is their own, and it checks their length.
    fn short_block(&self, window: &[u8], offset: u64) -> Option<Damage> {
        let big_endian = self.ng_big_endian?;
        let header: &[u8; 8] = window.get(..8)?.try_into().ok()?;
        if header[..4] == SHB_MAGIC.to_le_bytes() {
            return None;
        }
        let word = |b: [u8; 4]| {
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let kind = word([header[0], header[1], header[2], header[3]]);
        let len = word([header[4], header[5], header[6], header[7]]);
        (len < 12).then(|| Damage::Skipped {
            offset,
            len: 0,
            what: format!(
                "pcapng block of type {kind:#010x} declares {len} bytes, fewer than its own 12-byte \
                 framing: the rest of the capture is skipped"
            ),
        })
    }

    fn set_frame(&mut self, offset: u64, time_us: i64, link_type: u32, data: &[u8]) {
        self.frame.number += 1;
        self.frame.offset = offset;
        self.frame.time_us = time_us;
        self.frame.link_type = link_type;
        self.frame.data.clear();
        self.frame.data.extend_from_slice(data);
    }
}

enum Step {
    End,
    Refill,
    Grow,
    Damage(Damage),
}

/// `if_tsresol` (pcapng §4.2): 10^-n s, or 2^-n s when the top bit is set. Computed here because
/// `pcap-parser` 0.17 refuses every power-of-two resolution (it range-checks the byte with the
/// flag still set). `None` when it does not fit 64 bits.
fn units_per_s(tsresol: u8) -> Option<u64> {
    let n = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u64.checked_pow(n)
    } else {
        1u64.checked_shl(n).filter(|_| n < 64)
    }
}

/// A pcapng timestamp in `units_per_s` units since `offset_s` → Unix microseconds, without
/// overflow for any field value.
fn ts_to_us(ts: u64, units_per_s: u64, offset_s: i64) -> i64 {
    let us = u128::from(ts) * 1_000_000 / u128::from(units_per_s.max(1));
    i64::try_from(us)
        .unwrap_or(i64::MAX)
        .saturating_add(offset_s.saturating_mul(1_000_000))
}

fn short_error(e: &PcapError<&[u8]>) -> String {
    match e {
        PcapError::NomError(_, kind) | PcapError::OwnedNomError(_, kind) => format!("{kind:?}"),
        other => format!("{:?}", other.to_owned_vec()),
    }
}

#[cfg(test)]
mod tests;
