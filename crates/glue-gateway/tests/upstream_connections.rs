//! Upstream mode, plain http: the upstream connections each downstream
//! connection keeps (reused across its requests, closed with it, replaced
//! when the upstream closes one), HTTP/2 streams in parallel, streamed
//! bodies, 502 when the upstream cannot be reached.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::*;

/// How a [`CountingUpstream`] ends a connection.
#[derive(Clone, Copy, PartialEq)]
enum Close {
    /// Keep-alive: answers until the gateway closes.
    Never,
    /// After one answer that says `connection: close`.
    Announced,
    /// After one answer, without saying so.
    Silently,
}

/// An HTTP/1.1 upstream answering a JSON echo of the path and of the
/// connection's number; counts connections opened and closed by the peer.
struct CountingUpstream {
    addr: SocketAddr,
    opened: Arc<AtomicUsize>,
    /// One message per connection ended (by either side), with its number.
    ended: mpsc::Receiver<usize>,
}

impl CountingUpstream {
    fn start(close: Close) -> CountingUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let opened = Arc::new(AtomicUsize::new(0));
        let (tx, ended) = mpsc::channel();
        let count = Arc::clone(&opened);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                let tx = tx.clone();
                std::thread::spawn(move || {
                    serve(stream, n, close);
                    let _ = tx.send(n);
                });
            }
        });
        CountingUpstream {
            addr,
            opened,
            ended,
        }
    }

    fn opened(&self) -> usize {
        self.opened.load(Ordering::SeqCst)
    }

    /// Waits until connection `n` has ended.
    fn wait_ended(&self, n: usize) {
        loop {
            let got = self
                .ended
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("upstream connection {n} still open: {e}"));
            if got == n {
                return;
            }
        }
    }
}

fn serve(stream: TcpStream, n: usize, close: Close) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(req) = read_request(&mut reader) {
        let doc = serde_json::json!({"path": req.path, "connection": n}).to_string();
        let connection = if close == Close::Announced {
            "connection: close\r\n"
        } else {
            ""
        };
        let res = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{connection}content-length: {}\r\n\r\n{doc}",
            doc.len()
        );
        if writer.write_all(res.as_bytes()).is_err() || close != Close::Never {
            return;
        }
    }
}

/// One client connection to the gateway, kept open across requests.
struct KeepAlive {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl KeepAlive {
    fn connect(addr: SocketAddr) -> KeepAlive {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        KeepAlive {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        }
    }

    /// Sends a GET and reads its answer (the body by its length).
    fn get(&mut self, path: &str, token: &str) -> Res {
        let req =
            format!("GET {path} HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\r\n");
        self.writer.write_all(req.as_bytes()).unwrap();
        let mut head = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = self.reader.read_until(b'\n', &mut line).unwrap();
            assert!(n > 0, "connection closed; head so far {head:?}");
            head.extend_from_slice(&line);
            if line == b"\r\n" {
                break;
            }
        }
        let mut res = parse_response(&head);
        let len: usize = res
            .header("content-length")
            .expect("a content-length")
            .parse()
            .unwrap();
        res.body = vec![0; len];
        self.reader.read_exact(&mut res.body).unwrap();
        res
    }
}

fn proxy(upstream: SocketAddr) -> Gateway {
    let url = format!("http://{upstream}");
    Gateway::start(&["--upstream", &url, "--unmatched-routes", "authenticated"])
}

#[test]
fn each_client_connection_keeps_its_own_upstream_connection() {
    let up = CountingUpstream::start(Close::Never);
    let gw = proxy(up.addr);
    let token = gw.login();

    let mut first = KeepAlive::connect(gw.addr);
    for i in 0..5 {
        let res = first.get(&format!("/a/{i}"), &token);
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["path"], format!("/a/{i}"));
        assert_eq!(res.json()["connection"], 1, "request {i}");
    }
    // Another client connection: another upstream connection, also reused.
    let mut second = KeepAlive::connect(gw.addr);
    for i in 0..3 {
        let res = second.get(&format!("/b/{i}"), &token);
        assert_eq!(res.status, 200, "{}", res.text());
        assert_eq!(res.json()["connection"], 2, "request {i}");
    }
    // The first one still has its own.
    assert_eq!(first.get("/a/5", &token).json()["connection"], 1);
    assert_eq!(up.opened(), 2);

    // A client connection's upstream connection closes with it.
    drop(first);
    up.wait_ended(1);
    assert_eq!(second.get("/b/3", &token).json()["connection"], 2);
    assert_eq!(up.opened(), 2);
}

#[test]
fn an_upstream_closing_its_connection_gets_a_new_one() {
    for close in [Close::Announced, Close::Silently] {
        let up = CountingUpstream::start(close);
        let gw = proxy(up.addr);
        let token = gw.login();
        let mut client = KeepAlive::connect(gw.addr);
        for i in 1..=3 {
            let res = client.get(&format!("/c/{i}"), &token);
            assert_eq!(res.status, 200, "{}", res.text());
            assert_eq!(res.json()["connection"], i);
            // `connection: close` is the upstream's hop, not the client's.
            assert_eq!(res.header("connection"), None);
            // The upstream has closed; the gateway sees it before the next
            // request goes out.
            up.wait_ended(i);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn an_unreachable_upstream_is_a_502_on_every_request_of_a_connection() {
    let gw = proxy(closed_port());
    let token = gw.login();
    let mut client = KeepAlive::connect(gw.addr);
    // More than the connections one client connection may open: each
    // failed attempt gives its place back.
    for _ in 0..10 {
        let res = client.get("/picking-lists", &token);
        assert_eq!(res.status, 502, "{}", res.text());
        assert_eq!(res.json()[0]["message"], "Bad gateway.");
    }
    let metrics = gw.get("/metrics").send().text();
    assert!(
        metrics.contains("glue_gateway_upstream_errors_total 10"),
        "{metrics}"
    );
}

#[test]
fn a_slow_upstream_body_streams_through() {
    // Sends the head and a first chunk, then the rest only once the client
    // has received that chunk through the gateway.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let up = listener.local_addr().unwrap();
    let (got_first, wait_first) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n\
                  6\r\nfirst \r\n",
            )
            .unwrap();
        wait_first.recv_timeout(Duration::from_secs(20)).unwrap();
        stream.write_all(b"6\r\nsecond\r\n0\r\n\r\n").unwrap();
    });
    let gw = proxy(up);
    let token = gw.login();
    let mut s = TcpStream::connect(gw.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let req = format!(
        "GET /stream HTTP/1.1\r\nhost: gw\r\nconnection: close\r\nauthorization: Bearer {token}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&raw).contains("first ") {
        let n = s.read(&mut buf).expect("the first chunk, before the rest");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
    got_first.send(()).unwrap();
    let _ = s.read_to_end(&mut raw);
    let res = parse_response(&raw);
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "first second");
}

/// An upstream that holds every answer until `n` requests have arrived
/// (on any connections): requests sent one after the other never get one.
fn barrier_upstream(n: usize) -> SocketAddr {
    use std::sync::{Condvar, Mutex};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let arrived = Arc::new((Mutex::new(0usize), Condvar::new()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let arrived = Arc::clone(&arrived);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                while let Some(req) = read_request(&mut reader) {
                    let (count, all_there) = &*arrived;
                    let mut seen = count.lock().unwrap();
                    *seen += 1;
                    all_there.notify_all();
                    let (seen, _) = all_there
                        .wait_timeout_while(seen, Duration::from_secs(20), |seen| *seen < n)
                        .unwrap();
                    let status = if *seen >= n {
                        "200 OK"
                    } else {
                        "503 Not all there"
                    };
                    drop(seen);
                    let doc = serde_json::json!({ "path": req.path }).to_string();
                    let res = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{doc}",
                        doc.len()
                    );
                    if writer.write_all(res.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[test]
fn http2_streams_of_one_connection_run_in_parallel() {
    use http_body_util::BodyExt;

    const STREAMS: usize = 12;
    let up = barrier_upstream(STREAMS);
    let gw = proxy(up);
    let token = gw.login();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(gw.addr).await.unwrap();
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(tcp),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let mut tasks = Vec::new();
        for i in 0..STREAMS {
            let mut sender = sender.clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let req = hyper::Request::get(format!("http://gw/parallel/{i}"))
                    .header("authorization", format!("Bearer {token}"))
                    .body(http_body_util::Empty::<bytes::Bytes>::new())
                    .unwrap();
                let res = sender.send_request(req).await.unwrap();
                let status = res.status();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                (i, status, body)
            }));
        }
        for task in tasks {
            let (i, status, body) = task.await.unwrap();
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(echo["path"], format!("/parallel/{i}"));
        }
    });
}
