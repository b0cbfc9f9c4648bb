//! Where an image's files are kept: a folder beside the database (the default), or an
//! S3-compatible bucket when several nodes must see the same files. Keys are the
//! content-addressed names of `domain::media::MediaFile::key`, checked before they get here.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

/// A file's bytes as they are read, and how many there are.
pub struct FileBody {
    pub len: u64,
    /// The bytes, when they were read whole already (a small image): sent with the headers.
    pub whole: Option<Bytes>,
    /// Otherwise, as they are read.
    pub chunks: Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>,
}

impl FileBody {
    pub fn whole(bytes: Bytes) -> Self {
        let len = bytes.len() as u64;
        Self { len, whole: Some(bytes), chunks: Box::pin(futures_util::stream::empty()) }
    }

    pub fn streamed(
        len: u64,
        chunks: impl Stream<Item = io::Result<Bytes>> + Send + 'static,
    ) -> Self {
        Self { len, whole: None, chunks: Box::pin(chunks) }
    }
}

#[async_trait]
pub trait MediaFiles: Send + Sync + 'static {
    /// Keeps a file under `key` whole or not at all (a reader never sees half of it).
    async fn put(&self, key: &str, bytes: Vec<u8>) -> io::Result<()>;

    /// A file's bytes, whole (for making variants of it); `None` if there is none.
    async fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>>;

    /// A file, to stream to a reader; `None` if there is none.
    async fn open(&self, key: &str) -> io::Result<Option<FileBody>>;

    /// Forgets the files under these keys (missing ones are no error).
    async fn delete(&self, keys: &[String]) -> io::Result<()>;

    /// What the files are kept in, for messages and the settings page.
    fn describe(&self) -> String;

    /// Makes sure files can be kept there (at start-up, so that a store that cannot be
    /// reached or written is found before the first upload).
    async fn check(&self) -> io::Result<()>;
}

pub type SharedFiles = Arc<dyn MediaFiles>;

/// The small files asked for most, kept in memory for a minute: a file read from the kernel
/// for every request costs half of what nginx's whole answer does. At most [`HOT_BYTES`], files
/// of at most [`HOT_FILE_BYTES`]; the addresses never change meaning, so an entry is never
/// stale (a deleted image's files leave at once on this node, within the minute on the others, as
/// pages leave the page cache).
#[derive(Default)]
pub struct HotFiles {
    entries: std::sync::Mutex<HotEntries>,
}

#[derive(Default)]
struct HotEntries {
    files: std::collections::HashMap<String, (bytes::Bytes, std::time::Instant)>,
    bytes: usize,
}

const HOT_BYTES: usize = 16 << 20;
const HOT_FILE_BYTES: usize = 256 << 10;
const HOT_SECONDS: u64 = 60;

impl HotFiles {
    pub fn get(&self, key: &str) -> Option<bytes::Bytes> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (bytes, at) = entries.files.get(key)?;
        (at.elapsed().as_secs() < HOT_SECONDS).then(|| bytes.clone())
    }

    pub fn put(&self, key: String, bytes: bytes::Bytes) {
        if bytes.len() > HOT_FILE_BYTES {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.bytes + bytes.len() > HOT_BYTES {
            // Full: what is past its minute goes; if that is not enough, this one waits.
            let HotEntries { files, bytes: held } = &mut *entries;
            files.retain(|_, (b, at)| {
                let keep = at.elapsed().as_secs() < HOT_SECONDS;
                if !keep {
                    *held -= b.len();
                }
                keep
            });
            if entries.bytes + bytes.len() > HOT_BYTES {
                return;
            }
        }
        let len = bytes.len();
        if let Some((old, _)) = entries.files.insert(key, (bytes, std::time::Instant::now())) {
            entries.bytes -= old.len();
        }
        entries.bytes += len;
    }
}

impl HotFiles {
    /// Forgets these files (an image deleted or replaced).
    pub fn forget(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            if let Some((old, _)) = entries.files.remove(key) {
                entries.bytes -= old.len();
            }
        }
    }
}

/// Files in a folder of this machine.
pub struct LocalFiles {
    root: PathBuf,
}

/// How much of a file one blocking read takes: most variants are one read.
const CHUNK: usize = 256 * 1024;

impl LocalFiles {
    /// Files under `root` (made with the first file).
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_owned() }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

/// Up to `CHUNK` bytes, and no more than `left`: a buffer the size of what is read (a small
/// image's whole file), never a large one zeroed and mapped for every request.
fn read_chunk(file: &mut std::fs::File, left: u64) -> io::Result<Bytes> {
    let want = (left.min(CHUNK as u64) as usize).max(1);
    let mut buf = vec![0; want];
    let mut filled = 0;
    while filled < want {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    Ok(Bytes::from(buf))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(io::Error::other)?
}

fn not_found_is_none<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl MediaFiles for LocalFiles {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> io::Result<()> {
        let path = self.path(key);
        blocking(move || {
            use std::io::Write;
            let dir = path.parent().expect("a key has a folder");
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile_in(dir)?;
            tmp.1.write_all(&bytes)?;
            tmp.1.sync_all()?;
            std::fs::rename(&tmp.0, &path)?;
            // The rename is durable once the folder is.
            std::fs::File::open(dir)?.sync_all()
        })
        .await
    }

    async fn read(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(key);
        blocking(move || not_found_is_none(std::fs::read(path))).await
    }

    async fn open(&self, key: &str) -> io::Result<Option<FileBody>> {
        // The file is opened and its first chunk (for most images all of it) read here, as
        // nginx reads on its event loop: from the kernel's page cache that is a copy of a few
        // kilobytes, where a hop to a blocking thread and back cost three times nginx's whole
        // answer (measured: 0.28 of nginx with the hop). Later chunks of large files do hop.
        let Some(mut file) = not_found_is_none(std::fs::File::open(self.path(key)))? else {
            return Ok(None);
        };
        let len = file.metadata()?.len();
        let first = read_chunk(&mut file, len)?;
        let read = first.len() as u64;
        if read >= len {
            return Ok(Some(FileBody::whole(first)));
        }
        let state = (Some(first), Some((file, len - read)));
        let chunks = futures_util::stream::unfold(state, |(first, file)| async move {
            if let Some(first) = first {
                return Some((Ok(first), (None, file)));
            }
            let (mut file, left) = file?;
            match blocking(move || {
                let chunk = read_chunk(&mut file, left)?;
                let left = left.saturating_sub(chunk.len() as u64);
                Ok((chunk, (file, left)))
            })
            .await
            {
                Ok((chunk, _)) if chunk.is_empty() => None,
                Ok((chunk, file)) => Some((Ok(chunk), (None, Some(file)))),
                Err(e) => Some((Err(e), (None, None))),
            }
        });
        Ok(Some(FileBody::streamed(len, chunks)))
    }

    async fn delete(&self, keys: &[String]) -> io::Result<()> {
        let paths: Vec<PathBuf> = keys.iter().map(|k| self.path(k)).collect();
        blocking(move || {
            for path in paths {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                // The image's folder goes with its last file.
                if let Some(dir) = path.parent() {
                    let _ = std::fs::remove_dir(dir);
                }
            }
            Ok(())
        })
        .await
    }

    fn describe(&self) -> String {
        format!("the folder {}", self.root.display())
    }

    async fn check(&self) -> io::Result<()> {
        let root = self.root.clone();
        blocking(move || std::fs::create_dir_all(root)).await
    }
}

/// A new file in `dir` with a name no other writer picks.
fn tempfile_in(dir: &Path) -> io::Result<(PathBuf, std::fs::File)> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!(".upload-{name}"));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    Ok((path, file))
}
