//! Upload of recording files to S3-compatible storage (README "Upload and callback delivery") with
//! `rust-s3` (blocking): AWS Signature V4, `PutObject` below the multipart threshold, else
//! `CreateMultipartUpload`, sequential `UploadPart`s and `CompleteMultipartUpload` (Amazon S3 API
//! Reference).
//!
//! - Object key: `PREFIX/` + the `record/…` key, never with an empty or `..` segment.
//! - Idempotent: a `HeadObject` first; an object whose content MD5 equals the local file's is
//!   not sent again. The MD5 is read from `x-amz-meta-md5`, which every upload stores (a
//!   multipart ETag is not an MD5), or from a single-part ETag. An object with other (or
//!   unknowable) content is never overwritten, as local files are not (README "Outputs").
//! - Integrity: every PUT carries `Content-MD5` (checked by the server); the local file is hashed
//!   as it is read and must still match the MD5 computed when it was written.
//! - Retries: each request (HEAD, PUT, each part, completion) is retried on network errors,
//!   5xx, 408 and 429 per [`RetryPolicy`]; rust-s3's own retries are turned off so the bound
//!   holds. A multipart upload that gives up is aborted, so no parts are left billed. Once a
//!   request gave up on such a failure, the uploader tries no more (the endpoint is down; the
//!   next run uploads what this one could not).
//! - Endpoint, region and credentials as S3 tools find them ([`S3Access`]: flags, `AWS_*`
//!   variables, the `~/.aws` profile, web identity, instance role); credentials never appear
//!   in messages or `Debug`.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};
use s3::bucket::Bucket;
use s3::error::S3Error;
use s3::region::Region;
use s3::serde_types::Part;

use super::retry::{Attempt, GaveUp, RetryPolicy, retry};
use crate::mux::Produced;
use crate::sink::local::{hex, md5_of_file};

mod access;
mod credentials;
mod profile;
mod target;

pub(crate) use access::{S3Access, S3Flags};
pub use credentials::S3Credentials;
pub(crate) use target::{Target, default_path_style};

/// S3's smallest part (all but the last) and its largest part count.
const MIN_PART_SIZE: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;

/// Name of the user metadata holding the object's MD5 (sent as `x-amz-meta-md5`).
const META_MD5: &str = "md5";

/// Tuning of uploads.
#[derive(Clone, Debug)]
pub struct S3Options {
    /// Files larger than this go up in parts (each part is held in memory once).
    pub multipart_threshold: u64,
    /// Size of each part but the last (raised to S3's 5 MiB minimum, and so that at most
    /// 10 000 parts are needed).
    pub part_size: u64,
    pub retry: RetryPolicy,
    /// Limit of one request (one part, at most `part_size` bytes).
    pub request_timeout: Duration,
}

impl Default for S3Options {
    /// 64 MiB threshold, 16 MiB parts, the default retry policy, 5 minutes per request.
    fn default() -> Self {
        S3Options {
            multipart_threshold: 64 << 20,
            part_size: 16 << 20,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(300),
        }
    }
}

/// What [`Uploader::upload`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The object was sent.
    Uploaded,
    /// An object with the same content MD5 was already there; nothing was sent.
    AlreadyPresent,
}

/// The object under a key, seen from the local file.
enum Remote {
    Absent,
    Same,
    /// Holds other bytes (or bytes whose MD5 cannot be known): what HEAD said.
    Different(String),
}

/// Uploads files under one `s3://BUCKET[/PREFIX]`.
pub struct Uploader {
    target: Target,
    bucket: Box<Bucket>,
    endpoint: String,
    credentials: S3Credentials,
    options: S3Options,
    /// Set once a request gave up on a transient failure: the endpoint is down, and waiting out
    /// the retries once per file would make a cron run crawl; later requests fail at once.
    down: Mutex<Option<String>>,
}

impl fmt::Debug for Uploader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Uploader")
            .field("target", &self.target.to_string())
            .field("endpoint", &self.endpoint)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A bucket handle: `endpoint` (e.g. `http://127.0.0.1:9000`, a KS3 or MinIO URL) defaults
/// to AWS in `region` (default `us-east-1`); `path_style` defaults to on when the endpoint's
/// host is an IP address or `localhost`. Returns the bucket and the endpoint as shown in
/// messages. Shared by uploads and `s3://` inputs.
pub(crate) fn connect(
    bucket_name: &str,
    endpoint: Option<&str>,
    region: Option<&str>,
    path_style: Option<bool>,
    credentials: &S3Credentials,
) -> Result<(Box<Bucket>, String)> {
    let region_name = region.filter(|r| !r.is_empty()).unwrap_or("us-east-1");
    let (region, endpoint_display) = match endpoint {
        Some(e) => {
            let e = e.trim_end_matches('/');
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                bail!("--endpoint {e}: must start with http:// or https://");
            }
            let region = Region::Custom {
                region: region_name.to_string(),
                endpoint: e.to_string(),
            };
            (region, e.to_string())
        }
        None => {
            let region: Region = region_name
                .parse()
                .with_context(|| format!("--region {region_name}"))?;
            let shown = format!("https://{}", region.endpoint());
            (region, shown)
        }
    };
    let creds = credentials.to_rust_s3()?;
    let mut bucket = Bucket::new(bucket_name, region, creds)
        .map_err(|e| anyhow::anyhow!("S3 bucket {bucket_name}: {e}"))?;
    if path_style.unwrap_or_else(|| endpoint.is_some_and(default_path_style)) {
        bucket.set_path_style();
    }
    Ok((bucket, endpoint_display))
}

/// One object to put: the bucket (with the object's metadata headers), the local file, its
/// key, MD5, size and content type.
#[derive(Clone, Copy)]
struct Put<'a> {
    bucket: &'a Bucket,
    local: &'a Path,
    object: &'a str,
    md5: &'a [u8; 16],
    size: u64,
    content_type: &'a str,
}

impl Uploader {
    /// An uploader for `target` (`s3://BUCKET[/PREFIX]`) reached as `access` says, with default
    /// options.
    pub(crate) fn new(target: &str, access: &S3Access) -> Result<Uploader> {
        let (endpoint, region) = access.endpoint_and_region()?;
        Self::with_credentials(
            target,
            endpoint.as_deref(),
            region.as_deref(),
            access.path_style(),
            access.credentials()?,
        )
    }

    /// An uploader with explicit settings and credentials. `endpoint` (e.g.
    /// `http://127.0.0.1:9000`, a KS3 or MinIO URL) defaults to AWS in `region` (default
    /// `us-east-1`); `path_style` defaults to on when the endpoint's host is an IP address or
    /// `localhost`.
    pub fn with_credentials(
        target: &str,
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: Option<bool>,
        credentials: S3Credentials,
    ) -> Result<Uploader> {
        super::init_tls();
        // Our retry loop is the only one, so its bounds hold.
        s3::set_retries(0);
        let target: Target = target.parse()?;
        let (mut bucket, endpoint_display) =
            connect(&target.bucket, endpoint, region, path_style, &credentials)?;
        let options = S3Options::default();
        bucket.set_request_timeout(Some(options.request_timeout));
        Ok(Uploader {
            target,
            bucket,
            endpoint: endpoint_display,
            credentials,
            options,
            down: Mutex::new(None),
        })
    }

    /// Replaces the tuning (thresholds, retries, timeouts).
    pub fn with_options(mut self, options: S3Options) -> Uploader {
        self.bucket
            .set_request_timeout(Some(options.request_timeout));
        self.options = options;
        self
    }

    /// The bucket name (the callbacks' `bucket`).
    pub fn bucket(&self) -> &str {
        &self.target.bucket
    }

    /// The object key of a `record/…` key: the prefix joined with one slash.
    pub fn key_for(&self, key: &str) -> String {
        self.target.key_for(key)
    }

    /// `s3://BUCKET[/PREFIX]`, for messages.
    #[cfg(test)]
    pub(crate) fn target(&self) -> String {
        self.target.to_string()
    }

    /// Uploads `local` as `key_for(key)`, unless an object with content MD5 `md5` is there.
    /// `md5` is the MD5 computed when the file was written; a file that no longer matches it
    /// is refused.
    pub fn upload(&self, local: &Path, key: &str, md5: [u8; 16]) -> Result<UploadOutcome> {
        let object = self.key_for(key);
        self.upload_object(local, &object, &md5)
            .with_context(|| format!("uploading {key} to {}", self.target))
    }

    /// Uploads a finished recording: its parts (HLS segments, beside the main file's key) first,
    /// the main file last, so a playlist never names a segment that is not there yet.
    /// `key` is the main file's `record/…` key. Returns the outcome of each object, in order.
    pub fn upload_produced(
        &self,
        produced: &Produced,
        key: &str,
    ) -> Result<Vec<(String, UploadOutcome)>> {
        let dir = key.rsplit_once('/').map_or("", |(d, _)| d);
        let mut done = Vec::with_capacity(produced.parts.len() + 1);
        for part in &produced.parts {
            let name = part
                .file_name()
                .and_then(|n| n.to_str())
                .with_context(|| format!("segment path {} has no name", part.display()))?;
            let part_key = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            let md5 = md5_of_file(part).with_context(|| format!("reading {}", part.display()))?;
            let outcome = self.upload(part, &part_key, md5)?;
            done.push((part_key, outcome));
        }
        let outcome = self.upload(&produced.path, key, produced.md5)?;
        done.push((key.to_string(), outcome));
        Ok(done)
    }

    fn upload_object(&self, local: &Path, object: &str, md5: &[u8; 16]) -> Result<UploadOutcome> {
        let size = std::fs::metadata(local)
            .with_context(|| format!("reading {}", local.display()))?
            .len();
        match self.remote(object, md5, size)? {
            Remote::Absent => {}
            Remote::Same => return Ok(UploadOutcome::AlreadyPresent),
            Remote::Different(what) => bail!(
                "the bucket already holds a different object under {object} ({what}); kls-rec \
                 never overwrites a recording (remove it or choose another prefix)"
            ),
        }
        // rust-s3 sends x-amz-meta-* headers only with PutObject and CreateMultipartUpload.
        let mut meta_bucket = (*self.bucket).clone();
        meta_bucket.add_header(&format!("x-amz-meta-{META_MD5}"), &hex(md5));
        let put = Put {
            bucket: &meta_bucket,
            local,
            object,
            md5,
            size,
            content_type: content_type(object),
        };
        if size <= self.options.multipart_threshold {
            self.put_single(&put)?;
        } else {
            self.put_multipart(&put)?;
        }
        Ok(UploadOutcome::Uploaded)
    }

    /// What the bucket holds under `object` compared with the local file (one HEAD).
    fn remote(&self, object: &str, md5: &[u8; 16], size: u64) -> Result<Remote> {
        let head = self.retrying(|| match self.bucket.head_object(object) {
            Ok((h, _)) => Ok(Some(h)),
            // 403: without s3:ListBucket, AWS answers a HEAD of a missing key so.
            Err(S3Error::HttpFailWithBody(404 | 403, _)) => Ok(None),
            Err(e) => Err(e),
        })?;
        let Some(head) = head else {
            return Ok(Remote::Absent);
        };
        let want = hex(md5);
        let meta = head
            .metadata
            .as_ref()
            .and_then(|m| m.get(META_MD5))
            .map(|v| v.trim().to_ascii_lowercase());
        let etag = head
            .e_tag
            .as_deref()
            .map(|e| e.trim().trim_matches('"').to_ascii_lowercase());
        // A multipart ETag (with '-') is no MD5; only our metadata tells then.
        let remote_md5 = meta.or(etag.filter(|e| !e.contains('-')));
        let same_size = head.content_length.is_none_or(|l| l == size as i64);
        if same_size && remote_md5.as_deref() == Some(want.as_str()) {
            return Ok(Remote::Same);
        }
        Ok(Remote::Different(format!(
            "MD5 {}, {} bytes",
            remote_md5.as_deref().unwrap_or("unknown"),
            head.content_length
                .map_or_else(|| "unknown".to_string(), |l| l.to_string())
        )))
    }

    fn put_single(&self, put: &Put<'_>) -> Result<()> {
        let Put {
            bucket,
            local,
            object,
            md5,
            size,
            content_type,
        } = *put;
        let mut body = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let f = File::open(local).with_context(|| format!("opening {}", local.display()))?;
        // Bounded by the size seen before: a file growing meanwhile fails the MD5 check.
        f.take(size)
            .read_to_end(&mut body)
            .with_context(|| format!("reading {}", local.display()))?;
        check_md5(local, &Md5::digest(&body).into(), md5)?;
        self.retrying(|| {
            bucket
                .put_object_with_content_type_and_headers(object, &body, content_type, None)
                .map(|_| ())
        })
    }

    fn put_multipart(&self, put: &Put<'_>) -> Result<()> {
        let Put {
            bucket,
            object,
            md5,
            size,
            content_type,
            ..
        } = *put;
        let part_size = self
            .options
            .part_size
            .max(MIN_PART_SIZE)
            .max(size.div_ceil(MAX_PARTS));
        let upload = self.retrying(|| bucket.initiate_multipart_upload(object, content_type))?;
        let id = upload.upload_id;
        let parts = match self.send_parts(put, &id, part_size) {
            Ok(p) => p,
            Err(e) => {
                // Best effort: parts left behind are billed until a lifecycle rule removes them.
                let _ = self.bucket.abort_upload(object, &id);
                return Err(e);
            }
        };
        let completed = self.retrying(|| {
            self.bucket
                .complete_multipart_upload(object, &id, parts.clone())
                .map(|_| ())
        });
        if let Err(e) = completed {
            // A lost reply to a completion that did happen: the object is there and whole.
            if matches!(self.remote(object, md5, size), Ok(Remote::Same)) {
                return Ok(());
            }
            let _ = self.bucket.abort_upload(object, &id);
            return Err(e);
        }
        Ok(())
    }

    /// Reads and sends the parts in order, hashing the whole file on the way.
    fn send_parts(&self, put: &Put<'_>, id: &str, part_size: u64) -> Result<Vec<Part>> {
        let Put {
            local,
            object,
            md5,
            content_type,
            ..
        } = *put;
        let mut f = File::open(local).with_context(|| format!("opening {}", local.display()))?;
        let mut hasher = Md5::new();
        let mut parts = Vec::new();
        let mut buf = Vec::with_capacity(usize::try_from(part_size).unwrap_or(usize::MAX));
        for number in 1u32.. {
            buf.clear();
            (&mut f)
                .take(part_size)
                .read_to_end(&mut buf)
                .with_context(|| format!("reading {}", local.display()))?;
            if buf.is_empty() && number > 1 {
                break;
            }
            hasher.update(&buf);
            let part = self.retrying(|| {
                self.bucket
                    .put_multipart_chunk(&buf, object, number, id, content_type)
            })?;
            parts.push(part);
            if (buf.len() as u64) < part_size {
                break;
            }
        }
        check_md5(local, &hasher.finalize().into(), md5)?;
        Ok(parts)
    }

    /// One S3 request under the retry policy; the error names the endpoint and the effort.
    /// After a transient give-up, no request of this uploader is tried again.
    fn retrying<T>(&self, mut op: impl FnMut() -> Result<T, S3Error>) -> Result<T> {
        if let Some(why) = self.down.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            bail!("not tried: {why}");
        }
        retry(&self.options.retry, |_| op().map_err(|e| self.classify(e))).map_err(
            |g: GaveUp<String>| {
                let GaveUp { error, .. } = &g;
                let message = format!(
                    "{error} ({}){}",
                    self.endpoint,
                    g.to_string().strip_prefix(error.as_str()).unwrap_or("")
                );
                if g.transient {
                    *self.down.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.clone());
                }
                anyhow::anyhow!(message)
            },
        )
    }

    fn classify(&self, e: S3Error) -> Attempt<String> {
        match e {
            S3Error::HttpFailWithBody(status, body) => {
                let m = self.credentials.scrub(&describe_http(status, &body));
                if status >= 500 || status == 408 || status == 429 {
                    Attempt::Transient(m)
                } else {
                    Attempt::Permanent(m)
                }
            }
            S3Error::Atto(e) => Attempt::Transient(self.credentials.scrub(&describe_io(&e))),
            S3Error::Io(e) => Attempt::Transient(self.credentials.scrub(&describe_io(&e))),
            other => Attempt::Permanent(self.credentials.scrub(&other.to_string())),
        }
    }
}

fn check_md5(local: &Path, got: &[u8; 16], want: &[u8; 16]) -> Result<()> {
    if got != want {
        bail!(
            "{} changed since it was written (MD5 {} instead of {}); not uploaded",
            local.display(),
            hex(got),
            hex(want)
        );
    }
    Ok(())
}

/// "HTTP 403 AccessDenied: Access Denied" from an S3 error reply; only `Code` and `Message`
/// are quoted (other fields of some servers' replies echo request details).
fn describe_http(status: u16, body: &str) -> String {
    let field = |name: &str| {
        let open = format!("<{name}>");
        let start = body.find(&open)? + open.len();
        let len = body[start..].find(&format!("</{name}>"))?;
        let text: String = body[start..start + len]
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        Some(text)
    };
    match (field("Code"), field("Message")) {
        (Some(c), Some(m)) => format!("HTTP {status} {c}: {m}"),
        (Some(c), None) => format!("HTTP {status} {c}"),
        _ => format!("HTTP {status}"),
    }
}

/// "connection refused" from "Io Error: Connection refused (os error 111)".
fn describe_io(e: &dyn fmt::Display) -> String {
    let s = e.to_string();
    let s = s.strip_prefix("Io Error: ").unwrap_or(&s);
    let s = match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => &s[..i],
        _ => s,
    };
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "network error".to_string(),
    }
}

/// The `Content-Type` stored with an object, from its extension.
fn content_type(object: &str) -> &'static str {
    let extension = object.rsplit_once('.').map_or("", |(_, e)| e);
    crate::format::media_type(extension)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uploader(target: &str, endpoint: Option<&str>) -> Uploader {
        Uploader::with_credentials(
            target,
            endpoint,
            None,
            None,
            S3Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", None),
        )
        .unwrap()
    }

    #[test]
    fn keys_buckets_and_path_style() {
        let u = uploader("s3://media/backfill/", Some("http://127.0.0.1:9000/"));
        assert_eq!(u.bucket(), "media");
        assert_eq!(
            u.key_for("record/live/a/flv/a-1-2.flv"),
            "backfill/record/live/a/flv/a-1-2.flv"
        );
        assert_eq!(u.key_for("/record/x"), "backfill/record/x");
        assert_eq!(u.target(), "s3://media/backfill");
        assert!(u.bucket.is_path_style());
        let aws = uploader("s3://media", None);
        assert!(!aws.bucket.is_path_style());
        assert_eq!(aws.key_for("record/x"), "record/x");
        let ks3 = uploader("s3://media", Some("https://ks3-cn-beijing.ksyuncs.com"));
        assert!(!ks3.bucket.is_path_style());
    }

    #[test]
    fn secrets_never_show() {
        let u = uploader("s3://media", Some("http://localhost:9000"));
        let dbg = format!("{u:?}");
        assert!(
            !dbg.contains("AKIDEXAMPLE") && !dbg.contains("wJalr"),
            "{dbg}"
        );
        let m = u
            .credentials
            .scrub("<AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId>");
        assert!(!m.contains("AKIDEXAMPLE"));
        let body = "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message>\
                    <AWSAccessKeyId>AKIDEXAMPLE</AWSAccessKeyId></Error>";
        assert_eq!(
            describe_http(403, body),
            "HTTP 403 SignatureDoesNotMatch: no"
        );
        assert_eq!(describe_http(500, "<html>"), "HTTP 500");
    }

    #[test]
    fn io_errors_read_plainly() {
        assert_eq!(
            describe_io(&"Io Error: Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(describe_io(&""), "network error");
    }

    #[test]
    fn bad_endpoints_are_refused() {
        let e = Uploader::with_credentials(
            "s3://media",
            Some("127.0.0.1:9000"),
            None,
            None,
            S3Credentials::new("a", "b", None),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("must start with http://"), "{e}");
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type("a/b.m3u8"), "application/vnd.apple.mpegurl");
        assert_eq!(content_type("a/b-1.ts"), "video/mp2t");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
