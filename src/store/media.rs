//! The media library: each image's row (its files' hash and name, its size, the widths made so
//! far, the words that go with it) and which articles show it.

use async_trait::async_trait;

use super::{Db, Result, Row, StoreError, Tx, like_pattern};
use crate::domain::media::{ImageFormat, MediaView};
use crate::domain::{ArticleId, MediaId, UserId};

/// An image of the library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub id: MediaId,
    /// Names the folder of its files; a replaced image gets a new one.
    pub hash: String,
    /// The name in its files' names (`harbour-at-dawn`).
    pub name: String,
    /// The file's name as uploaded.
    pub file_name: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// The kept original's size in bytes.
    pub bytes: i64,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// The variants' widths made so far, smallest first.
    pub widths: Vec<u32>,
    pub uploaded_by: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
    /// How many articles show it.
    pub uses: i64,
}

impl Media {
    pub fn view(&self) -> MediaView {
        MediaView {
            id: self.id,
            hash: self.hash.clone(),
            name: self.name.clone(),
            format: self.format,
            width: self.width,
            height: self.height,
            widths: self.widths.clone(),
            alt: self.alt.clone(),
            caption: self.caption.clone(),
            credit: self.credit.clone(),
        }
    }
}

/// A new image's row, or a replacement's files.
#[derive(Debug, Clone)]
pub struct MediaFileSet {
    pub hash: String,
    pub name: String,
    pub file_name: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub bytes: i64,
    pub widths: Vec<u32>,
}

/// Which images the library page lists.
#[derive(Debug, Clone, Default)]
pub struct MediaQuery {
    /// Words found in the file name, alt text, caption or credit.
    pub search: Option<String>,
    /// Only images no article shows.
    pub unused: bool,
    pub limit: u64,
    pub offset: u64,
}

/// An article that shows an image, as the image's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaUse {
    pub article_id: ArticleId,
    pub headline: String,
}

const MEDIA_COLUMNS: &str = "m.id, m.hash, m.name, m.file_name, m.format, m.width, m.height, \
     m.bytes, m.alt, m.caption, m.credit, m.widths, m.uploaded_by, m.created_at, m.updated_at, \
     (SELECT count(*) FROM media_uses u WHERE u.media_id = m.id)";

fn widths_text(widths: &[u32]) -> String {
    widths.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

fn widths_of(text: &str) -> Result<Vec<u32>> {
    text.split(',')
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().map_err(|_| StoreError::Database(format!("media width {w:?}"))))
        .collect()
}

fn dimension(r: &mut Row, i: usize) -> Result<u32> {
    let value = r.int(i)?;
    u32::try_from(value).map_err(|_| StoreError::Database(format!("media dimension {value}")))
}

fn media_of(r: &mut Row) -> Result<Media> {
    Ok(Media {
        id: r.id(0)?,
        hash: r.text(1)?,
        name: r.text(2)?,
        file_name: r.text(3)?,
        format: r.parsed(4, ImageFormat::parse)?,
        width: dimension(r, 5)?,
        height: dimension(r, 6)?,
        bytes: r.int(7)?,
        alt: r.text(8)?,
        caption: r.text(9)?,
        credit: r.text(10)?,
        widths: widths_of(&r.text(11)?)?,
        uploaded_by: r.opt_id(12)?,
        created_at: r.int(13)?,
        updated_at: r.int(14)?,
        uses: r.int(15)?,
    })
}

/// The `LIKE` patterns of a search's words (at most eight).
fn search_patterns(query: &MediaQuery) -> Vec<String> {
    let words = query.search.as_deref().unwrap_or("");
    words.split_whitespace().take(8).map(like_pattern).collect()
}

/// The library's `WHERE` clause and its values.
fn media_filter(patterns: &[String], unused: bool) -> (String, Vec<super::Param<'_>>) {
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut params: Vec<super::Param> = Vec::new();
    for pattern in patterns {
        params.push(pattern.into());
        let n = params.len();
        let like = |column: &str| format!("lower({column}) LIKE lower(${n}) ESCAPE '\\'");
        conditions.push(format!(
            "({} OR {} OR {} OR {})",
            like("m.file_name"),
            like("m.alt"),
            like("m.caption"),
            like("m.credit")
        ));
    }
    if unused {
        conditions.push("NOT EXISTS (SELECT 1 FROM media_uses u WHERE u.media_id = m.id)".into());
    }
    (conditions.join(" AND "), params)
}

#[async_trait]
pub trait MediaReads: Db {
    async fn media(&mut self, id: MediaId) -> Result<Option<Media>> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media m WHERE m.id = $1");
        self.query(&sql, &[id.into()]).await?.first(media_of)
    }

    /// The images among these ids (missing ones left out), in no order.
    async fn media_by_ids(&mut self, ids: &[MediaId]) -> Result<Vec<Media>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let list = super::dialect_sql(
            self,
            "SELECT value FROM json_each($1)",
            "SELECT unnest($1::bigint[])",
        );
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media m WHERE m.id IN ({list})");
        self.query(&sql, &[ids.as_slice().into()]).await?.map(media_of)
    }

    /// The library, newest first, and how many match.
    async fn media_list(&mut self, query: &MediaQuery) -> Result<(Vec<Media>, u64)> {
        let patterns = search_patterns(query);
        let (filter, mut params) = media_filter(&patterns, query.unused);
        let count = format!("SELECT count(*) FROM media m WHERE {filter}");
        let total = self.query(&count, &params).await?.int()? as u64;
        let (limit, offset) = (params.len() + 1, params.len() + 2);
        params.push(query.limit.into());
        params.push(query.offset.into());
        let sql = format!(
            "SELECT {MEDIA_COLUMNS} FROM media m WHERE {filter}
              ORDER BY m.created_at DESC, m.id DESC LIMIT ${limit} OFFSET ${offset}"
        );
        Ok((self.query(&sql, &params).await?.map(media_of)?, total))
    }

    /// The articles that show an image, by headline.
    async fn media_uses(&mut self, id: MediaId) -> Result<Vec<MediaUse>> {
        let sql = "SELECT a.id, a.headline FROM media_uses u JOIN articles a ON a.id = u.article_id
                    WHERE u.media_id = $1 ORDER BY a.headline, a.id";
        self.query(sql, &[id.into()])
            .await?
            .map(|r| Ok(MediaUse { article_id: r.id(0)?, headline: r.text(1)? }))
    }

    /// Whether another image already has these files (the same picture uploaded twice).
    /// Every image, oldest first (for the tools that copy their files).
    async fn all_media(&mut self) -> Result<Vec<Media>> {
        let sql = format!("SELECT {MEDIA_COLUMNS} FROM media m ORDER BY m.id");
        self.query(&sql, &[]).await?.map(media_of)
    }

    async fn media_with_hash(&mut self, hash: &str) -> Result<Option<MediaId>> {
        self.query("SELECT id FROM media WHERE hash = $1", &[hash.into()]).await?.first(|r| r.id(0))
    }
}

impl<T: Db + ?Sized> MediaReads for T {}

fn hash_conflict(error: StoreError) -> StoreError {
    match error {
        StoreError::Conflict(_) => StoreError::Conflict("the image's files"),
        other => other,
    }
}

#[async_trait]
pub trait MediaWrites: Tx {
    async fn insert_media(
        &mut self,
        files: &MediaFileSet,
        alt: &str,
        by: Option<UserId>,
        now: i64,
    ) -> Result<MediaId> {
        let sql = "INSERT INTO media (hash, name, file_name, format, width, height, bytes, alt,
                       widths, uploaded_by, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";
        let widths = widths_text(&files.widths);
        let params = [
            files.hash.as_str().into(),
            files.name.as_str().into(),
            files.file_name.as_str().into(),
            files.format.as_str().into(),
            i64::from(files.width).into(),
            i64::from(files.height).into(),
            files.bytes.into(),
            alt.into(),
            widths.as_str().into(),
            by.into(),
            now.into(),
        ];
        let rows = self.query(sql, &params).await.map_err(hash_conflict)?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the new image"))
    }

    /// Saves the words that go with an image; `false` if there is no such image.
    async fn update_media_text(
        &mut self,
        id: MediaId,
        alt: &str,
        caption: &str,
        credit: &str,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE media SET alt = $2, caption = $3, credit = $4, updated_at = $5
                    WHERE id = $1 RETURNING id";
        let params = [id.into(), alt.into(), caption.into(), credit.into(), now.into()];
        Ok(self.query(sql, &params).await?.first(|_| Ok(()))?.is_some())
    }

    /// Gives an image new files (a replacement), keeping its words and uses. Returns the old
    /// files' hash, name and format, to delete them.
    async fn replace_media_files(
        &mut self,
        id: MediaId,
        files: &MediaFileSet,
        now: i64,
    ) -> Result<Option<Media>> {
        let Some(old) = self.media(id).await? else { return Ok(None) };
        let sql = "UPDATE media SET hash = $2, name = $3, file_name = $4, format = $5,
                       width = $6, height = $7, bytes = $8, widths = $9, updated_at = $10
                    WHERE id = $1";
        let widths = widths_text(&files.widths);
        let params = [
            id.into(),
            files.hash.as_str().into(),
            files.name.as_str().into(),
            files.file_name.as_str().into(),
            files.format.as_str().into(),
            i64::from(files.width).into(),
            i64::from(files.height).into(),
            files.bytes.into(),
            widths.as_str().into(),
            now.into(),
        ];
        self.query(sql, &params).await.map_err(hash_conflict)?;
        Ok(Some(old))
    }

    /// Records the widths made of an image's files, if they are still its files (a
    /// replacement meanwhile makes this a no-op, returning `false`).
    async fn set_media_widths(&mut self, id: MediaId, hash: &str, widths: &[u32]) -> Result<bool> {
        let sql = "UPDATE media SET widths = $3 WHERE id = $1 AND hash = $2 RETURNING id";
        let widths = widths_text(widths);
        let params = [id.into(), hash.into(), widths.as_str().into()];
        Ok(self.query(sql, &params).await?.first(|_| Ok(()))?.is_some())
    }

    /// Deletes an image no article shows; `false` if it is shown (or missing).
    async fn delete_media(&mut self, id: MediaId) -> Result<bool> {
        let sql = "DELETE FROM media WHERE id = $1
                     AND NOT EXISTS (SELECT 1 FROM media_uses u WHERE u.media_id = $1)
                   RETURNING id";
        Ok(self.query(sql, &[id.into()]).await?.first(|_| Ok(()))?.is_some())
    }

    /// Which images an article shows now (its body and its featured image), replacing what
    /// was recorded. Ids of images that do not exist are left out.
    async fn set_media_uses(&mut self, article: ArticleId, ids: &[MediaId]) -> Result<()> {
        self.query("DELETE FROM media_uses WHERE article_id = $1", &[article.into()]).await?;
        if ids.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let list = super::dialect_sql(
            self,
            "SELECT value FROM json_each($2)",
            "SELECT unnest($2::bigint[])",
        );
        let sql = format!(
            "INSERT INTO media_uses (media_id, article_id)
             SELECT DISTINCT m.id, CAST($1 AS BIGINT) FROM media m WHERE m.id IN ({list})"
        );
        self.query(&sql, &[article.into(), ids.as_slice().into()]).await?;
        Ok(())
    }

    /// The articles that show an image (to render them again when it changes).
    async fn articles_showing(&mut self, id: MediaId) -> Result<Vec<ArticleId>> {
        let sql = "SELECT article_id FROM media_uses WHERE media_id = $1 ORDER BY article_id";
        self.query(sql, &[id.into()]).await?.map(|r| r.id(0))
    }
}

impl<T: Tx + ?Sized> MediaWrites for T {}
