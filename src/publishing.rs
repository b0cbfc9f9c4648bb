//! Publishing: writing, scheduling, publishing and correcting articles, with a revision kept
//! at every save. Used by the newsroom's editor and by the command line.

use jiff::tz::TimeZone;

use crate::domain::{ArticleStatus, Headline, NoteKind, Slug, text, time};
use crate::store::{Article, ArticleFields, Image, NewArticle, Revision, Store, StoreError, User};

/// The setting that names the lead story.
pub const LEAD_SETTING: &str = "lead_article";

/// An article to publish at once, as the command line and the demo give it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub headline: String,
    pub standfirst: String,
    pub author: String,
    pub body_markdown: String,
    pub replies_open: bool,
}

/// A published article's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: i64,
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),
    /// Messages by editor field name.
    #[error("the article has errors")]
    Fields(Vec<(&'static str, String)>),
    #[error("you may not edit this article")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishes now: the date in the URL is today's in the site's time zone, and stays.
pub async fn publish(
    store: &dyn Store,
    tz: &TimeZone,
    draft: &Draft,
) -> Result<Published, PublishError> {
    publish_at(store, tz, draft, time::now()).await
}

/// Publishes with a given publication time (for imports and demo content).
pub async fn publish_at(
    store: &dyn Store,
    tz: &TimeZone,
    draft: &Draft,
    published_at: i64,
) -> Result<Published, PublishError> {
    let headline = Headline::parse(&draft.headline).map_err(PublishError::Invalid)?;
    let author_name = draft.author.trim();
    if author_name.is_empty() || author_name.chars().any(char::is_control) {
        return Err(PublishError::Invalid("the author's name must be one line of text".into()));
    }
    let author = store.find_or_create_author(author_name).await?;
    let slug = free_slug(store, &Slug::from_headline(headline.as_str()), None).await?;
    let fields = ArticleFields {
        slug: slug.to_string(),
        headline: headline.as_str().to_owned(),
        standfirst: one_line(&draft.standfirst),
        body_markdown: draft.body_markdown.clone(),
        body_html: text::markdown_html(&draft.body_markdown),
        author_ids: vec![author.id],
        section_id: None,
        tag_ids: Vec::new(),
        image: None,
        replies_open: draft.replies_open,
        word_count: text::word_count(&draft.body_markdown),
    };
    let date_path = time::date_path(published_at, tz);
    let new = NewArticle {
        fields: fields.clone(),
        status: ArticleStatus::Published,
        date_path: Some(date_path.clone()),
        published_at: Some(published_at),
        created_at: published_at,
    };
    let id = store.insert_article(&new).await?;
    record_revision(store, id, &fields, "", None).await?;
    Ok(Published { id, path: article_path(&date_path, &fields.slug) })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `base`, or `base-2`, `base-3`… whichever is free (an article's own slug counts as free).
async fn free_slug(
    store: &dyn Store,
    base: &Slug,
    own: Option<&Article>,
) -> Result<Slug, StoreError> {
    for n in 1..=1000 {
        let slug = if n == 1 { base.clone() } else { base.numbered(n) };
        if !slug_taken(store, slug.as_str(), own).await? {
            return Ok(slug);
        }
    }
    Err(StoreError::Conflict("the slug"))
}

async fn slug_taken(
    store: &dyn Store,
    slug: &str,
    own: Option<&Article>,
) -> Result<bool, StoreError> {
    if let Some(article) = own
        && (article.slug == slug || store.slug_redirect(slug).await? == Some(article.id))
    {
        return Ok(false);
    }
    store.slug_exists(slug).await
}

/// `/2026/11/24/the-slug/`, with the slug percent-encoded for any script.
pub fn article_path(date_path: &str, slug: &str) -> String {
    format!("/{date_path}/{}/", encode_segment(slug))
}

/// A slug made safe for one segment of a URL path (and for a `Location` header).
pub fn encode_segment(slug: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const PATH_SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'/')
        .add(b'%');
    utf8_percent_encode(slug, PATH_SEGMENT).to_string()
}

/// Where a published article lives.
pub fn public_path(article: &Article) -> String {
    article_path(article.date_path.as_deref().unwrap_or("unpublished"), &article.slug)
}

/// What the editor's form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditorInput {
    pub headline: String,
    pub standfirst: String,
    pub slug: String,
    pub author_ids: Vec<i64>,
    pub section: String,
    pub tags: String,
    pub body_markdown: String,
    pub image_url: String,
    pub image_caption: String,
    pub image_alt: String,
    pub replies_open: bool,
    pub lead: bool,
}

/// What a save does besides saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the status the article has (a new article is a draft).
    Save,
    Publish,
    /// Publish by itself at this time (Unix seconds).
    Schedule(i64),
    /// Back to draft: the public page answers 404 again.
    Unpublish,
}

/// Whether `user` may edit `article`: editors and admins all; authors their own.
pub fn can_edit(user: &User, article: &Article) -> bool {
    user.role.edits_all_articles() || article.authors.iter().any(|a| a.id == user.author.id)
}

/// Checks the editor's input and turns it into what the store saves.
async fn fields_from(
    store: &dyn Store,
    input: &EditorInput,
    user: &User,
    own: Option<&Article>,
) -> Result<ArticleFields, PublishError> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let headline = Headline::parse(&input.headline)
        .map_err(|e| errors.push(("headline", format!("The headline: {e}."))))
        .ok();
    let standfirst = one_line(&input.standfirst);
    if standfirst.chars().count() > 500 {
        errors.push(("standfirst", "The standfirst must be at most 500 characters.".into()));
    }
    let slug = match input.slug.trim() {
        "" => headline.as_ref().map(|h| Slug::from_headline(h.as_str())),
        typed => {
            let slug = Slug::parse(typed);
            if slug.is_none() {
                errors.push((
                    "slug",
                    "Use lowercase letters, digits and single hyphens, such as \
                     council-approves-budget."
                        .into(),
                ));
            }
            slug
        }
    };
    let slug = match slug {
        Some(slug) if input.slug.trim().is_empty() => Some(free_slug(store, &slug, own).await?),
        Some(slug) if slug_taken(store, slug.as_str(), own).await? => {
            errors.push(("slug", "Another article already uses this slug.".into()));
            None
        }
        other => other,
    };
    let author_ids = byline_of(store, input, user).await?;
    let section_name = one_line(&input.section);
    if section_name.chars().count() > 80 {
        errors.push(("section", "A section's name must be at most 80 characters.".into()));
    }
    let tags = tag_names(&input.tags);
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        errors.push(("tags", "Use at most 20 tags of at most 50 characters each.".into()));
    }
    if input.body_markdown.chars().count() > 200_000 {
        errors.push(("body", "The body must be at most 200,000 characters.".into()));
    }
    let image = image_from(input).map_err(|(field, e)| errors.push((field, e))).ok().flatten();
    if !errors.is_empty() {
        return Err(PublishError::Fields(errors));
    }
    let section_id = match section_name.as_str() {
        "" => None,
        name => {
            let slug = Slug::from_headline(name);
            Some(store.find_or_create_section(name, slug.as_str()).await?.id)
        }
    };
    let tag_pairs: Vec<_> =
        tags.iter().map(|t| (t.clone(), Slug::from_headline(t).to_string())).collect();
    let tag_ids = store.find_or_create_tags(&tag_pairs).await?.into_iter().map(|t| t.id).collect();
    Ok(ArticleFields {
        slug: slug.map(|s| s.to_string()).unwrap_or_default(),
        headline: headline.map(|h| h.as_str().to_owned()).unwrap_or_default(),
        standfirst,
        body_markdown: input.body_markdown.clone(),
        body_html: text::markdown_html(&input.body_markdown),
        author_ids,
        section_id,
        tag_ids,
        image,
        replies_open: input.replies_open,
        word_count: text::word_count(&input.body_markdown),
    })
}

/// The byline: known authors only, each once, in the order chosen.
async fn byline_of(
    store: &dyn Store,
    input: &EditorInput,
    user: &User,
) -> Result<Vec<i64>, StoreError> {
    let known: Vec<i64> = store.authors().await?.iter().map(|a| a.id).collect();
    let mut ids: Vec<i64> = Vec::new();
    for id in &input.author_ids {
        if known.contains(id) && !ids.contains(id) {
            ids.push(*id);
        }
    }
    // No byline chosen means the writer's own; an author always keeps themselves on it.
    if ids.is_empty() || (!user.role.edits_all_articles() && !ids.contains(&user.author.id)) {
        ids.insert(0, user.author.id);
    }
    Ok(ids)
}

/// Tag names from a comma-separated list, trimmed, without duplicates.
pub fn tag_names(raw: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in raw.split(',').map(one_line).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    }
    names
}

fn image_from(input: &EditorInput) -> Result<Option<Image>, (&'static str, String)> {
    let url = input.image_url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let parsed = crate::domain::reply::Website::parse_optional(url, 2000).map_err(|_| {
        ("image_url", "The image's address must start with https:// or http://.".to_owned())
    })?;
    let alt = one_line(&input.image_alt);
    if alt.is_empty() {
        return Err(("image_alt", "Describe the image for readers who cannot see it.".into()));
    }
    let caption = one_line(&input.image_caption);
    if caption.chars().count() > 500 || alt.chars().count() > 500 {
        return Err(("image_caption", "Caption and description: at most 500 characters.".into()));
    }
    Ok(parsed.map(|url| Image { url: url.as_str().to_owned(), caption, alt }))
}

/// Creates an article from the editor; returns its id.
pub async fn create(
    store: &dyn Store,
    tz: &TimeZone,
    user: &User,
    input: &EditorInput,
    action: Action,
) -> Result<i64, PublishError> {
    let fields = fields_from(store, input, user, None).await?;
    let now = time::now();
    let new = NewArticle {
        fields: fields.clone(),
        status: ArticleStatus::Draft,
        date_path: None,
        published_at: None,
        created_at: now,
    };
    let id = store.insert_article(&new).await.map_err(slug_error)?;
    let article = store.article(id).await?.ok_or(StoreError::NotFound("the article"))?;
    apply_action(store, tz, &article, action, now).await?;
    set_lead(store, id, input.lead).await?;
    record_revision(store, id, &fields, &input.section, Some(user.id)).await?;
    Ok(id)
}

/// Saves the editor's changes to an article.
pub async fn update(
    store: &dyn Store,
    tz: &TimeZone,
    user: &User,
    article: &Article,
    input: &EditorInput,
    action: Action,
) -> Result<(), PublishError> {
    if !can_edit(user, article) {
        return Err(PublishError::Forbidden);
    }
    let fields = fields_from(store, input, user, Some(article)).await?;
    let now = time::now();
    store.update_article(article.id, &fields, now).await.map_err(slug_error)?;
    // A published article's old address keeps answering, with a 301 to the new one.
    if fields.slug != article.slug && article.date_path.is_some() {
        store.add_slug_redirect(&article.slug, article.id).await?;
    }
    apply_action(store, tz, article, action, now).await?;
    set_lead(store, article.id, input.lead).await?;
    record_revision(store, article.id, &fields, &input.section, Some(user.id)).await?;
    Ok(())
}

fn slug_error(e: StoreError) -> PublishError {
    match e {
        StoreError::Conflict(_) => {
            PublishError::Fields(vec![("slug", "Another article already uses this slug.".into())])
        }
        other => other.into(),
    }
}

async fn apply_action(
    store: &dyn Store,
    tz: &TimeZone,
    article: &Article,
    action: Action,
    now: i64,
) -> Result<(), PublishError> {
    let (status, date_path, published_at) = match action {
        Action::Save => return Ok(()),
        Action::Publish => {
            // The first publication fixes the date in the URL for good.
            let published_at = match &article.date_path {
                Some(_) => article.published_at.unwrap_or(now),
                None => now,
            };
            let date_path =
                article.date_path.clone().unwrap_or_else(|| time::date_path(published_at, tz));
            (ArticleStatus::Published, Some(date_path), Some(published_at))
        }
        Action::Schedule(at) => {
            if article.date_path.is_some() {
                return Err(PublishError::Fields(vec![(
                    "publish_at",
                    "This article has been published before: publish it again instead.".into(),
                )]));
            }
            if at <= now {
                return Err(PublishError::Fields(vec![(
                    "publish_at",
                    "Choose a time in the future, or publish now.".into(),
                )]));
            }
            (ArticleStatus::Scheduled, None, Some(at))
        }
        Action::Unpublish => {
            (ArticleStatus::Draft, article.date_path.clone(), article.published_at)
        }
    };
    store.set_article_status(article.id, status, date_path.as_deref(), published_at, now).await?;
    Ok(())
}

async fn set_lead(store: &dyn Store, id: i64, lead: bool) -> Result<(), StoreError> {
    let current = store.setting(LEAD_SETTING).await?;
    if lead {
        store.set_setting(LEAD_SETTING, Some(&id.to_string())).await
    } else if current.as_deref() == Some(id.to_string().as_str()) {
        store.set_setting(LEAD_SETTING, None).await
    } else {
        Ok(())
    }
}

/// The lead story's id, if one is set.
pub async fn lead_id(store: &dyn Store) -> Result<Option<i64>, StoreError> {
    Ok(store.setting(LEAD_SETTING).await?.and_then(|v| v.parse().ok()))
}

async fn record_revision(
    store: &dyn Store,
    article_id: i64,
    fields: &ArticleFields,
    section: &str,
    user_id: Option<i64>,
) -> Result<(), StoreError> {
    let tags = store.article(article_id).await?.map(|a| a.tags).unwrap_or_default();
    let revision = Revision {
        id: 0,
        article_id,
        user_id,
        created_at: time::now(),
        headline: fields.headline.clone(),
        standfirst: fields.standfirst.clone(),
        slug: fields.slug.clone(),
        body_markdown: fields.body_markdown.clone(),
        section: one_line(section),
        tags: tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        authors: fields.author_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        image_url: fields.image.as_ref().map(|i| i.url.clone()),
        image_caption: fields.image.as_ref().map(|i| i.caption.clone()).unwrap_or_default(),
        image_alt: fields.image.as_ref().map(|i| i.alt.clone()).unwrap_or_default(),
        replies_open: fields.replies_open,
    };
    store.insert_revision(&revision).await?;
    Ok(())
}

/// The editor's input as a revision had it, for restoring.
pub fn input_from_revision(revision: &Revision, lead: bool) -> EditorInput {
    EditorInput {
        headline: revision.headline.clone(),
        standfirst: revision.standfirst.clone(),
        slug: revision.slug.clone(),
        author_ids: revision.authors.split(',').filter_map(|id| id.parse().ok()).collect(),
        section: revision.section.clone(),
        tags: revision.tags.clone(),
        body_markdown: revision.body_markdown.clone(),
        image_url: revision.image_url.clone().unwrap_or_default(),
        image_caption: revision.image_caption.clone(),
        image_alt: revision.image_alt.clone(),
        replies_open: revision.replies_open,
        lead,
    }
}

/// The editor's input for an article as it is.
pub fn input_from_article(article: &Article, lead: bool) -> EditorInput {
    EditorInput {
        headline: article.headline.clone(),
        standfirst: article.standfirst.clone(),
        slug: article.slug.clone(),
        author_ids: article.authors.iter().map(|a| a.id).collect(),
        section: article.section.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        tags: article.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        body_markdown: article.body_markdown.clone(),
        image_url: article.image.as_ref().map(|i| i.url.clone()).unwrap_or_default(),
        image_caption: article.image.as_ref().map(|i| i.caption.clone()).unwrap_or_default(),
        image_alt: article.image.as_ref().map(|i| i.alt.clone()).unwrap_or_default(),
        replies_open: article.replies_open,
        lead,
    }
}

/// Appends a correction or update to a published article.
pub async fn add_note(
    store: &dyn Store,
    user: &User,
    article: &Article,
    kind: NoteKind,
    body: &str,
) -> Result<(), PublishError> {
    if !can_edit(user, article) {
        return Err(PublishError::Forbidden);
    }
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 2000 {
        return Err(PublishError::Fields(vec![(
            "note",
            "Write the note: at most 2,000 characters.".into(),
        )]));
    }
    store.add_note(article.id, kind, body, time::now()).await?;
    Ok(())
}

/// Publishes every scheduled article whose time has come (also after the server was down);
/// returns how many.
pub async fn publish_due(store: &dyn Store, tz: &TimeZone, now: i64) -> Result<usize, StoreError> {
    let mut published = 0;
    for article in store.due_articles(now).await? {
        let published_at = article.published_at.unwrap_or(now);
        let date_path = time::date_path(published_at, tz);
        // Several nodes may find it due at once: only one of them publishes it.
        if store.publish_scheduled(article.id, &date_path, published_at, now).await? {
            tracing::info!(article = article.id, "published on schedule");
            published += 1;
        }
    }
    Ok(published)
}
