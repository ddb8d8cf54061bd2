//! The header store: corrupt and foreign databases are moved aside, pruning keeps the
//! checkpoint and the newest blocks, and a process killed at any moment during sync leaves a
//! store that opens consistent and syncs to the end.

use light_client::Height;
use light_node::{PruneWindow, SqliteStore};

use crate::support::*;

#[tokio::test]
async fn corrupt_and_foreign_stores_are_moved_aside() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headers.sqlite");
    let chain = stable_chain(5);
    let id = identity(&config(&chain[0]));

    std::fs::write(
        &path,
        b"this is not a database, it is a text file of some length......",
    )
    .unwrap();
    let opened = SqliteStore::open(&path, id.clone(), PruneWindow::default())
        .await
        .unwrap();
    let notice = opened.moved_aside.expect("a notice");
    assert!(notice.contains("headers.sqlite.corrupt"), "{notice}");
    assert_eq!(
        std::fs::read(dir.path().join("headers.sqlite.corrupt")).unwrap(),
        b"this is not a database, it is a text file of some length......"
    );
    opened.store.insert(&chain[0]).await.unwrap();
    opened.store.close().await;

    // The same file for another checkpoint: foreign.
    let other = identity(&config(&chain[1]));
    let opened = SqliteStore::open(&path, other, PruneWindow::default())
        .await
        .unwrap();
    assert!(opened.moved_aside.unwrap().contains("foreign"));
    assert!(opened.store.is_empty().await.unwrap());
    assert!(dir.path().join("headers.sqlite.foreign").exists());
    opened.store.close().await;

    // The right identity opens what is there.
    let opened = SqliteStore::open(
        &dir.path().join("headers.sqlite.foreign"),
        id,
        PruneWindow::default(),
    )
    .await
    .unwrap();
    assert!(opened.moved_aside.is_none());
    assert_eq!(
        opened.store.latest().await.unwrap().unwrap().height(),
        Height(1)
    );
}

#[tokio::test]
async fn pruning_keeps_the_checkpoint_and_the_newest_blocks() {
    let chain = stable_chain(40);
    let store = SqliteStore::in_memory(identity(&config(&chain[0])), PruneWindow(5))
        .await
        .unwrap();
    for b in &chain {
        store.insert(b).await.unwrap();
    }
    assert_eq!(store.len().await.unwrap(), 6);
    assert!(store.get(Height(1)).await.unwrap().is_some());
    assert!(store.get(Height(35)).await.unwrap().is_none());
    assert!(store.get(Height(36)).await.unwrap().is_some());
    assert_eq!(store.latest().await.unwrap().unwrap().height(), Height(40));
}

#[tokio::test]
async fn a_store_reopened_resumes_from_its_latest_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("headers.sqlite");
    let chain = rotating_chain(30);
    let id = identity(&config(&chain[0]));
    let store = SqliteStore::open(&path, id.clone(), PruneWindow::default())
        .await
        .unwrap()
        .store;
    let s = setup_with_store(chain[..20].to_vec(), vec![], store).await;
    s.node.sync().await.unwrap();
    s.node.store().close().await;
    let store = SqliteStore::open(&path, id, PruneWindow::default())
        .await
        .unwrap()
        .store;
    assert_eq!(store.latest().await.unwrap().unwrap().height(), Height(20));
    let s = setup_with_store(chain.clone(), vec![], store).await;
    let before = s.primary.light_blocks_served();
    s.node.sync().await.unwrap();
    assert_eq!(s.node.status().head.unwrap().height, Height(30));
    assert!(s.primary.light_blocks_served() - before < 30);
}
