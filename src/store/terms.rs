//! Sections and tags as the newsroom looks after them: each with its description and how many
//! articles use it; renamed, described, merged into another, or deleted when unused. Written
//! once for both kinds (their tables differ only in how articles point at them).

use async_trait::async_trait;

use super::{Db, Result, Row, StoreError, Tx};

/// Which kind of term: a section (an article has at most one) or a tag (any number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    Section,
    Tag,
}

impl TermKind {
    fn table(self) -> &'static str {
        match self {
            Self::Section => "sections",
            Self::Tag => "tags",
        }
    }

    /// The articles that use term `$1`, as a subquery of their ids.
    fn articles_using(self) -> &'static str {
        match self {
            Self::Section => "SELECT id FROM articles WHERE section_id = $1",
            Self::Tag => "SELECT article_id AS id FROM article_tags WHERE tag_id = $1",
        }
    }
}

/// A section or tag, with its description and how many articles use it (any status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub articles: u64,
}

fn term_from_row(r: &mut Row) -> Result<Term> {
    Ok(Term {
        id: r.int(0)?,
        name: r.text(1)?,
        slug: r.text(2)?,
        description: r.text(3)?,
        articles: r.int(4)? as u64,
    })
}

fn select(kind: TermKind, filter: &str) -> String {
    let count = kind.articles_using().replace("$1", "t.id");
    format!(
        "SELECT t.id, t.name, t.slug, t.description, (SELECT count(*) FROM ({count}) u)
           FROM {} t {filter}",
        kind.table()
    )
}

#[async_trait]
pub trait TermReads: Db {
    /// Every section (or tag), by name.
    async fn terms(&mut self, kind: TermKind) -> Result<Vec<Term>> {
        let sql = select(kind, "ORDER BY lower(t.name), t.id");
        self.query(&sql, &[]).await?.map(term_from_row)
    }

    async fn term(&mut self, kind: TermKind, id: i64) -> Result<Option<Term>> {
        let sql = select(kind, "WHERE t.id = $1");
        self.query(&sql, &[id.into()]).await?.first(term_from_row)
    }

    async fn term_by_slug(&mut self, kind: TermKind, slug: &str) -> Result<Option<Term>> {
        let sql = select(kind, "WHERE t.slug = $1");
        self.query(&sql, &[slug.into()]).await?.first(term_from_row)
    }

    /// The articles that use a term, by id: those whose search text names it.
    async fn articles_using(
        &mut self,
        kind: TermKind,
        id: i64,
    ) -> Result<Vec<crate::domain::ArticleId>> {
        let sql = format!("SELECT x.id FROM ({}) x ORDER BY x.id", kind.articles_using());
        self.query(&sql, &[id.into()]).await?.map(|r| r.id(0))
    }
}

impl<T: Db + ?Sized> TermReads for T {}

#[async_trait]
pub trait TermWrites: Tx {
    /// Renames and describes a term. Fails with [`StoreError::Conflict`] when another has
    /// the name or slug.
    async fn update_term(
        &mut self,
        kind: TermKind,
        id: i64,
        name: &str,
        slug: &str,
        description: &str,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE {} SET name = $2, slug = $3, description = $4 WHERE id = $1",
            kind.table()
        );
        let params = [id.into(), name.into(), slug.into(), description.into()];
        let changed = self.execute(&sql, &params).await.map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("the name or address"),
            other => other,
        })?;
        reindex_articles_using(self, kind, id).await?;
        Ok(changed > 0)
    }

    /// Moves every article of term `from` to term `into`, then deletes `from`.
    async fn merge_terms(&mut self, kind: TermKind, from: i64, into: i64) -> Result<()> {
        match kind {
            TermKind::Section => {
                let sql = "UPDATE articles SET section_id = $2 WHERE section_id = $1";
                self.execute(sql, &[from.into(), into.into()]).await?;
            }
            TermKind::Tag => {
                let sql = "INSERT INTO article_tags (article_id, tag_id)
                           SELECT article_id, $2 FROM article_tags WHERE tag_id = $1
                           ON CONFLICT DO NOTHING";
                self.execute(sql, &[from.into(), into.into()]).await?;
                self.execute("DELETE FROM article_tags WHERE tag_id = $1", &[from.into()]).await?;
            }
        }
        self.delete_term(kind, from).await?;
        reindex_articles_using(self, kind, into).await
    }

    /// Deletes a term no article uses; false when it is used, or there is none.
    async fn delete_term(&mut self, kind: TermKind, id: i64) -> Result<bool> {
        let sql = format!(
            "DELETE FROM {} WHERE id = $1 AND NOT EXISTS ({})",
            kind.table(),
            kind.articles_using()
        );
        Ok(self.execute(&sql, &[id.into()]).await? > 0)
    }
}

impl<T: Tx + ?Sized> TermWrites for T {}

/// Search finds an article by its section's and tags' names: the articles using a renamed or
/// merged term are indexed again.
async fn reindex_articles_using<T: Tx + ?Sized>(tx: &mut T, kind: TermKind, id: i64) -> Result<()> {
    for article in tx.articles_using(kind, id).await? {
        super::articles::index_article(tx, article).await?;
    }
    Ok(())
}
