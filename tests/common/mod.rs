//! Servers and process helpers shared by the delivery tests: `s3s-fs` (the S3 protocol with
//! signature checks) on 127.0.0.1, a counting TCP proxy in front of it, a scripted HTTP/1.1
//! callback receiver, and children that are always killed, even when a test fails.

// Each test crate uses a different subset.
#![allow(dead_code)]

pub mod capture;
pub mod pyav;
pub mod run;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "kls-rec-test-access";
pub const SECRET_KEY: &str = "kls-rec-test-secret-key";
pub const BUCKET: &str = "media";

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, up: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() != up {
        assert!(Instant::now() < deadline, "port {port} never became {up}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether `s3s-fs` is installed. In CI (`CI` set) it must be.
pub fn have_s3s_fs() -> bool {
    let ok = Command::new("s3s-fs")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !ok && std::env::var_os("CI").is_some() {
        panic!(
            "s3s-fs is required in CI (cargo install s3s-fs --version 0.14.1 --features binary)"
        );
    }
    if !ok {
        eprintln!("s3s-fs not found: skipping the S3 test");
    }
    ok
}

/// A child process killed (SIGKILL) and reaped on drop, so no test leaves one behind.
pub struct ChildGuard(pub Option<Child>);

impl ChildGuard {
    pub fn new(child: Child) -> ChildGuard {
        ChildGuard(Some(child))
    }

    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child not yet reaped")
    }

    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("child not yet reaped").id()
    }

    /// SIGKILL now, and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An `s3s-fs` process on 127.0.0.1 storing under `root`, killed on drop.
pub struct S3Server {
    pub root: PathBuf,
    pub port: u16,
    child: Option<ChildGuard>,
}

impl S3Server {
    pub fn start(root: &Path) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).unwrap();
        let mut s = S3Server {
            root: root.to_path_buf(),
            port: free_port(),
            child: None,
        };
        s.restart();
        s
    }

    pub fn restart(&mut self) {
        let child = Command::new("s3s-fs")
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(&self.root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting s3s-fs");
        self.child = Some(ChildGuard::new(child));
        wait_for_port(self.port, true);
    }

    pub fn stop(&mut self) {
        self.child.take();
        wait_for_port(self.port, false);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// What a proxy does with one client connection: relay it to the upstream port, logging the
/// request lines it sees.
pub type Relay = fn(TcpStream, u16, &Mutex<Vec<String>>);

/// A proxy on a free port of 127.0.0.1 in front of `upstream`, each connection handled by
/// `relay` on its own thread; its port and the request lines logged.
pub fn spawn_proxy(upstream: u16, relay: Relay) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { break };
            let log = log.clone();
            std::thread::spawn(move || relay(client, upstream, &log));
        }
    });
    (port, requests)
}

/// A TCP proxy that records the first request line of every connection (rust-s3's blocking
/// client opens one connection per request), to count what reaches the server.
pub struct CountingProxy {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    pub fn start(upstream: u16) -> CountingProxy {
        let (port, requests) = spawn_proxy(upstream, relay);
        CountingProxy { port, requests }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Request lines seen so far (`PUT /media/key?… HTTP/1.1`).
    pub fn methods(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn relay(mut client: TcpStream, upstream: u16, log: &Mutex<Vec<String>>) {
    let Some((first, line)) = first_request(&mut client) else {
        return;
    };
    log.lock().unwrap().push(line);
    forward(client, upstream, &first);
}

/// A client's first read and the request line it begins with.
pub fn first_request(client: &mut TcpStream) -> Option<(Vec<u8>, String)> {
    let mut first = vec![0u8; 64 * 1024];
    let n = client.read(&mut first).ok()?;
    first.truncate(n);
    let line = String::from_utf8_lossy(&first)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    Some((first, line))
}

/// Sends `first` on to 127.0.0.1:`upstream`, then copies both directions until each closes.
pub fn forward(mut client: TcpStream, upstream: u16, first: &[u8]) {
    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        return;
    };
    if server.write_all(first).is_err() {
        return;
    }
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let back = std::thread::spawn(move || {
        let _ = std::io::copy(&mut s2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut client, &mut server);
    let _ = server.shutdown(Shutdown::Write);
    let _ = back.join();
}

/// The object as the server returns it, through an independent client.
pub fn get_object(endpoint: &str, key: &str) -> Vec<u8> {
    let region = s3::region::Region::Custom {
        region: "us-east-1".into(),
        endpoint: endpoint.into(),
    };
    let creds =
        s3::creds::Credentials::new(Some(ACCESS_KEY), Some(SECRET_KEY), None, None, None).unwrap();
    let bucket = s3::Bucket::new(BUCKET, region, creds)
        .unwrap()
        .with_path_style();
    let r = bucket.get_object(key).unwrap();
    assert_eq!(r.status_code(), 200, "GET {key}");
    r.to_vec()
}

/// One request as a listener received it, and the status it was answered with.
#[derive(Clone, Debug)]
pub struct Received {
    pub head: String,
    pub body: String,
    pub status: u16,
}

/// Reads one HTTP/1.1 request (head and a `Content-Length` body).
pub fn read_request(conn: &mut TcpStream) -> Option<Received> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 || buf.len() > 1 << 20 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let len: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
    Some(Received {
        head,
        body,
        status: 0,
    })
}

/// Writes a short reply and closes the connection.
pub fn reply(conn: &mut TcpStream, status: u16) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Internal Server Error",
    };
    let text =
        format!("HTTP/1.1 {status} {reason}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    let _ = conn.write_all(text.as_bytes());
}

/// A callback receiver on 127.0.0.1 that answers the scripted statuses in order, then 200 to
/// everything, until dropped. One request per connection.
pub struct Receiver {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Listens on `port` (0: any free port).
    pub fn start(port: u16, script: Vec<u16>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopping) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut script = script.into_iter();
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let Some(mut r) = read_request(&mut conn) else {
                    continue;
                };
                r.status = script.next().unwrap_or(200);
                // Logged before the reply: a client that exits on the reply finds it logged.
                let status = r.status;
                log.lock().unwrap().push(r);
                reply(&mut conn, status);
            }
        });
        Receiver {
            port,
            received,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/kls/callback", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Bodies answered with 200, in order.
    pub fn accepted(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter(|r| r.status == 200)
            .map(|r| r.body)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
