//! The light node's status as the UI shows it.

use tradeseal_api::NodeStatus;

/// Reports the light node's state. Until a chain config (root of trust) is chosen, the node is
/// not configured; the light node service replaces this when it lands.
#[derive(Debug, Default)]
pub struct StatusService {}

impl StatusService {
    pub fn status(&self) -> NodeStatus {
        NodeStatus::NotConfigured
    }
}
