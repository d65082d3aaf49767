//! Per-object async locks, so parallel read-modify-write of one object's whole-list
//! properties (scopes, redirect URIs, identifier URIs) happen one after another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

/// A map of async mutexes keyed by object (e.g. `application/<object id>`). Entries nobody
/// holds or waits for are dropped on the next `lock` call.
#[derive(Clone, Debug, Default)]
pub struct ObjectLocks {
    map: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl ObjectLocks {
    /// Waits for and takes the lock of `key`; released when the guard is dropped.
    pub async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let mutex = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            // Only the map holds an entry with strong count 1: nobody holds or awaits it.
            map.retain(|_, m| Arc::strong_count(m) > 1);
            map.entry(key.to_string()).or_default().clone()
        };
        mutex.lock_owned().await
    }

    /// Number of keys currently tracked (held, awaited, or released since the last `lock`).
    pub fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn serializes_writers_per_key() {
        let locks = ObjectLocks::default();
        let list = Arc::new(tokio::sync::Mutex::new(Vec::<u32>::new()));
        let inside = Arc::new(AtomicUsize::new(0));
        let tasks = (0..8).map(|i| {
            let (locks, list, inside) = (locks.clone(), list.clone(), inside.clone());
            tokio::spawn(async move {
                let _g = locks.lock("application/1").await;
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two writers at once"
                );
                // read-modify-write with a suspension point in between
                let mut copy = list.lock().await.clone();
                tokio::time::sleep(Duration::from_millis(2)).await;
                copy.push(i);
                *list.lock().await = copy;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for t in futures::future::join_all(tasks).await {
            t.unwrap();
        }
        assert_eq!(list.lock().await.len(), 8, "no lost update");

        // other keys are independent; released keys are cleaned up
        let a = locks.lock("a").await;
        let b = tokio::time::timeout(Duration::from_millis(50), locks.lock("b")).await;
        assert!(b.is_ok());
        drop((a, b));
        let _c = locks.lock("c").await;
        assert_eq!(locks.len(), 1);
    }
}
