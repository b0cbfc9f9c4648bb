//! Moving a site in: `byline import wordpress` and `byline import disqus`. What the importers share: the summary they
//! report, the progress bar, and old addresses.

pub mod content;
pub mod disqus;
pub mod jobs;
pub mod pages;
pub mod uploads;
pub mod wordpress;
pub mod xml;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// What a file holds, counted as it stands (before Byline's rules decide what comes in): items
/// by `post_type/status`, comments by `comment_type/comment_approved`, and the lists.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FileCounts {
    pub items: BTreeMap<String, u64>,
    pub comments: BTreeMap<String, u64>,
    pub comments_with_parent: u64,
    pub max_depth: u64,
    pub authors: u64,
    pub categories: u64,
    pub tags: u64,
    pub wxr_version: Option<String>,
    pub namespace: Vec<String>,
    /// A Disqus export's threads and posts.
    pub threads: u64,
    pub posts: u64,
    pub posts_deleted: u64,
    pub posts_spam: u64,
    pub posts_with_parent: u64,
}

/// An import's account: what the file holds, what came in (by kind and status), what was
/// there already, what was skipped and why, and anything worth a note.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub file: FileCounts,
    pub imported: BTreeMap<String, BTreeMap<String, u64>>,
    pub already_there: BTreeMap<String, BTreeMap<String, u64>>,
    pub skipped: BTreeMap<String, u64>,
    pub notes: Vec<String>,
    /// Notes past the first [`MAX_NOTES`], counted only.
    pub more_notes: u64,
    pub dry_run: bool,
}

const MAX_NOTES: usize = 200;

impl Summary {
    pub fn count(&mut self, kind: &str, status: &str, n: u64) {
        if n > 0 {
            *self.imported.entry(kind.into()).or_default().entry(status.into()).or_default() += n;
        }
    }

    pub fn already(&mut self, kind: &str, status: &str, n: u64) {
        if n > 0 {
            let by_status = self.already_there.entry(kind.into()).or_default();
            *by_status.entry(status.into()).or_default() += n;
        }
    }

    pub fn skip(&mut self, reason: &str, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason.into()).or_default() += n;
        }
    }

    pub fn note(&mut self, note: impl Into<String>) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note.into());
        } else {
            self.more_notes += 1;
        }
    }

    /// Adds a batch's account to this one.
    pub fn merge(&mut self, other: Summary) {
        for (kind, statuses) in other.imported {
            for (status, n) in statuses {
                self.count(&kind, &status, n);
            }
        }
        for (kind, statuses) in other.already_there {
            for (status, n) in statuses {
                self.already(&kind, &status, n);
            }
        }
        for (reason, n) in other.skipped {
            self.skip(&reason, n);
        }
        for note in other.notes {
            self.note(note);
        }
        self.more_notes += other.more_notes;
    }

    /// The table printed at the end.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let verb = if self.dry_run { "would import" } else { "imported" };
        out.push_str(&format!(
            "{:<10} {:<24} {:>12} {:>14}\n",
            "kind", "status", verb, "already there"
        ));
        let mut kinds: Vec<&String> =
            self.imported.keys().chain(self.already_there.keys()).collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let mut statuses: Vec<&String> = self
                .imported
                .get(kind)
                .into_iter()
                .chain(self.already_there.get(kind))
                .flat_map(|m| m.keys())
                .collect();
            statuses.sort();
            statuses.dedup();
            for status in statuses {
                let get = |m: &BTreeMap<String, BTreeMap<String, u64>>| {
                    m.get(kind).and_then(|s| s.get(status)).copied().unwrap_or(0)
                };
                out.push_str(&format!(
                    "{kind:<10} {status:<24} {:>12} {:>14}\n",
                    get(&self.imported),
                    get(&self.already_there)
                ));
            }
        }
        if self.imported.is_empty() {
            out.push_str(if self.already_there.is_empty() {
                "Nothing to import.\n"
            } else {
                "Nothing new: everything in the file was imported before.\n"
            });
        }
        if !self.skipped.is_empty() {
            out.push_str("\nSkipped:\n");
            for (reason, n) in &self.skipped {
                out.push_str(&format!("{n:>8}  {reason}\n"));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n");
            for note in &self.notes {
                out.push_str(&format!("  - {note}\n"));
            }
            if self.more_notes > 0 {
                out.push_str(&format!("  … and {} more\n", self.more_notes));
            }
        }
        if self.dry_run {
            out.push_str("\nDry run: nothing was written.\n");
        }
        out
    }
}

/// How an import was asked to run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Report what would happen; write nothing.
    pub dry_run: bool,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
    /// Where else to tell the progress: the newsroom's import job.
    pub watch: Option<tokio::sync::watch::Sender<crate::store::JobProgress>>,
    /// Keep pingbacks and trackbacks as link-backs under their articles.
    pub keep_pingbacks: bool,
    /// A copy of the old site's `wp-content/uploads`, whose images join the library.
    pub uploads: Option<std::path::PathBuf>,
}

/// A name for an item the export gives no id: what it says (the same item in a second run
/// gets the same name).
pub fn content_key(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let hex: String = hash.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The order to write items in so that each parent comes before its answers, whatever the
/// file's order: indexes into `keys`, where `parent_of(i)` is the key item `i` answers. A
/// loop of parents is broken where it closes.
pub fn parents_first<'a>(
    keys: &[String],
    parent_of: impl Fn(usize) -> Option<&'a str>,
) -> Vec<usize> {
    let index: HashMap<&str, usize> =
        keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
    let mut placed = vec![false; keys.len()];
    let mut order = Vec::with_capacity(keys.len());
    for start in 0..keys.len() {
        // Its chain of parents, top first, then it.
        let mut chain = vec![start];
        let mut at = start;
        while let Some(&parent) = parent_of(at).and_then(|p| index.get(p)) {
            if placed[parent] || chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            at = parent;
        }
        for i in chain.into_iter().rev() {
            if !placed[i] {
                placed[i] = true;
                order.push(i);
            }
        }
    }
    order
}

/// A progress bar of items and replies, on a terminal only.
pub struct Progress {
    bar: indicatif::ProgressBar,
    replies: std::sync::atomic::AtomicU64,
    total_replies: u64,
    watch: Option<tokio::sync::watch::Sender<crate::store::JobProgress>>,
}

impl Progress {
    pub fn new(options: &Options, items: u64, replies: u64) -> Self {
        let shown = options.progress;
        let bar = if shown {
            indicatif::ProgressBar::new(items)
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} items {msg} [{elapsed_precise}]",
        ) {
            bar.set_style(style);
        }
        if replies > 0 {
            bar.set_message(format!("0/{replies} replies"));
        }
        let watch = options.watch.clone();
        if let Some(watch) = &watch {
            watch.send_replace(crate::store::JobProgress {
                items_total: items as i64,
                replies_total: replies as i64,
                ..Default::default()
            });
        }
        Self { bar, replies: 0.into(), total_replies: replies, watch }
    }

    pub fn advance(&self, items: u64, replies: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let done = self.replies.fetch_add(replies, Relaxed) + replies;
        self.bar.inc(items);
        if self.total_replies > 0 {
            self.bar.set_message(format!("{done}/{} replies", self.total_replies));
        }
        if let Some(watch) = &self.watch {
            watch.send_modify(|p| {
                p.items_done = self.bar.position() as i64;
                p.replies_done = done as i64;
            });
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The path (and the query, when it has one) of an address of the old site, as the redirects
/// table keys it: `http://example.org/?p=1` → `/?p=1`, `https://x/2014/a/` → `/2014/a/`.
pub fn old_path(url: &str) -> Option<String> {
    let url = url::Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy().into_owned();
    Some(match url.query() {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_addresses_keep_their_path_and_query() {
        assert_eq!(old_path("http://example.org/?p=1").as_deref(), Some("/?p=1"));
        assert_eq!(old_path("https://x.example/2014/a/").as_deref(), Some("/2014/a/"));
        assert_eq!(old_path("https://x.example/%d0%bf/").as_deref(), Some("/п/"));
        assert_eq!(old_path("not a url"), None);
    }
}
