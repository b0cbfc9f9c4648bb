//! Static pages (About, Contact, Corrections policy…) and their revisions. A page lives at its
//! `path` (`about/team`), its parent's path and its own slug, kept in the row so that a
//! request finds it in one index lookup.

use async_trait::async_trait;

use super::ReplyTarget;
use super::{Db, Result, Row, StoreError, Tx};
use crate::domain::{ArticleId, PageId, PageRevisionId, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub id: PageId,
    pub parent_id: Option<PageId>,
    pub slug: String,
    /// `about/team`: no slashes at either end.
    pub path: String,
    pub title: String,
    pub body_markdown: String,
    /// Rendered from the Markdown and sanitized when saved.
    pub body_html: String,
    pub published: bool,
    /// Where the footer links it, smallest first; `None`: not in the footer.
    pub footer_position: Option<i64>,
    /// Readers may reply (off unless staff turn it on).
    pub replies_open: bool,
    /// The article row its replies hang on, once it has had replies open.
    pub discussion_id: Option<ArticleId>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Page {
    /// `/about/team/`
    pub fn public_path(&self) -> String {
        crate::domain::paths::page_path(&self.path)
    }
}

/// A page's link in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub title: String,
    pub path: String,
}

/// What a save writes.
#[derive(Debug, Clone)]
pub struct PageFields {
    pub parent_id: Option<PageId>,
    pub slug: String,
    pub path: String,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub published: bool,
    pub footer_position: Option<i64>,
    pub replies_open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRevision {
    pub id: PageRevisionId,
    pub page_id: PageId,
    pub user_id: Option<UserId>,
    pub created_at: i64,
    pub title: String,
    pub slug: String,
    pub parent_id: Option<PageId>,
    pub body_markdown: String,
}

/// The advisory lock a page's save holds (`pages` in ASCII, beside the other locks' keys).
const PAGES_LOCK: i64 = (1 << 62) | 0x0070_6167_6573;

const PAGE_COLUMNS: &str = "id, parent_id, slug, path, title, body_markdown, body_html, status, \
                            footer_position, created_at, updated_at, replies_open, discussion_id";

fn page_of(r: &mut Row) -> Result<Page> {
    Ok(Page {
        id: r.id(0)?,
        parent_id: r.opt_id(1)?,
        slug: r.text(2)?,
        path: r.text(3)?,
        title: r.text(4)?,
        body_markdown: r.text(5)?,
        body_html: r.text(6)?,
        published: r.text(7)? == "published",
        footer_position: r.opt_int(8)?,
        created_at: r.int(9)?,
        updated_at: r.int(10)?,
        replies_open: r.bool(11)?,
        discussion_id: r.opt_id(12)?,
    })
}

const REVISION_COLUMNS: &str =
    "id, page_id, user_id, created_at, title, slug, parent_id, body_markdown";

fn revision_of(r: &mut Row) -> Result<PageRevision> {
    Ok(PageRevision {
        id: r.id(0)?,
        page_id: r.id(1)?,
        user_id: r.opt_id(2)?,
        created_at: r.int(3)?,
        title: r.text(4)?,
        slug: r.text(5)?,
        parent_id: r.opt_id(6)?,
        body_markdown: r.text(7)?,
    })
}

/// By path, segment by segment: `about`, `about/team`, `about-us` (a plain text order puts
/// `about-us` between the first two, and PostgreSQL's collation may differ from SQLite's).
fn in_tree_order(mut pages: Vec<Page>) -> Vec<Page> {
    pages.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    pages
}

fn status(published: bool) -> &'static str {
    if published { "published" } else { "draft" }
}

#[async_trait]
pub trait PageReads: Db {
    /// The page at `path` (`about/team`), whatever its status.
    async fn page_at(&mut self, path: &str) -> Result<Option<Page>> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE path = $1");
        self.query(&sql, &[path.into()]).await?.first(page_of)
    }

    async fn page(&mut self, id: PageId) -> Result<Option<Page>> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE id = $1");
        self.query(&sql, &[id.into()]).await?.first(page_of)
    }

    /// Every page, each parent just before its children.
    async fn pages(&mut self) -> Result<Vec<Page>> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages");
        Ok(in_tree_order(self.query(&sql, &[]).await?.map(page_of)?))
    }

    /// The published pages, each parent before its children (the sitemap).
    async fn published_pages(&mut self) -> Result<Vec<Page>> {
        let sql = format!("SELECT {PAGE_COLUMNS} FROM pages WHERE status = 'published'");
        Ok(in_tree_order(self.query(&sql, &[]).await?.map(page_of)?))
    }

    /// The footer's links: published pages given a place, in their order.
    async fn footer_pages(&mut self) -> Result<Vec<PageLink>> {
        let sql = "SELECT title, path FROM pages
                    WHERE status = 'published' AND footer_position IS NOT NULL
                    ORDER BY footer_position, title, id";
        self.query(sql, &[]).await?.map(|r| {
            Ok(PageLink { title: r.text(0)?, path: crate::domain::paths::page_path(&r.text(1)?) })
        })
    }

    /// What a reply to the published page at `path` needs: its discussion's article, with the
    /// page's own word on whether replies are open.
    async fn page_reply_target(&mut self, path: &str) -> Result<Option<ReplyTarget>> {
        let sql = "SELECT a.id, a.slug, a.date_path, p.replies_open, a.published_at
                     FROM pages p JOIN articles a ON a.id = p.discussion_id
                    WHERE p.path = $1 AND p.status = 'published'";
        self.query(sql, &[path.into()]).await?.first(|r| {
            Ok(ReplyTarget {
                id: r.id(0)?,
                slug: r.text(1)?,
                date_path: r.opt_text(2)?,
                replies_open: r.bool(3)?,
                published_at: r.opt_int(4)?,
            })
        })
    }

    /// The address (`about/team`) of the page whose replies hang on `article`, if any.
    async fn page_of_discussion(&mut self, article: ArticleId) -> Result<Option<String>> {
        let sql = "SELECT path FROM pages WHERE discussion_id = $1";
        self.query(sql, &[article.into()]).await?.first(|r| r.text(0))
    }

    async fn page_revisions(&mut self, page: PageId) -> Result<Vec<PageRevision>> {
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM page_revisions WHERE page_id = $1 ORDER BY id DESC"
        );
        self.query(&sql, &[page.into()]).await?.map(revision_of)
    }

    async fn page_revision(
        &mut self,
        page: PageId,
        id: PageRevisionId,
    ) -> Result<Option<PageRevision>> {
        let sql =
            format!("SELECT {REVISION_COLUMNS} FROM page_revisions WHERE page_id = $1 AND id = $2");
        self.query(&sql, &[page.into(), id.into()]).await?.first(revision_of)
    }
}

impl<T: Db + ?Sized> PageReads for T {}

fn path_conflict(error: StoreError) -> StoreError {
    match error {
        StoreError::Conflict(_) => StoreError::Conflict("the page's address"),
        other => other,
    }
}

#[async_trait]
pub trait PageWrites: Tx {
    /// One save of the pages at a time (PostgreSQL; SQLite has one writer): a save checks its
    /// address and parent against all the pages, which must not change meanwhile.
    async fn lock_pages(&mut self) -> Result<()> {
        if self.dialect() == super::Dialect::Postgres {
            self.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), $1))",
                &[PAGES_LOCK.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Replaces a page's rendered body (its Markdown unchanged: how Markdown is rendered
    /// changed).
    async fn set_page_body_html(&mut self, id: PageId, html: &str) -> Result<()> {
        let sql = "UPDATE pages SET body_html = $2 WHERE id = $1";
        self.execute(sql, &[id.into(), html.into()]).await?;
        Ok(())
    }

    async fn insert_page(&mut self, f: &PageFields, now: i64) -> Result<PageId> {
        let sql = "INSERT INTO pages (parent_id, slug, path, title, body_markdown, body_html,
                       status, footer_position, replies_open, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $9, $9) RETURNING id";
        let params = [
            f.parent_id.into(),
            f.slug.as_str().into(),
            f.path.as_str().into(),
            f.title.as_str().into(),
            f.body_markdown.as_str().into(),
            f.body_html.as_str().into(),
            status(f.published).into(),
            f.footer_position.into(),
            now.into(),
            f.replies_open.into(),
        ];
        let rows = self.query(sql, &params).await.map_err(path_conflict)?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the new page"))
    }

    /// Saves a page; its children's paths follow a change of its own.
    async fn update_page(&mut self, id: PageId, f: &PageFields, now: i64) -> Result<()> {
        let old = self.page(id).await?.ok_or(StoreError::NotFound("the page"))?;
        let sql = "UPDATE pages SET parent_id = $2, slug = $3, path = $4, title = $5,
                       body_markdown = $6, body_html = $7, status = $8, footer_position = $9,
                       updated_at = $10, replies_open = $11
                    WHERE id = $1";
        let params = [
            id.into(),
            f.parent_id.into(),
            f.slug.as_str().into(),
            f.path.as_str().into(),
            f.title.as_str().into(),
            f.body_markdown.as_str().into(),
            f.body_html.as_str().into(),
            status(f.published).into(),
            f.footer_position.into(),
            now.into(),
            f.replies_open.into(),
        ];
        self.execute(sql, &params).await.map_err(path_conflict)?;
        if old.path != f.path {
            // `substr` counts characters on both backends, as `length` does.
            let sql = "UPDATE pages SET path = $2 || substr(path, length($1) + 1)
                        WHERE substr(path, 1, length($1) + 1) = $1 || '/'";
            self.execute(sql, &[old.path.as_str().into(), f.path.as_str().into()])
                .await
                .map_err(path_conflict)?;
        }
        Ok(())
    }

    /// Hangs the page's replies on `article`.
    async fn set_page_discussion(&mut self, page: PageId, article: ArticleId) -> Result<()> {
        let sql = "UPDATE pages SET discussion_id = $2 WHERE id = $1";
        self.execute(sql, &[page.into(), article.into()]).await?;
        Ok(())
    }

    /// Keeps a page's discussion as the page is: open or closed, named by its title (the
    /// moderation queue shows the name).
    async fn sync_discussion(&mut self, article: ArticleId, open: bool, title: &str) -> Result<()> {
        let sql = "UPDATE articles SET replies_open = $2, headline = $3 WHERE id = $1";
        self.execute(sql, &[article.into(), open.into(), title.into()]).await?;
        Ok(())
    }

    /// Deletes a page with its revisions and its import record (a later import of the same
    /// export brings it back); `false` if it has pages under it, has had replies (which are
    /// kept), or is gone.
    async fn delete_page(&mut self, id: PageId) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM pages WHERE parent_id = $1)
                       OR EXISTS (SELECT 1 FROM pages WHERE id = $1 AND discussion_id IS NOT NULL)";
        if self.query(sql, &[id.into()]).await?.bool()? {
            return Ok(false);
        }
        self.execute("DELETE FROM page_revisions WHERE page_id = $1", &[id.into()]).await?;
        let sql = "DELETE FROM import_map WHERE kind = 'page' AND target_id = $1";
        self.execute(sql, &[id.into()]).await?;
        Ok(self.execute("DELETE FROM pages WHERE id = $1", &[id.into()]).await? == 1)
    }

    async fn insert_page_revision(&mut self, r: &PageRevision) -> Result<()> {
        let sql = "INSERT INTO page_revisions (page_id, user_id, created_at, title, slug,
                       parent_id, body_markdown)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let params = [
            r.page_id.into(),
            r.user_id.into(),
            r.created_at.into(),
            r.title.as_str().into(),
            r.slug.as_str().into(),
            r.parent_id.into(),
            r.body_markdown.as_str().into(),
        ];
        self.execute(sql, &params).await?;
        Ok(())
    }
}

impl<T: Tx + ?Sized> PageWrites for T {}
