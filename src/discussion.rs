//! Readers' replies: posting one under the moderation policy, and laying out the thread.

use std::collections::HashMap;

use crate::config::ModerationPolicy;
use crate::domain::{Field, FieldError, NewReply, ReplyStatus, text, time};
use crate::settings::DiscussionSettings;
use crate::store::{Article, Comment, NewComment, Store, StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("the reply is not valid")]
    Invalid(Vec<FieldError>),
    #[error("replies are closed on this article")]
    Closed,
    /// Too many replies from this address: try again after this many seconds.
    #[error("too many replies from this address")]
    RateLimited(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored reply: its id, and whether it is public or held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub id: i64,
    pub status: ReplyStatus,
}

/// A reader's reply and what the form tells about how it was sent.
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub reply: &'a NewReply,
    pub ip: Option<String>,
    /// The hidden field that people never see was filled in.
    pub honeypot_filled: bool,
    /// Seconds between serving the form and receiving it.
    pub fill_seconds: i64,
}

/// Whether replies are closed: by the editor, or by the article's age.
pub fn replies_closed(article: &Article, settings: &DiscussionSettings, now: i64) -> bool {
    if !article.replies_open {
        return true;
    }
    let days = i64::from(settings.close_after_days);
    days > 0 && article.published_at.is_some_and(|at| now - at > days * 86_400)
}

/// Stores a reader's reply under the discussion settings. Returns once it is committed.
pub async fn post_reply(
    store: &dyn Store,
    settings: &DiscussionSettings,
    article: &Article,
    submission: Submission<'_>,
) -> Result<Posted, PostError> {
    let now = time::now();
    let reply = submission.reply;
    if replies_closed(article, settings, now) {
        return Err(PostError::Closed);
    }
    if let (Some(ip), limit @ 1..) = (&submission.ip, settings.rate_limit_per_minute)
        && store.comments_from_ip_since(ip, now - 60).await? >= limit
    {
        return Err(PostError::RateLimited(60));
    }
    if settings.duplicate_check
        && store
            .duplicate_comment(article.id, reply.email.as_str(), reply.body.as_str(), now - 86_400)
            .await?
    {
        return Err(PostError::Invalid(vec![FieldError {
            field: Field::Comment,
            message: "You have already posted this reply here. It is above, or waiting for a \
                      moderator."
                .into(),
        }]));
    }
    if let Some(parent_id) = reply.parent_id {
        let parent = store.comment(parent_id).await?;
        let answerable =
            parent.is_some_and(|p| p.article_id == article.id && p.status == ReplyStatus::Approved);
        if !answerable {
            return Err(PostError::Invalid(vec![FieldError {
                field: Field::Parent,
                message: "The reply you are answering is not available any more. \
                          Your comment is still here: post it as a new reply, or copy it."
                    .into(),
            }]));
        }
    }
    let (status, held_reason) = judge(store, settings, &submission).await?;
    let comment = NewComment {
        article_id: article.id,
        parent_id: reply.parent_id,
        author_name: reply.name.as_str().to_owned(),
        author_email: reply.email.as_str().to_owned(),
        author_url: reply.website.as_ref().map(|w| w.as_str().to_owned()),
        body: reply.body.as_str().to_owned(),
        status,
        ip: submission.ip.clone(),
        held_reason,
        user_id: None,
        created_at: now,
    };
    let id = store.insert_comment(&comment).await?;
    tracing::info!(reply = id, article = article.id, status = %status, "reply stored");
    Ok(Posted { id, status })
}

/// The status a new reply gets, and why it is not approved at once.
async fn judge(
    store: &dyn Store,
    settings: &DiscussionSettings,
    submission: &Submission<'_>,
) -> Result<(ReplyStatus, String), StoreError> {
    let reply = submission.reply;
    if settings.honeypot && submission.honeypot_filled {
        return Ok((ReplyStatus::Spam, "filled in the hidden field that people never see".into()));
    }
    let ip = submission.ip.as_deref().unwrap_or_default();
    let listed = |list: &[String]| {
        let text = format!(
            "{}\n{}\n{}",
            reply.body.as_str().to_lowercase(),
            reply.name.as_str().to_lowercase(),
            reply.website.as_ref().map(|w| w.as_str().to_lowercase()).unwrap_or_default()
        );
        let email = reply.email.as_str().to_lowercase();
        list.iter()
            .find(|entry| text.contains(entry.as_str()) || email == **entry || ip == *entry)
            .cloned()
    };
    if let Some(entry) = listed(&settings.spam_list) {
        return Ok((ReplyStatus::Spam, format!("matched “{entry}” on the spam list")));
    }
    if let Some(entry) = listed(&settings.hold_list) {
        return Ok((ReplyStatus::Pending, format!("matched “{entry}” on the hold list")));
    }
    let links = text::count_links(reply.body.as_str());
    if let Some(max) = settings.max_links
        && links > max
    {
        return Ok((ReplyStatus::Pending, format!("{links} links (more than {max})")));
    }
    if settings.min_fill_seconds > 0 && submission.fill_seconds < settings.min_fill_seconds {
        let seconds = submission.fill_seconds.max(0);
        return Ok((ReplyStatus::Pending, format!("sent {seconds} s after the page was served")));
    }
    Ok(match settings.moderation {
        ModerationPolicy::None => (ReplyStatus::Approved, String::new()),
        ModerationPolicy::All => (ReplyStatus::Pending, "every reply is held".into()),
        ModerationPolicy::FirstTime => {
            if store.has_approved_comment_from(reply.email.as_str()).await? {
                (ReplyStatus::Approved, String::new())
            } else {
                (ReplyStatus::Pending, "first reply from this email address".into())
            }
        }
    })
}

/// A staff member's answer to a reply, written in the newsroom: approved, with a staff badge.
pub async fn reply_as_staff(
    store: &dyn Store,
    user: &User,
    parent: &Comment,
    body: &str,
) -> Result<i64, PostError> {
    let body = crate::domain::reply::ReplyBody::parse(body, 10_000).map_err(|message| {
        PostError::Invalid(vec![FieldError { field: Field::Comment, message }])
    })?;
    let comment = NewComment {
        article_id: parent.article_id,
        parent_id: Some(parent.id),
        author_name: user.author.name.clone(),
        author_email: user.email.clone(),
        author_url: None,
        body: body.as_str().to_owned(),
        status: ReplyStatus::Approved,
        ip: None,
        held_reason: String::new(),
        user_id: Some(user.id),
        created_at: time::now(),
    };
    Ok(store.insert_comment(&comment).await?)
}

/// One place in a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A reply to show; `held` when it awaits moderation and only its poster sees it.
    Reply { comment: Comment, held: bool },
    /// A reply that is gone, kept as a placeholder so its answers keep their place.
    Removed { id: i64 },
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
    pub held_ids: &'a [i64],
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
}

/// Page `page` (the newest when `None`; `None` back when there is no such page) of an
/// article's replies: the approved ones and the poster's own held ones. The thread is laid out
/// from every reply's place (id, parent, time) and only the replies shown are read whole, so
/// an article with a hundred thousand replies costs a fraction of reading them all.
pub async fn thread_page(
    store: &dyn Store,
    article_id: i64,
    view: ThreadView<'_>,
    page: Option<usize>,
) -> Result<Option<ThreadPage>, StoreError> {
    let (roots, approved) = shape(store, article_id, view).await?;
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
    let mut whole = HashMap::new();
    let mut keep = |comment: Comment| {
        if comment.status == ReplyStatus::Approved {
            whole.insert(comment.id, comment);
        }
    };
    if ids.len() == approved {
        // Every reply is shown: one read of them all is cheaper than naming each.
        store
            .comments_of_article(article_id, ReplyStatus::Approved)
            .await?
            .into_iter()
            .for_each(&mut keep);
    } else {
        // SQLite takes at most 32,766 parameters a statement.
        for chunk in ids.chunks(10_000) {
            store.comments_by_ids(article_id, chunk).await?.into_iter().for_each(&mut keep);
        }
    }
    let nodes = shown.into_iter().map(|s| s.into_node(&mut whole)).collect();
    Ok(Some(ThreadPage { nodes, pages, current, has_held }))
}

/// The page that shows reply `id` (`None` if it is not in the thread), and the page count.
pub async fn page_of_reply(
    store: &dyn Store,
    article_id: i64,
    view: ThreadView<'_>,
    id: i64,
) -> Result<(Option<usize>, usize), StoreError> {
    let (roots, _) = shape(store, article_id, view).await?;
    let pages = page_count(roots.len(), view.per_page);
    let index = roots.iter().position(|r| r.contains(id));
    Ok((index.map(|i| i.checked_div(view.per_page).map_or(1, |page| page + 1)), pages))
}

/// How many pages `roots` top-level threads make at `per_page` a page (0: all on one).
fn page_count(roots: usize, per_page: usize) -> usize {
    if per_page == 0 { 1 } else { roots.div_ceil(per_page).max(1) }
}

/// A reply's place in the laid-out thread, before the shown replies are read whole.
#[derive(Debug)]
struct Shape {
    id: i64,
    kind: Kind,
    children: Vec<Shape>,
}

#[derive(Debug)]
enum Kind {
    Approved,
    /// Boxed: a thread holds many shapes and few held replies.
    Held(Box<Comment>),
    Removed,
}

impl Shape {
    fn has_held(&self) -> bool {
        matches!(self.kind, Kind::Held(_)) || self.children.iter().any(Shape::has_held)
    }

    fn contains(&self, id: i64) -> bool {
        self.id == id || self.children.iter().any(|c| c.contains(id))
    }

    fn approved_ids(&self, out: &mut Vec<i64>) {
        if matches!(self.kind, Kind::Approved) {
            out.push(self.id);
        }
        for child in &self.children {
            child.approved_ids(out);
        }
    }

    /// A reply no longer approved when it was read is shown as removed.
    fn into_node(self, whole: &mut HashMap<i64, Comment>) -> Node {
        let entry = match self.kind {
            Kind::Approved => match whole.remove(&self.id) {
                Some(comment) => Entry::Reply { comment, held: false },
                None => Entry::Removed { id: self.id },
            },
            Kind::Held(comment) => Entry::Reply { comment: *comment, held: true },
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
    store: &dyn Store,
    article_id: i64,
    view: ThreadView<'_>,
) -> Result<(Vec<Shape>, usize), StoreError> {
    let stubs = store.reply_shapes(article_id).await?;
    let approved = stubs.len();
    let mut places: HashMap<i64, Place> = HashMap::with_capacity(stubs.len() + 16);
    for stub in stubs {
        let place = Place {
            parent_id: stub.parent_id,
            order: (stub.created_at, stub.id),
            kind: Kind::Approved,
        };
        places.insert(stub.id, place);
    }
    for comment in store.comments_by_ids(article_id, view.held_ids).await? {
        if comment.status == ReplyStatus::Pending {
            let place = Place {
                parent_id: comment.parent_id,
                order: (comment.created_at, comment.id),
                kind: Kind::Held(Box::new(comment)),
            };
            places.insert(place.order.1, place);
        }
    }
    add_removed_parents(store, &mut places).await?;
    Ok((Layout::new(places, view.max_depth.max(1)).roots(), approved))
}

struct Place {
    parent_id: Option<i64>,
    order: (i64, i64),
    kind: Kind,
}

/// Adds a placeholder for every missing ancestor, so no reply loses its place.
async fn add_removed_parents(
    store: &dyn Store,
    places: &mut HashMap<i64, Place>,
) -> Result<(), StoreError> {
    // Each round climbs one level of removed ancestors; threads are shallow.
    for _ in 0..64 {
        let mut missing: Vec<i64> = places
            .values()
            .filter_map(|p| p.parent_id)
            .filter(|id| !places.contains_key(id))
            .collect();
        if missing.is_empty() {
            break;
        }
        missing.sort_unstable();
        missing.dedup();
        let stubs = store.comment_stubs(&missing).await?;
        for id in missing {
            let stub = stubs.iter().find(|s| s.id == id);
            // A reply deleted for ever leaves no row: put its placeholder before its answers.
            let earliest_child = places
                .values()
                .filter(|p| p.parent_id == Some(id))
                .map(|p| p.order.0)
                .min()
                .unwrap_or_default();
            let place = Place {
                parent_id: stub.and_then(|s| s.parent_id),
                order: (stub.map_or(earliest_child, |s| s.created_at), id),
                kind: Kind::Removed,
            };
            places.insert(id, place);
        }
    }
    Ok(())
}

struct Layout {
    places: HashMap<i64, Place>,
    children: HashMap<Option<i64>, Vec<i64>>,
    max_depth: usize,
}

impl Layout {
    fn new(places: HashMap<i64, Place>, max_depth: usize) -> Self {
        // Filled in thread order, so every list of children is in order too (sorting each
        // list by a key looked up per comparison was most of a large thread's cost).
        let mut in_order: Vec<((i64, i64), i64)> =
            places.iter().map(|(id, place)| (place.order, *id)).collect();
        in_order.sort_unstable();
        let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
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
    /// siblings.
    fn build(&mut self, id: i64, depth: usize, out: &mut Vec<Shape>) {
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
        let mut descendants = Vec::new();
        self.collect_descendants(kids, &mut descendants);
        descendants.sort_by_cached_key(|id| self.places[id].order);
        out.push(Shape { id, kind, children: Vec::new() });
        for d in descendants {
            out.push(Shape { id: d, kind: self.take_kind(d), children: Vec::new() });
        }
    }

    fn collect_descendants(&mut self, ids: Vec<i64>, out: &mut Vec<i64>) {
        for id in ids {
            out.push(id);
            let kids = self.children.remove(&Some(id)).unwrap_or_default();
            self.collect_descendants(kids, out);
        }
    }

    fn take_kind(&mut self, id: i64) -> Kind {
        let place = self.places.get_mut(&id).expect("every id in the layout has a place");
        std::mem::replace(&mut place.kind, Kind::Removed)
    }
}
