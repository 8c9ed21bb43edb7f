use super::*;
use crate::codec::testhex::hex;

/// The first bytes of FFmpeg 8's ac3 / eac3 encoder output, with the `dac3` / `dec3` bodies its
/// MP4 muxer wrote for them: (syncframe start, frame bytes, channels, rate, box body).
const AC3: &[(&str, usize, u8, u32, &str)] = &[
    ("0b774966144043e106f4637fc3c3c3f8", 768, 2, 48000, "101140"),
    ("0b772eb15e40ebf8403eff9dffc3f87f", 1950, 6, 44100, "503de0"),
    ("0b77b1e78c402f8429f3fe757cf9f3e7", 576, 1, 32000, "9008c0"),
];
const EAC3: &[(&str, usize, u8, u32, &str)] = &[
    (
        "0b77017f3487c0002000000035008c7e",
        768,
        2,
        48000,
        "0600200400",
    ),
    (
        "0b77037f3f87c000200000000200000004",
        1792,
        6,
        48000,
        "0e00200f00",
    ),
];

/// A whole access unit: the header bytes padded to the frame length.
fn frame(start: &str, len: usize) -> Vec<u8> {
    let mut f = hex(start);
    f.resize(len, 0);
    f
}

#[test]
fn ac3_headers_and_dac3_as_ffmpeg_writes_them() {
    for &(start, len, channels, rate, dac3_hex) in AC3 {
        let f = parse_syncframe(&hex(start)).unwrap();
        assert!(!f.eac3);
        assert_eq!(
            (f.frame_len, f.channels(), f.sample_rate),
            (len, channels, rate)
        );
        assert_eq!(dac3(&f).to_vec(), hex(dac3_hex));
        let info = parse_dac3(&hex(dac3_hex)).unwrap();
        assert_eq!((info.channels, info.sample_rate), (channels, rate));
        assert_eq!(info.bit_rate_kbps, f.bit_rate_kbps());
        assert_eq!(syncframes(&frame(start, len)).unwrap(), vec![f]);
    }
}

#[test]
fn eac3_headers_and_dec3_as_ffmpeg_writes_them() {
    for &(start, len, channels, rate, dec3_hex) in EAC3 {
        let f = parse_syncframe(&hex(start)).unwrap();
        assert!(f.eac3);
        assert_eq!((f.bsid, f.num_blocks, f.strmtyp), (16, 6, 0));
        assert_eq!(
            (f.frame_len, f.channels(), f.sample_rate),
            (len, channels, rate)
        );
        assert_eq!(dec3(&frame(start, len)).unwrap(), hex(dec3_hex));
        let info = parse_dec3(&hex(dec3_hex)).unwrap();
        assert_eq!(
            (info.channels, info.sample_rate, info.bsid),
            (channels, rate, 16)
        );
    }
}

/// An E-AC-3 dependent substream header: strmtyp 1, 2/0, chanmape with chanmap `map`.
fn dependent(len: usize, map: u16) -> Vec<u8> {
    let mut w = BitWriter::default();
    w.put(16, u32::from(SYNCWORD));
    w.put(2, 1); // strmtyp: dependent
    w.put(3, 0); // substreamid
    w.put(11, (len / 2 - 1) as u32); // frmsiz
    w.put(2, 0); // fscod: 48 kHz
    w.put(2, 3); // numblkscod: 6 blocks
    w.put(3, 2); // acmod 2/0
    w.put(1, 0); // lfeon
    w.put(5, 16); // bsid
    w.put(5, 31); // dialnorm
    w.put(1, 0); // compre
    w.put(1, 1); // chanmape
    w.put(16, u32::from(map));
    let mut f = w.finish();
    f.resize(len, 0);
    f
}

#[test]
fn dec3_counts_dependent_substreams() {
    let (start, len, ..) = EAC3[1];
    let mut au = frame(start, len);
    // Lrs/Rrs pair (chanmap bit 6 from the left: 0x0200 → chan_loc bit 4).
    au.extend(dependent(512, 0x0200));
    let frames = syncframes(&au).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].chanmap, Some(0x0200));
    let body = dec3(&au).unwrap();
    // One independent substream with one dependent: 2 + 4 bytes, chan_loc 0x010.
    assert_eq!(body.len(), 6);
    let mut r = BitReader::new("test", &body);
    r.skip(16 + 2 + 5 + 1 + 1 + 3 + 3 + 1 + 3, "x").unwrap();
    assert_eq!(r.bits(4, "num_dep_sub").unwrap(), 1);
    assert_eq!(r.bits(9, "chan_loc").unwrap(), 0x010);
    // A dependent substream alone has no parent.
    assert_eq!(dec3(&dependent(512, 0)).unwrap_err().field, "strmtyp");
}

#[test]
fn bad_frames_name_the_field() {
    assert_eq!(parse_syncframe(&[0x0b]).unwrap_err().field, "syncword");
    assert_eq!(
        parse_syncframe(&[0x0b, 0x78, 0, 0, 0, 0])
            .unwrap_err()
            .field,
        "syncword"
    );
    assert_eq!(
        parse_syncframe(&[0x0b, 0x77, 0, 0]).unwrap_err().field,
        "bsid"
    );
    assert_eq!(
        parse_syncframe(&[0x0b, 0x77, 0, 0, 0, 0xff])
            .unwrap_err()
            .field,
        "bsid"
    );
    // fscod 3 in AC-3 is reserved; frmsizecod 38 is out of the table.
    assert_eq!(
        parse_syncframe(&[0x0b, 0x77, 0, 0, 0xc0, 0x40])
            .unwrap_err()
            .field,
        "fscod"
    );
    assert_eq!(
        parse_syncframe(&[0x0b, 0x77, 0, 0, 0x26, 0x40])
            .unwrap_err()
            .field,
        "frmsizecod"
    );
    let (start, len, ..) = AC3[0];
    let cut = frame(start, len - 1);
    assert_eq!(syncframes(&cut).unwrap_err().field, "frame size");
    assert_eq!(parse_dac3(&[0xc0, 0, 0]).unwrap_err().field, "fscod");
    assert_eq!(
        parse_dac3(&[0x10, 0x11]).unwrap_err().field,
        "bit_rate_code"
    );
    assert_eq!(parse_dec3(&[0x06]).unwrap_err().field, "data_rate");
}
