//! The node's durable state: the genesis file and the append-only log of finalized blocks.
//!
//! The registry keeps its state in memory, so the node persists what rebuilds it: the genesis
//! (`genesis.json`, written atomically at `InitChain`) and every finalized block (`blocks.log`:
//! height, block time, transactions and the app hash it gave), appended and fsynced before
//! `Commit` answers. On start the log is replayed from the genesis; each block must give the
//! app hash it gave before.
//!
//! A record is `len: u32 LE | checksum: 8 bytes | payload`, the checksum being the first 8
//! bytes of SHA-256 of the payload. The log ends at the first record that is incomplete or
//! whose checksum does not match (a write cut by a crash): it is cut there, and CometBFT's
//! handshake replays the blocks from that height on.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The first bytes of `blocks.log`.
pub const LOG_MAGIC: &[u8; 8] = b"TSBLOG1\n";
/// The log's file name in the data directory.
pub const LOG_FILE: &str = "blocks.log";
/// The genesis file's name in the data directory.
pub const GENESIS_FILE: &str = "genesis.json";
/// The largest payload a record may declare (a larger length is treated as damage).
pub const MAX_RECORD_BYTES: usize = 256 * 1024 * 1024;

const HEADER_LEN: usize = 4 + 8;

/// One finalized block as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    /// The block height.
    pub height: u64,
    /// The block time (unix seconds), as given to the registry.
    pub time: u64,
    /// The app hash the block gave (the root of state version `height`).
    pub app_hash: [u8; 32],
    /// The block's transactions, in order.
    pub txs: Vec<Vec<u8>>,
}

impl BlockRecord {
    /// The payload bytes.
    pub fn encode(&self) -> Vec<u8> {
        let size = 8 + 8 + 32 + 4 + self.txs.iter().map(|t| 4 + t.len()).sum::<usize>();
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&self.time.to_le_bytes());
        out.extend_from_slice(&self.app_hash);
        out.extend_from_slice(&len_u32(self.txs.len()).to_le_bytes());
        for tx in &self.txs {
            out.extend_from_slice(&len_u32(tx.len()).to_le_bytes());
            out.extend_from_slice(tx);
        }
        out
    }

    /// Reads a payload; `None` when it is not one.
    pub fn decode(mut b: &[u8]) -> Option<Self> {
        let height = u64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
        let time = u64::from_le_bytes(take(&mut b, 8)?.try_into().ok()?);
        let app_hash: [u8; 32] = take(&mut b, 32)?.try_into().ok()?;
        let n = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
        let mut txs = Vec::with_capacity(n.min(b.len() / 4));
        for _ in 0..n {
            let len = u32::from_le_bytes(take(&mut b, 4)?.try_into().ok()?) as usize;
            txs.push(take(&mut b, len)?.to_vec());
        }
        b.is_empty().then_some(Self {
            height,
            time,
            app_hash,
            txs,
        })
    }

    /// The whole record as written to the log: length, checksum, payload.
    pub fn to_record(&self) -> Vec<u8> {
        let payload = self.encode();
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.extend_from_slice(&len_u32(payload.len()).to_le_bytes());
        out.extend_from_slice(&checksum(&payload));
        out.extend_from_slice(&payload);
        out
    }
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).expect("records are far below 4 GiB (transactions and blocks are limited)")
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn checksum(payload: &[u8]) -> [u8; 8] {
    let d = Sha256::digest(payload);
    let mut c = [0u8; 8];
    c.copy_from_slice(&d[..8]);
    c
}

/// What reading the log found.
#[derive(Debug, Default)]
pub struct LogContents {
    /// The complete records, in order.
    pub blocks: Vec<BlockRecord>,
    /// Bytes after the last complete record that were dropped (a torn write), 0 if none.
    pub dropped_bytes: u64,
}

/// Why the data directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// `blocks.log` does not start with [`LOG_MAGIC`].
    #[error("{0}: not a block log (wrong magic bytes)")]
    NotALog(PathBuf),
    /// Another process has the data directory open.
    #[error("{0}: in use by another node")]
    InUse(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The data directory: the genesis file and the open block log; or, for an application
/// that a caller replays itself (the development network), the genesis held in memory and
/// no log.
#[derive(Debug)]
pub struct DataDir {
    disk: Option<Disk>,
    /// The genesis text of an in-memory directory.
    genesis: Option<String>,
}

#[derive(Debug)]
struct Disk {
    dir: PathBuf,
    log: File,
    /// Bytes in the log (its append position).
    len: u64,
}

impl DataDir {
    /// Opens (creating it if needed) the data directory and its log, reads every complete
    /// record and cuts the log after the last one.
    pub fn open(dir: &Path) -> Result<(Self, LogContents), StoreError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let path = dir.join(LOG_FILE);
        let mut log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        // One node per data directory: a second one would interleave records.
        log.try_lock()
            .map_err(|_| StoreError::InUse(dir.to_path_buf()))?;
        let mut bytes = Vec::new();
        log.read_to_end(&mut bytes).map_err(io_err(&path))?;
        if bytes.len() < LOG_MAGIC.len() {
            // New, or cut before its first bytes were durable: start it again.
            if !LOG_MAGIC.starts_with(&bytes) {
                return Err(StoreError::NotALog(path));
            }
            log.set_len(0).map_err(io_err(&path))?;
            log.seek(SeekFrom::Start(0)).map_err(io_err(&path))?;
            log.write_all(LOG_MAGIC).map_err(io_err(&path))?;
            log.sync_all().map_err(io_err(&path))?;
            sync_dir(dir)?;
            let data = Self::on_disk(Disk {
                dir: dir.to_path_buf(),
                log,
                len: LOG_MAGIC.len() as u64,
            });
            return Ok((data, LogContents::default()));
        }
        if &bytes[..LOG_MAGIC.len()] != LOG_MAGIC {
            return Err(StoreError::NotALog(path));
        }
        let (blocks, good) = parse_records(&bytes[LOG_MAGIC.len()..]);
        let good = (LOG_MAGIC.len() + good) as u64;
        let dropped_bytes = bytes.len() as u64 - good;
        if dropped_bytes > 0 {
            log.set_len(good).map_err(io_err(&path))?;
            log.sync_all().map_err(io_err(&path))?;
        }
        log.seek(SeekFrom::Start(good)).map_err(io_err(&path))?;
        let data = Self::on_disk(Disk {
            dir: dir.to_path_buf(),
            log,
            len: good,
        });
        Ok((
            data,
            LogContents {
                blocks,
                dropped_bytes,
            },
        ))
    }

    fn on_disk(disk: Disk) -> Self {
        Self {
            disk: Some(disk),
            genesis: None,
        }
    }

    /// A directory in memory: the genesis is kept until the application ends, blocks are not
    /// kept at all (whoever drives the application keeps them and replays them on start, as
    /// CometBFT's handshake does for an application that reports height 0).
    pub fn in_memory() -> Self {
        Self {
            disk: None,
            genesis: None,
        }
    }

    /// The directory (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.disk.as_ref().map(|d| d.dir.as_path())
    }

    /// The genesis file's text, `None` before `InitChain`.
    pub fn read_genesis(&self) -> Result<Option<String>, StoreError> {
        let Some(disk) = &self.disk else {
            return Ok(self.genesis.clone());
        };
        let path = disk.dir.join(GENESIS_FILE);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    /// Writes the genesis file atomically (temporary file, fsync, rename, fsync of the
    /// directory) and empties the log: the chain starts again from this genesis.
    pub fn write_genesis(&mut self, text: &str) -> Result<(), StoreError> {
        let Some(disk) = &mut self.disk else {
            self.genesis = Some(text.to_owned());
            return Ok(());
        };
        let path = disk.dir.join(GENESIS_FILE);
        let tmp = disk.dir.join(format!("{GENESIS_FILE}.tmp"));
        {
            let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        sync_dir(&disk.dir)?;
        let log = disk.dir.join(LOG_FILE);
        let start = LOG_MAGIC.len() as u64;
        disk.log.set_len(start).map_err(io_err(&log))?;
        disk.log
            .seek(SeekFrom::Start(start))
            .map_err(io_err(&log))?;
        disk.log.sync_all().map_err(io_err(&log))?;
        disk.len = start;
        Ok(())
    }

    /// Appends a block and makes it durable (`fdatasync`) before returning. A failed append
    /// (a full disk) is cut off again, so a later append does not follow a partial record.
    /// In memory, nothing is kept.
    pub fn append(&mut self, block: &BlockRecord) -> Result<(), StoreError> {
        let Some(disk) = &mut self.disk else {
            return Ok(());
        };
        let path = disk.dir.join(LOG_FILE);
        let record = block.to_record();
        let written = disk
            .log
            .write_all(&record)
            .and_then(|()| disk.log.sync_data());
        if let Err(e) = written {
            let _ = disk.log.set_len(disk.len);
            let _ = disk.log.seek(SeekFrom::Start(disk.len));
            return Err(io_err(&path)(e));
        }
        disk.len += record.len() as u64;
        Ok(())
    }

    /// Bytes in the log (0 in memory).
    pub fn log_len(&self) -> u64 {
        self.disk.as_ref().map_or(0, |d| d.len)
    }
}

/// Reads records until the first one that is incomplete or damaged; returns them and the
/// number of bytes they take.
fn parse_records(mut b: &[u8]) -> (Vec<BlockRecord>, usize) {
    let mut blocks = Vec::new();
    let mut used = 0;
    loop {
        if b.len() < HEADER_LEN {
            break;
        }
        let len = u32::from_le_bytes(b[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_RECORD_BYTES || b.len() - HEADER_LEN < len {
            break;
        }
        let payload = &b[HEADER_LEN..HEADER_LEN + len];
        if b[4..HEADER_LEN] != checksum(payload) {
            break;
        }
        let Some(block) = BlockRecord::decode(payload) else {
            break;
        };
        blocks.push(block);
        used += HEADER_LEN + len;
        b = &b[HEADER_LEN + len..];
    }
    (blocks, used)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(height: u64, ntx: usize) -> BlockRecord {
        BlockRecord {
            height,
            time: 1000 + height,
            app_hash: [height as u8; 32],
            txs: (0..ntx).map(|i| vec![i as u8; 10 + i]).collect(),
        }
    }

    #[test]
    fn records_round_trip_and_reject_trailing_bytes() {
        let b = block(3, 4);
        assert_eq!(BlockRecord::decode(&b.encode()), Some(b.clone()));
        let mut long = b.encode();
        long.push(0);
        assert_eq!(BlockRecord::decode(&long), None);
        let empty = block(1, 0);
        assert_eq!(BlockRecord::decode(&empty.encode()), Some(empty));
    }

    #[test]
    fn a_log_is_read_back_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (mut data, contents) = DataDir::open(dir.path()).unwrap();
        assert!(contents.blocks.is_empty());
        assert_eq!(data.read_genesis().unwrap(), None);
        data.write_genesis("{}").unwrap();
        for h in 1..=3 {
            data.append(&block(h, h as usize)).unwrap();
        }
        drop(data);
        let (data, contents) = DataDir::open(dir.path()).unwrap();
        assert_eq!(contents.blocks, vec![block(1, 1), block(2, 2), block(3, 3)]);
        assert_eq!(contents.dropped_bytes, 0);
        assert_eq!(data.read_genesis().unwrap().as_deref(), Some("{}"));
    }

    /// A crash can leave the log cut anywhere in its last record: every cut reads back as the
    /// records before it, and the next append continues a clean log.
    #[test]
    fn a_log_cut_at_any_byte_of_its_last_record_keeps_the_records_before() {
        let dir = tempfile::tempdir().unwrap();
        let (mut data, _) = DataDir::open(dir.path()).unwrap();
        data.append(&block(1, 2)).unwrap();
        let before = data.log_len();
        data.append(&block(2, 3)).unwrap();
        let full = data.log_len();
        drop(data);
        let path = dir.path().join(LOG_FILE);
        let bytes = fs::read(&path).unwrap();
        for cut in before..full {
            fs::write(&path, &bytes[..cut as usize]).unwrap();
            let (mut data, contents) = DataDir::open(dir.path()).unwrap();
            assert_eq!(contents.blocks, vec![block(1, 2)], "cut at {cut}");
            assert_eq!(contents.dropped_bytes, cut - before);
            assert_eq!(data.log_len(), before);
            data.append(&block(2, 3)).unwrap();
            drop(data);
            let (_, contents) = DataDir::open(dir.path()).unwrap();
            assert_eq!(contents.blocks, vec![block(1, 2), block(2, 3)]);
        }
        // A cut inside the magic bytes starts a fresh log.
        fs::write(&path, &LOG_MAGIC[..3]).unwrap();
        let (_, contents) = DataDir::open(dir.path()).unwrap();
        assert!(contents.blocks.is_empty());
    }

    #[test]
    fn a_damaged_record_ends_the_log_and_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (mut data, _) = DataDir::open(dir.path()).unwrap();
        data.append(&block(1, 1)).unwrap();
        let first = data.log_len();
        data.append(&block(2, 1)).unwrap();
        drop(data);
        let path = dir.path().join(LOG_FILE);
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        let (data, contents) = DataDir::open(dir.path()).unwrap();
        assert_eq!(contents.blocks, vec![block(1, 1)]);
        assert_eq!(data.log_len(), first);
        drop(data);
        fs::write(&path, b"something else entirely").unwrap();
        assert!(matches!(
            DataDir::open(dir.path()),
            Err(StoreError::NotALog(_))
        ));
    }

    #[test]
    fn a_data_directory_is_opened_by_one_node_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let (data, _) = DataDir::open(dir.path()).unwrap();
        assert!(matches!(
            DataDir::open(dir.path()),
            Err(StoreError::InUse(_))
        ));
        drop(data);
        DataDir::open(dir.path()).unwrap();
    }
}
