//! `byline import wordpress FILE`: a WordPress export (WXR 1.0, 1.1, 1.2) into Byline.
//!
//! The file is read twice. The first pass checks it whole (a file cut short or not
//! well-formed is refused with the place, before anything is written) and learns what the
//! rest needs: the authors, the categories' tree, the attachments' addresses, the sticky
//! posts. The second pass streams the items in batches, each batch one unit of work, with
//! every item remembered in the import map in the same transaction: a second run, or a run
//! started again after a kill, brings in only what is not there yet.

use std::collections::{HashMap, HashSet};

use tokio::sync::mpsc;

use super::content;
use super::xml::{self, Node, ReadError, Source};
use super::{Options, Progress, Summary, content_key, old_path, parents_first};
use crate::domain::{
    ArticleId, ArticleStatus, AuthorId, Headline, ReplyId, ReplyStatus, Slug, paths, text, time,
};
use crate::services::{Services, UnitOfWork, publishing};
use crate::store::{
    ArticleFields, ArticleReads, ArticleWrites, ImportReads, ImportWrites, ImportedReply,
    MediaWrites, NewArticle, SettingWrites, SiteSetting, StoreError,
};

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Items per unit of work, and the most replies one may carry before it is cut.
const BATCH_ITEMS: usize = 100;
const BATCH_REPLIES: usize = 2_000;

/// An author of the export, by login.
#[derive(Debug, Clone)]
struct WxrAuthor {
    id: String,
    login: String,
    name: String,
}

/// A category of the export's list: its parent's nicename (the old site's category addresses
/// are paths through the parents).
#[derive(Debug, Clone)]
struct Category {
    parent: String,
    /// Its `wp:term_id`, by which `?cat=ID` named it.
    id: String,
}

/// What the first pass learns.
#[derive(Debug, Default)]
struct Survey {
    site: String,
    version: Option<String>,
    authors: Vec<WxrAuthor>,
    categories: HashMap<String, Category>,
    attachments: HashMap<String, String>,
    /// What `--uploads` needs of each attachment.
    attachment_list: Vec<super::uploads::Attachment>,
    /// The sticky post that will lead: the most recently published.
    lead: Option<(i64, String)>,
    items: usize,
    comments: usize,
}

/// Reads a WordPress export into the site.
pub async fn import(
    services: &Services,
    source: std::sync::Arc<Source>,
    options: &Options,
) -> Result<Summary, ImportError> {
    let surveyed = {
        let source = source.clone();
        tokio::task::spawn_blocking(move || survey(&source)).await
    };
    let (survey, mut summary) = surveyed.map_err(|e| StoreError::Database(e.to_string()))??;
    let now = services.clock.now();
    let origin = format!("wordpress:{}", survey.site);
    let progress = Progress::new(options, survey.items as u64, survey.comments as u64);
    let mut context = Context {
        origin,
        tz: services.config.timezone.clone(),
        now,
        dry_run: options.dry_run,
        keep_pings: options.keep_pingbacks,
        authors: HashMap::new(),
        author_ids_by_wp_id: HashMap::new(),
        survey,
        library: super::uploads::Library::default(),
    };
    context.bring_authors(services, &mut summary).await?;
    if let Some(dir) = &options.uploads {
        let attachments = &context.survey.attachment_list;
        let library = super::uploads::bring(
            services,
            &context.origin,
            attachments,
            dir,
            options.dry_run,
            &mut summary,
        )
        .await?;
        context.library = library;
    }

    // The items stream from a blocking thread in batches; at most two wait at a time.
    let (sender, mut batches) = mpsc::channel::<Vec<Node>>(2);
    let reader = tokio::task::spawn_blocking(move || read_items(&source, sender));
    let context = std::sync::Arc::new(context);
    // Pages wait for the end: a page's parent may come after it in the file. A site has
    // tens of them, not the posts' thousands, so they are held.
    let mut pages = Vec::new();
    while let Some(mut batch) = batches.recv().await {
        pages.extend(batch.extract_if(.., |i| i.get("wp:post_type") == "page"));
        let (items, replies) =
            (batch.len(), batch.iter().map(|i| i.all("wp:comment").count()).sum::<usize>());
        let tally = import_batch(services, context.clone(), batch).await?;
        summary.merge(tally);
        progress.advance(items as u64, replies as u64);
    }
    reader.await.map_err(|e| StoreError::Database(e.to_string()))??;
    let (items, replies) =
        (pages.len(), pages.iter().map(|i| i.all("wp:comment").count()).sum::<usize>());
    summary.merge(super::pages::import(services, context.clone(), pages).await?);
    progress.advance(items as u64, replies as u64);
    progress.finish();
    if let Some((_, id)) = &context.survey.lead
        && !options.dry_run
    {
        set_lead(services, &context.origin, id).await?;
    }
    summary.dry_run = options.dry_run;
    Ok(summary)
}

/// The first pass: the whole file checked, counted as [`Summary::file`] shows it, and what
/// the second pass needs.
fn survey(source: &Source) -> Result<(Survey, Summary), ReadError> {
    let mut survey = Survey::default();
    let mut summary = Summary::default();
    let mut site_link = String::new();
    let mut creators: Vec<String> = Vec::new();
    let doc = xml::walk(source, 3, |above, node| {
        if above.len() != 2 || above[0] != "rss" || above[1] != "channel" {
            return Ok(());
        }
        survey_node(&mut survey, &mut summary, &mut site_link, &mut creators, node);
        Ok(())
    })?;
    if doc.root != "rss" {
        return Err(ReadError::Refused(format!(
            "{} is not a WordPress export: its root element is <{}>, not <rss>",
            source.name(),
            doc.root
        )));
    }
    let wordpress = doc.wordpress_namespaces.iter().any(|n| !n.ends_with("/excerpt/"));
    if survey.version.is_none() && !wordpress {
        return Err(ReadError::Refused(format!(
            "{} is not a WordPress export (WXR): it has no wp:wxr_version and no WordPress \
             namespace (wordpress.org/export/1.N/)",
            source.name()
        )));
    }
    match survey.version.as_deref() {
        None => summary.note("the file has no wp:wxr_version: read as WXR 1.0"),
        Some("1.0" | "1.1" | "1.2") => {}
        Some(v) => summary.note(format!(
            "the file says WXR version {v:?}, which Byline does not know (1.0 to 1.2): read as 1.2"
        )),
    }
    if source.skipped() > 0 {
        summary.note(format!("skipped {} stray bytes before the XML", source.skipped()));
    }
    for offset in &doc.recovered {
        let (line, column) = source.place(*offset);
        summary.note(format!(
            "line {line}, column {column}: an unescaped ]]> inside CDATA, read as text"
        ));
    }
    summary.file.namespace = doc.wordpress_namespaces.clone();
    summary.file.namespace.sort();
    summary.file.wxr_version = survey.version.clone();
    for login in creators {
        if !survey.authors.iter().any(|a| a.login == login) {
            survey.authors.push(WxrAuthor { id: String::new(), name: login.clone(), login });
        }
    }
    if survey.site.is_empty() {
        survey.site = site_link.trim_end_matches('/').to_owned();
    }
    Ok((survey, summary))
}

fn survey_node(
    survey: &mut Survey,
    summary: &mut Summary,
    site_link: &mut String,
    creators: &mut Vec<String>,
    node: Node,
) {
    match node.name.as_str() {
        "wp:wxr_version" => survey.version = Some(node.text.trim().to_owned()),
        "wp:base_site_url" => survey.site = node.text.trim().trim_end_matches('/').to_owned(),
        "link" => *site_link = node.text.trim().to_owned(),
        "wp:author" => {
            summary.file.authors += 1;
            let login = node.get("wp:author_login").to_owned();
            let display = content::plain_text(node.get("wp:author_display_name"));
            let name = if display.is_empty() { login.clone() } else { display };
            let id = node.get("wp:author_id").to_owned();
            if !login.is_empty() && !survey.authors.iter().any(|a| a.login == login) {
                survey.authors.push(WxrAuthor { id, login, name });
            }
        }
        "wp:category" => {
            summary.file.categories += 1;
            let nicename = decode_slug(node.get("wp:category_nicename"));
            let parent = decode_slug(node.get("wp:category_parent"));
            let id = node.get("wp:term_id").to_owned();
            survey.categories.insert(nicename, Category { parent, id });
        }
        "wp:tag" => summary.file.tags += 1,
        "item" => survey_item(survey, summary, creators, &node),
        _ => {}
    }
}

fn survey_item(
    survey: &mut Survey,
    summary: &mut Summary,
    creators: &mut Vec<String>,
    item: &Node,
) {
    survey.items += 1;
    let kind = or_unknown(item.get("wp:post_type"));
    let status = or_unknown(item.get("wp:status"));
    *summary.file.items.entry(format!("{kind}/{status}")).or_default() += 1;
    let creator = item.get("dc:creator");
    if !creator.is_empty() && !creators.iter().any(|c| c == creator) {
        creators.push(creator.to_owned());
    }
    if kind == "attachment" {
        let url = match item.get("wp:attachment_url") {
            "" => item.get("guid"),
            url => url,
        };
        survey.attachments.insert(item.get("wp:post_id").to_owned(), url.to_owned());
        survey.attachment_list.push(super::uploads::Attachment::of(item));
    }
    if item.get("wp:is_sticky") == "1" && kind == "post" && status == "publish" {
        let at = gmt(item.get("wp:post_date_gmt")).unwrap_or(0);
        if survey.lead.as_ref().is_none_or(|(t, _)| at >= *t) {
            survey.lead = Some((at, item_key(item)));
        }
    }
    let comments: Vec<&Node> = item.all("wp:comment").collect();
    survey.comments += comments.len();
    let parents: HashMap<&str, &str> =
        comments.iter().map(|c| (c.get("wp:comment_id"), c.get("wp:comment_parent"))).collect();
    for comment in &comments {
        let kind = match comment.get("wp:comment_type") {
            "" => "comment",
            kind => kind,
        };
        let approved = or_unknown(comment.get("wp:comment_approved"));
        *summary.file.comments.entry(format!("{kind}/{approved}")).or_default() += 1;
        let parent = comment.get("wp:comment_parent");
        if !parent.is_empty() && parent != "0" {
            summary.file.comments_with_parent += 1;
        }
        let depth = depth_of(comment.get("wp:comment_id"), &parents);
        summary.file.max_depth = summary.file.max_depth.max(depth);
    }
}

/// How deep a comment sits: 1 at the top; a loop of parents counts once round.
fn depth_of(id: &str, parents: &HashMap<&str, &str>) -> u64 {
    let mut depth = 1;
    let mut at = id;
    let mut seen = HashSet::new();
    while let Some(parent) = parents.get(at) {
        if parent.is_empty() || *parent == "0" || !parents.contains_key(parent) || !seen.insert(at)
        {
            break;
        }
        depth += 1;
        at = parent;
    }
    depth
}

pub(super) fn or_unknown(s: &str) -> &str {
    if s.is_empty() { "?" } else { s }
}

/// An item's id in the export: its post id, or (in partial exports that have none) its guid
/// or link.
pub(super) fn item_key(item: &Node) -> String {
    let named = [item.get("wp:post_id"), item.get("guid"), item.get("link")]
        .into_iter()
        .find(|k| !k.is_empty());
    match named {
        Some(key) => key.to_owned(),
        None => content_key(&[item.raw("title"), item.raw("content:encoded")]),
    }
}

/// `2012-01-05 14:30:46` (UTC) as Unix seconds; WordPress writes zeros for "not yet".
pub(super) fn gmt(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.starts_with("0000") {
        return None;
    }
    let civil: jiff::civil::DateTime = s.replacen(' ', "T", 1).parse().ok()?;
    Some(civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_second())
}

/// A nicename as WordPress stores it: percent-encoded for letters outside ASCII.
fn decode_slug(s: &str) -> String {
    percent_encoding::percent_decode_str(s.trim()).decode_utf8_lossy().to_lowercase()
}

/// The second pass: items sent on in batches.
fn read_items(source: &Source, sender: mpsc::Sender<Vec<Node>>) -> Result<(), ReadError> {
    let mut batch = Vec::new();
    let mut replies = 0;
    xml::walk(source, 3, |above, node| {
        if above.len() != 2 || node.name != "item" {
            return Ok(());
        }
        replies += node.all("wp:comment").count();
        batch.push(node);
        if batch.len() >= BATCH_ITEMS || replies >= BATCH_REPLIES {
            replies = 0;
            let full = std::mem::take(&mut batch);
            if sender.blocking_send(full).is_err() {
                return Err(ReadError::Refused("the import stopped".into()));
            }
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}

/// What every batch needs.
pub(super) struct Context {
    pub(super) origin: String,
    tz: jiff::tz::TimeZone,
    pub(super) now: i64,
    pub(super) dry_run: bool,
    keep_pings: bool,
    /// Byline's author by the export's login.
    authors: HashMap<String, AuthorId>,
    author_ids_by_wp_id: HashMap<String, AuthorId>,
    survey: Survey,
    /// The attachments brought into the media library (`--uploads`).
    pub(super) library: super::uploads::Library,
}

impl Context {
    /// Attachments' addresses by their post id.
    pub(super) fn attachments(&self) -> &HashMap<String, String> {
        &self.survey.attachments
    }

    /// The authors first, in one unit of work: every item's byline needs them.
    async fn bring_authors(
        &mut self,
        services: &Services,
        summary: &mut Summary,
    ) -> Result<(), StoreError> {
        let authors = self.survey.authors.clone();
        let logins: Vec<String> = authors.iter().map(|a| a.login.clone()).collect();
        let origin = self.origin.clone();
        let known: HashMap<String, i64> = services
            .store
            .read(move |db| Box::pin(async move { db.imported(&origin, "author", &logins).await }))
            .await?
            .into_iter()
            .collect();
        let fresh: Vec<WxrAuthor> =
            authors.iter().filter(|a| !known.contains_key(&a.login)).cloned().collect();
        summary.already("authors", "listed", known.len() as u64);
        summary.count("authors", "listed", fresh.len() as u64);
        let mut ids: HashMap<String, AuthorId> =
            known.into_iter().map(|(login, id)| (login, AuthorId(id))).collect();
        if !self.dry_run {
            let origin = self.origin.clone();
            let made: Vec<(String, AuthorId)> = services
                .commit(move |unit| {
                    Box::pin(async move {
                        let mut made = Vec::new();
                        for author in &fresh {
                            let name = one_line(&author.name, &author.login);
                            let now = unit.now();
                            let record = unit.find_or_create_author(&name, now).await?;
                            unit.map_import(&origin, "author", &author.login, record.id.get())
                                .await?;
                            let new = paths::author_path(record.id, &record.name);
                            let old = format!("/author/{}/", author.login);
                            unit.add_url_redirect(&old, &new).await?;
                            let feed = format!("{new}feed.atom");
                            unit.add_url_redirect(&format!("{old}feed/"), &feed).await?;
                            if !author.id.is_empty() {
                                let by_id = format!("/?author={}", author.id);
                                unit.add_url_redirect(&by_id, &new).await?;
                            }
                            made.push((author.login.clone(), record.id));
                        }
                        // The old site's own feeds.
                        for old in [
                            "/feed/",
                            "/comments/feed/",
                            "/?feed=rss2",
                            "/?feed=atom",
                            "/?feed=rss",
                        ] {
                            unit.add_url_redirect(old, "/feed.atom").await?;
                        }
                        unit.site_changed();
                        Ok::<_, StoreError>(made)
                    })
                })
                .await?;
            ids.extend(made);
        }
        for author in &authors {
            if let Some(id) = ids.get(&author.login)
                && !author.id.is_empty()
            {
                self.author_ids_by_wp_id.insert(author.id.clone(), *id);
            }
        }
        self.authors = ids;
        Ok(())
    }
}

fn one_line(name: &str, fallback: &str) -> String {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() { fallback.to_owned() } else { name }
}

/// What an item becomes.
#[derive(Debug)]
enum Fate {
    Article { status: ArticleStatus, published_at: Option<i64>, label: &'static str },
    Skipped(String),
}

fn fate(item: &Node, now: i64, summary: &mut Summary) -> Fate {
    let kind = or_unknown(item.get("wp:post_type"));
    let status = item.get("wp:status");
    let id = item_key(item);
    let at = gmt(item.get("wp:post_date_gmt"));
    let draft = Fate::Article { status: ArticleStatus::Draft, published_at: None, label: "draft" };
    match kind {
        "post" | "?" => {}
        "attachment" => {
            return Fate::Skipped("attachments: images keep their original addresses".into());
        }
        other => return Fate::Skipped(format!("{other}: not a post")),
    }
    if !item.get("wp:post_password").is_empty() && status != "trash" {
        summary.note(format!("post {id} is password-protected: imported as a draft"));
        return draft;
    }
    match status {
        "publish" => Fate::Article {
            status: ArticleStatus::Published,
            published_at: Some(at.unwrap_or(now)),
            label: "published",
        },
        "future" => match at {
            Some(at) if at > now => Fate::Article {
                status: ArticleStatus::Scheduled,
                published_at: Some(at),
                label: "scheduled",
            },
            _ => {
                summary.note(format!(
                    "post {id} was scheduled for a time now past (a missed schedule): imported as a draft"
                ));
                draft
            }
        },
        "draft" | "pending" | "private" | "auto-draft" => draft,
        "trash" => Fate::Skipped("posts in the trash".into()),
        "" => {
            summary.note(format!("post {id} has no wp:status: imported as a draft"));
            draft
        }
        other => {
            summary.note(format!("post {id} has the status {other:?}: imported as a draft"));
            draft
        }
    }
}

/// One batch in one unit of work (or, for a dry run, read only).
async fn import_batch(
    services: &Services,
    context: std::sync::Arc<Context>,
    batch: Vec<Node>,
) -> Result<Summary, StoreError> {
    let keys: Vec<String> = batch.iter().map(item_key).collect();
    let comment_ids: Vec<String> =
        batch.iter().flat_map(|i| i.all("wp:comment").map(comment_key)).collect();
    let origin = context.origin.clone();
    let (articles, replies) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let articles = db.imported(&origin, "article", &keys).await?;
                let replies = db.imported(&origin, "reply", &comment_ids).await?;
                Ok((articles, replies))
            })
        })
        .await?;
    let known =
        Known { articles: articles.into_iter().collect(), replies: replies.into_iter().collect() };
    if context.dry_run {
        let mut summary = Summary::default();
        for item in &batch {
            plan_item(&context, &known, item, &mut summary);
        }
        return Ok(summary);
    }
    services
        .commit(move |unit| {
            Box::pin(async move {
                let mut summary = Summary::default();
                for item in &batch {
                    write_item(unit, &context, &known, item, &mut summary).await?;
                }
                unit.site_changed();
                Ok::<_, StoreError>(summary)
            })
        })
        .await
}

/// What the map says is there already.
#[derive(Default)]
pub(super) struct Known {
    pub(super) articles: HashMap<String, i64>,
    pub(super) replies: HashMap<String, i64>,
}

/// A dry run's account of an item: what a real run would do, from reads alone.
fn plan_item(context: &Context, known: &Known, item: &Node, summary: &mut Summary) {
    let key = item_key(item);
    match fate(item, context.now, summary) {
        Fate::Skipped(reason) => {
            summary.skip(&reason, 1);
            let replies = item.all("wp:comment").count() as u64;
            summary.skip("replies on items not imported", replies);
            return;
        }
        Fate::Article { label, .. } if known.articles.contains_key(&key) => {
            summary.already("articles", label, 1)
        }
        Fate::Article { label, .. } => summary.count("articles", label, 1),
    }
    plan_replies(context, known, item, summary);
}

/// A dry run's account of an item's comments.
pub(super) fn plan_replies(context: &Context, known: &Known, item: &Node, summary: &mut Summary) {
    for comment in item.all("wp:comment") {
        match reply_fate(comment, context.keep_pings) {
            Err(reason) => summary.skip(&reason, 1),
            Ok((status, link)) if known.replies.contains_key(&comment_key(comment)) => {
                summary.already(reply_kind(link), status.as_str(), 1)
            }
            Ok((status, link)) => summary.count(reply_kind(link), status.as_str(), 1),
        }
    }
}

/// A comment's id in the export; one without (partial exports) is named by what it says.
pub(super) fn comment_key(comment: &Node) -> String {
    match comment.get("wp:comment_id") {
        "" => content_key(&[
            comment.raw("wp:comment_content"),
            comment.get("wp:comment_date_gmt"),
            comment.raw("wp:comment_author"),
        ]),
        id => id.to_owned(),
    }
}

/// What a comment becomes: its status, or why it is skipped.
/// What a comment becomes: its status and whether it is a link-back (a pingback or trackback
/// kept with `--pingbacks keep`), or why it is skipped.
fn reply_fate(comment: &Node, keep_pings: bool) -> Result<(ReplyStatus, bool), String> {
    let link_back = match comment.get("wp:comment_type") {
        "" | "comment" => false,
        "pingback" | "trackback" if keep_pings => true,
        "pingback" | "trackback" => return Err("pingbacks and trackbacks".into()),
        other => return Err(format!("comments of type {other:?}")),
    };
    let status = match comment.get("wp:comment_approved") {
        "1" | "approve" | "approved" => ReplyStatus::Approved,
        "spam" => ReplyStatus::Spam,
        "trash" | "post-trashed" => ReplyStatus::Trash,
        _ => ReplyStatus::Pending,
    };
    Ok((status, link_back))
}

/// Whether any of an item's comments would come in (pingbacks may not).
pub(super) fn takes_replies(context: &Context, item: &Node) -> bool {
    item.all("wp:comment").any(|c| reply_fate(c, context.keep_pings).is_ok())
}

/// The summary's kind for a reply.
fn reply_kind(link_back: bool) -> &'static str {
    if link_back { "link-backs" } else { "replies" }
}

async fn write_item(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    known: &Known,
    item: &Node,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let key = item_key(item);
    let (status, published_at, label) = match fate(item, context.now, summary) {
        Fate::Skipped(reason) => {
            summary.skip(&reason, 1);
            summary.skip("replies on items not imported", item.all("wp:comment").count() as u64);
            return Ok(());
        }
        Fate::Article { status, published_at, label } => (status, published_at, label),
    };
    let article = match known.articles.get(&key) {
        Some(id) => {
            summary.already("articles", label, 1);
            ArticleId(*id)
        }
        None => {
            let id = write_article(unit, context, item, status, published_at, summary).await?;
            unit.map_import(&context.origin, "article", &key, id.get()).await?;
            summary.count("articles", label, 1);
            id
        }
    };
    write_replies(unit, context, known, item, article, summary).await
}

async fn write_article(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    item: &Node,
    status: ArticleStatus,
    published_at: Option<i64>,
    summary: &mut Summary,
) -> Result<ArticleId, StoreError> {
    let wp_id = item.get("wp:post_id");
    let title = content::plain_text(item.raw("title"));
    let headline = Headline::parse(&title)
        .or_else(|_| Headline::parse(&title.chars().take(300).collect::<String>()))
        .or_else(|_| Headline::parse("(no title)"))
        .map_err(StoreError::Database)?;
    let slug = free_slug(unit, &slug_for(item)).await?;
    let source = content::post_source(item.raw("content:encoded"), &context.survey.attachments);
    let source = context.library.rewrite(&source);
    let body_html = content::post_html(&source);
    // The featured image, when it came into the library.
    let image = super::uploads::meta(item, "_thumbnail_id")
        .and_then(|id| context.library.media_for(id))
        .map(|id| crate::store::Image {
            url: crate::domain::media::library_path(id),
            caption: String::new(),
            alt: String::new(),
            media: None,
        });
    let standfirst = content::plain_text(item.raw("excerpt:encoded"));
    let (section, tags) = terms(unit, context, item).await?;
    let creator = item.get("dc:creator");
    let author = match context.authors.get(creator) {
        Some(id) => *id,
        None => {
            let name = if creator.is_empty() { "Unknown author" } else { creator };
            let now = unit.now();
            unit.find_or_create_author(name, now).await?.id
        }
    };
    let fields = ArticleFields {
        slug,
        headline,
        standfirst,
        body_markdown: source.clone(),
        body_html,
        author_ids: vec![author],
        section_id: section.as_ref().map(|(s, _)| *s),
        tag_ids: tags.iter().map(|t| t.id).collect(),
        image,
        replies_open: item.get("wp:comment_status") != "closed",
        word_count: text::word_count(&text::readable_text(&content::post_html(&source))),
        seo: Default::default(),
    };
    let created_at = gmt(item.get("wp:post_date_gmt")).or(published_at).unwrap_or(context.now);
    let date_path = match status {
        ArticleStatus::Published => published_at.map(|at| time::date_path(at, &context.tz)),
        _ => None,
    };
    let new = NewArticle {
        fields: fields.clone(),
        status,
        date_path: date_path.clone(),
        published_at,
        created_at,
    };
    let id = unit.insert_article(&new).await?;
    if !context.library.is_empty() {
        // So that the image's variants, made later, are shown by this article too.
        unit.set_media_uses(id, &text::media_in(&source)).await?;
    }
    let section_name = section.map(|(_, name)| name).unwrap_or_default();
    let kind = crate::domain::RevisionKind::Imported;
    publishing::record_revision(unit, id, &fields, &tags, &section_name, None, kind).await?;
    if let Some(date_path) = &date_path {
        let path = paths::article_path(date_path, fields.slug.as_str());
        for old in old_addresses(item, "p") {
            if old != path {
                unit.add_url_redirect(&old, &path).await?;
            }
        }
        let feed = old_path(item.get("link"))
            .filter(|p| !p.contains('?'))
            .map(|p| format!("{}feed/", with_slash(&p)));
        if let Some(feed) = feed {
            unit.add_url_redirect(&feed, &format!("{path}feed.atom")).await?;
        }
    }
    if !wp_id.is_empty() && fields.slug.as_str() != slug_for(item).as_str() {
        summary.note(format!(
            "post {wp_id}: the slug {:?} was taken, so it is {:?}",
            slug_for(item).as_str(),
            fields.slug.as_str()
        ));
    }
    Ok(id)
}

fn with_slash(path: &str) -> String {
    if path.ends_with('/') { path.to_owned() } else { format!("{path}/") }
}

/// The addresses the old site gave an item: its link, its guid, and `?p=ID`.
pub(super) fn old_addresses(item: &Node, query: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for url in [item.get("link"), item.get("guid")] {
        if let Some(path) = old_path(url)
            && path != "/"
            && !paths.contains(&path)
        {
            paths.push(path);
        }
    }
    let id = item.get("wp:post_id");
    if !id.is_empty() {
        let by_id = format!("/?{query}={id}");
        if !paths.contains(&by_id) {
            paths.push(by_id);
        }
    }
    paths
}

/// The slug the post asks for: its `wp:post_name`, decoded, or one made from its id.
pub(super) fn slug_for(item: &Node) -> Slug {
    let name = decode_slug(item.get("wp:post_name"));
    if let Some(slug) = Slug::parse(&name) {
        return slug;
    }
    let made = Slug::from_headline(&name);
    if !name.is_empty() && made.as_str() != "article" {
        return made;
    }
    let id = item.get("wp:post_id");
    Slug::from_headline(&format!("post {}", if id.is_empty() { "untitled" } else { id }))
}

/// `base`, or `base-2`, `base-3`… whichever is free (the unit sees its own inserts).
async fn free_slug(unit: &mut UnitOfWork<'_>, base: &Slug) -> Result<Slug, StoreError> {
    for n in 1..=10_000 {
        let slug = if n == 1 { base.clone() } else { base.numbered(n) };
        if !unit.slug_exists(slug.as_str()).await? {
            return Ok(slug);
        }
    }
    Err(StoreError::Conflict("the slug"))
}

/// The post's section (its first category) and tags (its other categories, and its tags),
/// found or created, with the old site's addresses for them.
async fn terms(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    item: &Node,
) -> Result<(Option<(crate::domain::SectionId, String)>, Vec<crate::store::Tag>), StoreError> {
    let mut section = None;
    let mut tag_terms: Vec<(String, String, bool)> = Vec::new();
    for term in item.all("category") {
        let domain = term.attr("domain").unwrap_or("category");
        let nicename = decode_slug(term.attr("nicename").unwrap_or(""));
        let name = content::plain_text(&term.text);
        let name = if name.is_empty() { nicename.clone() } else { name };
        if name.is_empty() {
            continue;
        }
        match domain {
            "category" if section.is_none() => {
                let slug = Slug::from_headline(&name);
                let (found, _) = unit.find_or_create_section(&name, slug.as_str()).await?;
                let old = format!("/category/{}/", category_path(context, &nicename));
                let new = paths::section_path(&found.slug);
                unit.add_url_redirect(&old, &new).await?;
                unit.add_url_redirect(&format!("{old}feed/"), &format!("{new}feed.atom")).await?;
                category_by_id(unit, context, &nicename, &new).await?;
                section = Some((found.id, found.name));
            }
            "category" => tag_terms.push((name, nicename, true)),
            "post_tag" | "tag" => tag_terms.push((name, nicename, false)),
            _ => {}
        }
    }
    // One term at a time: two terms may be one tag (the store leaves out repeats), and each
    // term's old address must go to its own.
    let mut tags: Vec<crate::store::Tag> = Vec::new();
    for (name, nicename, is_category) in &tag_terms {
        let wanted = [(name.clone(), Slug::from_headline(name).to_string())];
        let Some(tag) = unit.find_or_create_tags(&wanted).await?.pop() else { continue };
        let new = paths::tag_path(&tag.slug);
        let old = if *is_category {
            category_by_id(unit, context, nicename, &new).await?;
            format!("/category/{}/", category_path(context, nicename))
        } else {
            unit.add_url_redirect(&format!("/?tag={nicename}"), &new).await?;
            format!("/tag/{nicename}/")
        };
        if old != new {
            unit.add_url_redirect(&old, &new).await?;
        }
        unit.add_url_redirect(&format!("{old}feed/"), &format!("{new}feed.atom")).await?;
        if !tags.iter().any(|t| t.id == tag.id) {
            tags.push(tag);
        }
    }
    Ok((section, tags))
}

/// `?cat=ID`, WordPress's plain address of a category, when the export lists its id.
async fn category_by_id(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    nicename: &str,
    new: &str,
) -> Result<(), StoreError> {
    match context.survey.categories.get(nicename).filter(|c| !c.id.is_empty()) {
        Some(category) => unit.add_url_redirect(&format!("/?cat={}", category.id), new).await,
        None => Ok(()),
    }
}

/// `parent/child`: a category's path on the old site, through its parents.
fn category_path(context: &Context, nicename: &str) -> String {
    let mut parts = vec![nicename.to_owned()];
    let mut at = nicename.to_owned();
    while let Some(category) = context.survey.categories.get(&at) {
        if category.parent.is_empty() || parts.contains(&category.parent) || parts.len() > 20 {
            break;
        }
        parts.push(category.parent.clone());
        at = category.parent.clone();
    }
    parts.reverse();
    parts.join("/")
}

/// The item's comments, parents before their answers whatever the file's order; a parent
/// missing from the file leaves its answers at the top.
pub(super) async fn write_replies(
    unit: &mut UnitOfWork<'_>,
    context: &Context,
    known: &Known,
    item: &Node,
    article: ArticleId,
    summary: &mut Summary,
) -> Result<(), StoreError> {
    let comments: Vec<&Node> = item.all("wp:comment").collect();
    let keys: Vec<String> = comments.iter().map(|c| comment_key(c)).collect();
    let mut ids: HashMap<String, ReplyId> =
        known.replies.iter().map(|(k, v)| (k.clone(), ReplyId(*v))).collect();
    let order = parents_first(&keys, |i| Some(comments[i].get("wp:comment_parent")));
    let mut changed = false;
    for i in order {
        let (comment, wp_id) = (comments[i], keys[i].as_str());
        let (status, link_back) = match reply_fate(comment, context.keep_pings) {
            Ok(fate) => fate,
            Err(reason) => {
                summary.skip(&reason, 1);
                continue;
            }
        };
        if known.replies.contains_key(wp_id) {
            summary.already(reply_kind(link_back), status.as_str(), 1);
            continue;
        }
        let parent = comment.get("wp:comment_parent");
        let parent_id = ids.get(parent).copied();
        if parent_id.is_none() && !parent.is_empty() && parent != "0" {
            summary.note(format!(
                "comment {wp_id} answers comment {parent}, which is not in the file: shown at the top"
            ));
        }
        let url = comment.get("wp:comment_author_url");
        let reply = ImportedReply {
            article_id: article,
            parent_id,
            author_name: one_line(
                &content::plain_text(comment.raw("wp:comment_author")),
                "Anonymous",
            ),
            author_email: comment.get("wp:comment_author_email").to_owned(),
            author_url: (url.starts_with("http://") || url.starts_with("https://"))
                .then(|| url.to_owned()),
            body: content::comment_text(comment.raw("wp:comment_content")),
            status,
            ip: Some(comment.get("wp:comment_author_IP"))
                .filter(|ip| !ip.is_empty())
                .map(str::to_owned),
            author_id: context.author_ids_by_wp_id.get(comment.get("wp:comment_user_id")).copied(),
            created_at: gmt(comment.get("wp:comment_date_gmt"))
                .or_else(|| gmt(comment.get("wp:comment_date")))
                .unwrap_or(context.now),
            link_back,
        };
        let id = unit.insert_imported_reply(&reply).await?;
        unit.map_import(&context.origin, "reply", wp_id, id.get()).await?;
        ids.insert(wp_id.to_owned(), id);
        changed |= status == ReplyStatus::Approved;
        summary.count(reply_kind(link_back), status.as_str(), 1);
    }
    if changed {
        let target = unit.article(article).await?.and_then(|a| a.public_path());
        unit.replies_changed(target);
    }
    Ok(())
}

/// The most recent sticky post leads the front page.
async fn set_lead(services: &Services, origin: &str, key: &str) -> Result<(), StoreError> {
    let (origin, key) = (origin.to_owned(), key.to_owned());
    services
        .commit(move |unit| {
            Box::pin(async move {
                let found = unit.imported(&origin, "article", std::slice::from_ref(&key)).await?;
                if let Some((_, id)) = found.first() {
                    unit.set_setting(SiteSetting::LeadArticle, Some(&id.to_string())).await?;
                    unit.site_changed();
                }
                Ok::<_, StoreError>(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_utc_and_zeros_are_none() {
        assert_eq!(gmt("1970-01-01 00:01:00"), Some(60));
        assert_eq!(gmt("0000-00-00 00:00:00"), None);
        assert_eq!(gmt(""), None);
    }

    #[test]
    fn slugs_are_decoded_and_made_from_the_id_when_empty() {
        let item = |name: &str| Node {
            name: "item".into(),
            children: vec![
                Node { name: "wp:post_name".into(), text: name.into(), ..Node::default() },
                Node { name: "wp:post_id".into(), text: "12".into(), ..Node::default() },
            ],
            ..Node::default()
        };
        assert_eq!(slug_for(&item("%d0%bf%d1%80%d0%b8")).as_str(), "при");
        assert_eq!(slug_for(&item("")).as_str(), "post-12");
        assert_eq!(slug_for(&item("Hello_World")).as_str(), "hello-world");
    }

    #[test]
    fn thread_depth_follows_parents_and_survives_loops() {
        let parents: HashMap<&str, &str> =
            [("1", "0"), ("2", "1"), ("3", "2"), ("4", "5"), ("5", "4")].into();
        assert_eq!(depth_of("3", &parents), 3);
        assert_eq!(depth_of("1", &parents), 1);
        assert!(depth_of("4", &parents) <= 3);
    }
}
