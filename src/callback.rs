//! Recording callbacks (README "Callbacks"): the reference service's JSON, field for field, the
//! historical `itmes` included.
//!
//! HLS files get the HLS schema; MP4 and FLV files the `avtrans` schema with the file's MD5 as
//! `ETag` and ffprobe-style media information as a JSON *string* in `outMediainfo`. `taskid` is
//! derived from the file's key, so a re-run reports the same id for the same file.

use md5::{Digest, Md5};
use serde::Serialize;

use crate::mediainfo::MediaInfo;

/// Success and failure as the reference encodes them in `status` and `code`.
pub(crate) const STATUS_OK: u8 = 3;
pub(crate) const STATUS_FAILED: u8 = 4;

/// What one callback says about one file.
#[derive(Clone, Debug)]
pub(crate) struct FileReport {
    /// The `record/…` key, with the upload prefix when uploading.
    pub(crate) key: String,
    pub(crate) vdoid: Option<String>,
    pub(crate) stream: String,
    pub(crate) bucket: String,
    /// `--callback-times` (HLS) / always (avtrans): Unix seconds.
    pub(crate) start_time_s: i64,
    pub(crate) end_time_s: i64,
    /// `None` for success, else what failed (status 4).
    pub(crate) error: Option<String>,
}

#[derive(Serialize)]
struct HlsCallback<'a> {
    status: u8,
    taskid: String,
    itmes: [HlsItem<'a>; 1],
    #[serde(rename = "mediaSize")]
    media_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    starttime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    endtime: Option<String>,
}

#[derive(Serialize)]
struct HlsItem<'a> {
    cmd: &'a str,
    desc: &'a str,
    keys: [&'a str; 1],
    vdoid: &'a str,
    code: u8,
}

/// The HLS callback. `media_size` is the playlist plus its segments, in bytes.
pub(crate) fn hls(report: &FileReport, media_size: u64, with_times: bool) -> String {
    let (status, desc) = status_of(report);
    let cb = HlsCallback {
        status,
        taskid: task_id(&report.key),
        itmes: [HlsItem {
            cmd: "",
            desc,
            keys: [&report.key],
            vdoid: report.vdoid.as_deref().unwrap_or(""),
            code: status,
        }],
        media_size,
        starttime: with_times.then(|| report.start_time_s.to_string()),
        endtime: with_times.then(|| report.end_time_s.to_string()),
    };
    serde_json::to_string(&cb).expect("callbacks serialise")
}

#[derive(Serialize)]
struct AvtransCallback<'a> {
    taskid: String,
    status: u8,
    #[serde(rename = "type")]
    kind: &'a str,
    details: Details<'a>,
    itmes: [AvtransItem<'a>; 1],
}

#[derive(Serialize)]
struct Details<'a> {
    errnum: u8,
    errmsg: &'a str,
    bucket: &'a str,
    starttime: String,
    endtime: String,
    stream: &'a str,
    #[serde(rename = "throughParams")]
    through_params: &'a str,
    items: Vec<DetailItem<'a>>,
}

#[derive(Serialize)]
struct DetailItem<'a> {
    dstpath: &'a str,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "outMediainfo")]
    out_mediainfo: String,
}

#[derive(Serialize)]
struct AvtransItem<'a> {
    cmd: String,
    desc: &'a str,
    keys: [&'a str; 1],
    code: u8,
}

/// The `avtrans` callback for an MP4 or FLV file. A failed file carries no item details.
pub(crate) fn avtrans(report: &FileReport, md5: &[u8; 16], info: Option<&MediaInfo>) -> String {
    let (status, desc) = status_of(report);
    let failed = report.error.is_some();
    let items = if failed {
        Vec::new()
    } else {
        vec![DetailItem {
            dstpath: &report.key,
            etag: crate::sink::local::hex(md5),
            out_mediainfo: info
                .map(|i| serde_json::to_string(i).expect("media info serialises"))
                .unwrap_or_else(|| "{}".to_string()),
        }]
    };
    let cb = AvtransCallback {
        taskid: task_id(&report.key),
        status,
        kind: "avtrans",
        details: Details {
            errnum: u8::from(failed),
            errmsg: report.error.as_deref().unwrap_or(""),
            bucket: &report.bucket,
            starttime: report.start_time_s.to_string(),
            endtime: report.end_time_s.to_string(),
            stream: &report.stream,
            through_params: "",
            items,
        },
        itmes: [AvtransItem {
            cmd: format!(
                "tag=avtrans&tag=saveas&bucket={}&object={}",
                report.bucket,
                base64(report.key.as_bytes())
            ),
            desc,
            keys: [&report.key],
            code: status,
        }],
    };
    serde_json::to_string(&cb).expect("callbacks serialise")
}

fn status_of(report: &FileReport) -> (u8, &str) {
    match &report.error {
        None => (STATUS_OK, "success"),
        Some(e) => (STATUS_FAILED, e.as_str()),
    }
}

/// A stable 12-character task id from the file's key (the reference's ids look alike).
pub(crate) fn task_id(key: &str) -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digest = Md5::digest(key.as_bytes());
    let mut n = u128::from_be_bytes(digest.into());
    (0..12)
        .map(|_| {
            let c = ALPHABET[(n % 62) as usize] as char;
            n /= 62;
            c
        })
        .collect()
}

/// Standard base64 with padding (RFC 4648 §4), for the `object=` of the historical `cmd`.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> FileReport {
        FileReport {
            key: "record/live/mystream/hls/mystream-1585829187-1585829324.m3u8".into(),
            vdoid: None,
            stream: "mystream".into(),
            bucket: String::new(),
            start_time_s: 1585829187,
            end_time_s: 1585829324,
            error: None,
        }
    }

    #[test]
    fn hls_schema_field_for_field() {
        let r = report();
        let s = hls(&r, 1234, false);
        let id = task_id(&r.key);
        assert_eq!(
            s,
            format!(
                r#"{{"status":3,"taskid":"{id}","itmes":[{{"cmd":"","desc":"success","keys":["record/live/mystream/hls/mystream-1585829187-1585829324.m3u8"],"vdoid":"","code":3}}],"mediaSize":1234}}"#
            )
        );
        let t = hls(&r, 1, true);
        assert!(t.ends_with(r#""mediaSize":1,"starttime":"1585829187","endtime":"1585829324"}"#));
    }

    #[test]
    fn avtrans_schema_field_for_field() {
        let mut r = report();
        r.key = "record/live/mystream/flv/mystream-1585829187-1585829324.flv".into();
        r.bucket = "media".into();
        let line = avtrans(&r, &[0xab; 16], None);
        let id = task_id(&r.key);
        assert!(line.starts_with(&format!(
            r#"{{"taskid":"{id}","status":3,"type":"avtrans","details":{{"errnum":0,"errmsg":"","bucket":"media","starttime":"1585829187","endtime":"1585829324","stream":"mystream","throughParams":"","items":[{{"dstpath":"#
        )), "{line}");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["type"], "avtrans");
        assert_eq!(v["details"]["errnum"], 0);
        assert_eq!(v["details"]["starttime"], "1585829187");
        assert_eq!(v["details"]["items"][0]["ETag"], "ab".repeat(16));
        assert_eq!(v["details"]["items"][0]["outMediainfo"], "{}");
        assert_eq!(v["itmes"][0]["code"], 3);
        assert_eq!(
            v["itmes"][0]["cmd"],
            format!(
                "tag=avtrans&tag=saveas&bucket=media&object={}",
                base64(r.key.as_bytes())
            )
        );
    }

    #[test]
    fn failures_are_status_four() {
        let mut r = report();
        r.error = Some("upload gave up".into());
        let v: serde_json::Value = serde_json::from_str(&avtrans(&r, &[0; 16], None)).unwrap();
        assert_eq!(v["status"], 4);
        assert_eq!(v["details"]["errnum"], 1);
        assert_eq!(v["details"]["errmsg"], "upload gave up");
        assert_eq!(v["itmes"][0]["desc"], "upload gave up");
        assert_eq!(v["itmes"][0]["code"], 4);
    }

    #[test]
    fn task_ids_are_stable_and_distinct() {
        assert_eq!(task_id("a"), task_id("a"));
        assert_ne!(task_id("a"), task_id("b"));
        assert_eq!(task_id("a").len(), 12);
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
