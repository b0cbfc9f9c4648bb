//! For tests only: the query plans of the statements the page path runs, so that a test fails
//! if any of them scans a table (`no_page_query_scans_a_table`, on both backends). The
//! statements are the very constants production runs.

use async_trait::async_trait;

use super::{Dialect, Param, Result, Tx, articles, dialect_sql, outbox, replies, staff};

#[async_trait]
pub trait Explain: Tx {
    /// The plans by name, one line per step.
    async fn explain_page_queries(&mut self) -> Result<Vec<(&'static str, Vec<String>)>> {
        if self.dialect() == Dialect::Postgres {
            // The planner scans tiny tables whatever their indexes; forbid that to see the
            // plan it would choose on a large site. Local to this transaction.
            self.execute("SET LOCAL enable_seqscan = off", &[]).await?;
        }
        let ids: &[i64] = &[1, 2];
        let by_ids =
            dialect_sql(self, replies::REPLIES_BY_IDS_SQLITE, replies::REPLIES_BY_IDS_POSTGRES);
        let claim = dialect_sql(self, outbox::CLAIM_SQLITE, outbox::CLAIM_POSTGRES);
        let (one, text) = (Param::Int(1), Param::Text("x"));
        let queries: Vec<(&'static str, &str, Vec<Param>)> = vec![
            ("article by slug", articles::ARTICLE_BY_SLUG, vec![text]),
            ("byline", articles::AUTHORS_OF_ARTICLE, vec![one]),
            ("tags", articles::TAGS_OF_ARTICLE, vec![one]),
            ("notes", articles::NOTES_OF_ARTICLE, vec![one]),
            ("front page", articles::FRONT_PAGE, vec![Param::Int(10), Param::Int(0), Param::Null]),
            ("count published", articles::COUNT_PUBLISHED, vec![Param::Null]),
            ("section page", articles::SECTION_PAGE, vec![one, one, Param::Int(0)]),
            ("tag page", articles::TAG_PAGE, vec![one, one, Param::Int(0)]),
            ("author page", articles::AUTHOR_PAGE, vec![one, one, Param::Int(0)]),
            ("related articles", articles::RELATED, vec![one, Param::Int(4)]),
            ("replies", replies::REPLIES_OF_ARTICLE, vec![one, Param::Text("approved")]),
            ("newest replies", replies::NEWEST_REPLIES, vec![one, Param::Int(50)]),
            ("reply by id", replies::REPLY_BY_ID, vec![one]),
            ("thread places", replies::THREAD_PLACES, vec![one]),
            ("replies by ids", by_ids, vec![one, Param::Ints(ids)]),
            ("first-time check", replies::HAS_APPROVED, vec![text]),
            ("rate limit", replies::REPLIES_FROM_IP, vec![Param::Text("192.0.2.1"), one]),
            ("duplicate check", replies::DUPLICATE_REPLY, vec![one, text, text, one]),
            ("session", staff::SESSION, vec![text, one]),
            ("outbox claim", claim, vec![text, text, one, one, Param::Int(16)]),
        ];
        // SQLite's plan has its text in the fourth column, PostgreSQL's in the first.
        let (explain, column) = match self.dialect() {
            Dialect::Sqlite => ("EXPLAIN QUERY PLAN ", 3),
            Dialect::Postgres => ("EXPLAIN ", 0),
        };
        let mut plans = Vec::new();
        for (name, sql, params) in queries {
            let rows = self.query(&format!("{explain}{sql}"), &params).await?;
            plans.push((name, rows.map(|r| r.text(column))?));
        }
        Ok(plans)
    }
}

impl<T: Tx + ?Sized> Explain for T {}
