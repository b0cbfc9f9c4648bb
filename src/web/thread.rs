//! The threaded replies as nested lists. Nesting is built here because templates cannot
//! recurse; each reply's own markup comes from `templates/reply.html`, escaped by askama.

use askama::Template;
use jiff::tz::TimeZone;

use crate::discussion::{Entry, Node};
use crate::domain::{text, time};
use crate::store::Comment;

pub struct Context<'a> {
    pub path: &'a str,
    pub replies_open: bool,
    pub tz: &'a TimeZone,
}

#[derive(Template)]
#[template(path = "reply.html")]
struct ReplyCard<'a> {
    comment: &'a Comment,
    path: &'a str,
    held: bool,
    can_reply: bool,
    iso: String,
    date: String,
    /// The reply's text as HTML; safe because [`text::reply_html`] escapes all of it.
    body_html: String,
}

/// Whether any reply shown is a held one (which makes the page personal).
pub fn has_held(nodes: &[Node]) -> bool {
    nodes
        .iter()
        .any(|n| matches!(n.entry, Entry::Reply { held: true, .. }) || has_held(&n.children))
}

/// How many pages `roots` top-level threads make at `per_page` a page (0: all on one).
pub fn pages(roots: usize, per_page: usize) -> usize {
    if per_page == 0 { 1 } else { roots.div_ceil(per_page).max(1) }
}

/// The top-level threads of page `page` (1-based; oldest first).
pub fn page_slice(nodes: &[Node], page: usize, per_page: usize) -> &[Node] {
    if per_page == 0 {
        return nodes;
    }
    let start = ((page - 1) * per_page).min(nodes.len());
    &nodes[start..(start + per_page).min(nodes.len())]
}

/// The page whose threads hold reply `id`.
pub fn page_of(nodes: &[Node], id: i64, per_page: usize) -> Option<usize> {
    let root = nodes.iter().position(|n| contains(n, id))?;
    Some(root.checked_div(per_page).map_or(1, |page| page + 1))
}

fn contains(node: &Node, id: i64) -> bool {
    let own = match &node.entry {
        Entry::Reply { comment, .. } => comment.id,
        Entry::Removed { id } => *id,
    };
    own == id || node.children.iter().any(|c| contains(c, id))
}

pub fn render(nodes: &[Node], context: &Context) -> Result<String, askama::Error> {
    let mut out = String::new();
    if !nodes.is_empty() {
        list(nodes, context, 1, &mut out)?;
    }
    Ok(out)
}

fn list(
    nodes: &[Node],
    context: &Context,
    depth: usize,
    out: &mut String,
) -> Result<(), askama::Error> {
    out.push_str(if depth == 1 {
        "<ol class=\"reply-list\">\n"
    } else {
        "<ol class=\"children\">\n"
    });
    for node in nodes {
        item(node, context, depth, out)?;
    }
    out.push_str("</ol>\n");
    Ok(())
}

fn item(
    node: &Node,
    context: &Context,
    depth: usize,
    out: &mut String,
) -> Result<(), askama::Error> {
    match &node.entry {
        Entry::Reply { comment, held } => {
            out.push_str(&format!(
                "<li id=\"comment-{}\" class=\"reply depth-{depth}\">\n",
                comment.id
            ));
            let card = ReplyCard {
                comment,
                path: context.path,
                held: *held,
                can_reply: context.replies_open && !held,
                iso: time::iso(comment.created_at, context.tz),
                date: time::date_and_time(comment.created_at, context.tz),
                body_html: text::reply_html(&comment.body),
            };
            card.render_into(out)?;
        }
        Entry::Removed { id } => {
            out.push_str(&format!(
                "<li id=\"comment-{id}\" class=\"reply removed depth-{depth}\">\n"
            ));
            out.push_str("<p class=\"removed-note\">This reply was removed.</p>\n");
        }
    }
    if !node.children.is_empty() {
        list(&node.children, context, depth + 1, out)?;
    }
    out.push_str("</li>\n");
    Ok(())
}
