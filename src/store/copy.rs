//! Moving a whole site between databases (`byline copy`, and `byline generate`'s bulk
//! writes): every table's rows as they are, ids included.

use async_trait::async_trait;

use super::{Db, Dialect, Param, Result, Tx, Value};

/// The tables `byline copy` moves, in an order that respects their references. Sessions,
/// password reset links, sign-in failures and the outbox are left behind: staff sign in again on the new database,
/// and events already delivered need not travel (nor the log of mails they sent). Readers'
/// subscriptions travel: their consent does not end with a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Authors,
    Users,
    Sections,
    Tags,
    Articles,
    ArticleAuthors,
    ArticleTags,
    SlugRedirects,
    Revisions,
    ArticleNotes,
    Comments,
    Settings,
    ImportMap,
    UrlRedirects,
    Pages,
    PageRevisions,
    Media,
    MediaUses,
    MailAddresses,
    Subscriptions,
    StaffMailChoices,
}

/// How a column's values travel between backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
}

impl Table {
    pub const ALL: [Table; 21] = [
        Table::Authors,
        Table::Users,
        Table::Sections,
        Table::Tags,
        Table::Articles,
        Table::ArticleAuthors,
        Table::ArticleTags,
        Table::SlugRedirects,
        Table::Revisions,
        Table::ArticleNotes,
        Table::Comments,
        Table::Settings,
        Table::ImportMap,
        Table::UrlRedirects,
        Table::Pages,
        Table::PageRevisions,
        Table::Media,
        Table::MediaUses,
        Table::MailAddresses,
        Table::Subscriptions,
        Table::StaffMailChoices,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Authors => "authors",
            Self::Users => "users",
            Self::Sections => "sections",
            Self::Tags => "tags",
            Self::Articles => "articles",
            Self::ArticleAuthors => "article_authors",
            Self::ArticleTags => "article_tags",
            Self::SlugRedirects => "slug_redirects",
            Self::Revisions => "revisions",
            Self::ArticleNotes => "article_notes",
            Self::Comments => "comments",
            Self::Settings => "settings",
            Self::ImportMap => "import_map",
            Self::UrlRedirects => "url_redirects",
            Self::Pages => "pages",
            Self::PageRevisions => "page_revisions",
            Self::Media => "media",
            Self::MediaUses => "media_uses",
            Self::MailAddresses => "mail_addresses",
            Self::Subscriptions => "subscriptions",
            Self::StaffMailChoices => "staff_mail_choices",
        }
    }

    /// Every column, in the schema's order. Both backends' schemas have exactly these.
    pub fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::{Bool, Int, Text};
        match self {
            Self::Authors => &[
                ("id", Int),
                ("name", Text),
                ("bio", Text),
                ("created_at", Int),
                ("photo_url", Text),
            ],
            Self::Users => &[
                ("id", Int),
                ("author_id", Int),
                ("email", Text),
                ("role", Text),
                ("password_hash", Text),
                ("disabled", Bool),
                ("created_at", Int),
                ("password_changed_at", Int),
            ],
            Self::Sections | Self::Tags => {
                &[("id", Int), ("name", Text), ("slug", Text), ("description", Text)]
            }
            Self::Articles => &[
                ("id", Int),
                ("slug", Text),
                ("headline", Text),
                ("standfirst", Text),
                ("body_markdown", Text),
                ("body_html", Text),
                ("status", Text),
                ("section_id", Int),
                ("image_url", Text),
                ("image_caption", Text),
                ("image_alt", Text),
                ("date_path", Text),
                ("published_at", Int),
                ("created_at", Int),
                ("updated_at", Int),
                ("replies_open", Bool),
                ("reply_count", Int),
                ("word_count", Int),
                ("body_text", Text),
                ("search_headline", Text),
                ("search_body", Text),
                ("seo_title", Text),
                ("seo_description", Text),
                ("social_image", Text),
                ("trashed_at", Int),
                ("thread_url", Text),
            ],
            Self::ArticleAuthors => &[("article_id", Int), ("author_id", Int), ("position", Int)],
            Self::ArticleTags => &[("article_id", Int), ("tag_id", Int)],
            Self::SlugRedirects => &[("slug", Text), ("article_id", Int)],
            Self::Revisions => &[
                ("id", Int),
                ("article_id", Int),
                ("user_id", Int),
                ("created_at", Int),
                ("headline", Text),
                ("standfirst", Text),
                ("slug", Text),
                ("body_markdown", Text),
                ("section", Text),
                ("tags", Text),
                ("authors", Text),
                ("image_url", Text),
                ("image_caption", Text),
                ("image_alt", Text),
                ("replies_open", Bool),
                ("kind", Text),
                ("seo_title", Text),
                ("seo_description", Text),
                ("social_image", Text),
            ],
            Self::ArticleNotes => &[
                ("id", Int),
                ("article_id", Int),
                ("kind", Text),
                ("body", Text),
                ("created_at", Int),
            ],
            Self::Comments => &[
                ("id", Int),
                ("article_id", Int),
                ("parent_id", Int),
                ("author_name", Text),
                ("author_email", Text),
                ("author_url", Text),
                ("body", Text),
                ("status", Text),
                ("ip", Text),
                ("held_reason", Text),
                ("user_id", Int),
                ("created_at", Int),
                ("author_id", Int),
                ("link_back", Bool),
                ("edited_at", Int),
            ],
            Self::Settings => &[("key", Text), ("value", Text)],
            Self::ImportMap => {
                &[("source", Text), ("kind", Text), ("source_id", Text), ("target_id", Int)]
            }
            Self::UrlRedirects => &[("path", Text), ("target", Text)],
            Self::Pages => &[
                ("id", Int),
                ("parent_id", Int),
                ("slug", Text),
                ("path", Text),
                ("title", Text),
                ("body_markdown", Text),
                ("body_html", Text),
                ("status", Text),
                ("footer_position", Int),
                ("replies_open", Bool),
                ("discussion_id", Int),
                ("created_at", Int),
                ("updated_at", Int),
            ],
            Self::PageRevisions => &[
                ("id", Int),
                ("page_id", Int),
                ("user_id", Int),
                ("created_at", Int),
                ("title", Text),
                ("slug", Text),
                ("parent_id", Int),
                ("body_markdown", Text),
            ],
            Self::Media => &[
                ("id", Int),
                ("hash", Text),
                ("name", Text),
                ("file_name", Text),
                ("format", Text),
                ("width", Int),
                ("height", Int),
                ("bytes", Int),
                ("alt", Text),
                ("caption", Text),
                ("credit", Text),
                ("widths", Text),
                ("uploaded_by", Int),
                ("created_at", Int),
                ("updated_at", Int),
            ],
            Self::MediaUses => &[("media_id", Int), ("article_id", Int)],
            Self::MailAddresses => {
                &[("id", Int), ("email", Text), ("created_at", Int), ("confirmed_at", Int)]
            }
            Self::Subscriptions => &[
                ("id", Int),
                ("address_id", Int),
                ("article_id", Int),
                ("reply_id", Int),
                ("created_at", Int),
            ],
            Self::StaffMailChoices => &[("user_id", Int), ("held", Text), ("replies", Text)],
        }
    }

    /// The columns that order (and page) the rows: the primary key.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Self::ArticleAuthors => &["article_id", "author_id"],
            Self::ArticleTags => &["article_id", "tag_id"],
            Self::SlugRedirects => &["slug"],
            Self::Settings => &["key"],
            Self::ImportMap => &["source", "kind", "source_id"],
            Self::UrlRedirects => &["path"],
            Self::MediaUses => &["media_id", "article_id"],
            Self::StaffMailChoices => &["user_id"],
            _ => &["id"],
        }
    }

    /// Whether the key is a generated integer id (whose sequence must move past copied ids).
    pub fn has_id(self) -> bool {
        self.key() == ["id"]
    }

    /// `SELECT`-list of the columns.
    pub fn column_list(self) -> String {
        self.columns().iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// Tables whose ids are never reused (see the migrations).
fn uses_autoincrement(table: Table) -> bool {
    matches!(
        table,
        Table::Articles
            | Table::Comments
            | Table::Pages
            | Table::Media
            | Table::MailAddresses
            | Table::Subscriptions
    )
}

/// A value as its column's kind holds it (SQLite keeps booleans as 0 and 1).
fn as_kind(value: Value, kind: Kind) -> Value {
    match (value, kind) {
        (Value::Int(n), Kind::Bool) => Value::Bool(n != 0),
        (value, _) => value,
    }
}

/// Recomputes the counts the triggers keep (an import brings both rows and counts).
const RECOUNT: &str = "UPDATE articles SET reply_count = (SELECT count(*) FROM comments c
     WHERE c.article_id = articles.id AND c.status = 'approved')";

#[async_trait]
pub trait CopyReads: Db {
    /// Rows of `table` in key order, after the key `after`, at most `limit`.
    async fn export_rows(
        &mut self,
        table: Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>> {
        let key = table.key().join(", ");
        let after = after.unwrap_or_default();
        let filter = if after.is_empty() {
            String::new()
        } else {
            let numbers: Vec<String> = (1..=after.len()).map(|i| format!("${i}")).collect();
            format!("WHERE ({key}) > ({})", numbers.join(", "))
        };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT ${}",
            table.column_list(),
            table.name(),
            after.len() + 1
        );
        let mut params: Vec<Param> = after.iter().map(Param::from).collect();
        params.push(i64::from(limit).into());
        let rows = self.query(&sql, &params).await?;
        let kinds: Vec<Kind> = table.columns().iter().map(|(_, kind)| *kind).collect();
        Ok(rows
            .into_values()
            .into_iter()
            .map(|row| row.into_iter().zip(&kinds).map(|(v, k)| as_kind(v, *k)).collect())
            .collect())
    }

    async fn count_rows(&mut self, table: Table) -> Result<u64> {
        let sql = format!("SELECT count(*) FROM {}", table.name());
        Ok(self.query(&sql, &[]).await?.int()? as u64)
    }

    /// The id the next new row of `table` will get (deleted ids are never handed out again).
    async fn next_id(&mut self, table: Table) -> Result<i64> {
        let name = table.name();
        let sql = match self.dialect() {
            // AUTOINCREMENT tables remember their highest id ever in sqlite_sequence.
            Dialect::Sqlite => format!(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0),
                            coalesce((SELECT max(id) FROM {name}), 0)) + 1"
            ),
            // `is_called` false (as after `setval(…, false)`) means last_value is the next id.
            Dialect::Postgres => {
                let sequence = self
                    .query(&format!("SELECT pg_get_serial_sequence('{name}', 'id')"), &[])
                    .await?
                    .first(|r| r.text(0))?
                    .unwrap_or_default();
                format!(
                    "SELECT greatest(CASE WHEN is_called THEN last_value + 1 ELSE last_value END,
                                     (SELECT coalesce(max(id), 0) + 1 FROM {name}))
                       FROM {sequence}"
                )
            }
        };
        self.query(&sql, &[]).await?.int()
    }
}

impl<T: Db + ?Sized> CopyReads for T {}

#[async_trait]
pub trait CopyWrites: Tx {
    /// Inserts rows as they are, ids included, into a table of a site being filled (a copy's
    /// target, a generated site): [`CopyWrites::finish_import`] recounts what triggers keep,
    /// so PostgreSQL's are off meanwhile (they were three quarters of a copy's time).
    async fn import_rows(&mut self, table: Table, rows: &[Vec<Value>]) -> Result<()> {
        let columns = table.columns();
        let numbers: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name(),
            table.column_list(),
            numbers.join(", ")
        );
        let params: Vec<Vec<Param>> =
            rows.iter().map(|row| row.iter().map(Param::from).collect()).collect();
        let postgres = self.dialect() == Dialect::Postgres;
        if postgres {
            self.execute(&format!("ALTER TABLE {} DISABLE TRIGGER USER", table.name()), &[])
                .await?;
        }
        self.execute_each(&sql, &params).await?;
        if postgres {
            self.execute(&format!("ALTER TABLE {} ENABLE TRIGGER USER", table.name()), &[]).await?;
        }
        Ok(())
    }

    /// After an import: recounts what triggers keep, and sets each table's next id.
    async fn finish_import(&mut self, next_ids: &[(Table, i64)]) -> Result<()> {
        self.execute(RECOUNT, &[]).await?;
        // The counts are whole again: no counter is left to fold in.
        self.execute("DELETE FROM reply_counters", &[]).await?;
        for (table, next) in next_ids {
            let name = table.name();
            match self.dialect() {
                Dialect::Sqlite => {
                    let update = "UPDATE sqlite_sequence SET seq = max(seq, $2) WHERE name = $1";
                    let updated = self.execute(update, &[name.into(), (next - 1).into()]).await?;
                    if updated == 0 && uses_autoincrement(*table) {
                        let insert = "INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)";
                        self.execute(insert, &[name.into(), (next - 1).into()]).await?;
                    }
                }
                Dialect::Postgres => {
                    let sql =
                        format!("SELECT setval(pg_get_serial_sequence('{name}', 'id'), $1, false)");
                    self.query(&sql, &[(*next).into()]).await?;
                }
            }
        }
        if self.dialect() == Dialect::Postgres {
            // The planner's statistics, for tables that went from empty to full at once
            // (autovacuum would get there, later). Byline's tables only: the database may
            // hold other schemas, and analysing them all takes a lock on each.
            let tables: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
            self.execute(&format!("ANALYZE {}", tables.join(", ")), &[]).await?;
        }
        Ok(())
    }
}

impl<T: Tx + ?Sized> CopyWrites for T {}
