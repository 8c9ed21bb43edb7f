//! Captured frames → TCP segments: the link layers of the tcpdump.org `LINKTYPE_*` registry a
//! capture of an RTMP push may carry, then IPv4 (RFC 791) or IPv6 (RFC 8200) and TCP (RFC 9293),
//! sliced by `etherparse` in its lax mode (a frame cut by the snap length still yields the payload
//! bytes it holds; the missing ones become a hole in the stream).
//!
//! Linux cooked captures (`tcpdump -i any`) are not in `etherparse`: their fixed headers are
//! skipped here and the protocol field they carry chooses the network layer.

use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};

/// `LINKTYPE_*` values (<https://www.tcpdump.org/linktypes.html>), one row per link type read.
pub(crate) mod link_type {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub(crate) const NULL: u32 = 0;
    /// Ethernet II (VLAN tags followed).
    pub(crate) const ETHERNET: u32 = 1;
    /// Raw IPv4 or IPv6, the version nibble says which.
    pub(crate) const RAW: u32 = 101;
    /// OpenBSD loopback: like NULL, the address family in network byte order.
    pub(crate) const LOOP: u32 = 108;
    /// Linux cooked capture v1: 16-byte header, protocol at bytes 14..16.
    pub(crate) const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub(crate) const IPV4: u32 = 228;
    /// Raw IPv6.
    pub(crate) const IPV6: u32 = 229;
    /// Linux cooked capture v2: 20-byte header, protocol at bytes 0..2.
    pub(crate) const LINUX_SLL2: u32 = 276;
}

const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
/// The address family word of NULL / LOOP.
const LOOPBACK_HEADER_LEN: usize = 4;

/// One TCP segment, borrowed from its frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment<'a> {
    pub(crate) src: SocketAddr,
    pub(crate) dst: SocketAddr,
    pub(crate) seq: u32,
    /// The acknowledgment number, when the ACK flag is set.
    pub(crate) ack: Option<u32>,
    pub(crate) syn: bool,
    pub(crate) fin: bool,
    pub(crate) rst: bool,
    pub(crate) payload: &'a [u8],
}

/// What a frame holds, as far as TCP reassembly cares.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded<'a> {
    Tcp(Segment<'a>),
    /// Not TCP over IP (ARP, UDP, ICMP …): nothing for RTMP.
    Other,
    /// A TCP packet that cannot be read: an IP fragment (not reassembled), or headers that do
    /// not parse. The text says which.
    Unreadable(String),
    /// A link type this reader does not know.
    UnsupportedLink(u32),
}

/// Decodes one frame of the given link type.
pub(crate) fn decode(link: u32, data: &[u8]) -> Decoded<'_> {
    let sliced = match link {
        link_type::ETHERNET => LaxSlicedPacket::from_ethernet(data).map_err(|e| e.to_string()),
        link_type::LINUX_SLL => match (data.get(14..16), data.get(SLL_HEADER_LEN..)) {
            (Some(p), Some(rest)) => Ok(LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([p[0], p[1]])),
                rest,
            )),
            _ => Err("Linux cooked header cut short".to_string()),
        },
        link_type::LINUX_SLL2 => match (data.get(0..2), data.get(SLL2_HEADER_LEN..)) {
            (Some(p), Some(rest)) => Ok(LaxSlicedPacket::from_ether_type(
                EtherType(u16::from_be_bytes([p[0], p[1]])),
                rest,
            )),
            _ => Err("Linux cooked v2 header cut short".to_string()),
        },
        // The address family's values differ between BSDs (IPv6 is 24, 28 or 30): the IP
        // version nibble is the reliable guide.
        link_type::NULL | link_type::LOOP => match data.get(LOOPBACK_HEADER_LEN..) {
            Some(rest) => from_ip(rest),
            None => Err("loopback header cut short".to_string()),
        },
        link_type::RAW | link_type::IPV4 | link_type::IPV6 => from_ip(data),
        other => return Decoded::UnsupportedLink(other),
    };
    match sliced {
        Ok(p) => tcp_of(&p),
        Err(e) => Decoded::Unreadable(e),
    }
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, String> {
    LaxSlicedPacket::from_ip(data).map_err(|e| e.to_string())
}

fn tcp_of<'a>(p: &LaxSlicedPacket<'a>) -> Decoded<'a> {
    let (src_ip, dst_ip, fragmented, is_tcp) = match &p.net {
        Some(LaxNetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.is_payload_fragmented(),
            v4.payload().ip_number == etherparse::IpNumber::TCP,
        ),
        Some(LaxNetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.is_payload_fragmented(),
            v6.payload().ip_number == etherparse::IpNumber::TCP,
        ),
        _ => return Decoded::Other,
    };
    if !is_tcp {
        return Decoded::Other;
    }
    if fragmented {
        return Decoded::Unreadable(format!(
            "IP fragment {src_ip} -> {dst_ip} (fragment reassembly is not supported)"
        ));
    }
    match &p.transport {
        Some(TransportSlice::Tcp(tcp)) => Decoded::Tcp(Segment {
            src: SocketAddr::new(src_ip, tcp.source_port()),
            dst: SocketAddr::new(dst_ip, tcp.destination_port()),
            seq: tcp.sequence_number(),
            ack: tcp.ack().then(|| tcp.acknowledgment_number()),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            payload: tcp.payload(),
        }),
        _ => Decoded::Unreadable(match &p.stop_err {
            Some((e, _)) => format!("TCP header {src_ip} -> {dst_ip}: {e}"),
            None => format!("TCP header {src_ip} -> {dst_ip} missing"),
        }),
    }
}

#[cfg(test)]
mod tests;
