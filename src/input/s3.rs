//! `s3://BUCKET/KEY` and `s3://BUCKET/PREFIX/` inputs (README "Cron and backfills"), so a backfill
//! can read its dumps where they are stored.
//!
//! A URL naming one object is that object; a URL ending in `/`, or naming no object, lists
//! every object under it (in key order). FLV objects are **streamed**: the download runs on a
//! thread writing into a pipe the FLV reader reads, so nothing is stored and memory stays that
//! of the reader. Every other input (MP4 needs seeking, an HLS playlist its segments, a capture
//! one pass per push) is downloaded first into a hidden scratch directory of the output root
//! (`.kls-rec-inputs/`, mirroring the keys, removed when the run ends), then opened as a local
//! file. When a listing holds HLS playlists, its `.ts` objects are their segments, downloaded
//! beside them and not read as inputs of their own.
//!
//! The bucket is reached as for uploads ([`S3Access`]: `--endpoint`, `--region`,
//! `--path-style`, the `AWS_*` variables and the `~/.aws` profile), with the settings the
//! command line puts in [`InputOptions::s3`]. Reading needs only `s3:ListBucket` and
//! `s3:GetObject`: nothing is written to the bucket.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use s3::Bucket;

use super::{
    InputError, InputOptions, PendingSession, SessionInfo, SessionReader, WallClockSource,
};
use crate::deliver::s3::{S3Access, S3Flags, Target};

/// How `s3://` inputs reach their bucket, and where the inputs that are downloaded (not
/// streamed) are kept for the run (the caller removes it afterwards).
#[derive(Debug)]
pub(crate) struct S3Inputs {
    pub(crate) access: S3Access,
    pub(crate) scratch: PathBuf,
}

impl S3Inputs {
    /// Settings from this process's environment only, downloads under the temporary directory
    /// (for callers that set no [`InputOptions::s3`]).
    fn fallback() -> S3Inputs {
        S3Inputs {
            access: S3Access::from_env(S3Flags::default()),
            scratch: std::env::temp_dir().join(format!("kls-rec-inputs-{}", std::process::id())),
        }
    }
}

/// Whether an input names S3 storage.
pub(crate) fn is_s3(path: &str) -> bool {
    path.starts_with("s3://")
}

fn settings(opts: &InputOptions) -> Arc<S3Inputs> {
    opts.s3
        .clone()
        .unwrap_or_else(|| Arc::new(S3Inputs::fallback()))
}

/// What an `s3://` URL names: its bucket and objects.
struct Listing {
    bucket: Arc<Bucket>,
    /// Each object's `s3://` name and key: the object itself, or every object under the
    /// prefix, in key order.
    objects: Vec<(String, String)>,
    /// An HLS playlist is among the objects.
    has_playlist: bool,
}

impl Listing {
    /// A `.ts` object beside a playlist: one of its segments, downloaded but not an input.
    fn is_segment(&self, key: &str) -> bool {
        self.has_playlist && key.ends_with(".ts")
    }
}

/// Lists what `url` names.
fn list(url: &str, s3: &S3Inputs) -> Result<Listing, InputError> {
    let target: Target = url
        .parse()
        .map_err(|e: anyhow::Error| InputError::new(url, None, format!("{e:#}")))?;
    let bucket: Arc<Bucket> = s3
        .access
        .connect(&target.bucket)
        .map(|(b, _)| Arc::from(b))
        .map_err(|e| InputError::new(url, None, format!("{e:#}")))?;
    let fail = |e: s3::error::S3Error| InputError::new(url, None, format!("listing: {e}"));
    let mut keys: Vec<String> = Vec::new();
    if !url.ends_with('/')
        && !target.prefix.is_empty()
        && let Ok((_, code)) = bucket.head_object(&target.prefix)
        && (200..300).contains(&code)
    {
        keys.push(target.prefix.clone());
    }
    if keys.is_empty() {
        let prefix = if target.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", target.prefix)
        };
        for page in bucket.list(prefix, None).map_err(fail)? {
            keys.extend(page.contents.into_iter().map(|o| o.key));
        }
        keys.sort();
        if keys.is_empty() {
            return Err(InputError::new(url, None, "no objects there"));
        }
    }
    let has_playlist = keys.iter().any(|k| k.ends_with(".m3u8"));
    let objects = keys
        .into_iter()
        .map(|key| (format!("s3://{}/{key}", target.bucket), key))
        .collect();
    Ok(Listing {
        bucket,
        objects,
        has_playlist,
    })
}

/// Opens an `s3://` input: one object, or every object under a prefix.
pub(crate) fn open(url: &str, opts: &InputOptions) -> Result<Vec<PendingSession>, InputError> {
    let s3 = settings(opts);
    let listing = list(url, &s3)?;
    let mut sessions = Vec::new();
    for (name, key) in &listing.objects {
        if key.ends_with(".flv") {
            sessions.push(stream_flv(name, listing.bucket.clone(), key, opts)?);
        } else {
            let local = download(name, &listing.bucket, key, &s3.scratch)?;
            if listing.is_segment(key) {
                continue;
            }
            let local_name = local.display().to_string();
            for mut s in super::open(&local_name, opts)? {
                s.info.input = name.clone();
                sessions.push(s);
            }
        }
    }
    Ok(sessions)
}

/// Downloads every object an `s3://` input names into the scratch directory: each input's
/// `s3://` name and local path, in key order (an HLS listing's `.ts` segments are downloaded
/// beside their playlists, not listed as inputs).
pub(crate) fn fetch(url: &str, opts: &InputOptions) -> Result<Vec<(String, PathBuf)>, InputError> {
    let s3 = settings(opts);
    let listing = list(url, &s3)?;
    let mut inputs = Vec::new();
    for (name, key) in &listing.objects {
        let local = download(name, &listing.bucket, key, &s3.scratch)?;
        if !listing.is_segment(key) {
            inputs.push((name.clone(), local));
        }
    }
    Ok(inputs)
}

/// Downloads one object into the run's scratch directory, keyed like the bucket.
fn download(name: &str, bucket: &Bucket, key: &str, root: &Path) -> Result<PathBuf, InputError> {
    let safe: PathBuf = key
        .split('/')
        .filter(|p| !p.is_empty())
        .map(crate::sink::naming::safe_component)
        .collect();
    let path = root.join(bucket.name()).join(safe);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| InputError::io(name, None, e))?;
    }
    let mut file = std::fs::File::create(&path).map_err(|e| InputError::io(name, None, e))?;
    let code = bucket
        .get_object_to_writer(key, &mut file)
        .map_err(|e| InputError::new(name, None, format!("downloading: {e}")))?;
    if !(200..300).contains(&code) {
        return Err(InputError::new(
            name,
            None,
            format!("downloading: HTTP {code}"),
        ));
    }
    Ok(path)
}

/// An FLV object as one push, read while it downloads.
fn stream_flv(
    name: &str,
    bucket: Arc<Bucket>,
    key: &str,
    opts: &InputOptions,
) -> Result<PendingSession, InputError> {
    let file_name = Path::new(key);
    let mut warnings = Vec::new();
    let (wall_start_ms, wall_clock) =
        match (opts.start_time_ms, super::time_from_file_name(file_name)) {
            (Some(t), _) => (t, WallClockSource::Flag),
            (None, Some(t)) => (t, WallClockSource::FileName),
            (None, None) => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                warnings.push(format!(
                    "{name}: no --start-time and no Unix time in the object's name: the wall \
                     clock is guessed as the time reading began ({now} ms since the epoch)"
                ));
                (now, WallClockSource::ReadTime)
            }
        };
    let info = SessionInfo::single(
        opts.stream_key(|| super::stream_from_file_name(file_name)),
        (wall_start_ms, wall_clock),
        name.to_string(),
        warnings,
    );
    let (name, key) = (name.to_string(), key.to_string());
    Ok(PendingSession::new(
        info,
        None,
        Box::new(move || {
            let reader = ObjectReader::start(bucket, key, name.clone())?;
            let session = super::flv::FlvSession::new(reader, &name)?;
            Ok(Box::new(session) as Box<dyn SessionReader>)
        }),
    ))
}

/// The bytes of an object as they arrive: a download thread writes into a pipe; a download
/// that fails surfaces as a read error naming it, never as a silently short input.
struct ObjectReader {
    pipe: io::PipeReader,
    failure: Arc<Mutex<Option<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ObjectReader {
    fn start(bucket: Arc<Bucket>, key: String, name: String) -> Result<ObjectReader, InputError> {
        let (pipe, mut writer) = io::pipe().map_err(|e| InputError::io(&name, None, e))?;
        let failure = Arc::new(Mutex::new(None));
        let failed = failure.clone();
        let thread = std::thread::spawn(move || {
            let outcome = match bucket.get_object_to_writer(&key, &mut writer) {
                Ok(code) if (200..300).contains(&code) => None,
                Ok(code) => Some(format!("downloading {name}: HTTP {code}")),
                Err(e) => Some(format!("downloading {name}: {e}")),
            };
            *failed.lock().expect("download status") = outcome;
        });
        Ok(ObjectReader {
            pipe,
            failure,
            thread: Some(thread),
        })
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.pipe.read(buf)?;
        if n == 0 {
            // The writer is gone: the download ended; say so if it failed.
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
            if let Some(e) = self.failure.lock().expect("download status").take() {
                return Err(io::Error::other(e));
            }
        }
        Ok(n)
    }
}
