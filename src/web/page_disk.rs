//! The page cache's second tier: rendered public pages kept as files on this machine, so that
//! a whole archive read at random is served like static files while memory holds only what
//! the first tier keeps. The operating system keeps the busy files in its own cache, which no
//! process's memory counts.
//!
//! What is on disk is listed in memory (a few hundred bytes a page: its headers, its files'
//! lengths and checksums); a page is reachable only through that list, so dropping it from the
//! list makes it unreachable at once, and its files are deleted afterwards. Each file is
//! checked against its length and CRC-32 as it is read: a file cut short or changed on disk is
//! never served (the page is rendered again). The list is not written down: a node starts with
//! an empty folder, since nothing could prove that files left by an earlier run are current.
//! Each node takes a folder of its own under `page_cache_dir` (`0/`, `1/`… held by a lock
//! file), so that several nodes on one machine may share the setting.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use tokio::sync::OnceCell;

use super::RouteName;
use super::page_cache::Coding;

/// How long a page on disk is served before it is rendered anew. A page holds its reply
/// form's token, whose age the fill-time defense reads, and the form itself, which
/// `close_after_days` removes without any change to announce it: both are at most this stale.
pub const TTL: Duration = Duration::from_secs(600);

/// When the folder is over its size, pages are dropped, least recently used first, until it
/// is this share of it: one sort makes room for many pages.
const AFTER_EVICTION: f64 = 0.9;

/// A file as written: what it must weigh and hash to when read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Written {
    len: u64,
    crc: u32,
}

impl Written {
    fn of(bytes: &[u8]) -> Self {
        Self { len: bytes.len() as u64, crc: crc32fast::hash(bytes) }
    }

    fn matches(self, bytes: &[u8]) -> bool {
        bytes.len() as u64 == self.len && crc32fast::hash(bytes) == self.crc
    }
}

/// One page on disk: its files and what its answers carry.
pub struct DiskPage {
    id: u64,
    at: Instant,
    pub headers: HeaderMap,
    pub route: Option<RouteName>,
    body: Written,
    /// Compressed copies, written on first use; `None` once tried when it does not pay.
    gzip: OnceCell<Option<Written>>,
    brotli: OnceCell<Option<Written>>,
    /// When it was last served (a tick of [`DiskTier::ticks`]), for least-recently-used.
    used: AtomicU64,
}

impl DiskPage {
    fn slot(&self, coding: Coding) -> &OnceCell<Option<Written>> {
        match coding {
            Coding::Brotli => &self.brotli,
            Coding::Gzip => &self.gzip,
        }
    }
}

/// The pages on disk by request path and query, with what each weighed when last counted.
#[derive(Default)]
struct Index {
    pages: HashMap<String, (Arc<DiskPage>, u64)>,
    bytes: u64,
}

pub struct DiskTier {
    dir: PathBuf,
    budget: u64,
    index: Mutex<Index>,
    next_id: AtomicU64,
    ticks: AtomicU64,
    /// For `/metrics`: pages served from disk, pages dropped to keep within the budget.
    pub hits: AtomicU64,
    pub evictions: AtomicU64,
    /// Held while the node runs: the folder is this node's.
    _lock: File,
}

fn extension(coding: Option<Coding>) -> &'static str {
    match coding {
        None => "page",
        Some(Coding::Gzip) => "gz",
        Some(Coding::Brotli) => "br",
    }
}

impl DiskTier {
    /// Takes the first folder under `root` that no running node holds, emptied, for pages
    /// weighing at most `budget` bytes together.
    pub fn open(root: &Path, budget: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let tier = Self::take_folder(root, budget)?;
        empty_stopped_nodes_folders(root, &tier.dir);
        Ok(tier)
    }

    fn take_folder(root: &Path, budget: u64) -> std::io::Result<Self> {
        for n in 0..1000 {
            let lock = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(root.join(format!("{n}.lock")))?;
            match lock.try_lock() {
                Ok(()) => {
                    let dir = root.join(n.to_string());
                    match std::fs::remove_dir_all(&dir) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                    std::fs::create_dir_all(&dir)?;
                    return Ok(Self {
                        dir,
                        budget,
                        index: Mutex::default(),
                        next_id: AtomicU64::new(1),
                        ticks: AtomicU64::new(1),
                        hits: AtomicU64::new(0),
                        evictions: AtomicU64::new(0),
                        _lock: lock,
                    });
                }
                Err(std::fs::TryLockError::WouldBlock) => continue,
                Err(std::fs::TryLockError::Error(e)) => return Err(e),
            }
        }
        Err(std::io::Error::other("a thousand running nodes already use this folder"))
    }

    /// The folder this node keeps its pages in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: u64, coding: Option<Coding>) -> PathBuf {
        self.dir.join(format!("{id:x}.{}", extension(coding)))
    }

    fn index(&self) -> std::sync::MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The page kept for `key`, if it is younger than [`TTL`].
    pub fn get(&self, key: &str) -> Option<Arc<DiskPage>> {
        let index = self.index();
        let (page, _) = index.pages.get(key)?;
        if page.at.elapsed() >= TTL {
            return None;
        }
        page.used.store(self.ticks.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(page.clone())
    }

    /// A file of `page` as written, or `None` (and the page dropped) when it is missing, cut
    /// short or changed. Read on the calling thread: a page's file, in the operating system's
    /// cache when the page is read often, is read in microseconds, less than handing the read
    /// to another thread and back costs.
    fn read(&self, key: &str, page: &Arc<DiskPage>, coding: Option<Coding>) -> Option<Bytes> {
        let written = match coding {
            None => page.body,
            Some(coding) => page.slot(coding).get().copied().flatten()?,
        };
        match std::fs::read(self.path(page.id, coding)) {
            Ok(bytes) if written.matches(&bytes) => Some(Bytes::from(bytes)),
            outcome => {
                let why = outcome.map_or_else(|e| e.to_string(), |_| "not as written".into());
                tracing::warn!(key, error = why, "a page on disk could not be read; rendering it");
                self.drop_page(key, page);
                None
            }
        }
    }

    /// The page's body, in `coding` when it pays (compressed and written on first use).
    pub async fn body(
        self: &Arc<Self>,
        key: &str,
        page: &Arc<DiskPage>,
        coding: Option<Coding>,
    ) -> Option<(Option<Coding>, Bytes)> {
        let Some(coding) = coding else {
            return Some((None, self.read(key, page, None)?));
        };
        let slot = page.slot(coding);
        if slot.get().is_some() {
            return match self.read(key, page, Some(coding)) {
                Some(copy) => Some((Some(coding), copy)),
                None if slot.get() == Some(&None) => Some((None, self.read(key, page, None)?)),
                None => None,
            };
        }
        let body = self.read(key, page, None)?;
        let written = slot
            .get_or_init(|| async {
                if !super::page_cache::worth_compressing(&page.headers, body.len()) {
                    return None;
                }
                let (tier, key, page) = (self.clone(), key.to_owned(), page.clone());
                let body = body.clone();
                // Whole on the blocking pool, so that a client gone meanwhile leaves no file
                // behind: a copy of a page dropped while it was made is deleted at once.
                let written = tokio::task::spawn_blocking(move || {
                    let copy = coding.compress(&body);
                    if copy.len() >= body.len() {
                        return None;
                    }
                    let path = tier.path(page.id, Some(coding));
                    if std::fs::write(&path, &copy).is_err() || !tier.add_copy(&key, &page, &copy) {
                        let _ = std::fs::remove_file(&path);
                        return None;
                    }
                    Some(Written::of(&copy))
                });
                written.await.ok().flatten()
            })
            .await;
        if written.is_some()
            && let Some(copy) = self.read(key, page, Some(coding))
        {
            return Some((Some(coding), copy));
        }
        Some((None, body))
    }

    /// Writes the page and lists it, unless `current` (asked while no change can slip in
    /// between) says a change since it was rendered touches it. Blocks: run it off the
    /// workers. Pages too large for a tenth of the budget are not kept.
    pub fn put(
        &self,
        key: &str,
        headers: HeaderMap,
        body: &[u8],
        route: Option<RouteName>,
        current: impl FnOnce() -> bool,
    ) {
        if body.len() as u64 > self.budget / 10 {
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = std::fs::write(self.path(id, None), body) {
            tracing::warn!(key, error = %e, "a page could not be written to disk");
            let _ = std::fs::remove_file(self.path(id, None));
            return;
        }
        let page = Arc::new(DiskPage {
            id,
            at: Instant::now(),
            headers,
            route,
            body: Written::of(body),
            gzip: OnceCell::new(),
            brotli: OnceCell::new(),
            used: AtomicU64::new(self.ticks.fetch_add(1, Ordering::Relaxed)),
        });
        let mut gone = Vec::new();
        {
            let mut index = self.index();
            if current() {
                let weight = page.body.len;
                index.bytes += weight;
                if let Some((old, old_weight)) = index.pages.insert(key.to_owned(), (page, weight))
                {
                    index.bytes -= old_weight;
                    gone.push(old.id);
                }
                gone.extend(self.evict(&mut index));
            } else {
                gone.push(id);
            }
        }
        self.delete(gone);
    }

    /// Drops the least recently used pages until the rest fit well within the budget.
    fn evict(&self, index: &mut Index) -> Vec<u64> {
        if index.bytes <= self.budget {
            return Vec::new();
        }
        let mut by_use: Vec<(u64, String)> = index
            .pages
            .iter()
            .map(|(key, (page, _))| (page.used.load(Ordering::Relaxed), key.clone()))
            .collect();
        by_use.sort_unstable();
        let target = (self.budget as f64 * AFTER_EVICTION) as u64;
        let mut gone = Vec::new();
        for (_, key) in by_use {
            if index.bytes <= target {
                break;
            }
            if let Some((page, weight)) = index.pages.remove(&key) {
                index.bytes -= weight;
                gone.push(page.id);
            }
        }
        self.evictions.fetch_add(gone.len() as u64, Ordering::Relaxed);
        gone
    }

    /// Counts a compressed copy of `page` just written, if it is still the page listed under
    /// `key`; `false` when it is not (the copy is then not wanted).
    fn add_copy(&self, key: &str, page: &Arc<DiskPage>, copy: &[u8]) -> bool {
        let gone = {
            let mut index = self.index();
            let Some((listed, weight)) = index.pages.get_mut(key) else { return false };
            if !Arc::ptr_eq(listed, page) {
                return false;
            }
            *weight += copy.len() as u64;
            index.bytes += copy.len() as u64;
            self.evict(&mut index)
        };
        self.delete(gone);
        true
    }

    /// Drops `page` if it is still the one listed under `key`.
    fn drop_page(&self, key: &str, page: &Arc<DiskPage>) {
        {
            let mut index = self.index();
            if !index.pages.get(key).is_some_and(|(listed, _)| Arc::ptr_eq(listed, page)) {
                return;
            }
            if let Some((_, weight)) = index.pages.remove(key) {
                index.bytes -= weight;
            }
        }
        self.delete(vec![page.id]);
    }

    /// Drops every page whose key `stale` names: unreachable as this returns, its files
    /// deleted after.
    pub fn forget(&self, stale: impl Fn(&str) -> bool) {
        let mut gone = Vec::new();
        {
            let mut index = self.index();
            let mut dropped = 0;
            index.pages.retain(|key, (page, weight)| {
                let keep = !stale(key);
                if !keep {
                    dropped += *weight;
                    gone.push(page.id);
                }
                keep
            });
            index.bytes -= dropped;
        }
        self.delete(gone);
    }

    /// Deletes these pages' files, on the blocking pool when there is a runtime.
    fn delete(&self, ids: Vec<u64>) {
        if ids.is_empty() {
            return;
        }
        let dir = self.dir.clone();
        let delete = move || {
            for id in ids {
                for coding in [None, Some(Coding::Gzip), Some(Coding::Brotli)] {
                    let _ = std::fs::remove_file(dir.join(format!("{id:x}.{}", extension(coding))));
                }
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(delete)),
            Err(_) => delete(),
        }
    }

    pub fn len(&self) -> usize {
        self.index().pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the pages on disk weigh, compressed copies included.
    pub fn bytes(&self) -> u64 {
        self.index().bytes
    }
}

/// Empties the folders under `root` that no running node holds (left by nodes since
/// stopped), but `ours`.
fn empty_stopped_nodes_folders(root: &Path, ours: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(n) = path.extension().filter(|x| *x == "lock").and(path.file_stem()) else {
            continue;
        };
        let folder = root.join(n);
        if folder == ours {
            continue;
        }
        let Ok(lock) = File::options().write(true).open(&path) else { continue };
        if lock.try_lock().is_ok() {
            let _ = std::fs::remove_dir_all(&folder);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(budget: u64) -> (tempfile::TempDir, Arc<DiskTier>) {
        let root = tempfile::tempdir().unwrap();
        let tier = Arc::new(DiskTier::open(root.path(), budget).unwrap());
        (root, tier)
    }

    fn files(tier: &DiskTier) -> usize {
        std::fs::read_dir(tier.dir()).unwrap().count()
    }

    #[tokio::test]
    async fn a_page_is_read_back_as_written_and_never_once_changed_on_disk() {
        let (_root, tier) = tier(1 << 20);
        tier.put("/a/", HeaderMap::new(), b"<p>The ferry</p>", None, || true);
        let page = tier.get("/a/").unwrap();
        let (coding, body) = tier.body("/a/", &page, None).await.unwrap();
        assert_eq!((coding, &body[..]), (None, &b"<p>The ferry</p>"[..]));
        // The same length, one byte changed.
        std::fs::write(tier.path(page.id, None), b"<p>The fErry</p>").unwrap();
        assert!(tier.body("/a/", &page, None).await.is_none());
        assert!(tier.get("/a/").is_none(), "dropped once found changed");
        tier.put("/b/", HeaderMap::new(), b"<p>The harbour</p>", None, || true);
        let page = tier.get("/b/").unwrap();
        std::fs::write(tier.path(page.id, None), b"<p>The").unwrap();
        assert!(tier.body("/b/", &page, None).await.is_none(), "cut short");
        assert!(tier.is_empty());
    }

    #[test]
    fn a_page_rendered_before_a_change_is_not_listed() {
        let (_root, tier) = tier(1 << 20);
        tier.put("/a/", HeaderMap::new(), b"old", None, || false);
        assert!(tier.get("/a/").is_none());
        assert_eq!(tier.bytes(), 0);
    }

    #[test]
    fn the_least_recently_used_pages_go_first_when_the_folder_is_full() {
        let (_root, tier) = tier(1000);
        let page = [b'x'; 100];
        for n in 0..10 {
            tier.put(&format!("/{n}/"), HeaderMap::new(), &page, None, || true);
        }
        assert_eq!(tier.bytes(), 1000);
        tier.get("/0/").unwrap();
        tier.put("/10/", HeaderMap::new(), &page, None, || true);
        assert!(tier.bytes() <= 900, "{}", tier.bytes());
        assert!(tier.get("/0/").is_some(), "used lately");
        assert!(tier.get("/1/").is_none() && tier.get("/2/").is_none(), "the oldest went");
        assert!(tier.get("/10/").is_some());
    }

    #[test]
    fn forgetting_drops_the_pages_and_their_files() {
        let (_root, tier) = tier(1 << 20);
        tier.put("/a/", HeaderMap::new(), b"a", None, || true);
        tier.put("/b/", HeaderMap::new(), b"b", None, || true);
        tier.put("/a/", HeaderMap::new(), b"a again", None, || true);
        assert_eq!(files(&tier), 2, "a page replaced leaves no file behind");
        tier.forget(|key| key == "/a/");
        assert!(tier.get("/a/").is_none() && tier.get("/b/").is_some());
        assert_eq!(files(&tier), 1);
        assert_eq!(tier.bytes(), 1);
    }

    #[test]
    fn each_node_takes_a_folder_of_its_own_and_empties_it() {
        let root = tempfile::tempdir().unwrap();
        let first = DiskTier::open(root.path(), 1 << 20).unwrap();
        first.put("/a/", HeaderMap::new(), b"a", None, || true);
        let second = DiskTier::open(root.path(), 1 << 20).unwrap();
        assert_ne!(first.dir(), second.dir());
        let dir = first.dir().to_owned();
        drop(first);
        second.put("/b/", HeaderMap::new(), b"b", None, || true);
        let second_dir = second.dir().to_owned();
        let again = DiskTier::open(root.path(), 1 << 20).unwrap();
        assert_eq!(again.dir(), dir, "the folder a stopped node left");
        assert_eq!(files(&again), 0, "emptied: nothing proves its pages current");
        assert_eq!(std::fs::read_dir(&second_dir).unwrap().count(), 1, "a running node's kept");
        drop(second);
        drop(again);
        let last = DiskTier::open(root.path(), 1 << 20).unwrap();
        assert!(!second_dir.exists() || std::fs::read_dir(&second_dir).unwrap().count() == 0);
        assert_eq!(last.dir(), dir);
    }
}
