//! A WordPress export's pages, as Byline's static pages: their hierarchy as nested addresses
//! (`/about/team/`), parents written before their children whatever the file's order, their
//! old addresses answering with a `301`, their comments as the page's replies (open when the
//! page was open to comments), matched by id in the import map like posts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::content;
use super::wordpress::{
    Context, Known, comment_key, gmt, item_key, old_addresses, or_unknown, plan_replies, slug_for,
    takes_replies, write_replies,
};
use super::xml::Node;
use super::{Summary, parents_first};
use crate::domain::paths::{is_reserved_segment, page_path};
use crate::domain::{PageId, PageRevisionId};
use crate::services::{Services, UnitOfWork};
use crate::store::{
    ImportReads, ImportWrites, PageFields, PageReads, PageRevision, PageWrites, StoreError,
};

/// Pages per unit of work.
const BATCH: usize = 100;
const TITLE_MAX: usize = 200;

/// What a page item becomes: published or a draft, or skipped with the reason.
fn fate(item: &Node, summary: &mut Summary) -> Result<bool, &'static str> {
    let id = item_key(item);
    if !item.get("wp:post_password").is_empty() && item.get("wp:status") != "trash" {
        summary.note(format!("page {id} is password-protected: imported as a draft"));
        return Ok(false);
    }
    match or_unknown(item.get("wp:status")) {
        "publish" => Ok(true),
        "trash" => Err("pages in the trash"),
        "draft" | "pending" | "private" | "auto-draft" | "future" => Ok(false),
        other => {
            summary.note(format!("page {id} has the status {other:?}: imported as a draft"));
            Ok(false)
        }
    }
}

fn label(published: bool) -> &'static str {
    if published { "published" } else { "draft" }
}

fn parent_key(item: &Node) -> Option<&str> {
    Some(item.get("wp:post_parent")).filter(|p| !p.is_empty() && *p != "0")
}

pub(super) async fn import(
    services: &Services,
    context: Arc<Context>,
    pages: Vec<Node>,
) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    if pages.is_empty() {
        return Ok(summary);
    }
    let keys: Vec<String> = pages.iter().map(item_key).collect();
    let order = parents_first(&keys, |i| parent_key(&pages[i]));
    let comments: Vec<String> =
        pages.iter().flat_map(|i| i.all("wp:comment").map(comment_key)).collect();
    let (origin, wanted) = (context.origin.to_owned(), keys.clone());
    let (known, replies) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let pages = db.imported(&origin, "page", &wanted).await?;
                let replies = db.imported(&origin, "reply", &comments).await?;
                Ok((pages, replies))
            })
        })
        .await?;
    let known: HashMap<String, PageId> =
        known.into_iter().map(|(key, id)| (key, PageId(id))).collect();
    let seen = Arc::new(Known { replies: replies.into_iter().collect(), ..Known::default() });
    if context.dry_run {
        for item in &pages {
            match fate(item, &mut summary) {
                Err(reason) => {
                    summary.skip(reason, 1);
                    let replies = item.all("wp:comment").count() as u64;
                    summary.skip("replies on items not imported", replies);
                    continue;
                }
                Ok(published) if known.contains_key(&item_key(item)) => {
                    summary.already("pages", label(published), 1)
                }
                Ok(published) => summary.count("pages", label(published), 1),
            }
            plan_replies(&context, &seen, item, &mut summary);
        }
        return Ok(summary);
    }
    let pages = Arc::new(pages);
    let mut ids = known;
    for chunk in order.chunks(BATCH) {
        let chunk = chunk.to_vec();
        let (pages, context, seen) = (pages.clone(), context.clone(), seen.clone());
        let before = ids.clone();
        let (tally, made) = services
            .commit(move |unit| {
                Box::pin(async move {
                    let taken = unit.pages().await?.into_iter().map(|p| p.path).collect();
                    let mut writer = Writer { context, seen, ids: before, taken };
                    let mut tally = Summary::default();
                    for i in chunk {
                        writer.write(unit, &pages[i], &mut tally).await?;
                    }
                    unit.site_changed();
                    Ok::<_, StoreError>((tally, writer.ids))
                })
            })
            .await?;
        summary.merge(tally);
        ids = made;
    }
    Ok(summary)
}

struct Writer {
    context: Arc<Context>,
    /// The replies imported already.
    seen: Arc<Known>,
    /// Byline's page by the export's key, for the children's parents.
    ids: HashMap<String, PageId>,
    /// The addresses pages hold, this unit's included.
    taken: HashSet<String>,
}

impl Writer {
    async fn write(
        &mut self,
        unit: &mut UnitOfWork<'_>,
        item: &Node,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let key = item_key(item);
        let published = match fate(item, summary) {
            Err(reason) => {
                summary.skip(reason, 1);
                let replies = item.all("wp:comment").count() as u64;
                summary.skip("replies on items not imported", replies);
                return Ok(());
            }
            Ok(published) => published,
        };
        if let Some(id) = self.ids.get(&key).copied() {
            summary.already("pages", label(published), 1);
            // Comments a later export added come in; those there already are counted so.
            if takes_replies(&self.context, item) {
                let article = match unit.page(id).await?.and_then(|p| p.discussion_id) {
                    Some(article) => article,
                    None => self.discussion(unit, id, item, false).await?,
                };
                write_replies(unit, &self.context, &self.seen, item, article, summary).await?;
            }
            return Ok(());
        }
        let parent = match parent_key(item) {
            Some(parent) => match self.ids.get(parent) {
                Some(id) => unit.page(*id).await?,
                None => {
                    summary.note(format!(
                        "page {key}: its parent {parent} is not among the pages imported, so it is at the top"
                    ));
                    None
                }
            },
            None => None,
        };
        let wanted = slug_for(item);
        let (slug, path) =
            self.free_address(parent.as_ref().map(|p| p.path.as_str()), wanted.as_str());
        if slug != wanted.as_str() {
            summary.note(format!(
                "page {key}: the address {} was taken or is one of Byline's own, so it is {}",
                page_path(&join(parent.as_ref().map(|p| p.path.as_str()), wanted.as_str())),
                page_path(&path)
            ));
        }
        let title = content::plain_text(item.raw("title"));
        let title = match title.chars().take(TITLE_MAX).collect::<String>() {
            t if t.is_empty() => "(no title)".to_owned(),
            t => t,
        };
        let source = content::post_source(item.raw("content:encoded"), self.context.attachments());
        let source = self.context.library.rewrite(&source);
        let replies_open = item.get("wp:comment_status") == "open";
        let fields = PageFields {
            parent_id: parent.as_ref().map(|p| p.id),
            slug: slug.clone(),
            path: path.clone(),
            title,
            body_html: content::post_html(&source),
            body_markdown: source,
            published,
            footer_position: None,
            replies_open,
        };
        let at = gmt(item.get("wp:post_date_gmt")).unwrap_or(self.context.now);
        let id = unit.insert_page(&fields, at).await?;
        let revision = PageRevision {
            id: PageRevisionId(0),
            page_id: id,
            user_id: None,
            created_at: at,
            title: fields.title.clone(),
            slug,
            parent_id: fields.parent_id,
            body_markdown: fields.body_markdown.clone(),
        };
        unit.insert_page_revision(&revision).await?;
        unit.map_import(&self.context.origin, "page", &key, id.get()).await?;
        if replies_open || takes_replies(&self.context, item) {
            let article = self.discussion(unit, id, item, replies_open).await?;
            write_replies(unit, &self.context, &self.seen, item, article, summary).await?;
        }
        if published {
            // Old addresses are kept decoded, as requests are looked up; the target encoded.
            let (key, here) = (crate::services::pages::redirect_key(&path), page_path(&path));
            for old in old_addresses(item, "page_id") {
                if old != key {
                    unit.add_url_redirect(&old, &here).await?;
                }
            }
        }
        self.ids.insert(key, id);
        self.taken.insert(path);
        summary.count("pages", label(published), 1);
        Ok(())
    }

    /// A new discussion for page `id`, open or not.
    async fn discussion(
        &self,
        unit: &mut UnitOfWork<'_>,
        id: PageId,
        item: &Node,
        open: bool,
    ) -> Result<crate::domain::ArticleId, StoreError> {
        let title = content::plain_text(item.raw("title"));
        let title = if title.trim().is_empty() { "(no title)".to_owned() } else { title };
        let article = crate::services::pages::new_discussion(unit, id, &title).await?;
        unit.set_page_discussion(id, article).await?;
        unit.sync_discussion(article, open, &title).await?;
        Ok(article)
    }

    /// The slug and address the page can have: the one asked for, or the first of `-2`,
    /// `-3`… that no page holds and (at the top) that no route of Byline's starts with.
    fn free_address(&self, parent: Option<&str>, wanted: &str) -> (String, String) {
        let mut n = 1;
        loop {
            let slug = if n == 1 { wanted.to_owned() } else { format!("{wanted}-{n}") };
            let path = join(parent, &slug);
            let reserved = parent.is_none() && is_reserved_segment(&slug);
            if !reserved && !self.taken.contains(&path) {
                return (slug, path);
            }
            n += 1;
        }
    }
}

fn join(parent: Option<&str>, slug: &str) -> String {
    match parent {
        Some(parent) => format!("{parent}/{slug}"),
        None => slug.to_owned(),
    }
}
