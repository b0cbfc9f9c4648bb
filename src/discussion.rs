//! Readers' replies: posting one under the moderation policy, and laying out the thread.

use std::collections::HashMap;

use crate::config::ModerationPolicy;
use crate::domain::{Field, FieldError, NewReply, ReplyStatus, time};
use crate::store::{Article, Comment, NewComment, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("the reply is not valid")]
    Invalid(Vec<FieldError>),
    #[error("replies are closed on this article")]
    Closed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A stored reply: its id, and whether it is public or held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posted {
    pub id: i64,
    pub status: ReplyStatus,
}

/// Stores a reader's reply under `policy`. Returns once the reply is committed.
pub async fn post_reply(
    store: &dyn Store,
    policy: ModerationPolicy,
    article: &Article,
    reply: &NewReply,
    ip: Option<String>,
) -> Result<Posted, PostError> {
    if !article.replies_open {
        return Err(PostError::Closed);
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
    let status = match policy {
        ModerationPolicy::None => ReplyStatus::Approved,
        ModerationPolicy::All => ReplyStatus::Pending,
        ModerationPolicy::FirstTime => {
            if store.has_approved_comment_from(reply.email.as_str()).await? {
                ReplyStatus::Approved
            } else {
                ReplyStatus::Pending
            }
        }
    };
    let comment = NewComment {
        article_id: article.id,
        parent_id: reply.parent_id,
        author_name: reply.name.as_str().to_owned(),
        author_email: reply.email.as_str().to_owned(),
        author_url: reply.website.as_ref().map(|w| w.as_str().to_owned()),
        body: reply.body.as_str().to_owned(),
        status,
        ip,
        created_at: time::now(),
    };
    let id = store.insert_comment(&comment).await?;
    tracing::info!(reply = id, article = article.id, status = %status, "reply stored");
    Ok(Posted { id, status })
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
