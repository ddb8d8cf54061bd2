//! A minimal ABCI socket client, as CometBFT's socket client speaks: each request followed by
//! a `Flush`, protobuf messages (tendermint-proto v0.38) with a varint length prefix.

use prost::Message;
use tendermint_proto::v0_38::abci::{request, response, Request, Response};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One ABCI connection (CometBFT opens four: consensus, mempool, query, snapshot).
pub struct Conn<S> {
    stream: S,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub fn new(stream: S) -> Self {
        Self { stream }
    }

    /// Sends `value` and a `Flush`, reads the answer and the `Flush` answer.
    pub async fn call(&mut self, value: request::Value) -> response::Value {
        self.try_call(value).await.expect("an answer")
    }

    /// [`Conn::call`], `None` when the server closes the connection instead of answering.
    pub async fn try_call(&mut self, value: request::Value) -> Option<response::Value> {
        let mut out = Vec::new();
        Request { value: Some(value) }
            .encode_length_delimited(&mut out)
            .unwrap();
        Request {
            value: Some(request::Value::Flush(Default::default())),
        }
        .encode_length_delimited(&mut out)
        .unwrap();
        self.stream.write_all(&out).await.ok()?;
        self.stream.flush().await.ok()?;
        let answer = self.read().await?;
        let flush = self.read().await?;
        assert!(
            matches!(flush, response::Value::Flush(_)),
            "expected the Flush answer, got {flush:?}"
        );
        Some(answer)
    }

    async fn read(&mut self) -> Option<response::Value> {
        let mut len: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.stream.read_u8().await.ok()?;
            len |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                break;
            }
        }
        let mut body = vec![0u8; usize::try_from(len).unwrap()];
        self.stream.read_exact(&mut body).await.ok()?;
        let resp = Response::decode(body.as_slice()).expect("a protobuf Response");
        match resp.value.expect("a response value") {
            response::Value::Exception(e) => panic!("exception: {}", e.error),
            v => Some(v),
        }
    }
}
