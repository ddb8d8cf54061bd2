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
            server(app)?.listen_unix(path).await
        }
    }
}

/// Serves `app` to the connections of a bound TCP listener.
///
/// tower-abci's TCP server leaves Nagle's algorithm on, and every synchronous ABCI call is
/// answered in two writes (the answer, then the `Flush` answer): the second waits for the
/// peer's delayed acknowledgement, about 40 ms on Linux, so a TCP connection managed ~23
/// calls per second (docs/ARCHITECTURE.md, "The ABCI server library"). Here each TCP
/// connection is accepted with `TCP_NODELAY` and relayed to tower-abci listening on a Unix
/// socket in a private directory (mode 0700) that is removed when the server stops.
pub async fn serve_tcp(app: NodeApp, listener: tokio::net::TcpListener) -> Result<(), BoxError> {
    let private = PrivateDir::create()?;
    let socket = private.0.join("abci.sock");
    let server = server(app)?;
    tokio::select! {
        // Polled first, so the Unix socket is bound before a connection is relayed to it.
        biased;
        r = server.listen_unix(&socket) => r,
        r = relay(listener, &socket) => r,
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

async fn relay(listener: tokio::net::TcpListener, socket: &Path) -> Result<(), BoxError> {
    loop {
        let (mut tcp, peer) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let socket = socket.to_path_buf();
        tokio::spawn(async move {
            match tokio::net::UnixStream::connect(&socket).await {
                Ok(mut unix) => {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
                Err(e) => tracing::error!(%peer, error = %e, "cannot reach the ABCI server"),
            }
        });
    }
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
