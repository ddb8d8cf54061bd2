//! The ABCI socket server: [`NodeApp`] behind tower-abci's v0.38 server, on TCP or a Unix
//! socket.
//!
//! tower-abci reads CometBFT's length-delimited protobuf requests on each of its four
//! connections (consensus, mempool, info, snapshot) and `split` funnels them to one service
//! that owns the application, consensus requests first. Every request is answered in
//! [`AbciService::call`]; `Commit`'s fsync therefore holds the other connections for its
//! duration, as CometBFT expects of a serial application.

use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};

use tendermint::abci::response;
use tendermint::v0_38::abci::{Request, Response};
use tower::Service;
use tower_abci::v038::{split, Server};
use tower_abci::BoxError;

use crate::app::NodeApp;

/// Where the server listens: CometBFT's `proxy_app` address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    /// `tcp://host:port` (or `host:port`).
    Tcp(SocketAddr),
    /// `unix:///path/to/socket` (or `unix://relative/path`).
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err("unix:// needs a socket path".into());
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let addr = s.strip_prefix("tcp://").unwrap_or(s);
        addr.parse()
            .map(Self::Tcp)
            .map_err(|e| format!("{s:?} is not tcp://host:port or unix:///path: {e}"))
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(a) => write!(f, "tcp://{a}"),
            Self::Unix(p) => write!(f, "unix://{}", p.display()),
        }
    }
}

/// The one service that owns the application.
#[derive(Debug)]
pub struct AbciService {
    app: NodeApp,
}

impl AbciService {
    /// Wraps an opened application.
    pub fn new(app: NodeApp) -> Self {
        Self { app }
    }

    /// Answers one request. An error means the application cannot go on (its state would
    /// diverge): the connection is closed and CometBFT stops.
    pub fn handle(&mut self, req: Request) -> Result<Response, BoxError> {
        let app = &mut self.app;
        Ok(match req {
            Request::Echo(r) => Response::Echo(response::Echo { message: r.message }),
            Request::Flush => Response::Flush,
            Request::Info(r) => Response::Info(app.info(&r)),
            Request::InitChain(r) => Response::InitChain(app.init_chain(&r).inspect_err(log)?),
            Request::Query(r) => Response::Query(app.query(&r)),
            Request::CheckTx(r) => Response::CheckTx(app.check_tx(&r)),
            Request::Commit => Response::Commit(app.commit().inspect_err(log)?),
            Request::PrepareProposal(r) => {
                Response::PrepareProposal(app.prepare_proposal(&r).inspect_err(log)?)
            }
            Request::ProcessProposal(r) => Response::ProcessProposal(app.process_proposal(&r)),
            Request::FinalizeBlock(r) => {
                Response::FinalizeBlock(app.finalize_block(&r).inspect_err(log)?)
            }
            // Vote extensions are not used (CometBFT's default: never enabled).
            Request::ExtendVote(_) => Response::ExtendVote(response::ExtendVote {
                vote_extension: Default::default(),
            }),
            Request::VerifyVoteExtension(_) => {
                Response::VerifyVoteExtension(response::VerifyVoteExtension::Accept)
            }
            // No state-sync snapshots: a new node catches up by replaying blocks.
            Request::ListSnapshots => Response::ListSnapshots(Default::default()),
            Request::OfferSnapshot(_) => Response::OfferSnapshot(response::OfferSnapshot::Reject),
            Request::LoadSnapshotChunk(_) => Response::LoadSnapshotChunk(Default::default()),
            Request::ApplySnapshotChunk(_) => {
                Response::ApplySnapshotChunk(response::ApplySnapshotChunk {
                    result: response::ApplySnapshotChunkResult::Abort,
                    refetch_chunks: Vec::new(),
                    reject_senders: Vec::new(),
                })
            }
        })
    }
}

fn log(e: &crate::app::NodeError) {
    tracing::error!(error = %e, "the application cannot go on");
}

impl Service<Request> for AbciService {
    type Response = Response;
    type Error = BoxError;
    type Future = Ready<Result<Response, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Self::Future {
        ready(self.handle(req))
    }
}

/// Serves `app` on `listen` until the future is dropped. A Unix socket left by an earlier
/// run is removed first; any other file at that path is an error. The socket is created with
/// the process's umask: anyone who can connect drives the application, so run the node
/// with `umask 077` (systemd: `UMask=0077`) and CometBFT as the same user.
pub async fn serve(app: NodeApp, listen: &Listen) -> Result<(), BoxError> {
    match listen {
        Listen::Tcp(addr) => serve_tcp(app, tokio::net::TcpListener::bind(addr).await?).await,
        Listen::Unix(path) => {
            use std::os::unix::fs::FileTypeExt;
            match std::fs::symlink_metadata(path) {
                // A socket left by an earlier run; anything else at that path is kept.
                Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)?,
                Ok(_) => {
                    return Err(format!("{} exists and is not a socket", path.display()).into())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            serve_on(app, Listener::Unix(tokio::net::UnixListener::bind(path)?)).await
        }
    }
}

/// Serves `app` to the connections of a bound TCP listener.
pub async fn serve_tcp(app: NodeApp, listener: tokio::net::TcpListener) -> Result<(), BoxError> {
    serve_on(app, Listener::Tcp(listener)).await
}

/// Where CometBFT's connections come from.
enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

/// tower-abci listens on a Unix socket in a private directory (mode 0700, removed when the
/// server stops); every connection CometBFT opens is relayed to it:
///
/// - TCP connections are accepted with `TCP_NODELAY`. tower-abci's own TCP server leaves
///   Nagle's algorithm on, and every synchronous ABCI call is answered in two writes (the
///   answer, then the `Flush` answer): the second waits for the peer's delayed
///   acknowledgement, about 40 ms on Linux, so a connection managed ~23 calls per second
///   (docs/ARCHITECTURE.md, "The ABCI server library").
/// - Requests are relayed frame by frame ([`relay_requests`]), answers byte for byte.
async fn serve_on(app: NodeApp, listener: Listener) -> Result<(), BoxError> {
    let private = PrivateDir::create()?;
    let socket = private.0.join("abci.sock");
    let server = server(app)?;
    tokio::select! {
        // Polled first, so the Unix socket is bound before a connection is relayed to it.
        biased;
        r = server.listen_unix(&socket) => r,
        r = accept(listener, &socket) => r,
    }
}

/// tower-abci's server over the four parts of one [`AbciService`].
type AbciServer = Server<
    split::Consensus<AbciService>,
    split::Mempool<AbciService>,
    split::Info<AbciService>,
    split::Snapshot<AbciService>,
>;

fn server(app: NodeApp) -> Result<AbciServer, BoxError> {
    let (consensus, mempool, snapshot, info) = split::service(AbciService::new(app), 64);
    Server::builder()
        .consensus(consensus)
        .mempool(mempool)
        .snapshot(snapshot)
        .info(info)
        .finish()
        .ok_or_else(|| "the ABCI server lacks a service".into())
}

async fn accept(listener: Listener, socket: &Path) -> Result<(), BoxError> {
    loop {
        match &listener {
            Listener::Tcp(l) => {
                let (tcp, peer) = l.accept().await?;
                tcp.set_nodelay(true)?;
                tokio::spawn(relay(tcp, socket.to_path_buf(), peer.to_string()));
            }
            Listener::Unix(l) => {
                let (unix, _) = l.accept().await?;
                tokio::spawn(relay(unix, socket.to_path_buf(), "unix socket".into()));
            }
        }
    }
}

/// One connection: requests through [`relay_requests`], answers copied back.
async fn relay<C>(client: C, socket: PathBuf, peer: String)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    use tokio::io::AsyncWriteExt;
    let server = match tokio::net::UnixStream::connect(&socket).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(%peer, error = %e, "cannot reach the ABCI server");
            return;
        }
    };
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = server.into_split();
    let requests = async {
        let r = relay_requests(&mut client_read, &mut server_write).await;
        let _ = server_write.shutdown().await;
        r
    };
    let answers = async {
        let r = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
        r.map(|_| ())
    };
    if let (Err(e), _) | (_, Err(e)) = tokio::join!(requests, answers) {
        tracing::debug!(%peer, error = %e, "ABCI connection closed");
    }
}

/// The largest request frame relayed (a block's transactions fit many times over).
pub const MAX_FRAME_BYTES: usize = 256 * 1024 * 1024;

/// Relays length-delimited requests, each as soon as it is complete. One rewrite: CometBFT
/// v1.x numbers a new transaction's `CheckTx` type 2 (`CHECK_TX_TYPE_CHECK`, v0.38's `NEW`
/// being 0), which tower-abci's tendermint-rs 0.40 types refuse; it is passed on as 0. v0.38
/// never sends 2, so its requests pass unchanged.
pub async fn relay_requests<R, W>(from: &mut R, to: &mut W) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = bytes::BytesMut::with_capacity(64 * 1024);
    loop {
        while let Some(len) = frame_len(&buf)? {
            let frame = buf.split_to(len);
            to.write_all(&v1_check_tx_as_v038(frame.freeze())).await?;
        }
        if from.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
    }
}

/// The length of the first complete frame in `buf` (varint prefix included), `None` while
/// it is incomplete.
fn frame_len(buf: &[u8]) -> std::io::Result<Option<usize>> {
    let mut len: u64 = 0;
    for (i, b) in buf.iter().take(10).enumerate() {
        len |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            let body = usize::try_from(len).unwrap_or(usize::MAX);
            if body > MAX_FRAME_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("an ABCI request of {body} bytes"),
                ));
            }
            let total = i + 1 + body;
            return Ok((buf.len() >= total).then_some(total));
        }
    }
    if buf.len() >= 10 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "an ABCI request length of more than 10 bytes",
        ));
    }
    Ok(None)
}

/// A frame with a v1 `CheckTx` type rewritten (see [`relay_requests`]); any other frame as it
/// is.
fn v1_check_tx_as_v038(frame: bytes::Bytes) -> bytes::Bytes {
    use prost::Message;
    use tendermint_proto::v0_38::abci::{request::Value, Request};
    // `Request.check_tx` is field 8, length-delimited: tag byte 0x42 after the prefix.
    let prefix = frame
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(0, |i| i + 1);
    if frame.get(prefix) != Some(&0x42) {
        return frame;
    }
    let Ok(mut req) = Request::decode(frame.slice(prefix..)) else {
        return frame;
    };
    match &mut req.value {
        Some(Value::CheckTx(c)) if c.r#type == 2 => c.r#type = 0,
        _ => return frame,
    }
    req.encode_length_delimited_to_vec().into()
}

/// A directory only this user can enter, removed on drop.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn create() -> std::io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tradeseal-node-{}-{n}", std::process::id()));
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use prost::Message;
    use tendermint_proto::v0_38::abci::{request::Value, Request, RequestCheckTx, RequestEcho};

    fn frame(value: Value) -> Vec<u8> {
        Request { value: Some(value) }.encode_length_delimited_to_vec()
    }

    fn check_tx(kind: i32) -> Vec<u8> {
        frame(Value::CheckTx(RequestCheckTx {
            tx: vec![1, 2, 3].into(),
            r#type: kind,
        }))
    }

    #[test]
    fn the_private_directory_is_only_the_users_and_goes_on_drop() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = PrivateDir::create().unwrap();
        let path = dir.0.clone();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(path.join("abci.sock"), b"").unwrap();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn frames_are_found_whole_or_not_at_all() {
        let f = frame(Value::Echo(RequestEcho {
            message: "x".repeat(300),
        }));
        assert_eq!(frame_len(&f).unwrap(), Some(f.len()));
        for cut in 0..f.len() {
            assert_eq!(frame_len(&f[..cut]).unwrap(), None, "cut at {cut}");
        }
        let mut two = f.clone();
        two.extend(&f);
        assert_eq!(frame_len(&two).unwrap(), Some(f.len()));
        // A length over the limit, or a prefix that never ends, is refused.
        let mut huge = Vec::new();
        prost::encoding::encode_varint((MAX_FRAME_BYTES + 1) as u64, &mut huge);
        assert!(frame_len(&huge).is_err());
        assert!(frame_len(&[0xff; 10]).is_err());
    }

    #[test]
    fn only_a_v1_check_tx_type_is_rewritten() {
        let v1 = bytes::Bytes::from(check_tx(2));
        let out = v1_check_tx_as_v038(v1);
        assert_eq!(&out[..], &check_tx(0)[..]);
        for same in [
            check_tx(0),
            check_tx(1),
            frame(Value::Echo(RequestEcho {
                message: "hello".into(),
            })),
        ] {
            let out = v1_check_tx_as_v038(bytes::Bytes::from(same.clone()));
            assert_eq!(&out[..], &same[..]);
        }
    }

    #[tokio::test]
    async fn requests_are_relayed_whole_whatever_the_reads() {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for i in 0..50 {
            let echo = frame(Value::Echo(RequestEcho {
                message: "m".repeat(i * 37),
            }));
            input.extend(&echo);
            expected.extend(&echo);
            input.extend(check_tx(2));
            expected.extend(check_tx(0));
        }
        // A 7-byte pipe cuts the frames anywhere.
        let (mut writer, mut reader) = tokio::io::duplex(7);
        let feed = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            writer.write_all(&input).await.unwrap();
        });
        let mut out = Vec::new();
        relay_requests(&mut reader, &mut out).await.unwrap();
        feed.await.unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn addresses_parse_as_cometbft_writes_them() {
        assert_eq!(
            "tcp://127.0.0.1:26658".parse::<Listen>().unwrap(),
            Listen::Tcp("127.0.0.1:26658".parse().unwrap())
        );
        assert_eq!(
            "127.0.0.1:26658".parse::<Listen>().unwrap(),
            Listen::Tcp("127.0.0.1:26658".parse().unwrap())
        );
        assert_eq!(
            "unix:///run/app.sock".parse::<Listen>().unwrap(),
            Listen::Unix("/run/app.sock".into())
        );
        assert!("unix://".parse::<Listen>().is_err());
        assert!("tcp://nowhere".parse::<Listen>().is_err());
        let l = Listen::Unix("/run/app.sock".into());
        assert_eq!(l.to_string().parse::<Listen>().unwrap(), l);
    }
}
