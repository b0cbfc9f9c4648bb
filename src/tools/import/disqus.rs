//! `byline import disqus FILE`: a Disqus export's replies onto the site's articles.
//!
//! Disqus names each thread by the address of the page it was on. A thread is matched to an
//! article by that address's path, whatever the scheme, `www.`, trailing slash, `index.html`
//! and tracking parameters: an article's own address, or an old address an import left (a
//! WordPress post's link). Threads that match nothing are listed, never guessed.
//!
//! Like the WordPress import: the file is checked whole first (and the threads read), then the
//! posts stream in batches, each one unit of work, remembered by their Disqus ids.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::content;
use super::wordpress::ImportError;
use super::xml::{self, Node, ReadError, Source};
use super::{Options, Progress, Summary, content_key, parents_first};
use crate::domain::{ArticleId, ReplyId, ReplyStatus, paths};
use crate::services::{Services, UnitOfWork};
use crate::store::{ArticleReads, Db, ImportReads, ImportWrites, ImportedReply, StoreError};

const BATCH_POSTS: usize = 1_000;

/// An article a thread matched, and its page's address.
type Matched = Option<(ArticleId, Option<String>)>;

/// A thread of the export, and the article it matched.
#[derive(Debug, Clone)]
struct Thread {
    link: String,
    title: String,
    article: Matched,
}

/// What the first pass learns.
#[derive(Debug, Default)]
struct Survey {
    forum: String,
    threads: HashMap<String, Thread>,
    /// Posts that other posts answer: a deleted one among them stays as a placeholder.
    parents: HashSet<String>,
    posts: u64,
}

/// Reads a Disqus export into the site.
pub async fn import(
    services: &Services,
    source: Arc<Source>,
    options: &Options,
) -> Result<Summary, ImportError> {
    let surveyed = {
        let source = source.clone();
        tokio::task::spawn_blocking(move || survey(&source)).await
    };
    let (mut survey, mut summary) = surveyed.map_err(|e| StoreError::Database(e.to_string()))??;
    match_threads(services, &mut survey, &mut summary).await?;
    let origin = format!("disqus:{}", survey.forum);
    let progress = Progress::new(options, survey.posts, 0);
    let context =
        Arc::new(Context { origin, survey, dry_run: options.dry_run, now: services.clock.now() });
    let (sender, mut batches) = mpsc::channel::<Vec<Node>>(2);
    let reader = tokio::task::spawn_blocking(move || read_posts(&source, sender));
    // Posts whose parent has not come in yet wait for it (Disqus writes parents first, but
    // that is not promised); what still waits at the end has lost its parent.
    let mut waiting: Vec<Node> = Vec::new();
    while let Some(batch) = batches.recv().await {
        let n = batch.len() as u64;
        let mut posts = std::mem::take(&mut waiting);
        posts.extend(batch);
        let (tally, left) = import_batch(services, context.clone(), posts, false).await?;
        summary.merge(tally);
        waiting = left;
        progress.advance(n, 0);
    }
    reader.await.map_err(|e| StoreError::Database(e.to_string()))??;
    if !waiting.is_empty() {
        let (tally, _) = import_batch(services, context.clone(), waiting, true).await?;
        summary.merge(tally);
    }
    progress.finish();
    summary.dry_run = options.dry_run;
    Ok(summary)
}

fn survey(source: &Source) -> Result<(Survey, Summary), ReadError> {
    let mut survey = Survey::default();
    let mut summary = Summary::default();
    let doc = xml::walk(source, 2, |above, node| {
        if above.len() != 1 || above[0] != "disqus" {
            return Ok(());
        }
        match node.name.as_str() {
            "thread" => {
                summary.file.threads += 1;
                if survey.forum.is_empty() {
                    survey.forum = node.get("forum").to_owned();
                }
                let thread = Thread {
                    link: node.get("link").to_owned(),
                    title: content::plain_text(node.get("title")),
                    article: None,
                };
                survey.threads.insert(dsq_id(&node), thread);
            }
            "post" => {
                summary.file.posts += 1;
                survey.posts += 1;
                if flag(node.get("isDeleted")) {
                    summary.file.posts_deleted += 1;
                }
                if flag(node.get("isSpam")) {
                    summary.file.posts_spam += 1;
                }
                if let Some(parent) = node.child("parent").and_then(|p| p.attr("dsq:id")) {
                    summary.file.posts_with_parent += 1;
                    survey.parents.insert(parent.to_owned());
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if doc.root != "disqus" {
        return Err(ReadError::Refused(format!(
            "{} is not a Disqus export: its root element is <{}>, not <disqus>",
            source.name(),
            doc.root
        )));
    }
    if source.skipped() > 0 {
        summary.note(format!("skipped {} stray bytes before the XML", source.skipped()));
    }
    Ok((survey, summary))
}

fn flag(s: &str) -> bool {
    s.eq_ignore_ascii_case("true") || s == "1"
}

/// A thread's or post's Disqus id; a post without one is named by what it says.
fn dsq_id(node: &Node) -> String {
    if let Some(id) = node.attr("dsq:id").filter(|id| !id.is_empty()) {
        return id.to_owned();
    }
    let author = node.child("author").map_or("", |a| a.get("name"));
    content_key(&[node.raw("message"), node.get("createdAt"), author])
}

/// The path a link names, as matching compares it: no scheme, host, `index.html`, trailing
/// slash or tracking parameters.
pub fn link_key(link: &str) -> Option<String> {
    let url = url::Url::parse(link.trim()).ok()?;
    let mut path =
        percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy().into_owned();
    for index in ["index.html", "index.htm", "index.php"] {
        if let Some(stripped) = path.strip_suffix(index) {
            path = stripped.to_owned();
        }
    }
    let path = path.trim_end_matches('/').to_owned();
    let query: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !(k.starts_with("utm_") || k == "fbclid" || k == "gclid"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(if query.is_empty() { path } else { format!("{path}/?{}", query.join("&")) })
}

/// Each thread's article, by its address; the unmatched are reported.
async fn match_threads(
    services: &Services,
    survey: &mut Survey,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let links: Vec<(String, String)> =
        survey.threads.iter().map(|(id, t)| (id.clone(), t.link.clone())).collect();
    let found: Vec<(String, Matched)> = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let mut found = Vec::new();
                for (id, link) in links {
                    found.push((id, article_at(db, &link).await?));
                }
                Ok(found)
            })
        })
        .await?;
    let mut unmatched = 0;
    for (id, article) in found {
        if let Some(thread) = survey.threads.get_mut(&id) {
            if article.is_none() {
                unmatched += 1;
                summary.note(format!(
                    "thread {:?} ({}) matches no article: its posts are not imported",
                    thread.title,
                    if thread.link.is_empty() { "no link" } else { &thread.link }
                ));
            }
            thread.article = article;
        }
    }
    summary.skip("threads that match no article", unmatched);
    Ok(())
}

/// The article a link of the old site names, and its page's address.
async fn article_at(db: &mut dyn Db, link: &str) -> Result<Matched, StoreError> {
    let Some(key) = link_key(link) else { return Ok(None) };
    let (path, query) = match key.split_once("/?") {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (key.clone(), None),
    };
    let mut candidates = Vec::new();
    if let Some(query) = &query {
        candidates.push(format!("{path}/?{query}"));
        candidates.push(format!("{path}?{query}"));
    }
    candidates.push(format!("{path}/"));
    candidates.push(path.clone());
    for candidate in candidates {
        let target = match db.url_redirect(&candidate).await? {
            Some(target) => {
                percent_encoding::percent_decode_str(&target).decode_utf8_lossy().into_owned()
            }
            None => candidate,
        };
        if let Some(found) = article_by_path(db, &target).await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn article_by_path(db: &mut dyn Db, path: &str) -> Result<Matched, StoreError> {
    let path = format!("{}/", path.trim_end_matches('/'));
    if !paths::is_article_path(&path) || path.matches('/').count() != 5 {
        return Ok(None);
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (date, slug) = (parts[..3].join("/"), parts[3]);
    Ok(db
        .article_by_slug(slug)
        .await?
        .filter(|a| a.date_path.as_deref() == Some(date.as_str()))
        .map(|a| (a.id, a.public_path())))
}

fn read_posts(source: &Source, sender: mpsc::Sender<Vec<Node>>) -> Result<(), ReadError> {
    let mut batch = Vec::new();
    xml::walk(source, 2, |above, node| {
        if above.len() != 1 || node.name != "post" {
            return Ok(());
        }
        batch.push(node);
        if batch.len() >= BATCH_POSTS && sender.blocking_send(std::mem::take(&mut batch)).is_err() {
            return Err(ReadError::Refused("the import stopped".into()));
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}

struct Context {
    origin: String,
    survey: Survey,
    dry_run: bool,
    now: i64,
}

/// What a post becomes: on which article, with what status; or why it is skipped.
fn fate(
    context: &Context,
    post: &Node,
) -> Result<(ArticleId, Option<String>, ReplyStatus), String> {
    let thread = post.child("thread").and_then(|t| t.attr("dsq:id")).unwrap_or("");
    let Some(thread) = context.survey.threads.get(thread) else {
        return Err("posts of a thread missing from the file".into());
    };
    let Some((article, path)) = thread.article.clone() else {
        return Err("posts of threads that match no article".into());
    };
    let status = if flag(post.get("isDeleted")) {
        if !context.survey.parents.contains(&dsq_id(post)) {
            return Err("deleted posts with no replies under them".into());
        }
        // Kept, never shown: the replies under it keep their place beneath a placeholder.
        ReplyStatus::Trash
    } else if flag(post.get("isSpam")) {
        ReplyStatus::Spam
    } else {
        ReplyStatus::Approved
    };
    Ok((article, path, status))
}

/// One batch: the posts whose parents are in (or are none) come in, parents first; those
/// whose parent is yet to come are handed back, unless `last`, when they come in at the top.
async fn import_batch(
    services: &Services,
    context: Arc<Context>,
    posts: Vec<Node>,
    last: bool,
) -> Result<(Summary, Vec<Node>), StoreError> {
    let mut ids: Vec<String> = posts.iter().map(dsq_id).collect();
    ids.extend(posts.iter().filter_map(|p| p.child("parent")?.attr("dsq:id").map(str::to_owned)));
    let origin = context.origin.clone();
    let known: HashMap<String, i64> = services
        .store
        .read(move |db| Box::pin(async move { db.imported(&origin, "reply", &ids).await }))
        .await?
        .into_iter()
        .collect();
    let here: HashSet<String> = posts.iter().map(dsq_id).collect();
    let ordered = in_thread_order(posts);
    let (ready, waiting): (Vec<Node>, Vec<Node>) = ordered.into_iter().partition(|p| {
        let parent = p.child("parent").and_then(|p| p.attr("dsq:id"));
        last || parent.is_none_or(|parent| known.contains_key(parent) || here.contains(parent))
    });
    if context.dry_run {
        let mut summary = Summary::default();
        for post in &ready {
            match fate(&context, post) {
                Err(reason) => summary.skip(&reason, 1),
                Ok((_, _, status)) if known.contains_key(&dsq_id(post)) => {
                    summary.already("replies", status.as_str(), 1)
                }
                Ok((_, _, status)) => summary.count("replies", status.as_str(), 1),
            }
        }
        return Ok((summary, waiting));
    }
    let summary = services
        .commit(move |unit| {
            Box::pin(async move {
                let mut summary = Summary::default();
                let mut known = known;
                for post in &ready {
                    write_post(unit, &context, &mut known, post, &mut summary).await?;
                }
                Ok::<_, StoreError>(summary)
            })
        })
        .await?;
    Ok((summary, waiting))
}

/// Posts with any parent among them after it.
fn in_thread_order(posts: Vec<Node>) -> Vec<Node> {
    let ids: Vec<String> = posts.iter().map(dsq_id).collect();
    let order = parents_first(&ids, |i| posts[i].child("parent").and_then(|p| p.attr("dsq:id")));
    let mut slots: Vec<Option<Node>> = posts.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

async fn write_post(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    known: &mut HashMap<String, i64>,
    post: &Node,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let id = dsq_id(post);
    let (article, path, status) = match fate(context, post) {
        Ok(fate) => fate,
        Err(reason) => {
            summary.skip(&reason, 1);
            return Ok(());
        }
    };
    if known.contains_key(&id) {
        summary.already("replies", status.as_str(), 1);
        return Ok(());
    }
    let parent = post.child("parent").and_then(|p| p.attr("dsq:id"));
    let parent_id = parent.and_then(|p| known.get(p)).map(|id| ReplyId(*id));
    if let Some(parent) = parent.filter(|_| parent_id.is_none()) {
        summary.note(format!(
            "post {id} answers post {parent}, which is not in the file: shown at the top"
        ));
    }
    let author = post.child("author");
    let name = author.map_or("", |a| a.get("name"));
    let reply = ImportedReply {
        article_id: article,
        parent_id,
        author_name: if name.is_empty() { "Anonymous".into() } else { content::plain_text(name) },
        author_email: author.map_or("", |a| a.get("email")).to_owned(),
        author_url: None,
        body: if status == ReplyStatus::Trash {
            String::new()
        } else {
            content::comment_text(post.raw("message"))
        },
        status,
        ip: Some(post.get("ipAddress")).filter(|ip| !ip.is_empty()).map(str::to_owned),
        author_id: None,
        created_at: post
            .get("createdAt")
            .parse::<jiff::Timestamp>()
            .map_or(context.now, |t| t.as_second()),
        link_back: false,
    };
    let stored = unit.insert_imported_reply(&reply).await?;
    unit.map_import(&context.origin, "reply", &id, stored.get()).await?;
    known.insert(id, stored.get());
    if status == ReplyStatus::Approved {
        unit.replies_changed(path);
    }
    summary.count("replies", status.as_str(), 1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_match_whatever_their_dress() {
        let key = |l| link_key(l).unwrap();
        let plain = key("https://gazette.example/2019/05/ferry-strike/");
        for same in [
            "http://www.gazette.example/2019/05/ferry-strike",
            "https://gazette.example/2019/05/ferry-strike/index.html",
            "https://gazette.example/2019/05/ferry-strike/?utm_source=x&fbclid=y&gclid=z",
        ] {
            assert_eq!(key(same), plain, "{same}");
        }
        assert_eq!(key("https://gazette.example/?p=12&utm_medium=m"), "/?p=12");
    }
}
