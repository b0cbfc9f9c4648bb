//! The threaded replies as nested lists. Nesting is built here because templates cannot
//! recurse; each reply's own markup comes from `templates/reply.html`, escaped by askama.

use askama::Template;
use jiff::tz::TimeZone;
use std::fmt::Write;

use crate::domain::{ReplyId, text, time};
use crate::services::discussion::{Entry, Node};
use crate::store::Reply;

pub struct Context<'a> {
    pub path: &'a str,
    pub replies_open: bool,
    pub tz: &'a TimeZone,
    pub own: Own<'a>,
}

/// The replies this browser posted (its signed cookie says which) and may still change.
#[derive(Debug, Clone, Copy, Default)]
pub struct Own<'a> {
    pub ids: &'a [ReplyId],
    pub now: i64,
    pub window_minutes: u32,
}

impl Own<'_> {
    /// Whole minutes (rounded up) left to change `reply`, if it is this browser's and the
    /// window is open.
    fn minutes_left(&self, reply: &Reply) -> Option<i64> {
        if reply.staff || reply.link_back || !self.ids.contains(&reply.id) {
            return None;
        }
        let left = reply.created_at + i64::from(self.window_minutes) * 60 - self.now;
        (left > 0).then(|| (left + 59) / 60)
    }
}

#[derive(Template)]
#[template(path = "reply.html")]
struct ReplyCard<'a> {
    reply: &'a Reply,
    path: &'a str,
    held: bool,
    can_reply: bool,
    iso: String,
    date: String,
    /// "12 minutes left" to change it, when this is its poster's browser.
    edit_left: Option<String>,
    /// The time of its poster's last change, as the page shows it.
    edited: Option<String>,
    /// The reply's text as HTML; safe because [`text::reply_html`] escapes all of it.
    body_html: String,
}

pub fn render(nodes: &[Node], context: &Context) -> Result<String, askama::Error> {
    // Room for every card, so that the thread is not copied as it grows (counting only the
    // top-level cards, it grew in steps that were 2% of a 200-reply page's render).
    let mut out = String::with_capacity(room(nodes));
    if !nodes.is_empty() {
        list(nodes, context, 1, &mut out)?;
    }
    Ok(out)
}

/// About what the cards of `nodes` and their answers take: a card's markup, a little more than
/// its text, and the list around its answers.
fn room(nodes: &[Node]) -> usize {
    let card = |node: &Node| match &node.entry {
        Entry::Reply { reply, .. } => 1200 + reply.body.len() * 9 / 8,
        Entry::Removed { .. } => 300,
    };
    nodes.iter().map(|node| card(node) + 64 + room(&node.children)).sum()
}

/// One reply's card, as the thread shows it (without its place in the thread).
pub fn card(reply: &Reply, held: bool, context: &Context) -> Result<String, askama::Error> {
    let mut out = String::new();
    card_into(reply, held, context, &mut out)?;
    Ok(out)
}

fn card_into(
    reply: &Reply,
    held: bool,
    context: &Context,
    out: &mut String,
) -> Result<(), askama::Error> {
    let card = ReplyCard {
        reply,
        path: context.path,
        held,
        // A link-back is another site's mention: nobody is there to answer.
        can_reply: context.replies_open && !held && !reply.link_back,
        iso: time::iso(reply.created_at, context.tz),
        date: time::date_and_time(reply.created_at, context.tz),
        edit_left: context.own.minutes_left(reply).map(|n| match n {
            1 => "1 minute left".to_owned(),
            n => format!("{n} minutes left"),
        }),
        edited: reply.edited_at.map(|at| time::date_and_time(at, context.tz)),
        body_html: text::reply_html(&reply.body),
    };
    card.render_into(out)
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
        Entry::Reply { reply, held } => {
            let _ = write!(out, "<li id=\"comment-{}\" class=\"reply depth-{depth}\"", reply.id);
            // Its parent, for the script that puts new replies in their place.
            if let Some(parent) = reply.parent_id {
                let _ = write!(out, " data-parent=\"{parent}\"");
            }
            out.push_str(">\n");
            card_into(reply, *held, context, out)?;
        }
        Entry::Removed { id } => {
            let _ = writeln!(out, "<li id=\"comment-{id}\" class=\"reply removed depth-{depth}\">");
            out.push_str("<p class=\"removed-note\">This reply was removed.</p>\n");
        }
    }
    if !node.children.is_empty() {
        list(&node.children, context, depth + 1, out)?;
    }
    out.push_str("</li>\n");
    Ok(())
}
