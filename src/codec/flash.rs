//! The picture size of the video codecs only FLV carries, read from a frame's header as FFmpeg's
//! decoders read it: Sorenson H.263 (FFmpeg `ff_flv_decode_picture_header`), Screen video v1 and
//! v2 (Adobe FLV v10.1 E.4.3.1 SCREENVIDEOPACKET), On2 VP6 (FFmpeg `vp6_parse_header`, with the
//! FLV size adjustment of E.4.3.1 VP6FLVVIDEOPACKET).
//!
//! Every function takes the whole tag body, its FrameType/CodecID byte first, as the FLV reader
//! carries these codecs.

use super::CodecError;
use super::bits::BitReader;
use crate::media::FlvVideo;

/// Width and height the frame states; `Ok(None)` for a frame that does not state them (a VP6
/// inter frame).
pub fn picture_size(codec: FlvVideo, tag: &[u8]) -> Result<Option<(u32, u32)>, CodecError> {
    let body = tag.get(1..).unwrap_or_default();
    match codec {
        FlvVideo::SorensonH263 => sorenson(body).map(Some),
        FlvVideo::ScreenVideo | FlvVideo::ScreenVideo2 => screen(body).map(Some),
        FlvVideo::Vp6 => vp6(body, 0),
        // VP6FLVALPHAVIDEOPACKET: OffsetToAlpha (UI24) before the colour frame.
        FlvVideo::Vp6Alpha => vp6(body, 3),
    }
}

/// The Sorenson picture header: PictureStartCode (17 bits, 1), Version (5), TemporalReference
/// (8), PictureSize (3): a custom size in 8 or 16 bits each, or one of five fixed sizes.
fn sorenson(body: &[u8]) -> Result<(u32, u32), CodecError> {
    let mut r = BitReader::new("Sorenson H.263 picture header", body);
    if r.bits(17, "PictureStartCode")? != 1 {
        return Err(CodecError::new(
            "Sorenson H.263 picture header",
            "PictureStartCode",
            "not 1",
        ));
    }
    r.skip(5 + 8, "Version, TemporalReference")?;
    Ok(match r.bits(3, "PictureSize")? {
        0 => (r.bits(8, "CustomWidth")?, r.bits(8, "CustomHeight")?),
        1 => (r.bits(16, "CustomWidth")?, r.bits(16, "CustomHeight")?),
        2 => (352, 288),
        3 => (176, 144),
        4 => (128, 96),
        5 => (320, 240),
        6 => (160, 120),
        _ => {
            return Err(CodecError::new(
                "Sorenson H.263 picture header",
                "PictureSize",
                "reserved value 7",
            ));
        }
    })
}

/// SCREENVIDEOPACKET: BlockWidth (4 bits), ImageWidth (12), BlockHeight (4), ImageHeight (12).
fn screen(body: &[u8]) -> Result<(u32, u32), CodecError> {
    let mut r = BitReader::new("SCREENVIDEOPACKET", body);
    r.skip(4, "BlockWidth")?;
    let width = r.bits(12, "ImageWidth")?;
    r.skip(4, "BlockHeight")?;
    Ok((width, r.bits(12, "ImageHeight")?))
}

/// VP6: the size-adjustment byte (horizontal in the high nibble, vertical in the low), then the
/// frame; a keyframe (frame mode bit 0) states its macroblock rows and columns after two bytes,
/// or four when a coefficient offset follows (Separated_Coeff set, or no filter header).
fn vp6(body: &[u8], skip: usize) -> Result<Option<(u32, u32)>, CodecError> {
    let short = || CodecError::new("VP6 frame header", "Dim_X", "frame too short");
    let adjust = *body.first().ok_or_else(short)?;
    let frame = body.get(1 + skip..).ok_or_else(short)?;
    let first = *frame.first().ok_or_else(short)?;
    if first & 0x80 != 0 {
        return Ok(None);
    }
    let second = *frame.get(1).ok_or_else(short)?;
    let separated_coeff = first & 0x01 != 0;
    let filter_header = second & 0x06 != 0;
    let at = if separated_coeff || !filter_header {
        4
    } else {
        2
    };
    let dims = frame.get(at..at + 2).ok_or_else(short)?;
    let width = (u32::from(dims[1]) * 16).saturating_sub(u32::from(adjust >> 4));
    let height = (u32::from(dims[0]) * 16).saturating_sub(u32::from(adjust & 0x0F));
    Ok(Some((width, height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        // Sorenson, ffmpeg's first keyframe: start code, version 1, TR 0, PictureSize 3 (QCIF).
        let qcif = [0x12, 0x00, 0x00, 0x84, 0x01, 0x92];
        let sorenson = picture_size(FlvVideo::SorensonH263, &qcif).unwrap();
        assert_eq!(sorenson, Some((176, 144)));
        // Custom 8-bit size 100x50: after the 30 bits, 000 then 100 and 50.
        let custom = [0x12, 0x00, 0x00, 0x80, 0x00, 0x32, 0x19, 0x00];
        let custom = picture_size(FlvVideo::SorensonH263, &custom).unwrap();
        assert_eq!(custom, Some((100, 50)));
        assert!(picture_size(FlvVideo::SorensonH263, &[0x12, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        // Screen video: block 64x64 (3), image 96x64.
        let screen = [0x13, 0x30, 0x60, 0x30, 0x40];
        assert_eq!(
            picture_size(FlvVideo::ScreenVideo, &screen).unwrap(),
            Some((96, 64))
        );
        // VP6 keyframe with a filter header and no separated coefficients: rows 9, cols 11,
        // adjusted by 0x00: 176x144; an inter frame states none.
        let vp6 = [0x14, 0x00, 0x00, 0x46, 9, 11];
        assert_eq!(picture_size(FlvVideo::Vp6, &vp6).unwrap(), Some((176, 144)));
        assert_eq!(picture_size(FlvVideo::Vp6, &[0x24, 0, 0x80]).unwrap(), None);
    }
}
