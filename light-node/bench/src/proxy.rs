//! A TCP proxy on loopback in front of a full node: it adds latency (each direction delayed
//! by half the round-trip time, and a new connection pays one round trip before its first
//! bytes, as a TCP handshake would) and counts what crosses it (connections, HTTP requests,
//! bytes, and round trips: the times the client went from nothing in flight to a request).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// What crossed one or more proxies (shared by the proxies of one client run).
#[derive(Debug, Default)]
pub struct Wire {
    connections: AtomicU64,
    requests: AtomicU64,
    commits: AtomicU64,
    responses: AtomicU64,
    bytes_down: AtomicU64,
    bytes_up: AtomicU64,
    /// Requests in flight (request line seen, response status line not yet delivered) and
    /// the number of times that count rose from zero.
    flight: Mutex<(u64, u64)>,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireCounts {
    /// TCP connections accepted.
    pub connections: u64,
    /// HTTP requests (request lines sent by the client).
    pub requests: u64,
    /// JSON-RPC `commit` requests among them: one per light block, whichever the client.
    pub commits: u64,
    /// HTTP responses (status lines delivered to the client).
    pub responses: u64,
    /// Bytes from the nodes to the client, HTTP headers included.
    pub bytes_down: u64,
    /// Bytes from the client to the nodes.
    pub bytes_up: u64,
    /// Round trips: how often the client went from no request in flight to one or more.
    pub round_trips: u64,
}

impl Wire {
    /// A copy of the counters now.
    pub fn counts(&self) -> WireCounts {
        let flight = *self.flight.lock().unwrap_or_else(|p| p.into_inner());
        WireCounts {
            connections: self.connections.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            responses: self.responses.load(Ordering::Relaxed),
            bytes_down: self.bytes_down.load(Ordering::Relaxed),
            bytes_up: self.bytes_up.load(Ordering::Relaxed),
            round_trips: flight.1,
        }
    }

    fn requests_sent(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.requests.fetch_add(n, Ordering::Relaxed);
        let mut flight = self.flight.lock().unwrap_or_else(|p| p.into_inner());
        if flight.0 == 0 {
            flight.1 += 1;
        }
        flight.0 += n;
    }

    fn responses_delivered(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.responses.fetch_add(n, Ordering::Relaxed);
        let mut flight = self.flight.lock().unwrap_or_else(|p| p.into_inner());
        flight.0 = flight.0.saturating_sub(n);
    }
}

impl std::ops::Sub for WireCounts {
    type Output = WireCounts;
    fn sub(self, o: WireCounts) -> WireCounts {
        WireCounts {
            connections: self.connections - o.connections,
            requests: self.requests - o.requests,
            commits: self.commits - o.commits,
            responses: self.responses - o.responses,
            bytes_down: self.bytes_down - o.bytes_down,
            bytes_up: self.bytes_up - o.bytes_up,
            round_trips: self.round_trips - o.round_trips,
        }
    }
}

/// Counts a byte pattern in a stream that arrives in chunks (matches across chunk borders
/// included).
#[derive(Debug)]
struct Scanner {
    pattern: &'static [u8],
    tail: Vec<u8>,
}

impl Scanner {
    fn new(pattern: &'static [u8]) -> Scanner {
        Scanner {
            pattern,
            tail: Vec::new(),
        }
    }

    fn count(&mut self, chunk: &[u8]) -> u64 {
        let p = self.pattern.len();
        let mut joined = std::mem::take(&mut self.tail);
        let carried = joined.len();
        joined.extend_from_slice(&chunk[..chunk.len().min(p - 1)]);
        // Matches that start in the carried tail (the rest are found in the chunk itself).
        let across = joined
            .windows(p)
            .take(carried)
            .filter(|w| *w == self.pattern)
            .count();
        let inside = chunk.windows(p).filter(|w| *w == self.pattern).count();
        let keep = chunk.len().min(p - 1);
        if chunk.len() >= p - 1 {
            self.tail = chunk[chunk.len() - keep..].to_vec();
        } else {
            // A chunk shorter than the pattern: keep what may still start a match.
            let mut t = joined;
            let start = t.len().saturating_sub(p - 1);
            t.drain(..start);
            self.tail = t;
        }
        (across + inside) as u64
    }
}

/// A running proxy. Dropping it stops it and closes its connections.
#[derive(Debug)]
pub struct Proxy {
    url: String,
    task: tokio::task::JoinHandle<()>,
    /// What crossed this proxy alone.
    pub own: Arc<Wire>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// A proxy on an ephemeral loopback port in front of `upstream` (`http://host:port`),
    /// adding `rtt` of round-trip time, counting into `shared` and into its own counters.
    pub async fn start(upstream: &str, rtt: Duration, shared: Arc<Wire>) -> anyhow::Result<Proxy> {
        let own = Arc::new(Wire::default());
        let wires = Arc::new([shared, own.clone()]);
        let target: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    break;
                };
                let accepted = Instant::now();
                for w in wires.iter() {
                    w.connections.fetch_add(1, Ordering::Relaxed);
                }
                let wires = wires.clone();
                connections.spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        relay(client, server, rtt, accepted, wires).await;
                    }
                });
                // Forget finished connections.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Proxy { url, task, own })
    }

    /// The URL clients use.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Proxies for several nodes, counting into one [`Wire`].
#[derive(Debug)]
pub struct Proxies {
    /// One per upstream, in order.
    pub proxies: Vec<Proxy>,
    /// Their common counters.
    pub wire: Arc<Wire>,
}

impl Proxies {
    /// One proxy in front of each of `upstreams`.
    pub async fn start(upstreams: &[String], rtt: Duration) -> anyhow::Result<Proxies> {
        let wire = Arc::new(Wire::default());
        let mut proxies = Vec::new();
        for u in upstreams {
            proxies.push(Proxy::start(u, rtt, wire.clone()).await?);
        }
        Ok(Proxies { proxies, wire })
    }

    /// The proxies' URLs, in the order of the upstreams.
    pub fn urls(&self) -> Vec<String> {
        self.proxies.iter().map(|p| p.url().to_owned()).collect()
    }

    /// What crossed the first proxy (the primary's) alone.
    pub fn primary(&self) -> WireCounts {
        self.proxies[0].own.counts()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    /// Client to node: request lines are counted when they leave the client.
    Up,
    /// Node to client: status lines are counted when they reach the client.
    Down,
}

/// The shared counters and the proxy's own.
type Wires = Arc<[Arc<Wire>; 2]>;

async fn relay(
    client: TcpStream,
    server: TcpStream,
    rtt: Duration,
    accepted: Instant,
    wires: Wires,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let half = rtt / 2;
    // The handshake: a new connection's first bytes leave the client one round trip after it
    // connected (SYN, SYN-ACK), and reach the node half a round trip later.
    let up = pipe(
        client_read,
        server_write,
        half,
        accepted + rtt + half,
        Direction::Up,
        wires.clone(),
    );
    let down = pipe(
        server_read,
        client_write,
        half,
        accepted,
        Direction::Down,
        wires,
    );
    tokio::join!(up, down);
}

/// Copies `from` to `to`, each chunk delivered `delay` after it was read (never before
/// `not_before`), so latency is added without limiting throughput.
async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    delay: Duration,
    not_before: Instant,
    direction: Direction,
    wires: Wires,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader_wires = wires.clone();
    let reader = async move {
        let mut requests = Scanner::new(b" HTTP/1.1\r\n");
        let mut commits = Scanner::new(br#""method":"commit""#);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let chunk = buf[..n].to_vec();
                    if let Direction::Up = direction {
                        let sent = requests.count(&chunk);
                        let asked = commits.count(&chunk);
                        for w in reader_wires.iter() {
                            w.bytes_up.fetch_add(n as u64, Ordering::Relaxed);
                            w.commits.fetch_add(asked, Ordering::Relaxed);
                            w.requests_sent(sent);
                        }
                    }
                    if tx.send((Instant::now() + delay, chunk)).is_err() {
                        break;
                    }
                }
            }
        }
        // Dropping `tx` ends the writer after the queued chunks.
    };
    let writer = async move {
        let mut responses = Scanner::new(b"HTTP/1.1 ");
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due.max(not_before)).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
            if let Direction::Down = direction {
                let delivered = responses.count(&chunk);
                for w in wires.iter() {
                    w.bytes_down
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    w.responses_delivered(delivered);
                }
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_counts_across_chunk_borders() {
        let text = b"POST / HTTP/1.1\r\nA: b\r\n\r\n{}POST / HTTP/1.1\r\n\r\nPOST / HTTP/1.1\r\n";
        for size in 1..text.len() {
            let mut s = Scanner::new(b" HTTP/1.1\r\n");
            let n: u64 = text.chunks(size).map(|c| s.count(c)).sum();
            assert_eq!(n, 3, "chunk size {size}");
        }
    }

    #[tokio::test]
    async fn delays_and_counts() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).await.unwrap();
            assert!(n > 0);
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .unwrap();
        });
        let wire = Arc::new(Wire::default());
        let proxy = Proxy::start(&upstream, Duration::from_millis(40), wire.clone())
            .await
            .unwrap();
        let started = Instant::now();
        let mut c = TcpStream::connect(proxy.url().trim_start_matches("http://"))
            .await
            .unwrap();
        c.write_all(b"POST / HTTP/1.1\r\n\r\n{\"method\":\"commit\"}")
            .await
            .unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).await.unwrap();
        // Handshake (one round trip) and the request's round trip.
        assert!(started.elapsed() >= Duration::from_millis(80));
        assert!(started.elapsed() < Duration::from_millis(1000));
        assert!(got.ends_with(b"ok"));
        for counts in [wire.counts(), proxy.own.counts()] {
            assert_eq!(
                (counts.connections, counts.requests, counts.responses),
                (1, 1, 1)
            );
            assert_eq!(counts.commits, 1);
            assert_eq!(counts.round_trips, 1);
            assert_eq!(counts.bytes_down, got.len() as u64);
        }
    }
}
