use etherparse::PacketBuilder;

use super::*;

const PAYLOAD: &[u8] = b"\x03rtmp handshake";

fn ipv4_tcp() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(50000, 1935, 0xfffffff0, 1000)
        .ack(77)
        .write(&mut out, PAYLOAD)
        .unwrap();
    out
}

fn ipv6_tcp() -> Vec<u8> {
    let mut out = Vec::new();
    let a = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let mut b = a;
    b[15] = 2;
    PacketBuilder::ipv6(a, b, 64)
        .tcp(50000, 19350, 5, 1000)
        .syn()
        .write(&mut out, PAYLOAD)
        .unwrap();
    out
}

fn expect_v4(d: Decoded<'_>) {
    let Decoded::Tcp(s) = d else {
        panic!("not TCP: {d:?}");
    };
    assert_eq!(s.src, "10.0.0.1:50000".parse().unwrap());
    assert_eq!(s.dst, "10.0.0.2:1935".parse().unwrap());
    assert_eq!(s.seq, 0xfffffff0);
    assert_eq!(s.ack, Some(77));
    assert!(!s.syn && !s.fin && !s.rst);
    assert_eq!(s.payload, PAYLOAD);
}

fn expect_v6(d: Decoded<'_>) {
    let Decoded::Tcp(s) = d else {
        panic!("not TCP: {d:?}");
    };
    assert_eq!(s.src, "[2001:db8::1]:50000".parse().unwrap());
    assert_eq!(s.dst, "[2001:db8::2]:19350".parse().unwrap());
    assert!(s.syn);
    assert_eq!(s.ack, None);
    assert_eq!(s.payload, PAYLOAD);
}

#[test]
fn ethernet_ipv4_and_ipv6() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(50000, 1935, 0xfffffff0, 1000)
        .ack(77)
        .write(&mut out, PAYLOAD)
        .unwrap();
    // Ethernet padding after the IP packet is not payload.
    out.extend_from_slice(&[0; 8]);
    expect_v4(decode(link_type::ETHERNET, &out));

    let mut eth = vec![2u8; 6];
    eth.extend_from_slice(&[1; 6]);
    eth.extend_from_slice(&[0x86, 0xdd]);
    eth.extend_from_slice(&ipv6_tcp());
    expect_v6(decode(link_type::ETHERNET, &eth));
}

#[test]
fn ethernet_with_a_vlan_tag() {
    let mut f = vec![2u8; 6];
    f.extend_from_slice(&[1; 6]);
    f.extend_from_slice(&[0x81, 0x00, 0x00, 0x2a, 0x08, 0x00]);
    f.extend_from_slice(&ipv4_tcp());
    expect_v4(decode(link_type::ETHERNET, &f));
}

#[test]
fn linux_cooked_v1_and_v2() {
    // SLL: packet type, ARPHRD, address length, 8 address bytes, protocol.
    let mut sll = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ipv4_tcp());
    expect_v4(decode(link_type::LINUX_SLL, &sll));

    // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, address.
    let mut sll2 = vec![
        0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    sll2.extend_from_slice(&ipv6_tcp());
    expect_v6(decode(link_type::LINUX_SLL2, &sll2));

    assert!(matches!(
        decode(link_type::LINUX_SLL2, &[0x08, 0x00, 0]),
        Decoded::Unreadable(_)
    ));
    // Not IP behind the cooked header (ARP).
    let mut arp = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x06];
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(decode(link_type::LINUX_SLL, &arp), Decoded::Other);
}

#[test]
fn bsd_and_openbsd_loopback() {
    // NULL: AF_INET (2) in the capturing host's (here little-endian) byte order.
    let mut null = vec![2, 0, 0, 0];
    null.extend_from_slice(&ipv4_tcp());
    expect_v4(decode(link_type::NULL, &null));
    // LOOP: AF_INET6 as OpenBSD numbers it (24), network byte order.
    let mut lo = vec![0, 0, 0, 24];
    lo.extend_from_slice(&ipv6_tcp());
    expect_v6(decode(link_type::LOOP, &lo));
    assert!(matches!(
        decode(link_type::NULL, &[2, 0]),
        Decoded::Unreadable(_)
    ));
}

#[test]
fn raw_ip_link_types() {
    expect_v4(decode(link_type::RAW, &ipv4_tcp()));
    expect_v6(decode(link_type::RAW, &ipv6_tcp()));
    expect_v4(decode(link_type::IPV4, &ipv4_tcp()));
    expect_v6(decode(link_type::IPV6, &ipv6_tcp()));
}

#[test]
fn unknown_link_type_is_named() {
    assert_eq!(decode(147, &ipv4_tcp()), Decoded::UnsupportedLink(147));
}

#[test]
fn ipv4_fragment_is_unreadable() {
    let mut p = ipv4_tcp();
    // Flags/fragment offset: More Fragments set.
    p[6] |= 0x20;
    match decode(link_type::RAW, &p) {
        Decoded::Unreadable(why) => assert!(why.contains("fragment"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn frame_cut_by_the_snap_length_keeps_what_it_has() {
    let p = ipv4_tcp();
    let cut = &p[..p.len() - 5];
    let Decoded::Tcp(s) = decode(link_type::RAW, cut) else {
        panic!("not TCP");
    };
    assert_eq!(s.payload, &PAYLOAD[..PAYLOAD.len() - 5]);
}

#[test]
fn not_tcp_and_garbage() {
    let mut udp = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1, 2)
        .write(&mut udp, b"x")
        .unwrap();
    assert_eq!(decode(link_type::RAW, &udp), Decoded::Other);
    assert!(matches!(
        decode(link_type::RAW, &[0x45, 0, 0]),
        Decoded::Unreadable(_)
    ));
    assert!(matches!(
        decode(link_type::ETHERNET, &[1, 2, 3]),
        Decoded::Unreadable(_)
    ));
    // An IPv4 header that says TCP, with a TCP header cut short.
    let p = ipv4_tcp();
    assert!(matches!(
        decode(link_type::RAW, &p[..25]),
        Decoded::Unreadable(_)
    ));
    for len in 0..p.len() {
        let _ = decode(link_type::RAW, &p[..len]);
        let _ = decode(link_type::LINUX_SLL2, &p[..len]);
    }
}
