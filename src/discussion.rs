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

/// The replies of an article as a tree: approved replies and the poster's own held ones
/// (`held_ids`), oldest first at every level, nested at most `max_depth` deep.
pub async fn thread(
    store: &dyn Store,
    article_id: i64,
    held_ids: &[i64],
    max_depth: usize,
) -> Result<Vec<Node>, StoreError> {
    let mut places: HashMap<i64, Place> = HashMap::new();
    for comment in store.comments_of_article(article_id, ReplyStatus::Approved).await? {
        places.insert(comment.id, Place::of(comment, false));
    }
    for comment in store.comments_by_ids(article_id, held_ids).await? {
        if comment.status == ReplyStatus::Pending {
            places.insert(comment.id, Place::of(comment, true));
        }
    }
    add_removed_parents(store, &mut places).await?;
    Ok(Layout::new(places, max_depth.max(1)).roots())
}

struct Place {
    parent_id: Option<i64>,
    order: (i64, i64),
    entry: Entry,
}

impl Place {
    fn of(comment: Comment, held: bool) -> Self {
        Self {
            parent_id: comment.parent_id,
            order: (comment.created_at, comment.id),
            entry: Entry::Reply { comment, held },
        }
    }
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
                entry: Entry::Removed { id },
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
        let mut children: HashMap<Option<i64>, Vec<i64>> = HashMap::new();
        for (id, place) in &places {
            let parent = place.parent_id.filter(|p| places.contains_key(p) && p != id);
            children.entry(parent).or_default().push(*id);
        }
        for ids in children.values_mut() {
            ids.sort_by_key(|id| places[id].order);
        }
        Self { places, children, max_depth }
    }

    fn roots(mut self) -> Vec<Node> {
        let ids = self.children.get(&None).cloned().unwrap_or_default();
        ids.into_iter().flat_map(|id| self.build(id, 1)).collect()
    }

    /// The node for `id`; at the deepest level, its descendants follow it as siblings.
    fn build(&mut self, id: i64, depth: usize) -> Vec<Node> {
        let kids = self.children.remove(&Some(id)).unwrap_or_default();
        let entry = self.take_entry(id);
        if depth < self.max_depth {
            let children = kids.into_iter().flat_map(|k| self.build(k, depth + 1)).collect();
            return vec![Node { entry, children }];
        }
        let mut descendants = Vec::new();
        self.collect_descendants(kids, &mut descendants);
        descendants.sort_by_key(|id| self.places[id].order);
        let mut out = vec![Node { entry, children: Vec::new() }];
        for d in descendants {
            out.push(Node { entry: self.take_entry(d), children: Vec::new() });
        }
        out
    }

    fn collect_descendants(&mut self, ids: Vec<i64>, out: &mut Vec<i64>) {
        for id in ids {
            out.push(id);
            let kids = self.children.remove(&Some(id)).unwrap_or_default();
            self.collect_descendants(kids, out);
        }
    }

    fn take_entry(&mut self, id: i64) -> Entry {
        let place = self.places.get_mut(&id).expect("every id in the layout has a place");
        std::mem::replace(&mut place.entry, Entry::Removed { id })
    }
}
