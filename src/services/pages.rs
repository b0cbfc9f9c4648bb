//! Static pages: About, Contact, Corrections policy, Terms. Written in the newsroom as
//! articles are (Markdown, preview, a revision at every save, draft or published), but with no
//! byline and no date, and kept out of the news: no listing, feed or search shows them. Replies
//! are off unless staff turn them on; they hang on an article row of the page's own (see
//! [`new_discussion`]). Editors and admins look after them.

use super::discussion::{self, ThreadPage, ThreadView};
use super::reading::{ArticleRequest, SiteNav};
use super::{Services, UnitOfWork};
use crate::domain::paths::{is_reserved_segment, page_path};
use crate::domain::{FieldError, PageId, PageRevisionId, ReplyStatus, Slug, UserId, text};
use crate::store::{
    ImportWrites, Page, PageFields, PageReads, PageRevision, PageWrites, StaffReads, StoreError,
    User,
};

/// At most this many characters in a page's title.
const TITLE_MAX: usize = 200;
/// Pages nest at most this deep (`/about/team/london/…`).
const DEPTH_MAX: usize = 6;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("{}", .0.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))]
    Fields(Vec<FieldError>),
    #[error("only editors and admins look after the site's pages")]
    Forbidden,
    #[error("no such page")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the page editor sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInput {
    pub title: String,
    /// Empty: made from the title.
    pub slug: String,
    pub parent_id: Option<PageId>,
    pub body_markdown: String,
    /// As typed: empty for no place in the footer, else a whole number.
    pub footer_position: String,
    /// Readers may reply (off unless staff turn it on).
    pub replies_open: bool,
}

impl PageInput {
    pub fn from_page(page: &Page) -> Self {
        Self {
            title: page.title.clone(),
            slug: page.slug.clone(),
            parent_id: page.parent_id,
            body_markdown: page.body_markdown.clone(),
            footer_position: page.footer_position.map(|p| p.to_string()).unwrap_or_default(),
            replies_open: page.replies_open,
        }
    }

    /// The input as a revision had it, with the page's own footer place and replies (which
    /// are not part of a revision).
    pub fn from_revision(revision: &PageRevision, page: &Page) -> Self {
        let footer_position = page.footer_position.map(|p| p.to_string()).unwrap_or_default();
        Self {
            title: revision.title.clone(),
            slug: revision.slug.clone(),
            parent_id: revision.parent_id,
            body_markdown: revision.body_markdown.clone(),
            footer_position,
            replies_open: page.replies_open,
        }
    }
}

/// The editor's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAction {
    /// Keeps the page's status.
    Save,
    Publish,
    Unpublish,
}

fn may_manage(user: &User) -> Result<(), PageError> {
    if user.role.edits_all_articles() { Ok(()) } else { Err(PageError::Forbidden) }
}

/// What a save will write, checked against the other pages: a title, a slug of the slug's
/// shape, a parent that exists and is not the page itself or below it, an address that is
/// free and does not start like one of the site's own, and a footer place.
fn checked(
    input: &PageInput,
    id: Option<PageId>,
    pages: &[Page],
    published: bool,
) -> Result<PageFields, PageError> {
    let mut errors = Vec::new();
    let title = input.title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        errors.push(FieldError::new("title", "Give the page a title."));
    } else if title.chars().count() > TITLE_MAX {
        errors.push(FieldError::new(
            "title",
            format!("Keep the title under {TITLE_MAX} characters."),
        ));
    }
    let slug = match input.slug.trim() {
        "" => Some(Slug::from_headline(&title)),
        typed => Slug::parse(&typed.to_lowercase()),
    };
    let slug = match slug {
        Some(slug) => slug.as_str().to_owned(),
        None => {
            errors.push(FieldError::new(
                "slug",
                "Use lowercase letters, digits and single hyphens in the slug, such as corrections-policy.",
            ));
            String::new()
        }
    };
    let parent = input.parent_id.and_then(|p| pages.iter().find(|page| page.id == p));
    let mut path = slug.clone();
    match (input.parent_id, parent) {
        (Some(_), None) => {
            errors.push(FieldError::new("parent", "That parent page no longer exists."))
        }
        (_, Some(parent)) => {
            let own = id.and_then(|id| pages.iter().find(|p| p.id == id));
            let below_itself = own.is_some_and(|own| {
                parent.id == own.id || parent.path.starts_with(&format!("{}/", own.path))
            });
            if below_itself {
                errors.push(FieldError::new(
                    "parent",
                    "A page cannot sit under itself or under a page below it.",
                ));
            } else if parent.path.split('/').count() >= DEPTH_MAX {
                errors.push(FieldError::new(
                    "parent",
                    format!("Pages nest at most {DEPTH_MAX} deep."),
                ));
            }
            path = format!("{}/{slug}", parent.path);
        }
        (None, None) => {
            if !slug.is_empty() && is_reserved_segment(&slug) {
                errors.push(FieldError::new(
                    "slug",
                    format!(
                        "{} is one of the site's own addresses; choose another slug.",
                        page_path(&slug)
                    ),
                ));
            }
        }
    }
    if !slug.is_empty() && pages.iter().any(|p| p.path == path && Some(p.id) != id) {
        errors.push(FieldError::new(
            "slug",
            format!("Another page is at {} already.", page_path(&path)),
        ));
    }
    let footer_position = match input.footer_position.trim() {
        "" => None,
        typed => {
            match typed.parse::<i64>() {
                Ok(n) if (0..=1000).contains(&n) => Some(n),
                _ => {
                    errors.push(FieldError::new("footer_position", "Give the footer place as a whole number from 0 to 1000, or leave it empty."));
                    None
                }
            }
        }
    };
    if !errors.is_empty() {
        return Err(PageError::Fields(errors));
    }
    Ok(PageFields {
        parent_id: parent.map(|p| p.id),
        slug,
        path,
        title,
        body_html: text::markdown_html(&input.body_markdown),
        body_markdown: input.body_markdown.clone(),
        published,
        footer_position,
        replies_open: input.replies_open,
    })
}

/// Saves a new page (`id` `None`) or an existing one, with a revision; returns its id. A
/// published page whose address changes leaves its old one answering with a `301`.
pub async fn save(
    services: &Services,
    user: &User,
    id: Option<PageId>,
    input: &PageInput,
    action: PageAction,
) -> Result<PageId, PageError> {
    may_manage(user)?;
    let (input, user_id) = (input.clone(), user.id);
    services
        .commit(move |unit| {
            Box::pin(async move { write(unit, id, &input, action, Some(user_id)).await })
        })
        .await
}

/// A save inside a unit of work (the newsroom's, or an import's).
pub(crate) async fn write(
    unit: &mut UnitOfWork<'_>,
    id: Option<PageId>,
    input: &PageInput,
    action: PageAction,
    user_id: Option<UserId>,
) -> Result<PageId, PageError> {
    unit.lock_pages().await?;
    let pages = unit.pages().await?;
    let old = match id {
        Some(id) => Some(pages.iter().find(|p| p.id == id).cloned().ok_or(PageError::NotFound)?),
        None => None,
    };
    let published = match action {
        PageAction::Publish => true,
        PageAction::Unpublish => false,
        PageAction::Save => old.as_ref().is_some_and(|p| p.published),
    };
    let fields = checked(input, id, &pages, published)?;
    // The page with the pages under it, which move with it.
    let subtree: Vec<&Page> = match &old {
        Some(old) => pages.iter().filter(|p| is_within(&p.path, &old.path)).collect(),
        None => Vec::new(),
    };
    let below = subtree.iter().map(|p| depth(&p.path)).max().unwrap_or(0);
    let own = old.as_ref().map_or(0, |p| depth(&p.path));
    if depth(&fields.path) + below.saturating_sub(own) > DEPTH_MAX {
        let message = format!("Pages nest at most {DEPTH_MAX} deep, the pages under this one too.");
        return Err(PageError::Fields(vec![FieldError::new("parent", message)]));
    }
    let now = unit.now();
    let public = published || subtree.iter().any(|p| p.published);
    let id = match &old {
        Some(old) => {
            unit.update_page(old.id, &fields, now).await?;
            if old.path != fields.path {
                moved(unit, &subtree, old, &fields).await?;
            }
            old.id
        }
        None => unit.insert_page(&fields, now).await?,
    };
    match old.as_ref().and_then(|p| p.discussion_id) {
        Some(article) => unit.sync_discussion(article, fields.replies_open, &fields.title).await?,
        None if fields.replies_open => {
            let article = new_discussion(unit, id, &fields.title).await?;
            unit.set_page_discussion(id, article).await?;
        }
        None => {}
    }
    if published {
        // A page published at an address takes it back from any redirect.
        unit.remove_url_redirect(&redirect_key(&fields.path)).await?;
    }
    let revision = PageRevision {
        id: PageRevisionId(0),
        page_id: id,
        user_id,
        created_at: now,
        title: fields.title.clone(),
        slug: fields.slug.clone(),
        parent_id: fields.parent_id,
        body_markdown: fields.body_markdown.clone(),
    };
    unit.insert_page_revision(&revision).await?;
    if public {
        // The pages themselves, the footer on every page, the sitemap.
        unit.site_changed();
    }
    Ok(id)
}

/// The article row a page's replies hang on: a draft no listing, feed or search shows, and
/// no newsroom list either (`list_articles` leaves it out), so that posting, moderating,
/// threading and counting replies on a page are what they are on an article.
pub(crate) async fn new_discussion(
    unit: &mut UnitOfWork<'_>,
    page: PageId,
    title: &str,
) -> Result<crate::domain::ArticleId, StoreError> {
    use crate::domain::{ArticleStatus, Headline};
    use crate::store::{ArticleFields, ArticleReads, ArticleWrites, NewArticle};
    let base = Slug::from_headline(&format!("page {page} replies"));
    let mut slug = base.clone();
    let mut n = 1;
    while unit.slug_exists(slug.as_str()).await? {
        n += 1;
        slug = base.numbered(n);
    }
    let headline = Headline::parse(title)
        .or_else(|_| Headline::parse("A page"))
        .map_err(StoreError::Database)?;
    let fields = ArticleFields {
        slug,
        headline,
        standfirst: String::new(),
        body_markdown: String::new(),
        body_html: String::new(),
        author_ids: Vec::new(),
        section_id: None,
        tag_ids: Vec::new(),
        image: None,
        replies_open: true,
        word_count: 0,
        seo: Default::default(),
    };
    let now = unit.now();
    let new = NewArticle {
        fields,
        status: ArticleStatus::Draft,
        date_path: None,
        published_at: None,
        created_at: now,
    };
    unit.insert_article(&new).await
}

/// `about/team` within `about`: the page itself, or one below it.
fn is_within(path: &str, top: &str) -> bool {
    path == top || path.strip_prefix(top).is_some_and(|rest| rest.starts_with('/'))
}

fn depth(path: &str) -> usize {
    path.split('/').count()
}

/// How `url_redirects` keys a page's address: the path as requests give it, decoded.
pub fn redirect_key(path: &str) -> String {
    format!("/{path}/")
}

/// The pages that moved (`subtree`: `old` and the pages under it): each published one leaves
/// its old address answering with a `301`, and what pointed at that address points at the new
/// one, so that a page moved twice sends its first address straight to its last, and one
/// moved back takes its first address back.
async fn moved(
    unit: &mut UnitOfWork<'_>,
    subtree: &[&Page],
    old: &Page,
    now_at: &PageFields,
) -> Result<(), StoreError> {
    for page in subtree {
        let new_path = format!("{}{}", now_at.path, &page.path[old.path.len()..]);
        unit.remove_url_redirect(&redirect_key(&new_path)).await?;
        let was_public = if page.id == old.id { old.published } else { page.published };
        let still_public = if page.id == old.id { now_at.published } else { page.published };
        if was_public && still_public {
            let target = page_path(&new_path);
            unit.retarget_url_redirects(&page_path(&page.path), &target).await?;
            unit.set_url_redirect(&redirect_key(&page.path), &target).await?;
        }
    }
    Ok(())
}

/// Deletes a draft page that has no pages under it (a published one goes back to draft
/// first, so that deleting is never the first step of taking a page down).
pub async fn delete(services: &Services, user: &User, id: PageId) -> Result<(), PageError> {
    may_manage(user)?;
    services
        .commit(move |unit| {
            Box::pin(async move {
                unit.lock_pages().await?;
                let page = unit.page(id).await?.ok_or(PageError::NotFound)?;
                if page.published {
                    let message = "Put the page back to draft before deleting it.";
                    return Err(PageError::Fields(vec![FieldError::new("delete", message)]));
                }
                if !unit.delete_page(id).await? {
                    let message = "Move or delete the pages under this one first. A page that has \
                                   had replies open stays, with its replies: put it back to draft.";
                    return Err(PageError::Fields(vec![FieldError::new("delete", message)]));
                }
                Ok(())
            })
        })
        .await
}

/// Every page, for the newsroom's list.
pub async fn list(services: &Services, user: &User) -> Result<Vec<Page>, PageError> {
    may_manage(user)?;
    Ok(services.store.read(|db| db.pages()).await?)
}

/// A page to edit (with every page, for the choice of parent), or every page for a new one.
pub async fn editor(
    services: &Services,
    user: &User,
    id: Option<PageId>,
) -> Result<(Option<Page>, Vec<Page>), PageError> {
    may_manage(user)?;
    let pages = services.store.read(|db| db.pages()).await?;
    let page = match id {
        Some(id) => Some(pages.iter().find(|p| p.id == id).cloned().ok_or(PageError::NotFound)?),
        None => None,
    };
    Ok((page, pages))
}

/// A page's revisions, newest first, each with who saved it.
pub async fn revisions(
    services: &Services,
    user: &User,
    id: PageId,
) -> Result<(Page, Vec<(PageRevision, String)>), PageError> {
    may_manage(user)?;
    let found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(page) = db.page(id).await? else { return Ok(None) };
                let mut rows = Vec::new();
                for revision in db.page_revisions(id).await? {
                    let by = match revision.user_id {
                        Some(user) => db
                            .user(user)
                            .await?
                            .map_or("a former account".into(), |u| u.author.name),
                        None => "an import or the command line".to_owned(),
                    };
                    rows.push((revision, by));
                }
                Ok(Some((page, rows)))
            })
        })
        .await?;
    found.ok_or(PageError::NotFound)
}

/// One revision of a page, and the one before it.
pub async fn revision(
    services: &Services,
    user: &User,
    id: PageId,
    revision: PageRevisionId,
) -> Result<(Page, PageRevision, Option<PageRevision>), PageError> {
    may_manage(user)?;
    let found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(page) = db.page(id).await? else { return Ok(None) };
                let Some(this) = db.page_revision(id, revision).await? else { return Ok(None) };
                let before = db.page_revisions(id).await?.into_iter().find(|r| r.id < this.id);
                Ok(Some((page, this, before)))
            })
        })
        .await?;
    found.ok_or(PageError::NotFound)
}

/// Makes a page as a revision had it (saved as a new revision; the status and the footer
/// place stay).
pub async fn restore(
    services: &Services,
    user: &User,
    id: PageId,
    revision: PageRevisionId,
) -> Result<(), PageError> {
    let (page, revision, _) = self::revision(services, user, id, revision).await?;
    let input = PageInput::from_revision(&revision, &page);
    save(services, user, Some(id), &input, PageAction::Save).await.map(|_| ())
}

/// A published page as readers see it: the page, the site's frame, and its replies when it
/// has had them open.
pub struct PageView {
    pub page: Page,
    pub nav: SiteNav,
    pub discussion: Option<Discussion>,
}

/// A page's replies: one page of the thread, whether the form is open, the reply it answers.
pub struct Discussion {
    /// The article row they hang on (its id signs the form's token).
    pub article: crate::store::Article,
    pub thread: ThreadPage,
    pub open: bool,
    pub reply_to: Option<crate::store::Reply>,
    /// How long readers may change their replies (`edit_window_minutes`).
    pub edit_window_minutes: u32,
    /// How deep answers nest (`thread_depth`).
    pub thread_depth: usize,
}

/// The published page at `path` (`about/team`), all read at once; `None` for a draft, a
/// missing page, or a page of replies past the last.
pub async fn published(
    services: &Services,
    path: &str,
    request: ArticleRequest,
) -> Result<Option<PageView>, StoreError> {
    use crate::store::{ArticleReads, ReplyReads};
    let path = path.to_owned();
    let settings = super::settings::effective(services).await?.settings;
    let identity = settings.identity.clone();
    let now = services.clock.now();
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(page) = db.page_at(&path).await?.filter(|p| p.published) else {
                    return Ok(None);
                };
                let nav = SiteNav::read(db, identity).await?;
                let found = match page.discussion_id {
                    Some(id) => db.article(id).await?,
                    None => None,
                };
                let Some(mut article) = found else {
                    return Ok(Some(PageView { page, nav, discussion: None }));
                };
                let view = ThreadView {
                    held_ids: &request.held_ids,
                    max_depth: settings.thread_depth,
                    per_page: settings.replies_per_page,
                };
                let id = article.id;
                let thread = discussion::thread_page(
                    db,
                    id,
                    view,
                    request.replies_page,
                    article.reply_count,
                );
                let Some(thread) = thread.await? else { return Ok(None) };
                let reply_to = match request.reply_to {
                    Some(reply) => db
                        .reply(reply)
                        .await?
                        .filter(|r| r.article_id == id && r.status == ReplyStatus::Approved),
                    None => None,
                };
                article.reply_count = thread.approved as i64;
                article.replies_open = page.replies_open;
                let open = !discussion::replies_closed(&article, &settings, now);
                let edit_window_minutes = settings.edit_window_minutes;
                let thread_depth = settings.thread_depth;
                let discussion = Some(Discussion {
                    article,
                    thread,
                    open,
                    reply_to,
                    edit_window_minutes,
                    thread_depth,
                });
                Ok(Some(PageView { page, nav, discussion }))
            })
        })
        .await
}

/// Where the published page at `path` (`about/team`) lives, `/about/team/`, if there is one.
pub async fn address(services: &Services, path: &str) -> Result<Option<String>, StoreError> {
    let path = path.to_owned();
    let page =
        services.store.read(move |db| Box::pin(async move { db.page_at(&path).await })).await?;
    Ok(page.filter(|p| p.published).map(|p| p.public_path()))
}

/// What a reply to the published page at `path` needs, if the page takes replies.
pub async fn reply_target(
    services: &Services,
    path: &str,
) -> Result<Option<crate::store::ReplyTarget>, StoreError> {
    let path = path.to_owned();
    services.store.read(move |db| Box::pin(async move { db.page_reply_target(&path).await })).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(id: i64, path: &str) -> Page {
        Page {
            id: PageId(id),
            parent_id: None,
            slug: path.rsplit('/').next().unwrap_or_default().to_owned(),
            path: path.to_owned(),
            title: path.to_owned(),
            body_markdown: String::new(),
            body_html: String::new(),
            published: true,
            footer_position: None,
            replies_open: false,
            discussion_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn input(title: &str, slug: &str, parent: Option<i64>) -> PageInput {
        PageInput {
            title: title.into(),
            slug: slug.into(),
            parent_id: parent.map(PageId),
            ..Default::default()
        }
    }

    fn field(result: Result<PageFields, PageError>) -> Vec<&'static str> {
        match result {
            Err(PageError::Fields(errors)) => errors.iter().map(|e| e.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn addresses_are_made_from_the_parent_and_checked() {
        let pages = [page(1, "about"), page(2, "about/team")];
        let made = checked(&input("Our Team", "", Some(1)), None, &pages, true).unwrap();
        assert_eq!(made.path, "about/our-team");
        assert_eq!(field(checked(&input("Team", "team", Some(1)), None, &pages, true)), ["slug"]);
        assert_eq!(field(checked(&input("Admin", "admin", None), None, &pages, true)), ["slug"]);
        assert_eq!(field(checked(&input("2026", "2026", None), None, &pages, true)), ["slug"]);
        // Under a page, a reserved word is only a slug: `/about/admin/` is no route.
        assert!(checked(&input("Admin", "admin", Some(1)), None, &pages, true).is_ok());
        assert_eq!(
            field(checked(&input("About", "", Some(2)), Some(PageId(1)), &pages, true)),
            ["parent"]
        );
        assert_eq!(field(checked(&input("", "x", None), None, &pages, true)), ["title"]);
        assert_eq!(field(checked(&input("X", "Not A Slug!", None), None, &pages, true)), ["slug"]);
    }
}
