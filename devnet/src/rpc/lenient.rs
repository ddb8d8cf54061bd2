//! Accepts the URI calls CometBFT's own documentation writes, such as
//! `GET /abci_query?path="/store/meta/chain_id"`, with the double quotes sent as they are.
//!
//! CometBFT's Go server takes them; the `http` crate under hyper refuses `"`, `<` and `>` in a
//! query and hyper answers HTTP 400 with an empty body before any handler runs. So the bytes a
//! connection receives pass through [`RequestLineFixer`] first: in the query of each request
//! line, those three bytes are percent-encoded (`%22`, `%3C`, `%3E`), which the URI
//! parameter decoder turns back into the same characters. Nothing else changes: headers and
//! bodies pass untouched (bodies are skipped by `Content-Length`), and a connection that
//! upgrades (WebSocket), uses chunked bodies or speaks HTTP/2 passes through from then on.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Longest header line kept for reading `Content-Length` and friends (longer lines pass
/// through but are not read).
const MAX_HEADER_LINE: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Before the request line's first space (leading empty lines pass).
    Method(Vec<u8>),
    /// The request target; `query` once its `?` is seen.
    Target { query: bool },
    /// The rest of the request line.
    Version,
    /// Header lines.
    Headers(Headers),
    /// This many body bytes remain.
    Body(u64),
    /// Everything else passes as it is.
    Passthrough,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Headers {
    line: Vec<u8>,
    content_length: u64,
    /// Chunked body, upgrade, or a header it could not read: stop looking.
    give_up: bool,
}

impl Headers {
    /// Reads one complete header line; `false` at the empty line that ends the headers.
    fn end_line(&mut self) -> bool {
        let line = std::mem::take(&mut self.line);
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.is_empty() {
            return false;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return true;
        };
        let name = String::from_utf8_lossy(&line[..colon])
            .trim()
            .to_ascii_lowercase();
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_ascii_lowercase();
        match name.as_str() {
            "content-length" => match value.parse::<u64>() {
                Ok(n) => self.content_length = n,
                Err(_) => self.give_up = true,
            },
            "transfer-encoding" | "upgrade" => self.give_up = true,
            _ => {}
        }
        true
    }
}

/// Percent-encodes `"`, `<` and `>` in the query of every request line of an HTTP/1
/// connection's incoming bytes (fed in any pieces), leaving every other byte as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLineFixer {
    state: State,
}

impl Default for RequestLineFixer {
    fn default() -> Self {
        Self {
            state: State::Method(Vec::new()),
        }
    }
}

impl RequestLineFixer {
    /// A fixer at the start of a connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the fixed form of `input` to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match &mut self.state {
                State::Passthrough => {
                    out.extend_from_slice(&input[i..]);
                    return;
                }
                State::Body(n) => {
                    let take = usize::try_from(*n)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - i);
                    out.extend_from_slice(&input[i..i + take]);
                    i += take;
                    *n -= take as u64;
                    if *n == 0 {
                        self.state = State::Method(Vec::new());
                    }
                    continue;
                }
                State::Method(method) => {
                    out.push(b);
                    match b {
                        b'\r' | b'\n' if method.is_empty() => {}
                        b' ' => {
                            self.state = if method.as_slice() == b"PRI" {
                                // The HTTP/2 connection preface.
                                State::Passthrough
                            } else {
                                State::Target { query: false }
                            };
                        }
                        _ if method.len() < 16 => method.push(b),
                        _ => self.state = State::Passthrough,
                    }
                }
                State::Target { query } => match b {
                    b' ' => {
                        out.push(b);
                        self.state = State::Version;
                    }
                    b'\n' => {
                        out.push(b);
                        self.state = State::Headers(Headers::default());
                    }
                    b'?' if !*query => {
                        out.push(b);
                        *query = true;
                    }
                    b'"' | b'<' | b'>' if *query => {
                        out.extend_from_slice(format!("%{b:02X}").as_bytes());
                    }
                    _ => out.push(b),
                },
                State::Version => {
                    out.push(b);
                    if b == b'\n' {
                        self.state = State::Headers(Headers::default());
                    }
                }
                State::Headers(h) => {
                    out.push(b);
                    if b != b'\n' {
                        if h.line.len() < MAX_HEADER_LINE {
                            h.line.push(b);
                        }
                    } else if !h.end_line() {
                        self.state = if h.give_up {
                            State::Passthrough
                        } else if h.content_length > 0 {
                            State::Body(h.content_length)
                        } else {
                            State::Method(Vec::new())
                        };
                    }
                }
            }
            i += 1;
        }
    }
}

/// A TCP connection whose incoming bytes pass through a [`RequestLineFixer`].
#[derive(Debug)]
pub struct FixedStream {
    inner: TcpStream,
    fixer: RequestLineFixer,
    /// Fixed bytes not yet handed to the reader.
    pending: Vec<u8>,
    read_at: usize,
}

impl FixedStream {
    fn new(inner: TcpStream) -> Self {
        Self {
            inner,
            fixer: RequestLineFixer::new(),
            pending: Vec::new(),
            read_at: 0,
        }
    }
}

impl AsyncRead for FixedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.read_at < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.read_at);
                buf.put_slice(&this.pending[this.read_at..this.read_at + n]);
                this.read_at += n;
                return Poll::Ready(Ok(()));
            }
            this.pending.clear();
            this.read_at = 0;
            let mut raw = [0u8; 8192];
            let mut raw_buf = ReadBuf::new(&mut raw);
            match Pin::new(&mut this.inner).poll_read(cx, &mut raw_buf) {
                Poll::Ready(Ok(())) => {
                    let got = raw_buf.filled();
                    if got.is_empty() {
                        return Poll::Ready(Ok(()));
                    }
                    this.fixer.push(got, &mut this.pending);
                }
                other => return other,
            }
        }
    }
}

impl AsyncWrite for FixedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A TCP listener whose connections are [`FixedStream`]s (for `axum::serve`).
#[derive(Debug)]
pub struct LenientListener(pub TcpListener);

impl axum::serve::Listener for LenientListener {
    type Io = FixedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (FixedStream::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix_in_pieces(input: &[u8], piece: usize) -> Vec<u8> {
        let mut f = RequestLineFixer::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            f.push(chunk, &mut out);
        }
        out
    }

    #[test]
    fn quotes_in_queries_are_percent_encoded_in_every_request() {
        let input = b"GET /abci_query?path=\"/store/a\"&x=<1> HTTP/1.1\r\nHost: h\r\n\r\n\
POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n{\"q\":\"?\" \"}\
GET /x?\"y\" HTTP/1.1\r\n\r\n";
        let want = b"GET /abci_query?path=%22/store/a%22&x=%3C1%3E HTTP/1.1\r\nHost: h\r\n\r\n\
POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n{\"q\":\"?\" \"}\
GET /x?%22y%22 HTTP/1.1\r\n\r\n";
        for piece in [1, 2, 5, 7, 4096] {
            assert_eq!(
                fix_in_pieces(input, piece),
                want.to_vec(),
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn paths_headers_upgrades_and_chunked_bodies_pass_untouched() {
        // A quote in the path (which the URI parser accepts) and in a header stay.
        let input = b"GET /\"p\" HTTP/1.1\r\nX-A: \"?\"\r\n\r\n";
        assert_eq!(fix_in_pieces(input, 3), input.to_vec());
        // After an upgrade, WebSocket frames are never rewritten.
        let input = b"GET /websocket HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /?\"x\" HTTP/1.1";
        assert_eq!(fix_in_pieces(input, 4), input.to_vec());
        let input = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /?\"\r\n";
        assert_eq!(fix_in_pieces(input, 4), input.to_vec());
        let input = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nGET /?\"x\" ";
        assert_eq!(fix_in_pieces(input, 4), input.to_vec());
    }
}
