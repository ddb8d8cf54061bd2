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
use std::path::PathBuf;
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

/// Serves `app` on `listen` until the task is dropped. A Unix socket file left by an earlier
/// run is removed first.
pub async fn serve(app: NodeApp, listen: &Listen) -> Result<(), BoxError> {
    let (consensus, mempool, snapshot, info) = split::service(AbciService::new(app), 64);
    let server = Server::builder()
        .consensus(consensus)
        .mempool(mempool)
        .snapshot(snapshot)
        .info(info)
        .finish()
        .ok_or("the ABCI server lacks a service")?;
    match listen {
        Listen::Tcp(addr) => server.listen_tcp(*addr).await,
        Listen::Unix(path) => {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            server.listen_unix(path).await
        }
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
