//! What imports bring in: the map from an export's ids to Byline's (so that a second run of
//! the same file brings nothing in twice), an old site's addresses answered with a 301, and
//! replies as another site published them.

use async_trait::async_trait;

use super::{Db, Result, StoreError, Tx, dialect_sql};
use crate::domain::{ArticleId, AuthorId, ReplyId, ReplyStatus};

/// A reply as the old site published it: none of the rules for readers' new replies (length,
/// names, links) apply to what a site already showed, so its fields are plain text.
#[derive(Debug, Clone)]
pub struct ImportedReply {
    pub article_id: ArticleId,
    pub parent_id: Option<ReplyId>,
    pub author_name: String,
    /// Empty when the export has none; such a reply never vouches for an address.
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: ReplyStatus,
    pub ip: Option<String>,
    /// The imported author who wrote it while signed in on the old site: the staff badge.
    pub author_id: Option<AuthorId>,
    pub created_at: i64,
    /// A pingback or trackback kept as a link-back.
    pub link_back: bool,
}

// From the list asked for to the map's key, one index lookup each: PostgreSQL's plan for
// `source_id IN (SELECT …)` read the whole map for every batch of an import, and SQLite
// reads a plain join the other way round (CROSS JOIN keeps its order).
const IMPORTED_SQLITE: &str = "SELECT m.source_id, m.target_id FROM json_each($3) AS w
  CROSS JOIN import_map m ON m.source = $1 AND m.kind = $2 AND m.source_id = w.value";
const IMPORTED_POSTGRES: &str = "SELECT m.source_id, m.target_id
  FROM jsonb_array_elements_text($3::text::jsonb) AS w (id)
  JOIN import_map m ON m.source = $1 AND m.kind = $2 AND m.source_id = w.id";

#[async_trait]
pub trait ImportReads: Db {
    /// Which of these ids of `source`'s `kind` were imported already, and as what.
    async fn imported(
        &mut self,
        source: &str,
        kind: &str,
        ids: &[String],
    ) -> Result<Vec<(String, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(ids).map_err(|e| StoreError::Database(e.to_string()))?;
        let sql = dialect_sql(self, IMPORTED_SQLITE, IMPORTED_POSTGRES);
        let rows = self.query(sql, &[source.into(), kind.into(), list.as_str().into()]).await?;
        rows.map(|r| Ok((r.text(0)?, r.int(1)?)))
    }

    /// Where an old address now lives, if an import said.
    async fn url_redirect(&mut self, path: &str) -> Result<Option<String>> {
        let sql = "SELECT target FROM url_redirects WHERE path = $1";
        self.query(sql, &[path.into()]).await?.first(|r| r.text(0))
    }
}

impl<T: Db + ?Sized> ImportReads for T {}

#[async_trait]
pub trait ImportWrites: Tx {
    /// Remembers what an export's item became; the first import of it wins.
    async fn map_import(&mut self, source: &str, kind: &str, id: &str, target: i64) -> Result<()> {
        let sql = "INSERT INTO import_map (source, kind, source_id, target_id)
                   VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
        self.execute(sql, &[source.into(), kind.into(), id.into(), target.into()]).await?;
        Ok(())
    }

    /// Makes an old address answer with a 301 to `target`; an address already claimed keeps
    /// its first target.
    async fn add_url_redirect(&mut self, path: &str, target: &str) -> Result<()> {
        let sql = "INSERT INTO url_redirects (path, target) VALUES ($1, $2)
                   ON CONFLICT DO NOTHING";
        self.execute(sql, &[path.into(), target.into()]).await?;
        Ok(())
    }

    /// Makes an old address answer with a 301 to `target`, whatever it answered before (a
    /// page moved twice sends its first address straight to its last).
    async fn set_url_redirect(&mut self, path: &str, target: &str) -> Result<()> {
        let sql = "INSERT INTO url_redirects (path, target) VALUES ($1, $2)
                   ON CONFLICT (path) DO UPDATE SET target = excluded.target";
        self.execute(sql, &[path.into(), target.into()]).await?;
        Ok(())
    }

    /// Forgets an old address (a page has come back to it).
    async fn remove_url_redirect(&mut self, path: &str) -> Result<()> {
        self.execute("DELETE FROM url_redirects WHERE path = $1", &[path.into()]).await?;
        Ok(())
    }

    /// Sends what pointed at `from` to `to` instead: a page that moves twice sends its first
    /// address straight to its last.
    async fn retarget_url_redirects(&mut self, from: &str, to: &str) -> Result<()> {
        let sql = "UPDATE url_redirects SET target = $2 WHERE target = $1";
        self.execute(sql, &[from.into(), to.into()]).await?;
        Ok(())
    }

    /// Stores a reply another site published, as it was.
    async fn insert_imported_reply(&mut self, c: &ImportedReply) -> Result<ReplyId> {
        let sql = "INSERT INTO comments (article_id, parent_id, author_name, author_email,
                       author_url, body, status, ip, held_reason, author_id, created_at,
                       link_back)
                   SELECT $1, $2, $3, $4, $5, $6, $7, $8, '', $9, $10, $11
                    WHERE EXISTS (SELECT 1 FROM articles WHERE id = $1)
                   RETURNING id";
        let params = [
            c.article_id.into(),
            c.parent_id.into(),
            c.author_name.as_str().into(),
            c.author_email.as_str().into(),
            c.author_url.as_deref().into(),
            c.body.as_str().into(),
            c.status.as_str().into(),
            c.ip.as_deref().into(),
            c.author_id.into(),
            c.created_at.into(),
            c.link_back.into(),
        ];
        let rows = self.query(sql, &params).await?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the reply's article"))
    }
}

impl<T: Tx + ?Sized> ImportWrites for T {}
