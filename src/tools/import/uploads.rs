//! `byline import wordpress FILE --uploads DIR`: the export's attachments, found in a copy of
//! the old site's `wp-content/uploads`, join the media library with the alt text and caption
//! the export gives them (and lose their metadata, as every upload does). The bodies that show
//! them, in any of the sizes WordPress made (`photo-300x200.jpg`, `photo-scaled.jpg`), and the
//! featured images, are given the library's addresses (`/media/ID`).
//!
//! Each attachment is remembered in the import map once it is in the library, so a second run
//! adds only new ones; an image already in the library (the same picture) is not added twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Summary;
use super::xml::Node;
use crate::domain::MediaId;
use crate::services::Services;
use crate::services::media::{MediaError, MediaText, Upload};
use crate::store::{ImportReads, ImportWrites, StoreError};

/// An attachment as the export describes it.
#[derive(Debug, Clone, Default)]
pub struct Attachment {
    pub wp_id: String,
    pub url: String,
    /// Its path under `wp-content/uploads` (`_wp_attached_file`), e.g. `2024/05/quay.jpg`.
    pub file: String,
    pub alt: String,
    pub caption: String,
    /// `wp:post_mime_type`: `image/jpeg`, or a video's, a PDF's…
    pub mime: String,
}

/// A post's meta value by its key.
pub fn meta<'a>(item: &'a Node, key: &str) -> Option<&'a str> {
    item.all("wp:postmeta")
        .find(|m| m.get("wp:meta_key") == key)
        .map(|m| m.get("wp:meta_value").trim())
        .filter(|v| !v.is_empty())
}

impl Attachment {
    pub fn of(item: &Node) -> Self {
        let url = match item.get("wp:attachment_url") {
            "" => item.get("guid"),
            url => url,
        };
        Self {
            wp_id: item.get("wp:post_id").to_owned(),
            url: url.trim().to_owned(),
            file: meta(item, "_wp_attached_file").unwrap_or_default().to_owned(),
            alt: one_line(meta(item, "_wp_attachment_image_alt").unwrap_or_default()),
            caption: one_line(&super::content::plain_text(item.raw("excerpt:encoded"))),
            mime: item.get("wp:post_mime_type").trim().to_ascii_lowercase(),
        }
    }

    /// Where the file is in the copy of `wp-content/uploads`: its attached path, else the
    /// part of its address after `/uploads/` (or `/files/`, as WordPress.com writes).
    fn path_in(&self, dir: &Path) -> Option<PathBuf> {
        let from_url = || {
            let path = url::Url::parse(&self.url).ok()?.path().to_owned();
            let path = percent_encoding::percent_decode_str(&path).decode_utf8_lossy().into_owned();
            ["/uploads/", "/files/"]
                .iter()
                .find_map(|m| path.split_once(m).map(|(_, rest)| rest.to_owned()))
                .or(Some(path.trim_start_matches('/').to_owned()))
        };
        let relative = if self.file.is_empty() { from_url()? } else { self.file.clone() };
        // Only paths below the folder: nothing in an export may name a file elsewhere.
        let safe = !relative.is_empty()
            && Path::new(&relative)
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        safe.then(|| dir.join(relative)).filter(|p| p.is_file())
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The library's images by the attachments they were.
#[derive(Debug, Default)]
pub struct Library {
    by_wp_id: HashMap<String, MediaId>,
    /// Each attachment's address without its extension (in its three forms: `https://`,
    /// `http://` and `//`): the extension, and its image.
    by_stem: HashMap<String, (String, MediaId)>,
}

impl Library {
    pub fn media_for(&self, wp_id: &str) -> Option<MediaId> {
        self.by_wp_id.get(wp_id).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.by_wp_id.is_empty()
    }

    fn add(&mut self, attachment: &Attachment, id: MediaId) {
        self.by_wp_id.insert(attachment.wp_id.clone(), id);
        let Some((stem, ext)) = attachment.url.rsplit_once('.') else { return };
        if ext.contains('/') || stem.is_empty() {
            return;
        }
        let ext = ext.to_ascii_lowercase();
        let bare = stem.split_once("://").map(|(_, rest)| rest).unwrap_or(stem);
        for form in [format!("https://{bare}"), format!("http://{bare}"), format!("//{bare}")] {
            self.by_stem.insert(form, (ext.clone(), id));
        }
    }

    /// A body with every address of a library image, in any size WordPress made of it, given
    /// the library's address. One pass over the body: at each dot, the address that ends there
    /// is looked up (a site has thousands of attachments; a body names a few).
    pub fn rewrite(&self, body: &str) -> String {
        if self.by_stem.is_empty() {
            return body.to_owned();
        }
        let mut out = String::with_capacity(body.len());
        let mut copied = 0;
        let mut at = 0;
        while let Some(found) = body[at..].find('.') {
            let dot = at + found;
            at = dot + 1;
            let start = address_start(body, copied, dot);
            let stem = without_size(&body[start..dot]);
            let Some((ext, id)) = self.by_stem.get(stem) else { continue };
            let tail = &body[start + stem.len()..];
            if let Some(len) = address_end(tail, ext) {
                out.push_str(&body[copied..start]);
                out.push_str(&format!("/media/{id}"));
                copied = start + stem.len() + len;
                at = copied;
            }
        }
        out.push_str(&body[copied..]);
        out
    }
}

/// Where the address that reaches `dot` starts: after a quote, bracket, `=` or space (looking
/// back no further than `floor`, nor than 2,000 bytes: no address of an upload is longer).
fn address_start(body: &str, floor: usize, dot: usize) -> usize {
    let mut from = dot.saturating_sub(2000).max(floor);
    while !body.is_char_boundary(from) {
        from += 1;
    }
    let edge = |c: char| c.is_whitespace() || "\"'()<>=[],".contains(c);
    body[from..dot].rfind(edge).map_or(from, |i| from + i + 1)
}

/// An address without the size WordPress put at its end: `-300x200` or `-scaled`.
fn without_size(stem: &str) -> &str {
    if let Some(base) = stem.strip_suffix("-scaled") {
        return base;
    }
    let Some((base, size)) = stem.rsplit_once('-') else { return stem };
    let (w, h) = size.split_once('x').unwrap_or(("", ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(w) && digits(h) { base } else { stem }
}

/// How much of `tail` is `[-WxH|-scaled].EXT` ending the address, if it is.
fn address_end(tail: &str, ext: &str) -> Option<usize> {
    let mut len = 0;
    if let Some(size) = tail.strip_prefix('-') {
        let scaled = size.starts_with("scaled.");
        let (w, h) = size.split_once('x').unwrap_or(("", ""));
        let w_len = w.bytes().take_while(u8::is_ascii_digit).count();
        let h_len = h.bytes().take_while(u8::is_ascii_digit).count();
        if scaled {
            len = 1 + "scaled".len();
        } else if w_len > 0 && w_len == w.len() && h_len > 0 {
            len = 1 + w_len + 1 + h_len;
        } else {
            return None;
        }
    }
    let dotted = tail[len..].strip_prefix('.')?;
    if !dotted.get(..ext.len()).is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
        return None;
    }
    len += 1 + ext.len();
    let mut next = tail[len..].chars();
    let ends = match next.next() {
        None => true,
        // `a.jpg.webp` is another file; `a.jpg.` ends a sentence.
        Some('.') => !next.next().is_some_and(char::is_alphanumeric),
        Some(c) => !(c.is_alphanumeric() || c == '_' || c == '-' || c == '/'),
    };
    ends.then_some(len)
}

/// Brings the attachments found in `dir` into the library (a dry run only counts them).
pub async fn bring(
    services: &Services,
    origin: &str,
    attachments: &[Attachment],
    dir: &Path,
    dry_run: bool,
    summary: &mut Summary,
) -> Result<Library, StoreError> {
    let keys: Vec<String> = attachments.iter().map(|a| a.wp_id.clone()).collect();
    let from = origin.to_owned();
    let known: HashMap<String, i64> = services
        .store
        .read(move |db| Box::pin(async move { db.imported(&from, "media", &keys).await }))
        .await?
        .into_iter()
        .collect();
    let mut library = Library::default();
    for attachment in attachments {
        if !attachment.mime.is_empty() && !attachment.mime.starts_with("image/") {
            // A video, a PDF: not the library's, and not to be read whole to find that out.
            summary.count("media", "not an image", 1);
            continue;
        }
        if let Some(id) = known.get(&attachment.wp_id) {
            summary.already("media", "in the library", 1);
            library.add(attachment, MediaId(*id));
            continue;
        }
        let Some(path) = attachment.path_in(dir) else {
            summary.count("media", "not in the uploads folder", 1);
            summary.note(format!(
                "attachment {} ({}) is not in {}: it keeps its old address",
                attachment.wp_id,
                if attachment.file.is_empty() { &attachment.url } else { &attachment.file },
                dir.display()
            ));
            continue;
        };
        if dry_run {
            summary.count("media", "added to the library", 1);
            continue;
        }
        match keep(services, attachment, &path).await {
            Ok(id) => {
                let (origin, key) = (origin.to_owned(), attachment.wp_id.clone());
                services
                    .commit(move |unit| {
                        Box::pin(
                            async move { unit.map_import(&origin, "media", &key, id.get()).await },
                        )
                    })
                    .await?;
                summary.count("media", "added to the library", 1);
                library.add(attachment, id);
            }
            Err(MediaError::Store(e)) => return Err(e),
            Err(refused) => {
                summary.count("media", "refused", 1);
                summary.note(format!(
                    "attachment {} ({}): {refused}; it keeps its old address",
                    attachment.wp_id,
                    path.display()
                ));
            }
        }
    }
    Ok(library)
}

async fn keep(
    services: &Services,
    attachment: &Attachment,
    path: &Path,
) -> Result<MediaId, MediaError> {
    let bytes = tokio::fs::read(path).await.map_err(|e| MediaError::Files(e.to_string()))?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    // The export's words are a reader's description; one too long is cut rather than lost.
    let text = MediaText {
        alt: attachment.alt.chars().take(500).collect(),
        caption: attachment.caption.chars().take(1000).collect(),
        credit: String::new(),
    };
    let item = services.upload_image(None, Upload { file_name, bytes }, &text).await?;
    Ok(item.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Library {
        let mut library = Library::default();
        let attachment = Attachment {
            wp_id: "611".into(),
            url: "https://old.example/wp-content/uploads/2008/06/canola2.jpg".into(),
            ..Attachment::default()
        };
        library.add(&attachment, MediaId(7));
        library
    }

    #[test]
    fn every_size_wordpress_made_is_rewritten_and_nothing_else() {
        let body = r#"<img src="https://old.example/wp-content/uploads/2008/06/canola2-300x200.jpg">
<a href="http://old.example/wp-content/uploads/2008/06/canola2.JPG">full</a>
<img src="//old.example/wp-content/uploads/2008/06/canola2-scaled.jpg">
<img src="https://old.example/wp-content/uploads/2008/06/canola23.jpg">
<img src="https://old.example/wp-content/uploads/2008/06/canola2-edit.jpg">
<img src="https://old.example/wp-content/uploads/2008/06/canola2.jpg.webp">"#;
        let rewritten = library().rewrite(body);
        assert_eq!(
            rewritten,
            r#"<img src="/media/7">
<a href="/media/7">full</a>
<img src="/media/7">
<img src="https://old.example/wp-content/uploads/2008/06/canola23.jpg">
<img src="https://old.example/wp-content/uploads/2008/06/canola2-edit.jpg">
<img src="https://old.example/wp-content/uploads/2008/06/canola2.jpg.webp">"#
        );
    }

    #[test]
    fn files_are_looked_for_below_the_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("2008/06")).unwrap();
        std::fs::write(dir.path().join("2008/06/a.jpg"), b"x").unwrap();
        let found = |file: &str, url: &str| {
            let a = Attachment { file: file.into(), url: url.into(), ..Attachment::default() };
            a.path_in(dir.path()).is_some()
        };
        assert!(found("2008/06/a.jpg", ""));
        assert!(found("", "https://x.example/wp-content/uploads/2008/06/a.jpg"));
        assert!(found("", "https://x.files.wordpress.com/2008/06/a.jpg"));
        assert!(!found("../06/a.jpg", ""));
        assert!(!found("/etc/passwd", ""));
        assert!(!found("2008/06/missing.jpg", ""));
    }
}
