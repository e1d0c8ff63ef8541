//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for byte-level tests.
//!
//! Each request is answered by a list of [`Step`]s that the test's script
//! returns: raw bytes, pauses, a hang, a close or a reset. Everything it
//! receives is recorded. The server stops by itself after [`LIFETIME`], and
//! at once when the [`RawServer`] is dropped (its accept task owns every
//! connection task).

#![allow(dead_code)]

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::{JoinHandle, JoinSet},
};

/// The longest any server or connection lives.
pub const LIFETIME: Duration = Duration::from_secs(30);

/// The largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Which accepted connection carried it (0-based).
    pub conn: usize,
}

impl Request {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first value of a header (name case-insensitive), lossily decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    pub fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }
}

/// What the server does next on a connection.
#[derive(Clone, Debug)]
pub enum Step {
    /// Writes these bytes.
    Write(Vec<u8>),
    /// Pauses.
    Sleep(Duration),
    /// Writes `head`, then `total` bytes of `fill` in 64 KiB writes, stopping
    /// early when the client hangs up (see [`RawServer::streamed`]).
    Stream { head: Vec<u8>, total: u64, fill: u8 },
    /// Writes `head`, then one chunk of `piece` every `every`, forever (until
    /// the client hangs up or [`LIFETIME`]).
    Trickle {
        head: Vec<u8>,
        piece: Vec<u8>,
        every: Duration,
    },
    /// Keeps the connection open without writing, until the client leaves.
    Hang,
    /// Closes the connection (FIN).
    Close,
    /// Resets the connection (RST, through SO_LINGER 0).
    Reset,
}

type Script = dyn Fn(&Request, usize) -> Vec<Step> + Send + Sync;

#[derive(Default)]
struct State {
    accepts: AtomicUsize,
    requests: Mutex<Vec<Request>>,
    streamed: AtomicU64,
    client_hung_up: AtomicBool,
}

/// A running scripted server; dropping it stops it.
pub struct RawServer {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// Starts a server whose `script(request, index)` says how to answer the
    /// `index`th request (0-based, counted over all connections). When the
    /// steps end without closing, the connection stays open for the next
    /// request (keep-alive).
    pub async fn start<F>(script: F) -> RawServer
    where
        F: Fn(&Request, usize) -> Vec<Step> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State::default());
        let script: Arc<Script> = Arc::new(script);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state), script));
        RawServer { addr, state, task }
    }

    /// A server that answers every request with the same steps.
    pub async fn always(steps: Vec<Step>) -> RawServer {
        RawServer::start(move |_, _| steps.clone()).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted.
    pub fn accepts(&self) -> usize {
        self.state.accepts.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// How many requests were received.
    pub fn hits(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Body bytes written by [`Step::Stream`] and [`Step::Trickle`].
    pub fn streamed(&self) -> u64 {
        self.state.streamed.load(Ordering::SeqCst)
    }

    /// Whether a stream or trickle stopped because the client hung up.
    pub fn client_hung_up(&self) -> bool {
        self.state.client_hung_up.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, script: Arc<Script>) {
    // Owning the connection tasks here means that aborting this task (on
    // drop) or reaching the lifetime ends them too.
    let mut connections = JoinSet::new();
    let accept_all = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let conn = state.accepts.fetch_add(1, Ordering::SeqCst);
            let (state, script) = (Arc::clone(&state), Arc::clone(&script));
            connections.spawn(async move {
                let _ = tokio::time::timeout(LIFETIME, serve(stream, conn, state, script)).await;
            });
            while connections.try_join_next().is_some() {}
        }
    };
    let _ = tokio::time::timeout(LIFETIME, accept_all).await;
}

async fn serve(mut stream: TcpStream, conn: usize, state: Arc<State>, script: Arc<Script>) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer, conn).await else {
            return;
        };
        let index = {
            let mut requests = state.requests.lock().unwrap();
            requests.push(request.clone());
            requests.len() - 1
        };
        for step in script(&request, index) {
            match step {
                Step::Write(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                    let _ = stream.flush().await;
                }
                Step::Sleep(pause) => tokio::time::sleep(pause).await,
                Step::Stream { head, total, fill } => {
                    if stream.write_all(&head).await.is_err() {
                        return;
                    }
                    let chunk = vec![fill; 64 * 1024];
                    let mut left = total;
                    while left > 0 {
                        let n = left.min(chunk.len() as u64) as usize;
                        if stream.write_all(&chunk[..n]).await.is_err() {
                            state.client_hung_up.store(true, Ordering::SeqCst);
                            return;
                        }
                        state.streamed.fetch_add(n as u64, Ordering::SeqCst);
                        left -= n as u64;
                    }
                }
                Step::Trickle { head, piece, every } => {
                    if stream.write_all(&head).await.is_err() {
                        return;
                    }
                    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
                    chunk.extend_from_slice(&piece);
                    chunk.extend_from_slice(b"\r\n");
                    loop {
                        if stream.write_all(&chunk).await.is_err() {
                            state.client_hung_up.store(true, Ordering::SeqCst);
                            return;
                        }
                        state
                            .streamed
                            .fetch_add(piece.len() as u64, Ordering::SeqCst);
                        tokio::time::sleep(every).await;
                    }
                }
                Step::Hang => {
                    // Returns when the client closes (read gives 0 or fails).
                    let mut sink = [0u8; 1024];
                    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
                    return;
                }
                Step::Close => {
                    let _ = stream.shutdown().await;
                    return;
                }
                Step::Reset => {
                    let _ = stream.set_zero_linger();
                    drop(stream);
                    return;
                }
            }
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` when the
/// client closed or sent something unreadable.
async fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    conn: usize,
) -> Option<Request> {
    let head_end = loop {
        if let Some(pos) = find(buffer, b"\r\n\r\n") {
            break pos;
        }
        if buffer.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, Vec<u8>)> = buffer[..head_end]
        .split(|b| *b == b'\n')
        .skip(1)
        .filter_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|b| *b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_owned();
            let value = line[colon + 1..].trim_ascii().to_vec();
            Some((name, value))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(0);
    buffer.drain(..head_end + 4);
    while buffer.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer.drain(..length).collect();
    Some(Request {
        method,
        target,
        headers,
        body,
        conn,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A complete HTTP/1.1 response with a correct `Content-Length`.
pub fn response(status: u16, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Vec<u8> {
    let body = body.as_ref();
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// A JSON response.
pub fn json(status: u16, body: impl AsRef<[u8]>) -> Vec<u8> {
    response(status, &[("Content-Type", "application/json")], body)
}

/// One step writing a JSON response.
pub fn reply_json(status: u16, body: impl AsRef<[u8]>) -> Vec<Step> {
    vec![Step::Write(json(status, body))]
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// A closed loopback port: bound, then released.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    addr
}

/// Text captured from `tracing` on one thread; see [`capture_traces`].
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<LogBuffer>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the capturing buffer of the current thread, if any.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(buffer) = &*capture.borrow() {
                buffer.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

/// Captures everything `tracing` emits on this thread, TRACE included,
/// until the guard is dropped. Use it in a current-thread `#[tokio::test]`,
/// where the client and its connection tasks all run on the test's thread.
///
/// One global subscriber routes events by thread. A scoped subscriber
/// (`set_default`) per test is flaky when tests run in parallel: an event
/// first seen on another thread while no scoped subscriber is alive gets its
/// interest cached as "never", and is then missing from the capture.
pub fn capture_traces() -> (LogBuffer, CaptureGuard) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| ThreadWriter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
    });
    // Repairs any interest computed while the subscriber was being
    // installed by another test's thread.
    tracing::callsite::rebuild_interest_cache();
    let buffer = LogBuffer::default();
    CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
    (buffer, CaptureGuard(()))
}
