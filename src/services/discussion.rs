//! Readers' replies: posting one under the moderation policy and the form's defenses, and
//! laying out an article's thread.

use std::collections::HashMap;

use super::Services;
use super::reading::ArticleAddress;
use super::settings;
use crate::domain::reply::field;
use crate::domain::signing::{FormFor, token_age};
use crate::domain::{
    ArticleId, ArticleStatus, DiscussionSettings, EventKind, FieldError, ModerationPolicy, ReplyId,
    ReplyInput, ReplyStatus, ValidReply, WHOLE_FORM, text,
};
use crate::store::{
    Article, ArticleReads, Db, NewReply, Reply, ReplyPlace, ReplyReads, ReplyTarget, ReplyWrites,
    StoreError, SubscriptionWrites, ThreadReads, ThreadWrites, Tx,
};

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// The form comes back with these messages and everything typed.
    #[error("the reply is not valid")]
    Invalid(Vec<FieldError>),
    #[error("replies are closed on this article")]
    Closed,
    /// Too many replies from this address: try again after this many seconds.
    #[error("too many replies from this address")]
    RateLimited(i64),
    #[error("no such article")]
    NotFound,
    /// A thread for a page of a site that is not among `embed_origins`.
    #[error("that site may not embed replies")]
    UnlistedSite,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the request tells about how the form was sent, besides the form itself.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts {
    /// The reader's address (see `web::defenses::client_ip`).
    pub ip: Option<String>,
    /// The form's signed token: when the page was served, and for which article.
    pub token: String,
    /// The hidden field that people never see was filled in.
    pub honeypot_filled: bool,
}

/// A stored reply: its id, whether it is public or held, and the address that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub id: ReplyId,
    pub status: ReplyStatus,
    /// The article's page (of replies) that holds the reply, with `#comment-ID`.
    pub location: String,
    /// How long its poster may change or delete it (`edit_window_minutes`), in seconds.
    pub edit_seconds: u32,
}

/// Whether replies are closed: by the editor, or by the article's age.
pub fn replies_closed(article: &Article, settings: &DiscussionSettings, now: i64) -> bool {
    !article.replies_open || settings.closed_by_age(article.published_at, now)
}

/// Posts a reader's reply: the article at `address`, the form as typed, and the request's
/// facts in; the stored reply (acknowledged only once committed) or why not out.
pub async fn post_reply(
    services: &Services,
    address: &ArticleAddress,
    input: &ReplyInput,
    facts: RequestFacts,
) -> Result<Posted, PostError> {
    let target = reply_target(services, &address.slug).await?;
    // Only the article's own address takes replies (an old one redirects its readers).
    let Some(article) = target.filter(|t| t.date_path.as_deref() == Some(address.date.as_str()))
    else {
        return Err(PostError::NotFound);
    };
    let path = article.public_path().ok_or(PostError::NotFound)?;
    let form = FormFor::Article(article.id);
    post_to(services, Destination::Known(article), path, form, input, facts).await
}

/// What a reply to the published article, or published static page's discussion, `id`
/// needs, and the page that shows it.
pub async fn target_by_id(
    db: &mut dyn Db,
    id: ArticleId,
) -> Result<Option<(ReplyTarget, String)>, StoreError> {
    use crate::store::PageReads;
    if let Some(page) = db.page_of_discussion(id).await? {
        let target = db.page_reply_target(&page).await?;
        return Ok(target.map(|t| (t, crate::domain::paths::page_path(&page))));
    }
    let Some(article) = db.article(id).await? else { return Ok(None) };
    let path = article.public_path().filter(|_| article.status == ArticleStatus::Published);
    Ok(path.map(|path| {
        let target = ReplyTarget {
            id,
            slug: article.slug.clone(),
            date_path: article.date_path.clone(),
            replies_open: article.replies_open,
            published_at: article.published_at,
        };
        (target, path)
    }))
}

/// Posts a reader's reply to the published article (or published page's discussion) `id`.
pub async fn post_reply_to(
    services: &Services,
    id: ArticleId,
    input: &ReplyInput,
    facts: RequestFacts,
) -> Result<Posted, PostError> {
    let found = services.store.read(move |db| Box::pin(async move { target_by_id(db, id).await }));
    let Some((target, path)) = found.await? else { return Err(PostError::NotFound) };
    let form = FormFor::Article(target.id);
    post_to(services, Destination::Known(target), path, form, input, facts).await
}

/// Posts a reader's reply to the static page at `path` (`about/team`), if it takes replies.
pub async fn post_page_reply(
    services: &Services,
    path: &str,
    input: &ReplyInput,
    facts: RequestFacts,
) -> Result<Posted, PostError> {
    let target = super::pages::reply_target(services, path).await?;
    let Some(page) = target else { return Err(PostError::NotFound) };
    let (form, at) = (FormFor::Article(page.id), crate::domain::paths::page_path(path));
    post_to(services, Destination::Known(page), at, form, input, facts).await
}

/// Posts a reader's reply to the thread of another site's page (`embed.js`), made with this
/// reply if it is the first: `url` is the page's canonical address, on a site listed in
/// `embed_origins`; `title` the page's, for a new thread.
pub async fn post_thread_reply(
    services: &Services,
    url: &str,
    title: &str,
    input: &ReplyInput,
    facts: RequestFacts,
) -> Result<Posted, PostError> {
    let settings = settings::effective(services).await?.settings;
    let url = super::threads::embeddable(&settings, url).ok_or(PostError::UnlistedSite)?;
    let owned = url.clone();
    let found =
        services.store.read(move |db| Box::pin(async move { db.thread_by_url(&owned).await }));
    let destination = match found.await? {
        Some(thread) => Destination::Known(super::threads::reply_target(&thread)),
        None => {
            Destination::NewThread { url: url.clone(), title: super::threads::title(title, &url) }
        }
    };
    post_to(services, destination, url.clone(), FormFor::Thread(&url), input, facts).await
}

/// Where a reply goes.
enum Destination {
    /// An article, a page's discussion, or a thread that exists.
    Known(ReplyTarget),
    /// The first reply to another site's page: the thread is made with it, in its unit of
    /// work, so a refused reply leaves no empty thread.
    NewThread { url: String, title: String },
}

/// A reply to `destination`, shown at `path` (an absolute address for an embedded thread),
/// its form's token signed for `form`.
async fn post_to(
    services: &Services,
    destination: Destination,
    path: String,
    form: FormFor<'_>,
    input: &ReplyInput,
    facts: RequestFacts,
) -> Result<Posted, PostError> {
    let now = services.clock.now();
    let settings = settings::effective(services).await?.settings;
    if let Destination::Known(article) = &destination
        && (!article.replies_open || settings.closed_by_age(article.published_at, now))
    {
        return Err(PostError::Closed);
    }
    let fill_seconds = token_age(&services.keys, form, &facts.token, now);
    let validated = input.validate(&services.config.limits);
    let mut errors = validated.as_ref().err().cloned().unwrap_or_default();
    if fill_seconds.is_none() {
        errors.push(FieldError::new(
            WHOLE_FORM,
            "This form was too old or had been altered, so your reply was not posted. \
             Everything you typed is still here: please send it again.",
        ));
    }
    let (Ok(reply), Some(fill_seconds)) = (validated, fill_seconds) else {
        return Err(PostError::Invalid(errors));
    };
    let follows = Follows {
        replies: input.notify_replies && services.mailer.is_on(),
        article: input.follow_article && services.mailer.is_on(),
    };
    let submission = Submission { reply, facts, fill_seconds };
    let kept = settings.clone();
    let reply_path = path.clone();
    let (id, status, article) = services
        .commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                let article = match destination {
                    Destination::Known(article) => article,
                    Destination::NewThread { url, title } => {
                        let slug = super::threads::slug_for(&url);
                        let thread = unit.find_or_create_thread(&url, &title, &slug, now).await?;
                        super::threads::reply_target(&thread)
                    }
                };
                let article_id = article.id;
                let (status, held_reason) =
                    check_and_judge(&mut **unit, article_id, &kept, &submission, now).await?;
                let reply = new_reply(article_id, &submission, status, held_reason, now);
                let id = unit.insert_reply(&reply).await?;
                if !matches!(status, ReplyStatus::Spam | ReplyStatus::Trash) {
                    follows.record(&mut **unit, &submission, article_id, id, now).await?;
                }
                match status {
                    ReplyStatus::Approved => {
                        unit.record(EventKind::ReplyPosted, article_id, Some(id));
                        unit.replies_changed(Some(reply_path));
                    }
                    ReplyStatus::Pending => unit.record(EventKind::ReplyHeld, article_id, Some(id)),
                    // Spam is nobody's news; nothing public changed either.
                    ReplyStatus::Spam | ReplyStatus::Trash => {}
                }
                Ok::<_, PostError>((id, status, article))
            })
        })
        .await?;
    tracing::info!(reply = %id, article = %article.id, status = %status, "reply stored");
    // The reply is stored: failing to find its page must not tell the reader otherwise.
    let location = match location_of(services, &article, &path, input, id, &settings).await {
        Ok(location) => location,
        Err(e) => {
            tracing::warn!(reply = %id, error = %e, "cannot find the page of a stored reply");
            format!("{path}#comment-{id}")
        }
    };
    let edit_seconds = settings.edit_window_minutes * 60;
    Ok(Posted { id, status, location, edit_seconds })
}

/// A reply as public pages may show it (its poster's, when it is held), by id.
pub async fn stored_reply(services: &Services, id: ReplyId) -> Result<Option<Reply>, StoreError> {
    services.store.read(move |db| Box::pin(async move { db.reply(id).await })).await
}

/// What a reply needs of the published article with this slug: as last read, unless a
/// change to the article may have touched it since (every edit of a published article
/// touches every page). Only articles that exist are kept.
async fn reply_target(services: &Services, slug: &str) -> Result<Option<ReplyTarget>, StoreError> {
    let kept = &services.kept_targets;
    if let Some(target) = kept.get(&slug.to_owned()) {
        return Ok(Some(target));
    }
    let generation = kept.generation();
    let owned = slug.to_owned();
    let target = services.store.read(move |db| db.reply_target(owned)).await?;
    if let Some(target) = &target {
        kept.put(slug.to_owned(), target.clone(), generation);
    }
    Ok(target)
}

/// What the reader asked to be mailed about (with `mail` on): replies to this reply, and
/// every new reply on the article.
#[derive(Debug, Clone, Copy)]
struct Follows {
    replies: bool,
    article: bool,
}

impl Follows {
    /// Recorded with the reply, in its transaction; the address is confirmed (and the
    /// confirmation mailed) afterwards, by the outbox's mail handler.
    async fn record(
        self,
        tx: &mut dyn Tx,
        submission: &Submission,
        article: ArticleId,
        reply: ReplyId,
        now: i64,
    ) -> Result<(), StoreError> {
        let email = submission.reply.email.as_str();
        if self.replies {
            tx.subscribe(email, article, Some(reply), now).await?;
        }
        if self.article {
            tx.subscribe(email, article, None, now).await?;
        }
        Ok(())
    }
}

/// A reply that passed the form's rules, and how it was sent.
struct Submission {
    reply: ValidReply,
    facts: RequestFacts,
    /// Seconds between serving the form and receiving it.
    fill_seconds: i64,
}

fn new_reply(
    article_id: ArticleId,
    submission: &Submission,
    status: ReplyStatus,
    held_reason: String,
    now: i64,
) -> NewReply {
    let reply = &submission.reply;
    NewReply {
        article_id,
        parent_id: reply.parent_id,
        author_name: reply.name.clone(),
        author_email: reply.email.clone(),
        author_url: reply.website.clone(),
        body: reply.body.clone(),
        status,
        ip: submission.facts.ip.clone(),
        held_reason,
        user_id: None,
        created_at: now,
    }
}

/// The checks that need the stored replies, made in the reply's own transaction (on SQLite,
/// where one writer commits, they cannot race): the rate limit, duplicates, the reply being
/// answered; then the status the reply gets.
async fn check_and_judge(
    db: &mut dyn Tx,
    article: ArticleId,
    settings: &DiscussionSettings,
    submission: &Submission,
    now: i64,
) -> Result<(ReplyStatus, String), PostError> {
    let reply = &submission.reply;
    if let (Some(ip), limit @ 1..) = (&submission.facts.ip, settings.rate_limit_per_minute) {
        db.lock_replies_from(ip).await?;
        if db.replies_from_ip_since(ip, now - 60).await? >= limit {
            return Err(PostError::RateLimited(60));
        }
    }
    if settings.duplicate_check
        && db
            .duplicate_reply(article, reply.email.as_str(), reply.body.as_str(), now - 86_400)
            .await?
    {
        return Err(PostError::Invalid(vec![FieldError::new(
            field::COMMENT,
            "You have already posted this reply here. It is above, or waiting for a moderator.",
        )]));
    }
    if let Some(parent_id) = reply.parent_id {
        let parent = db.reply(parent_id).await?;
        let answerable =
            parent.is_some_and(|p| p.article_id == article && p.status == ReplyStatus::Approved);
        if !answerable {
            return Err(PostError::Invalid(vec![FieldError::new(
                field::PARENT,
                "The reply you are answering is not available any more. Your comment is still \
                 here: post it as a new reply, or copy it.",
            )]));
        }
    }
    Ok(judge(db, settings, &Candidate::of(submission)).await?)
}

/// What the moderation rules look at in a reply: a new one, or one its poster changed.
pub(super) struct Candidate<'a> {
    pub body: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub website: Option<&'a str>,
    pub ip: &'a str,
    pub honeypot_filled: bool,
    /// Seconds between serving the form and receiving it; `None` where it means nothing
    /// (an edit).
    pub fill_seconds: Option<i64>,
}

impl<'a> Candidate<'a> {
    fn of(submission: &'a Submission) -> Self {
        let reply = &submission.reply;
        Self {
            body: reply.body.as_str(),
            name: reply.name.as_str(),
            email: reply.email.as_str(),
            website: reply.website.as_ref().map(|w| w.as_str()),
            ip: submission.facts.ip.as_deref().unwrap_or_default(),
            honeypot_filled: submission.facts.honeypot_filled,
            fill_seconds: Some(submission.fill_seconds),
        }
    }
}

/// The status a reply gets, and why it is not approved at once.
pub(super) async fn judge(
    db: &mut dyn Db,
    settings: &DiscussionSettings,
    reply: &Candidate<'_>,
) -> Result<(ReplyStatus, String), StoreError> {
    if settings.honeypot && reply.honeypot_filled {
        return Ok((ReplyStatus::Spam, "filled in the hidden field that people never see".into()));
    }
    let listed = |list: &[String]| {
        let text = format!(
            "{}\n{}\n{}",
            reply.body.to_lowercase(),
            reply.name.to_lowercase(),
            reply.website.map(str::to_lowercase).unwrap_or_default()
        );
        let email = reply.email.to_lowercase();
        list.iter()
            .find(|entry| text.contains(entry.as_str()) || email == **entry || reply.ip == *entry)
            .cloned()
    };
    if let Some(entry) = listed(&settings.spam_list) {
        return Ok((ReplyStatus::Spam, format!("matched “{entry}” on the spam list")));
    }
    if let Some(entry) = listed(&settings.hold_list) {
        return Ok((ReplyStatus::Pending, format!("matched “{entry}” on the hold list")));
    }
    let links = text::count_links(reply.body);
    if let Some(max) = settings.max_links
        && links > max
    {
        return Ok((ReplyStatus::Pending, format!("{links} links (more than {max})")));
    }
    if let Some(fill_seconds) = reply.fill_seconds
        && settings.min_fill_seconds > 0
        && fill_seconds < settings.min_fill_seconds
    {
        let seconds = fill_seconds.max(0);
        return Ok((ReplyStatus::Pending, format!("sent {seconds} s after the page was served")));
    }
    Ok(match settings.moderation {
        ModerationPolicy::None => (ReplyStatus::Approved, String::new()),
        ModerationPolicy::All => (ReplyStatus::Pending, "every reply is held".into()),
        ModerationPolicy::FirstTime => {
            if db.has_approved_reply_from(reply.email).await? {
                (ReplyStatus::Approved, String::new())
            } else {
                (ReplyStatus::Pending, "first reply from this email address".into())
            }
        }
    })
}

/// The page of replies that holds the new one. A new top-level reply is always on the newest
/// page (the one the article's address shows), so only an answer needs looking up.
async fn location_of(
    services: &Services,
    article: &ReplyTarget,
    path: &str,
    input: &ReplyInput,
    id: ReplyId,
    settings: &DiscussionSettings,
) -> Result<String, StoreError> {
    // An embedded thread is shown whole by the script on its page.
    if input.parent_id().is_none() || path.contains("://") {
        return Ok(format!("{path}#comment-{id}"));
    }
    address_of_reply(services, article.id, path, id, settings).await
}

/// Where a public reply is read now: the page of its thread that shows it, with its anchor
/// (the page changes as the thread grows, so links kept elsewhere, as in mail, go through
/// `/replies/ID`). `None` for a reply that is not public or not where anyone can read it.
pub async fn reply_address(services: &Services, id: ReplyId) -> Result<Option<String>, StoreError> {
    use crate::store::SubscriptionReads;
    let Some(news) = services.store.read(move |db| Box::pin(db.reply_news(id))).await? else {
        return Ok(None);
    };
    let Some(path) = news.path.filter(|_| news.status == ReplyStatus::Approved) else {
        return Ok(None);
    };
    // An embedded thread is shown whole by the script on its page.
    if path.contains("://") {
        return Ok(Some(format!("{path}#comment-{id}")));
    }
    let settings = settings::effective(services).await?.settings;
    address_of_reply(services, news.article_id, &path, id, &settings).await.map(Some)
}

/// The address of the page of replies that shows reply `id` (whose poster sees it even when
/// held), with `#comment-ID`.
pub(super) async fn address_of_reply(
    services: &Services,
    article_id: ArticleId,
    path: &str,
    id: ReplyId,
    settings: &DiscussionSettings,
) -> Result<String, StoreError> {
    let anchor = format!("{path}#comment-{id}");
    if settings.replies_per_page == 0 {
        return Ok(anchor);
    }
    let (depth, per_page) = (settings.thread_depth, settings.replies_per_page);
    let (page, pages) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let view = ThreadView { held_ids: &[id], max_depth: depth, per_page };
                page_of_reply(db, article_id, view, id).await
            })
        })
        .await?;
    Ok(match page {
        Some(page) if page < pages => format!("{path}?replies={page}#comment-{id}"),
        _ => anchor,
    })
}

/// One place in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A reply to show; `held` when it awaits moderation and only its poster sees it.
    Reply { reply: Reply, held: bool },
    /// A reply that is gone, kept as a placeholder so its answers keep their place.
    Removed { id: ReplyId },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub entry: Entry,
    pub children: Vec<Node>,
}

/// How an article's thread is laid out and cut into pages.
#[derive(Debug, Clone, Copy)]
pub struct ThreadView<'a> {
    /// The poster's own held replies, shown to them alone.
    pub held_ids: &'a [ReplyId],
    /// Deeper answers follow their parent at this depth.
    pub max_depth: usize,
    /// Top-level threads a page; 0 puts all on one.
    pub per_page: usize,
}

/// One page of an article's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadPage {
    /// The page's top-level threads, oldest first at every level.
    pub nodes: Vec<Node>,
    /// How many pages the thread makes (at least one).
    pub pages: usize,
    /// This page's number, from 1.
    pub current: usize,
    /// Whether the thread holds a held reply (which makes the page its poster's alone).
    pub has_held: bool,
    /// How many replies are approved, counted as the thread was read.
    pub approved: usize,
}

/// Page `page` (the newest when `None`; `None` back when there is no such page) of an
/// article's replies: the approved ones and the poster's own held ones. The thread is laid out
/// from every reply's place (id, parent, time) and only the replies shown are read whole, so
/// an article with a hundred thousand replies costs a fraction of reading them all. A thread
/// that fits on one page (as `approved`, the article's count as last known, says) is read
/// whole at once.
pub async fn thread_page(
    db: &mut dyn Db,
    article_id: ArticleId,
    view: ThreadView<'_>,
    page: Option<usize>,
    approved: i64,
) -> Result<Option<ThreadPage>, StoreError> {
    let fits = view.per_page == 0 || approved <= view.per_page as i64;
    let mut whole = HashMap::new();
    let places = if fits {
        let replies = db.replies_of_article(article_id, ReplyStatus::Approved).await?;
        let places = replies.iter().map(ReplyPlace::of).collect();
        whole = replies.into_iter().map(|r| (r.id, r)).collect();
        places
    } else {
        db.thread_places(article_id).await?
    };
    let (roots, approved) = shape_from(db, places, article_id, view).await?;
    let pages = page_count(roots.len(), view.per_page);
    let current = match page {
        None => pages,
        Some(n) if (1..=pages).contains(&n) => n,
        Some(_) => return Ok(None),
    };
    let has_held = roots.iter().any(Shape::has_held);
    let shown: Vec<Shape> = if view.per_page == 0 {
        roots
    } else {
        roots.into_iter().skip((current - 1) * view.per_page).take(view.per_page).collect()
    };
    let mut ids = Vec::new();
    for root in &shown {
        root.approved_ids(&mut ids);
    }
    ids.retain(|id| !whole.contains_key(id));
    let mut keep = |reply: Reply| {
        if reply.status == ReplyStatus::Approved {
            whole.insert(reply.id, reply);
        }
    };
    if !ids.is_empty() && ids.len() == approved {
        // Every reply is shown: one read of them all is cheaper than naming each.
        db.replies_of_article(article_id, ReplyStatus::Approved)
            .await?
            .into_iter()
            .for_each(&mut keep);
    } else {
        for chunk in ids.chunks(10_000) {
            db.replies_by_ids(article_id, chunk).await?.into_iter().for_each(&mut keep);
        }
    }
    let nodes = shown.into_iter().map(|s| s.into_node(&mut whole)).collect();
    Ok(Some(ThreadPage { nodes, pages, current, has_held, approved }))
}

/// The page that shows reply `id` (`None` if it is not in the thread), and the page count.
pub async fn page_of_reply(
    db: &mut dyn Db,
    article_id: ArticleId,
    view: ThreadView<'_>,
    id: ReplyId,
) -> Result<(Option<usize>, usize), StoreError> {
    let (roots, _) = shape(db, article_id, view).await?;
    let pages = page_count(roots.len(), view.per_page);
    let index = roots.iter().position(|r| r.contains(id));
    Ok((index.map(|i| i.checked_div(view.per_page).map_or(1, |page| page + 1)), pages))
}

/// How many pages `roots` top-level threads make at `per_page` a page (0: all on one).
fn page_count(roots: usize, per_page: usize) -> usize {
    if per_page == 0 { 1 } else { roots.div_ceil(per_page).max(1) }
}

/// A reply's place in the laid-out thread, before the shown replies are read whole. Shapes
/// nest at most `max_depth` deep, so walking them recursively is bounded.
#[derive(Debug)]
struct Shape {
    id: ReplyId,
    kind: Kind,
    children: Vec<Shape>,
}

#[derive(Debug)]
enum Kind {
    Approved,
    /// Boxed: a thread holds many shapes and few held replies.
    Held(Box<Reply>),
    Removed,
}

impl Shape {
    fn has_held(&self) -> bool {
        matches!(self.kind, Kind::Held(_)) || self.children.iter().any(Shape::has_held)
    }

    fn contains(&self, id: ReplyId) -> bool {
        self.id == id || self.children.iter().any(|c| c.contains(id))
    }

    fn approved_ids(&self, out: &mut Vec<ReplyId>) {
        if matches!(self.kind, Kind::Approved) {
            out.push(self.id);
        }
        for child in &self.children {
            child.approved_ids(out);
        }
    }

    /// A reply no longer approved when it was read is shown as removed.
    fn into_node(self, whole: &mut HashMap<ReplyId, Reply>) -> Node {
        let entry = match self.kind {
            Kind::Approved => match whole.remove(&self.id) {
                Some(reply) => Entry::Reply { reply, held: false },
                None => Entry::Removed { id: self.id },
            },
            Kind::Held(reply) => Entry::Reply { reply: *reply, held: true },
            Kind::Removed => Entry::Removed { id: self.id },
        };
        let children = self.children.into_iter().map(|c| c.into_node(whole)).collect();
        Node { entry, children }
    }
}

/// The whole thread's top-level threads: approved replies and the poster's own held ones,
/// oldest first at every level, nested at most `max_depth` deep; and how many replies are
/// approved.
async fn shape(
    db: &mut dyn Db,
    article_id: ArticleId,
    view: ThreadView<'_>,
) -> Result<(Vec<Shape>, usize), StoreError> {
    let places = db.thread_places(article_id).await?;
    shape_from(db, places, article_id, view).await
}

/// The thread's top-level threads laid out from the approved replies' places, the poster's
/// held replies and placeholders for removed parents; and how many replies are approved.
async fn shape_from(
    db: &mut dyn Db,
    places: Vec<ReplyPlace>,
    article_id: ArticleId,
    view: ThreadView<'_>,
) -> Result<(Vec<Shape>, usize), StoreError> {
    let approved = places.len();
    let mut layout: HashMap<ReplyId, Place> = HashMap::with_capacity(places.len() + 16);
    for place in places {
        let order = (place.created_at, place.id);
        layout.insert(place.id, Place { parent_id: place.parent_id, order, kind: Kind::Approved });
    }
    let held = if view.held_ids.is_empty() {
        Vec::new()
    } else {
        db.replies_by_ids(article_id, view.held_ids).await?
    };
    for reply in held {
        if reply.status == ReplyStatus::Pending {
            let place = Place {
                parent_id: reply.parent_id,
                order: (reply.created_at, reply.id),
                kind: Kind::Held(Box::new(reply)),
            };
            layout.insert(place.order.1, place);
        }
    }
    add_removed_parents(db, &mut layout).await?;
    Ok((Layout::new(layout, view.max_depth.max(1)).roots(), approved))
}

struct Place {
    parent_id: Option<ReplyId>,
    order: (i64, ReplyId),
    kind: Kind,
}

/// Adds a placeholder for every missing ancestor, so no reply loses its place.
async fn add_removed_parents(
    db: &mut dyn Db,
    places: &mut HashMap<ReplyId, Place>,
) -> Result<(), StoreError> {
    // Each round climbs one level of removed ancestors; threads are shallow.
    for _ in 0..64 {
        let mut missing: Vec<ReplyId> = places
            .values()
            .filter_map(|p| p.parent_id)
            .filter(|id| !places.contains_key(id))
            .collect();
        if missing.is_empty() {
            break;
        }
        missing.sort_unstable();
        missing.dedup();
        let found: Vec<ReplyPlace> = db.reply_places(&missing).await?;
        for id in missing {
            let row = found.iter().find(|s| s.id == id);
            // A reply deleted for ever leaves no row: put its placeholder before its answers.
            let earliest_child = places
                .values()
                .filter(|p| p.parent_id == Some(id))
                .map(|p| p.order.0)
                .min()
                .unwrap_or_default();
            let place = Place {
                parent_id: row.and_then(|s| s.parent_id),
                order: (row.map_or(earliest_child, |s| s.created_at), id),
                kind: Kind::Removed,
            };
            places.insert(id, place);
        }
    }
    Ok(())
}

struct Layout {
    places: HashMap<ReplyId, Place>,
    children: HashMap<Option<ReplyId>, Vec<ReplyId>>,
    max_depth: usize,
}

impl Layout {
    fn new(places: HashMap<ReplyId, Place>, max_depth: usize) -> Self {
        // Filled in thread order, so every list of children is in order too (sorting each
        // list by a key looked up per comparison was most of a large thread's cost).
        let mut in_order: Vec<((i64, ReplyId), ReplyId)> =
            places.iter().map(|(id, place)| (place.order, *id)).collect();
        in_order.sort_unstable();
        let mut children: HashMap<Option<ReplyId>, Vec<ReplyId>> = HashMap::new();
        for (_, id) in in_order {
            let parent = places[&id].parent_id.filter(|p| places.contains_key(p) && *p != id);
            children.entry(parent).or_default().push(id);
        }
        Self { places, children, max_depth }
    }

    fn roots(mut self) -> Vec<Shape> {
        let ids = self.children.remove(&None).unwrap_or_default();
        let mut roots = Vec::with_capacity(ids.len());
        for id in ids {
            self.build(id, 1, &mut roots);
        }
        roots
    }

    /// Adds the shape for `id` to `out`; at the deepest level, its descendants follow it as
    /// siblings. Recursion stops at `max_depth`.
    fn build(&mut self, id: ReplyId, depth: usize, out: &mut Vec<Shape>) {
        let kids = self.children.remove(&Some(id)).unwrap_or_default();
        let kind = self.take_kind(id);
        if depth < self.max_depth {
            let mut children = Vec::with_capacity(kids.len());
            for kid in kids {
                self.build(kid, depth + 1, &mut children);
            }
            out.push(Shape { id, kind, children });
            return;
        }
        let mut descendants = self.descendants(kids);
        descendants.sort_by_cached_key(|id| self.places[id].order);
        out.push(Shape { id, kind, children: Vec::new() });
        for d in descendants {
            out.push(Shape { id: d, kind: self.take_kind(d), children: Vec::new() });
        }
    }

    /// Every descendant of `ids`, however deep the chain: walked with a list, not recursion,
    /// so that no thread a reader can build exhausts the stack.
    fn descendants(&mut self, ids: Vec<ReplyId>) -> Vec<ReplyId> {
        let mut found = Vec::new();
        let mut waiting = ids;
        while let Some(id) = waiting.pop() {
            found.push(id);
            waiting.extend(self.children.remove(&Some(id)).unwrap_or_default());
        }
        found
    }

    fn take_kind(&mut self, id: ReplyId) -> Kind {
        let place = self.places.get_mut(&id).expect("every id in the layout has a place");
        std::mem::replace(&mut place.kind, Kind::Removed)
    }
}
