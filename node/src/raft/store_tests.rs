//! openraft's storage conformance suite run against the RocksDB log store and state machine.

use openraft::StorageError;
use openraft::testing::log::{StoreBuilder, Suite};
use openraft::type_config::TypeConfigExt;
use tokio::sync::broadcast;

use super::TypeConfig;
use super::log_store::{LogStore, WalSyncer};
use super::state_machine::StateMachine;
use crate::store::keys::GroupKeys;
use crate::store::{GroupStore, db};

struct RocksBuilder;

fn setup_err(e: std::io::Error) -> StorageError<TypeConfig> {
    StorageError::read(TypeConfig::err_from_error(&e))
}

impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for RocksBuilder {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<TypeConfig>> {
        let dir = tempfile::tempdir().map_err(setup_err)?;
        // As a node lays it out: snapshots go beside the database (`store::snapshot::dir_of`).
        let db = db::open(&dir.path().join("rocksdb")).map_err(setup_err)?;
        let syncer = WalSyncer::start(db.clone()).map_err(setup_err)?;
        let keys = GroupKeys::new("suite");
        let (tx, _) = broadcast::channel(16);
        Ok((
            dir,
            LogStore::new(db.clone(), keys.clone(), syncer),
            StateMachine::new(GroupStore::new(db, keys), tx, Default::default()),
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rocksdb_storage_passes_openraft_suite() -> Result<(), StorageError<TypeConfig>> {
    Suite::test_all(RocksBuilder).await
}
