//! The media library's use cases: an upload (checked, stripped of its metadata, kept with a
//! thumbnail, its other variants left to the outbox's `media` handler), the words that go with
//! an image, a replacement, a deletion; and the articles that show an image rendered again
//! whenever it changes, since their bodies hold its files' addresses.

use std::collections::HashMap;

use async_trait::async_trait;

use super::outbox::Handler;
use super::{Services, UnitOfWork};
use crate::domain::events::{Event, EventKind};
use crate::domain::media::{self, ImageFormat, MediaFile, MediaView, THUMBNAIL_WIDTH};
use crate::domain::{ArticleId, FieldError, MediaId, UserId, text};
use crate::media::process::{self, Refusal};
use crate::store::media::MediaFileSet;
use crate::store::{
    ArticleReads, ArticleWrites, Media, MediaReads, MediaUse, MediaWrites, StoreError, User,
};

/// The most characters of alt text, a caption and a credit.
const ALT_MAX_CHARS: usize = 500;
const CAPTION_MAX_CHARS: usize = 1000;
const CREDIT_MAX_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    Fields(Vec<FieldError>),
    #[error("only editors and admins delete images")]
    Forbidden,
    #[error("no such image")]
    NotFound,
    /// An author changing an image shown by articles that are not theirs (their headlines).
    #[error("the image is shown by others' articles")]
    NotYours(Vec<String>),
    /// Shown by these articles, so it stays.
    #[error("the image is shown by {} article(s)", .0.len())]
    InUse(Vec<MediaUse>),
    #[error("the image's files could not be kept: {0}")]
    Files(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A file's bytes, unless it is larger than an upload may be (`max_upload_bytes`), which is
/// found before it is read.
pub async fn read_limited(path: &std::path::Path, limit: usize) -> Result<Vec<u8>, MediaError> {
    let files = |e: std::io::Error| MediaError::Files(e.to_string());
    let size = tokio::fs::metadata(path).await.map_err(files)?.len();
    if size > limit as u64 {
        return Err(MediaError::Refused(crate::media::process::Refusal::TooLarge(limit)));
    }
    tokio::fs::read(path).await.map_err(files)
}

/// A file as it was sent.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Alt text, caption and credit as typed.
#[derive(Debug, Clone, Default)]
pub struct MediaText {
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

fn one_line(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl MediaText {
    fn checked(&self) -> Result<MediaText, MediaError> {
        let text = MediaText {
            alt: one_line(&self.alt),
            caption: one_line(&self.caption),
            credit: one_line(&self.credit),
        };
        let mut errors = Vec::new();
        let limits = [
            ("alt", &text.alt, ALT_MAX_CHARS, "The description"),
            ("caption", &text.caption, CAPTION_MAX_CHARS, "The caption"),
            ("credit", &text.credit, CREDIT_MAX_CHARS, "The credit"),
        ];
        for (field, value, max, what) in limits {
            if value.chars().count() > max {
                errors.push(FieldError::new(
                    field,
                    format!("{what} may be at most {max} characters."),
                ));
            }
        }
        if errors.is_empty() { Ok(text) } else { Err(MediaError::Fields(errors)) }
    }
}

/// Every file an image has: its original and each variant made.
pub fn files_of(m: &Media) -> Vec<MediaFile> {
    let mut files = vec![m.view().original()];
    for width in &m.widths {
        for format in m.format.variant_formats() {
            files.push(MediaFile {
                hash: m.hash.clone(),
                name: m.name.clone(),
                width: Some(*width),
                format: *format,
            });
        }
    }
    files
}

/// An upload checked and made into its kept files: the original and a thumbnail.
struct Kept {
    set: MediaFileSet,
    files: Vec<(MediaFile, Vec<u8>)>,
}

impl Services {
    /// Decodes and encodes on a blocking thread, at most `image_jobs` at once.
    async fn image_work<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, MediaError> {
        let permit = self.image_permits.clone().acquire_owned().await;
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await;
        result.map_err(|e| MediaError::Files(format!("image processing failed: {e}")))
    }

    /// Checks an upload by its bytes, strips it and writes its original and thumbnail.
    async fn keep_upload(&self, upload: Upload) -> Result<Kept, MediaError> {
        let max_pixels = self.config.max_upload_pixels;
        let Upload { file_name, bytes } = upload;
        let made = self
            .image_work(move || -> Result<_, MediaError> {
                let prepared = process::prepare(&bytes, max_pixels)?;
                drop(bytes);
                let thumbnail = if media::planned_widths(prepared.format, prepared.width)
                    .contains(&THUMBNAIL_WIDTH)
                {
                    let small =
                        prepared.pixels.scaled(THUMBNAIL_WIDTH).map_err(MediaError::Files)?;
                    let encoded = process::encode(&small, prepared.format, false)
                        .map_err(MediaError::Files)?;
                    let webp = process::encode(&small, ImageFormat::Webp, false)
                        .map_err(MediaError::Files)?;
                    Some((encoded, webp))
                } else {
                    None
                };
                Ok((
                    prepared.format,
                    prepared.width,
                    prepared.height,
                    prepared.original,
                    prepared.hash,
                    thumbnail,
                ))
            })
            .await??;
        let (format, width, height, original, hash, thumbnail) = made;
        let name = media::file_stem(&file_name);
        let mut files = Vec::new();
        let set = MediaFileSet {
            hash: hash.clone(),
            name: name.clone(),
            file_name: file_name.chars().take(255).collect(),
            format,
            width,
            height,
            bytes: original.len() as i64,
            widths: if thumbnail.is_some() { vec![THUMBNAIL_WIDTH] } else { Vec::new() },
        };
        let file =
            |width, format| MediaFile { hash: hash.clone(), name: name.clone(), width, format };
        files.push((file(None, format), original));
        if let Some((encoded, webp)) = thumbnail {
            files.push((file(Some(THUMBNAIL_WIDTH), format), encoded));
            if format != ImageFormat::Webp {
                files.push((file(Some(THUMBNAIL_WIDTH), ImageFormat::Webp), webp));
            }
        }
        for (file, bytes) in &files {
            self.media_files
                .put(&file.key(), bytes.clone())
                .await
                .map_err(|e| MediaError::Files(e.to_string()))?;
        }
        Ok(Kept { set, files })
    }

    /// Adds an upload to the library. The same picture uploaded again gives the image
    /// already there.
    /// Keeps an image in the library (`by` whoever uploaded it; none for a tool's import).
    pub async fn upload_image(
        &self,
        by: Option<UserId>,
        upload: Upload,
        text: &MediaText,
    ) -> Result<Media, MediaError> {
        let text = text.checked()?;
        let kept = self.keep_upload(upload).await?;
        let set = kept.set.clone();
        let id = self
            .commit(move |unit| {
                Box::pin(async move {
                    if let Some(id) = unit.media_with_hash(&set.hash).await? {
                        return Ok::<_, MediaError>(id);
                    }
                    let now = unit.now();
                    let id = unit.insert_media(&set, &text.alt, by, now).await?;
                    if !text.caption.is_empty() || !text.credit.is_empty() {
                        unit.update_media_text(id, &text.alt, &text.caption, &text.credit, now)
                            .await?;
                    }
                    unit.record_media(EventKind::MediaUploaded, id);
                    Ok(id)
                })
            })
            .await?;
        tracing::info!(
            staff = by.map(|id| id.get()),
            media = id.get(),
            files = kept.files.len(),
            "uploaded an image"
        );
        self.media_item(id).await?.ok_or(MediaError::NotFound)
    }

    pub async fn media_item(&self, id: MediaId) -> Result<Option<Media>, StoreError> {
        self.store.read(move |db| Box::pin(async move { db.media(id).await })).await
    }

    /// Whether `user` may change image `id` (its words or its picture): editors and admins
    /// any; an author one that no article but their own shows, so that nobody's published
    /// photograph changes under them.
    async fn may_change(&self, user: &User, id: MediaId) -> Result<(), MediaError> {
        if user.role.edits_all_articles() {
            return Ok(());
        }
        let user = user.clone();
        let others = self
            .store
            .read(move |db| {
                Box::pin(async move {
                    let mut others = Vec::new();
                    for used in db.media_uses(id).await? {
                        let article = db.article(used.article_id).await?;
                        if article.is_some_and(|a| !super::publishing::can_edit(&user, &a)) {
                            others.push(used.headline);
                        }
                    }
                    Ok(others)
                })
            })
            .await?;
        if others.is_empty() { Ok(()) } else { Err(MediaError::NotYours(others)) }
    }

    /// Saves an image's alt text, caption and credit; the articles showing it follow.
    pub async fn update_media_text(
        &self,
        user: &User,
        id: MediaId,
        text: &MediaText,
    ) -> Result<(), MediaError> {
        let text = text.checked()?;
        self.may_change(user, id).await?;
        self.commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                if !unit.update_media_text(id, &text.alt, &text.caption, &text.credit, now).await? {
                    return Err(MediaError::NotFound);
                }
                rerender_showing(unit, id).await?;
                Ok(())
            })
        })
        .await
    }

    /// Gives an image new files, keeping its words and where it is used.
    pub async fn replace_image(
        &self,
        user: &User,
        id: MediaId,
        upload: Upload,
    ) -> Result<(), MediaError> {
        if self.media_item(id).await?.is_none() {
            return Err(MediaError::NotFound);
        }
        self.may_change(user, id).await?;
        let kept = self.keep_upload(upload).await?;
        let set = kept.set.clone();
        let old = self
            .commit(move |unit| {
                Box::pin(async move {
                    let now = unit.now();
                    let old = unit.replace_media_files(id, &set, now).await?;
                    let old = old.ok_or(MediaError::NotFound)?;
                    unit.record_media(EventKind::MediaUploaded, id);
                    rerender_showing(unit, id).await?;
                    Ok(old)
                })
            })
            .await;
        match old {
            Ok(old) => {
                if old.hash != kept.set.hash {
                    self.forget_files(&old).await;
                }
                Ok(())
            }
            Err(MediaError::Store(StoreError::Conflict(_))) => {
                Err(MediaError::Fields(vec![FieldError::new(
                    "file",
                    "This picture is already in the library as another image.",
                )]))
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes an image no article shows (editors and admins).
    pub async fn delete_image(&self, user: &User, id: MediaId) -> Result<(), MediaError> {
        if !user.role.edits_all_articles() {
            return Err(MediaError::Forbidden);
        }
        let item = self.media_item(id).await?.ok_or(MediaError::NotFound)?;
        let deleted = self
            .commit(move |unit| {
                Box::pin(async move { Ok::<_, MediaError>(unit.delete_media(id).await?) })
            })
            .await?;
        if !deleted {
            let uses =
                self.store.read(move |db| Box::pin(async move { db.media_uses(id).await })).await?;
            return Err(MediaError::InUse(uses));
        }
        tracing::info!(staff = user.id.get(), media = id.get(), "deleted an image");
        self.forget_files(&item).await;
        Ok(())
    }

    async fn forget_files(&self, item: &Media) {
        let keys: Vec<String> = files_of(item).iter().map(MediaFile::key).collect();
        self.hot_files.forget(&keys);
        if let Err(e) = self.media_files.delete(&keys).await {
            tracing::warn!(error = %e, media = item.id.get(), "an image's old files could not be deleted");
        }
    }

    /// Makes the variants an image still lacks, then records them and renders again the
    /// articles that show it (so they offer the new sizes).
    pub async fn make_variants(&self, id: MediaId) -> Result<(), String> {
        let Some(item) = self.media_item(id).await.map_err(|e| e.to_string())? else {
            return Ok(()); // deleted meanwhile
        };
        let planned = media::planned_widths(item.format, item.width);
        let missing: Vec<u32> =
            planned.iter().copied().filter(|w| !item.widths.contains(w)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        let original = item.view().original();
        let bytes = self
            .media_files
            .read(&original.key())
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("the original {} is missing", original.key()))?;
        let max_pixels = u64::MAX;
        let formats = item.format.variant_formats().to_vec();
        let made = self
            .image_work(move || -> Result<Vec<(u32, ImageFormat, Vec<u8>)>, String> {
                let (_, pixels) = process::decode(&bytes, max_pixels).map_err(|e| e.to_string())?;
                drop(bytes);
                let mut made = Vec::new();
                for width in missing {
                    let scaled = pixels.scaled(width)?;
                    for format in &formats {
                        made.push((width, *format, process::encode(&scaled, *format, false)?));
                    }
                }
                Ok(made)
            })
            .await
            .map_err(|e| e.to_string())??;
        for (width, format, bytes) in made {
            let file = MediaFile {
                hash: item.hash.clone(),
                name: item.name.clone(),
                width: Some(width),
                format,
            };
            self.media_files.put(&file.key(), bytes).await.map_err(|e| e.to_string())?;
        }
        let hash = item.hash.clone();
        self.commit(move |unit| {
            Box::pin(async move {
                if unit.set_media_widths(id, &hash, &planned).await? {
                    rerender_showing(unit, id).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await
        .map_err(|e| e.to_string())?;
        tracing::info!(media = id.get(), "made an image's variants");
        Ok(())
    }
}

/// The library images a body shows, by id, as rendering needs them.
pub async fn views_for<D: crate::store::Db + ?Sized + Send>(
    db: &mut D,
    ids: &[MediaId],
) -> Result<HashMap<MediaId, MediaView>, StoreError> {
    Ok(db.media_by_ids(ids).await?.into_iter().map(|m| (m.id, m.view())).collect())
}

/// An article body's HTML, its library images made responsive.
pub fn render_body(markdown: &str, views: &HashMap<MediaId, MediaView>) -> String {
    text::markdown_html_with(markdown, &|id| views.get(&id).cloned())
}

/// Renders again, in the unit, every article that shows image `id`.
async fn rerender_showing(unit: &mut UnitOfWork<'_>, id: MediaId) -> Result<(), StoreError> {
    let articles: Vec<ArticleId> = unit.articles_showing(id).await?;
    for article_id in &articles {
        let Some(article) = unit.article(*article_id).await? else { continue };
        let ids = text::media_in(&article.body_markdown);
        let views = views_for(&mut **unit, &ids).await?;
        unit.set_body_html(*article_id, &render_body(&article.body_markdown, &views)).await?;
    }
    if !articles.is_empty() {
        unit.site_changed();
    }
    Ok(())
}

/// The outbox's handler that makes an uploaded image's variants, on whichever node claims it.
pub struct VariantMaker {
    pub services: std::sync::Weak<Services>,
}

#[async_trait]
impl Handler for VariantMaker {
    fn name(&self) -> &'static str {
        "media"
    }

    fn kinds(&self) -> &'static [EventKind] {
        &[EventKind::MediaUploaded]
    }

    async fn handle(&self, event: &Event) -> Result<(), String> {
        let (EventKind::MediaUploaded, Some(id)) = (event.kind, event.media_id) else {
            return Ok(());
        };
        let services = self.services.upgrade().ok_or("the site is stopping")?;
        services.make_variants(id).await
    }

    fn give_up_after(&self) -> Option<i64> {
        Some(24 * 3600)
    }
}
