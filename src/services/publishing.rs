//! Publishing: writing, scheduling, publishing and correcting articles, with a revision kept
//! at every save. Each save is one unit of work: the fields, the byline, tags and section,
//! an old slug's redirect, the status, the lead story and the revision commit together.

use super::{Services, UnitOfWork};
use crate::domain::{
    ArticleId, ArticleStatus, AuthorId, EventKind, FieldError, Headline, NoteKind, RevisionId,
    RevisionKind, Slug, UserId, text, time,
};
use std::collections::HashMap;

use crate::domain::MediaId;
use crate::domain::media::{self, MediaView};
use crate::services::media as media_service;
use crate::store::{
    Article, ArticleFields, ArticleNote, ArticleQuery, ArticleReads, ArticleSummary, ArticleWrites,
    Author, Db, Image, MediaReads, MediaWrites, NewArticle, Revision, Section, SettingReads,
    SettingWrites, SiteSetting, StaffReads, StoreError, Tag, User,
};

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
    pub id: ArticleId,
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Messages by the editor's field names.
    #[error("{}", messages(.0))]
    Fields(Vec<FieldError>),
    #[error("you may edit your own articles only")]
    Forbidden,
    #[error("no such article")]
    NotFound,
    /// Someone saved the article since this editor was opened: nothing was written.
    #[error("the article changed since it was opened")]
    Conflict(Box<Conflict>),
    /// Deleting for ever is for articles in the trash, by editors and admins.
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What changed an article since an editor opened it.
#[derive(Debug)]
pub struct Conflict {
    /// The revision the editor was opened on (if it is still kept).
    pub opened: Option<Revision>,
    /// The article's latest revision, which the save would have overwritten.
    pub current: Revision,
    /// Who made it.
    pub by: String,
}

fn messages(errors: &[FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn field_error(field: &'static str, message: impl Into<String>) -> PublishError {
    PublishError::Fields(vec![FieldError::new(field, message)])
}

/// Publishes now: the date in the URL is today's in the site's time zone, and stays.
pub async fn publish(services: &Services, draft: &Draft) -> Result<Published, PublishError> {
    publish_at(services, draft, services.clock.now()).await
}

/// Publishes with a given publication time (for imports and demo content).
pub async fn publish_at(
    services: &Services,
    draft: &Draft,
    published_at: i64,
) -> Result<Published, PublishError> {
    let headline = Headline::parse(&draft.headline).map_err(|e| field_error("headline", e))?;
    let author = draft.author.trim().to_owned();
    if author.is_empty() || author.chars().any(char::is_control) {
        return Err(field_error("author", "the author's name must be one line of text"));
    }
    let draft = draft.clone();
    let date_path = time::date_path(published_at, &services.config.timezone);
    let body_html = text::markdown_html(&draft.body_markdown);
    services
        .commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                let author = unit.find_or_create_author(&author, now).await?;
                let slug =
                    free_slug(&mut **unit, &Slug::from_headline(headline.as_str()), None).await?;
                let fields = ArticleFields {
                    slug,
                    headline,
                    standfirst: one_line(&draft.standfirst),
                    body_markdown: draft.body_markdown.clone(),
                    body_html,
                    author_ids: vec![author.id],
                    section_id: None,
                    tag_ids: Vec::new(),
                    image: None,
                    replies_open: draft.replies_open,
                    word_count: text::word_count(&draft.body_markdown),
                    seo: Default::default(),
                };
                let new = NewArticle {
                    fields: fields.clone(),
                    status: ArticleStatus::Published,
                    date_path: Some(date_path.clone()),
                    published_at: Some(published_at),
                    created_at: published_at,
                };
                let id = unit.insert_article(&new).await?;
                record_revision(unit, id, &fields, &[], "", None, RevisionKind::Published).await?;
                unit.record(EventKind::ArticlePublished, id, None);
                unit.site_changed();
                let path = crate::domain::paths::article_path(&date_path, fields.slug.as_str());
                Ok(Published { id, path })
            })
        })
        .await
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `base`, or `base-2`, `base-3`… whichever is free (an article's own slug counts as free).
async fn free_slug(
    db: &mut dyn Db,
    base: &Slug,
    own: Option<&Article>,
) -> Result<Slug, StoreError> {
    for n in 1..=1000 {
        let slug = if n == 1 { base.clone() } else { base.numbered(n) };
        if !slug_taken(db, slug.as_str(), own).await? {
            return Ok(slug);
        }
    }
    Err(StoreError::Conflict("the slug"))
}

async fn slug_taken(
    db: &mut dyn Db,
    slug: &str,
    own: Option<&Article>,
) -> Result<bool, StoreError> {
    if let Some(article) = own
        && (article.slug == slug || db.slug_redirect(slug).await? == Some(article.id))
    {
        return Ok(false);
    }
    db.slug_exists(slug).await
}

/// What the editor's form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditorInput {
    pub headline: String,
    pub standfirst: String,
    pub slug: String,
    pub author_ids: Vec<AuthorId>,
    pub section: String,
    pub tags: String,
    pub body_markdown: String,
    pub image_url: String,
    pub image_caption: String,
    pub image_alt: String,
    pub replies_open: bool,
    pub lead: bool,
    /// Publish even though an image has no description (the editor warned).
    pub without_descriptions: bool,
    pub seo_title: String,
    pub seo_description: String,
    pub social_image: String,
}

/// What a save does besides saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the status the article has (a new article is a draft).
    Save,
    Publish,
    /// Publish by itself at this time (Unix seconds); `None` when none was given.
    Schedule(Option<i64>),
    /// Back to draft: the public page answers 404 again.
    Unpublish,
}

/// What a revision saved by `action` was.
fn kind_after(action: Action) -> RevisionKind {
    match action {
        Action::Save => RevisionKind::Saved,
        Action::Publish => RevisionKind::Published,
        Action::Schedule(_) => RevisionKind::Scheduled,
        Action::Unpublish => RevisionKind::Unpublished,
    }
}

/// Whether `user` may edit `article`: editors and admins all; authors their own.
pub fn can_edit(user: &User, article: &Article) -> bool {
    user.role.edits_all_articles() || article.authors.iter().any(|a| a.id == user.author.id)
}

/// What the editor's input becomes, checked: the fields to store and the tags they name.
struct Checked {
    fields: ArticleFields,
    tags: Vec<Tag>,
}

/// Checks the editor's input and turns it into what the store saves (finding or creating
/// the section and the tags), inside the save's unit of work.
async fn fields_from(
    unit: &mut UnitOfWork<'_>,
    input: &EditorInput,
    body_html: String,
    user: &User,
    own: Option<&Article>,
) -> Result<Checked, PublishError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut error = |field, message: String| errors.push(FieldError::new(field, message));
    let headline =
        Headline::parse(&input.headline).map_err(|e| error("headline", sentence(&e))).ok();
    // No column takes a NUL (see `store::value`); said beside the field, the text kept.
    for (field, text) in [
        ("standfirst", &input.standfirst),
        ("slug", &input.slug),
        ("section", &input.section),
        ("tags", &input.tags),
        ("body", &input.body_markdown),
        ("image_url", &input.image_url),
        ("image_caption", &input.image_caption),
        ("image_alt", &input.image_alt),
        ("seo_title", &input.seo_title),
        ("seo_description", &input.seo_description),
        ("social_image", &input.social_image),
    ] {
        if text.contains('\0') {
            error(field, "This field contains a NUL character (U+0000); please remove it.".into());
        }
    }
    let standfirst = one_line(&input.standfirst);
    if standfirst.chars().count() > 500 {
        error("standfirst", "The standfirst must be at most 500 characters.".into());
    }
    let typed_slug = input.slug.trim();
    let slug = match typed_slug {
        "" => headline.as_ref().map(|h| Slug::from_headline(h.as_str())),
        typed => {
            let slug = Slug::parse(typed);
            if slug.is_none() {
                error(
                    "slug",
                    "Use lowercase letters, digits and single hyphens, such as \
                     council-approves-budget."
                        .into(),
                );
            }
            slug
        }
    };
    let section_name = one_line(&input.section);
    if section_name.chars().count() > 80 {
        error("section", "A section's name must be at most 80 characters.".into());
    }
    let tags = tag_names(&input.tags);
    if tags.len() > 20 || tags.iter().any(|t| t.chars().count() > 50) {
        error("tags", "Use at most 20 tags of at most 50 characters each.".into());
    }
    if input.body_markdown.chars().count() > 200_000 {
        error("body", "The body must be at most 200,000 characters.".into());
    }
    let image = image_from(input).map_err(|e| errors.push(e)).ok().flatten();
    let slug = match slug {
        Some(slug) if typed_slug.is_empty() => Some(free_slug(&mut **unit, &slug, own).await?),
        Some(slug) if slug_taken(&mut **unit, slug.as_str(), own).await? => {
            errors.push(FieldError::new("slug", "Another article already uses this slug."));
            None
        }
        other => other,
    };
    let seo = seo_from(input).map_err(|e| errors.extend(e)).ok();
    // Without a headline or a slug there is an error to say so.
    let (Some(headline), Some(slug), Some(seo), true) = (headline, slug, seo, errors.is_empty())
    else {
        return Err(PublishError::Fields(errors));
    };
    let author_ids = byline_of(&mut **unit, input, user).await?;
    let section_id = match section_name.as_str() {
        "" => None,
        name => {
            let slug = Slug::from_headline(name);
            // A new section shows on every page: for editors to add.
            if !user.role.edits_all_articles() && !section_exists(&mut **unit, name, &slug).await? {
                let message = "Only editors add sections; choose one of the site's sections.";
                return Err(PublishError::Fields(vec![FieldError::new("section", message)]));
            }
            let (section, created) = unit.find_or_create_section(name, slug.as_str()).await?;
            if created {
                // A new section shows in every page's navigation.
                unit.site_changed();
            }
            Some(section.id)
        }
    };
    let pairs: Vec<_> =
        tags.iter().map(|t| (t.clone(), Slug::from_headline(t).to_string())).collect();
    let tags = unit.find_or_create_tags(&pairs).await?;
    let fields = ArticleFields {
        slug,
        headline,
        standfirst,
        body_markdown: input.body_markdown.clone(),
        body_html,
        author_ids,
        section_id,
        tag_ids: tags.iter().map(|t| t.id).collect(),
        image,
        replies_open: input.replies_open,
        word_count: text::word_count(&input.body_markdown),
        seo,
    };
    Ok(Checked { fields, tags })
}

async fn section_exists(db: &mut dyn Db, name: &str, slug: &Slug) -> Result<bool, StoreError> {
    let sections = db.sections().await?;
    Ok(sections.iter().any(|s| s.name == name || s.slug == slug.as_str()))
}

/// The byline: known authors only, each once, in the order chosen.
async fn byline_of(
    db: &mut dyn Db,
    input: &EditorInput,
    user: &User,
) -> Result<Vec<AuthorId>, StoreError> {
    let known: Vec<AuthorId> = db.authors().await?.iter().map(|a| a.id).collect();
    let mut ids: Vec<AuthorId> = Vec::new();
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

/// A message as a sentence: capitalised, with its full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let rest: String = chars.collect();
    if rest.ends_with('.') { format!("{first}{rest}") } else { format!("{first}{rest}.") }
}

/// The title, description and image for search engines and social cards, each checked.
fn seo_from(input: &EditorInput) -> Result<crate::store::Seo, Vec<FieldError>> {
    let mut errors = Vec::new();
    let title = one_line(&input.seo_title);
    if title.chars().count() > 200 {
        errors.push(FieldError::new("seo_title", "The search title: at most 200 characters."));
    }
    let description = one_line(&input.seo_description);
    if description.chars().count() > 500 {
        errors.push(FieldError::new(
            "seo_description",
            "The search description: at most 500 characters.",
        ));
    }
    let raw = input.social_image.trim();
    let image = if raw.is_empty() {
        String::new()
    } else if let Some(id) = media::library_id(raw) {
        media::library_path(id)
    } else {
        match crate::domain::reply::Website::parse_optional(raw, 2000) {
            Ok(Some(url)) if url.as_str().starts_with("https://") => url.as_str().to_owned(),
            _ => {
                errors.push(FieldError::new(
                    "social_image",
                    "The social image: an image of the library (/media/12) or an address \
                     starting with https://.",
                ));
                String::new()
            }
        }
    };
    if errors.is_empty() {
        Ok(crate::store::Seo { title, description, image })
    } else {
        Err(errors)
    }
}

fn image_from(input: &EditorInput) -> Result<Option<Image>, FieldError> {
    let url = input.image_url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    // A library image: its description and caption are the library's unless given here.
    if let Some(id) = media::library_id(url) {
        let (alt, caption) = (one_line(&input.image_alt), one_line(&input.image_caption));
        if caption.chars().count() > 500 || alt.chars().count() > 500 {
            return Err(FieldError::new(
                "image_caption",
                "Caption and description: at most 500 characters.",
            ));
        }
        return Ok(Some(Image { url: media::library_path(id), caption, alt, media: None }));
    }
    let parsed = crate::domain::reply::Website::parse_optional(url, 2000).map_err(|_| {
        FieldError::new("image_url", "The image's address must start with https:// or http://.")
    })?;
    let alt = one_line(&input.image_alt);
    if alt.is_empty() {
        return Err(FieldError::new(
            "image_alt",
            "Describe the image for readers who cannot see it.",
        ));
    }
    let caption = one_line(&input.image_caption);
    if caption.chars().count() > 500 || alt.chars().count() > 500 {
        return Err(FieldError::new(
            "image_caption",
            "Caption and description: at most 500 characters.",
        ));
    }
    Ok(parsed.map(|url| Image { url: url.as_str().to_owned(), caption, alt, media: None }))
}

fn slug_error(e: StoreError) -> PublishError {
    match e {
        StoreError::Conflict(_) => field_error("slug", "Another article already uses this slug."),
        other => other.into(),
    }
}

/// An article's body rendered with the library images it shows, and which those are (with
/// the featured image, if it is the library's).
struct Body {
    html: String,
    media: Vec<MediaId>,
    views: HashMap<MediaId, MediaView>,
}

impl Body {
    async fn render(services: &Services, input: &EditorInput) -> Result<Body, PublishError> {
        let mut ids = text::media_in(&input.body_markdown);
        if let Some(id) = media::library_id(input.image_url.trim())
            && !ids.contains(&id)
        {
            ids.push(id);
        }
        let wanted = ids.clone();
        let views = services
            .store
            .read(move |db| Box::pin(async move { media_service::views_for(db, &wanted).await }))
            .await?;
        let html = media_service::render_body(&input.body_markdown, &views);
        Ok(Body { html, media: ids, views })
    }

    /// Publishing (or scheduling) an article that shows an image with no description is
    /// refused once, naming each image, unless the editor says to go ahead.
    fn description_errors(&self, input: &EditorInput, action: Action) -> Vec<FieldError> {
        let publishing = matches!(action, Action::Publish | Action::Schedule(_));
        if !publishing || input.without_descriptions {
            return Vec::new();
        }
        let mut missing = Vec::new();
        for (url, alt) in text::images_in(&input.body_markdown) {
            if !alt.trim().is_empty() {
                continue;
            }
            match media::library_id(&url) {
                Some(id) => match self.views.get(&id) {
                    Some(view) if view.alt.trim().is_empty() => {
                        missing.push(format!("{}.{}", view.name, view.format.extension()))
                    }
                    Some(_) => {}
                    None => missing.push(url),
                },
                None => missing.push(url),
            }
        }
        // Images in raw HTML (an imported body's): each without a description, by address.
        let shown: Vec<String> =
            text::images_in(&input.body_markdown).into_iter().map(|(url, _)| url).collect();
        for src in text::images_without_alt(&self.html) {
            let name = match self.views.values().find(|v| v.serves(&src)) {
                Some(view) => format!("{}.{}", view.name, view.format.extension()),
                None => src.clone(),
            };
            let from_markdown = shown.iter().any(|url| {
                *url == src
                    || media::library_id(url)
                        .is_some_and(|id| self.views.get(&id).is_some_and(|v| v.serves(&src)))
            });
            if !from_markdown && !missing.contains(&name) {
                missing.push(name);
            }
        }
        let featured = input.image_url.trim();
        if let Some(id) = media::library_id(featured)
            && input.image_alt.trim().is_empty()
            && self.views.get(&id).is_some_and(|v| v.alt.trim().is_empty())
        {
            let view = &self.views[&id];
            missing.push(format!("{}.{} (the featured image)", view.name, view.format.extension()));
        }
        if missing.is_empty() {
            return Vec::new();
        }
        vec![FieldError::new(
            "body",
            format!(
                "These images have no description for readers who cannot see them: {}. \
                 Describe each (in the Markdown, ![description](…), or on its page in Media), \
                 or tick “Publish without descriptions”.",
                missing.join(", ")
            ),
        )]
    }
}

/// What a save is refused for before anything is read: the time to schedule at (missing,
/// past, or an article published before) and images without descriptions. Reported with the
/// fields' own problems, all at once.
fn early_errors(
    body: &Body,
    input: &EditorInput,
    action: Action,
    article: Option<&Article>,
    now: i64,
) -> Vec<FieldError> {
    let mut errors = body.description_errors(input, action);
    if let Action::Schedule(at) = action {
        let message = match at {
            None => Some("Give the date and time to publish at, such as 2026-11-25 09:00."),
            Some(_) if article.is_some_and(|a| a.date_path.is_some()) => {
                Some("This article has been published before: publish it again instead.")
            }
            Some(at) if at <= now => Some("Choose a time in the future, or publish now."),
            Some(_) => None,
        };
        errors.extend(message.map(|m| FieldError::new("publish_at", m)));
    }
    errors
}

/// The fields checked, with `early`'s problems reported beside theirs.
async fn checked_fields(
    unit: &mut UnitOfWork<'_>,
    input: &EditorInput,
    html: String,
    user: &User,
    own: Option<&Article>,
    mut early: Vec<FieldError>,
) -> Result<Checked, PublishError> {
    match fields_from(unit, input, html, user, own).await {
        Ok(checked) if early.is_empty() => Ok(checked),
        Ok(_) => Err(PublishError::Fields(early)),
        Err(PublishError::Fields(mut errors)) => {
            errors.append(&mut early);
            Err(PublishError::Fields(errors))
        }
        Err(other) => Err(other),
    }
}

/// Creates an article from the editor; returns its id.
pub async fn create(
    services: &Services,
    user: &User,
    input: &EditorInput,
    action: Action,
) -> Result<ArticleId, PublishError> {
    let staff = user.id.get();
    let (user, input) = (user.clone(), input.clone());
    let body = Body::render(services, &input).await?;
    let early = early_errors(&body, &input, action, None, services.clock.now());
    let tz = services.config.timezone.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                let checked = checked_fields(unit, &input, body.html, &user, None, early).await?;
                let new = NewArticle {
                    fields: checked.fields.clone(),
                    status: ArticleStatus::Draft,
                    date_path: None,
                    published_at: None,
                    created_at: now,
                };
                let id = unit.insert_article(&new).await.map_err(slug_error)?;
                unit.set_media_uses(id, &body.media).await?;
                let article = unit.article(id).await?.ok_or(PublishError::NotFound)?;
                apply_action(unit, &tz, &article, action).await?;
                set_lead(unit, &user, id, input.lead).await?;
                let Checked { fields, tags } = checked;
                let kind = kind_after(action);
                record_revision(unit, id, &fields, &tags, &input.section, Some(user.id), kind)
                    .await?;
                Ok(id)
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, ?action, "created an article"))
}

/// Saves the editor's changes to an article. `opened` is the revision the editor was opened
/// on: if another has been saved since, nothing is written and the save is refused with what
/// changed (`None` saves whatever happened meanwhile).
pub async fn update(
    services: &Services,
    user: &User,
    id: ArticleId,
    input: &EditorInput,
    action: Action,
    opened: Option<RevisionId>,
) -> Result<(), PublishError> {
    save_as(services, user, id, input, action, opened, kind_after(action)).await
}

async fn save_as(
    services: &Services,
    user: &User,
    id: ArticleId,
    input: &EditorInput,
    action: Action,
    opened: Option<RevisionId>,
    kind: RevisionKind,
) -> Result<(), PublishError> {
    let staff = user.id.get();
    let (user, input) = (user.clone(), input.clone());
    let body = Body::render(services, &input).await?;
    let tz = services.config.timezone.clone();
    let now = services.clock.now();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let now_in_unit = unit.now();
                let article =
                    article_proper(&mut **unit, id).await?.ok_or(PublishError::NotFound)?;
                if !can_edit(&user, &article) {
                    return Err(PublishError::Forbidden);
                }
                if let Some(opened) = opened {
                    refuse_if_changed(&mut **unit, id, opened).await?;
                }
                let early = early_errors(&body, &input, action, Some(&article), now);
                let Checked { fields, tags } =
                    checked_fields(unit, &input, body.html, &user, Some(&article), early).await?;
                unit.update_article(id, &fields, now_in_unit).await.map_err(slug_error)?;
                unit.set_media_uses(id, &body.media).await?;
                // A published article's old address keeps answering, with a 301 to the new one.
                if fields.slug.as_str() != article.slug && article.date_path.is_some() {
                    unit.add_slug_redirect(&article.slug, id).await?;
                }
                apply_action(unit, &tz, &article, action).await?;
                set_lead(unit, &user, id, input.lead).await?;
                record_revision(unit, id, &fields, &tags, &input.section, Some(user.id), kind)
                    .await?;
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, article = id.get(), ?action, "saved an article"))
}

/// Refuses a save made on revision `opened` when a later one has been saved: two people
/// editing one article never overwrite each other without knowing.
async fn refuse_if_changed(
    db: &mut dyn Db,
    id: ArticleId,
    opened: RevisionId,
) -> Result<(), PublishError> {
    let revisions = db.revisions(id).await?;
    let Some(current) = revisions.first() else { return Ok(()) };
    if current.id == opened {
        return Ok(());
    }
    let by = match current.user_id {
        Some(user) => db.user(user).await?.map_or_else(String::new, |u| u.author.name),
        None => String::new(),
    };
    let opened = revisions.iter().find(|r| r.id == opened).cloned();
    Err(PublishError::Conflict(Box::new(Conflict { opened, current: current.clone(), by })))
}

/// Moves the article to the status `action` asks for, and says what became public.
async fn apply_action(
    unit: &mut UnitOfWork<'_>,
    tz: &jiff::tz::TimeZone,
    article: &Article,
    action: Action,
) -> Result<(), PublishError> {
    let now = unit.now();
    let was_public = article.status == ArticleStatus::Published;
    let (status, date_path, published_at) = match action {
        Action::Save => (article.status, article.date_path.clone(), article.published_at),
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
            // `early_errors` refused a missing, past or second-time schedule already.
            let at = at.ok_or_else(|| field_error("publish_at", "Give the time to publish at."))?;
            (ArticleStatus::Scheduled, None, Some(at))
        }
        Action::Unpublish => {
            (ArticleStatus::Draft, article.date_path.clone(), article.published_at)
        }
    };
    if action != Action::Save {
        unit.set_article_status(article.id, status, date_path.as_deref(), published_at, now)
            .await?;
    }
    let is_public = status == ArticleStatus::Published;
    let kind = match (was_public, is_public) {
        (false, true) => Some(EventKind::ArticlePublished),
        (true, true) => Some(EventKind::ArticleUpdated),
        (true, false) => Some(EventKind::ArticleUnpublished),
        (false, false) => None,
    };
    if let Some(kind) = kind {
        unit.record(kind, article.id, None);
        // Headlines, bylines and standfirsts show on listings, feeds and related articles.
        unit.site_changed();
    }
    Ok(())
}

/// Makes the article the lead story, or not. The lead heads the front page: an author's
/// choice is not asked for and not taken (the lead stays as it was).
async fn set_lead(
    unit: &mut UnitOfWork<'_>,
    user: &User,
    id: ArticleId,
    lead: bool,
) -> Result<(), StoreError> {
    if !user.role.edits_all_articles() {
        return Ok(());
    }
    let current = lead_id(&mut **unit).await?;
    let wanted = match (lead, current) {
        (true, _) => Some(id),
        (false, Some(current)) if current == id => None,
        (false, other) => other,
    };
    if wanted != current {
        let value = wanted.map(|id| id.to_string());
        unit.set_setting(SiteSetting::LeadArticle, value.as_deref()).await?;
        unit.site_changed();
    }
    Ok(())
}

/// The lead story's id, if one is set.
pub async fn lead_id(db: &mut dyn Db) -> Result<Option<ArticleId>, StoreError> {
    Ok(db.setting(SiteSetting::LeadArticle).await?.and_then(|v| ArticleId::parse(&v)))
}

pub(crate) async fn record_revision(
    unit: &mut UnitOfWork<'_>,
    article_id: ArticleId,
    fields: &ArticleFields,
    tags: &[Tag],
    section: &str,
    user_id: Option<UserId>,
    kind: RevisionKind,
) -> Result<(), StoreError> {
    let revision = Revision {
        id: RevisionId(0),
        article_id,
        user_id,
        created_at: unit.now(),
        headline: fields.headline.as_str().to_owned(),
        standfirst: fields.standfirst.clone(),
        slug: fields.slug.to_string(),
        body_markdown: fields.body_markdown.clone(),
        section: one_line(section),
        tags: tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
        authors: fields.author_ids.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(","),
        image_url: fields.image.as_ref().map(|i| i.url.clone()),
        image_caption: fields.image.as_ref().map(|i| i.caption.clone()).unwrap_or_default(),
        image_alt: fields.image.as_ref().map(|i| i.alt.clone()).unwrap_or_default(),
        replies_open: fields.replies_open,
        kind,
        seo: fields.seo.clone(),
    };
    unit.insert_revision(&revision).await?;
    Ok(())
}

/// The editor's input as a revision had it, for restoring.
pub fn input_from_revision(revision: &Revision, lead: bool) -> EditorInput {
    EditorInput {
        headline: revision.headline.clone(),
        standfirst: revision.standfirst.clone(),
        slug: revision.slug.clone(),
        author_ids: revision.authors.split(',').filter_map(AuthorId::parse).collect(),
        section: revision.section.clone(),
        tags: revision.tags.clone(),
        body_markdown: revision.body_markdown.clone(),
        image_url: revision.image_url.clone().unwrap_or_default(),
        image_caption: revision.image_caption.clone(),
        image_alt: revision.image_alt.clone(),
        replies_open: revision.replies_open,
        lead,
        without_descriptions: false,
        seo_title: revision.seo.title.clone(),
        seo_description: revision.seo.description.clone(),
        social_image: revision.seo.image.clone(),
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
        without_descriptions: false,
        seo_title: article.seo.title.clone(),
        seo_description: article.seo.description.clone(),
        social_image: article.seo.image.clone(),
    }
}

/// Restores a revision: the article as it was, saved as a new revision; the status stays.
pub async fn restore(
    services: &Services,
    user: &User,
    id: ArticleId,
    revision: RevisionId,
) -> Result<(), PublishError> {
    let (_, revision, _, lead) = revision_of(services, user, id, revision).await?;
    let input = input_from_revision(&revision, lead);
    save_as(services, user, id, &input, Action::Save, None, RevisionKind::Restored).await
}

/// Puts an article in the trash: a published or scheduled one goes back to draft (its
/// address answers `404`), and stops being the lead story; it can be restored.
pub async fn trash(services: &Services, user: &User, id: ArticleId) -> Result<(), PublishError> {
    let staff = user.id.get();
    let user = user.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                let article =
                    article_proper(&mut **unit, id).await?.ok_or(PublishError::NotFound)?;
                if !can_edit(&user, &article) {
                    return Err(PublishError::Forbidden);
                }
                if article.status != ArticleStatus::Draft {
                    let (date, at) = (article.date_path.clone(), article.published_at);
                    let at = at.filter(|_| date.is_some());
                    unit.set_article_status(id, ArticleStatus::Draft, date.as_deref(), at, now)
                        .await?;
                }
                if article.status == ArticleStatus::Published {
                    unit.record(EventKind::ArticleUnpublished, id, None);
                    unit.site_changed();
                }
                if lead_id(&mut **unit).await? == Some(id) {
                    unit.set_setting(SiteSetting::LeadArticle, None).await?;
                    unit.site_changed();
                }
                unit.set_trashed(id, Some(now)).await?;
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, article = id.get(), "put an article in the trash"))
}

/// Takes an article out of the trash, as a draft.
pub async fn untrash(services: &Services, user: &User, id: ArticleId) -> Result<(), PublishError> {
    let staff = user.id.get();
    let user = user.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let article =
                    article_proper(&mut **unit, id).await?.ok_or(PublishError::NotFound)?;
                if !can_edit(&user, &article) {
                    return Err(PublishError::Forbidden);
                }
                unit.set_trashed(id, None).await?;
                Ok(())
            })
        })
        .await
        .inspect(|_| {
            tracing::info!(staff, article = id.get(), "restored an article from the trash")
        })
}

/// Deletes an article for ever, with its replies and revisions: only from the trash, and only
/// by editors and admins.
pub async fn delete_for_ever(
    services: &Services,
    user: &User,
    id: ArticleId,
) -> Result<(), PublishError> {
    if !user.role.edits_all_articles() {
        return Err(PublishError::NotAllowed("Only editors and admins delete articles for ever."));
    }
    let staff = user.id.get();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let article =
                    article_proper(&mut **unit, id).await?.ok_or(PublishError::NotFound)?;
                if article.trashed_at.is_none() {
                    return Err(PublishError::NotAllowed(
                        "Only an article in the trash is deleted for ever: put it there first.",
                    ));
                }
                unit.delete_article(id).await?;
                // Its old addresses and slugs answered with redirects, which are gone too.
                unit.site_changed();
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, article = id.get(), "deleted an article for ever"))
}

/// Appends a correction or update to an article.
pub async fn add_note(
    services: &Services,
    user: &User,
    id: ArticleId,
    kind: NoteKind,
    body: &str,
) -> Result<(), PublishError> {
    let staff = user.id.get();
    let body = body.trim().to_owned();
    let user = user.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let article = unit.article(id).await?.ok_or(PublishError::NotFound)?;
                // Who may not edit the article learns nothing about what the note would be.
                if !can_edit(&user, &article) {
                    return Err(PublishError::Forbidden);
                }
                if body.is_empty() || body.chars().count() > 2000 {
                    return Err(field_error("note", "Write the note: at most 2,000 characters."));
                }
                let now = unit.now();
                unit.add_note(id, kind, &body, now).await?;
                if article.status == ArticleStatus::Published {
                    unit.record(EventKind::ArticleUpdated, id, None);
                    unit.site_changed();
                }
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, article = id.get(), "added a note"))
}

/// Publishes every scheduled article whose time has come (also after the server was down),
/// each in its own unit of work; returns how many this node published.
pub async fn publish_due(services: &Services) -> Result<usize, StoreError> {
    let now = services.clock.now();
    let due = services.store.read(move |db| db.due_articles(now)).await?;
    let mut published = 0;
    for article in due {
        let published_at = article.published_at.unwrap_or(now);
        let date_path = time::date_path(published_at, &services.config.timezone);
        let id = article.id;
        // Several nodes may find it due at once: only one of them publishes it.
        let won = services
            .commit(move |unit| {
                Box::pin(async move {
                    let now = unit.now();
                    let won = unit.publish_scheduled(id, &date_path, published_at, now).await?;
                    if won {
                        unit.record(EventKind::ArticlePublished, id, None);
                        unit.site_changed();
                    }
                    Ok::<_, StoreError>(won)
                })
            })
            .await?;
        if won {
            tracing::info!(article = %id, "published on schedule");
            published += 1;
        }
    }
    Ok(published)
}

/// The article `id`, if it exists and `user` may edit it.
pub async fn editable(
    services: &Services,
    user: &User,
    id: ArticleId,
) -> Result<Article, PublishError> {
    let article = services
        .store
        .read(move |db| Box::pin(async move { article_proper(db, id).await }))
        .await?;
    let article = article.ok_or(PublishError::NotFound)?;
    if can_edit(user, &article) { Ok(article) } else { Err(PublishError::Forbidden) }
}

/// The article `id`, unless it is the row a static page's replies hang on: that is the
/// page's, and the editor must not open (or publish) it.
async fn article_proper(db: &mut dyn Db, id: ArticleId) -> Result<Option<Article>, StoreError> {
    use crate::store::{PageReads, ThreadReads};
    if db.page_of_discussion(id).await?.is_some() || db.thread(id).await?.is_some() {
        return Ok(None);
    }
    db.article(id).await
}

/// The newsroom's list of articles, with what its filters offer.
pub struct ArticleList {
    pub articles: Vec<ArticleSummary>,
    pub total: u64,
    pub authors: Vec<Author>,
    pub sections: Vec<Section>,
    /// The front page's lead story.
    pub lead: Option<ArticleId>,
}

/// Articles, newest change first; authors see their own only.
pub async fn list(
    services: &Services,
    user: &User,
    mut query: ArticleQuery,
) -> Result<ArticleList, StoreError> {
    if !user.role.edits_all_articles() {
        query.author_id = Some(user.author.id);
    }
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let (articles, total) = db.list_articles(&query).await?;
                Ok(ArticleList {
                    articles,
                    total,
                    authors: db.authors().await?,
                    sections: db.sections().await?,
                    lead: lead_id(db).await?,
                })
            })
        })
        .await
}

/// What the editor shows besides the article's own fields.
pub struct EditorData {
    pub article: Option<Article>,
    pub lead: bool,
    pub authors: Vec<Author>,
    pub sections: Vec<Section>,
    pub notes: Vec<ArticleNote>,
    /// The library's newest images, to insert or feature.
    pub library: Vec<crate::store::Media>,
    /// The article's latest revision: what the editor opened it on, so that a save made
    /// after someone else's is refused (see [`update`]).
    pub revision: Option<RevisionId>,
}

/// How many of the library's newest images the editor offers.
const EDITOR_LIBRARY: u64 = 12;

/// A body's HTML as it will be saved (library images and all), for the previews.
pub async fn preview_body(services: &Services, markdown: &str) -> Result<String, StoreError> {
    let ids = text::media_in(markdown);
    let views = services
        .store
        .read(move |db| Box::pin(async move { media_service::views_for(db, &ids).await }))
        .await?;
    Ok(media_service::render_body(markdown, &views))
}

/// The editor for a new article (`None`) or one `user` may edit.
pub async fn editor(
    services: &Services,
    user: &User,
    id: Option<ArticleId>,
) -> Result<EditorData, PublishError> {
    let data = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let article = match id {
                    Some(id) => Some(
                        article_proper(db, id).await?.ok_or(StoreError::NotFound("the article"))?,
                    ),
                    None => None,
                };
                let (notes, revision) = match &article {
                    Some(a) => {
                        (db.notes(a.id).await?, db.revisions(a.id).await?.first().map(|r| r.id))
                    }
                    None => (Vec::new(), None),
                };
                let lead = lead_id(db).await?;
                let newest =
                    crate::store::MediaQuery { limit: EDITOR_LIBRARY, ..Default::default() };
                Ok(EditorData {
                    lead: article.as_ref().is_some_and(|a| Some(a.id) == lead),
                    article,
                    authors: db.authors().await?,
                    sections: db.sections().await?,
                    notes,
                    library: db.media_list(&newest).await?.0,
                    revision,
                })
            })
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => PublishError::NotFound,
            other => other.into(),
        })?;
    match &data.article {
        Some(article) if !can_edit(user, article) => Err(PublishError::Forbidden),
        _ => Ok(data),
    }
}

/// An article as readers will see it, whatever its status, with its notes.
pub async fn preview(
    services: &Services,
    user: &User,
    id: ArticleId,
) -> Result<(Article, Vec<ArticleNote>), PublishError> {
    let article = editable(services, user, id).await?;
    let notes = services.store.read(move |db| db.notes(id)).await?;
    Ok((article, notes))
}

/// An article's revisions, newest first, each with who saved it.
pub async fn revisions(
    services: &Services,
    user: &User,
    id: ArticleId,
) -> Result<(Article, Vec<(Revision, String)>), PublishError> {
    let article = editable(services, user, id).await?;
    let rows = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let mut rows = Vec::new();
                for revision in db.revisions(id).await? {
                    let by = match revision.user_id {
                        Some(user) => db
                            .user(user)
                            .await?
                            .map_or("a former account".into(), |u| u.author.name),
                        None => "the command line".to_owned(),
                    };
                    rows.push((revision, by));
                }
                Ok(rows)
            })
        })
        .await?;
    Ok((article, rows))
}

/// One revision of an article, the one before it, and whether the article is the lead.
pub async fn revision_of(
    services: &Services,
    user: &User,
    id: ArticleId,
    revision: RevisionId,
) -> Result<(Article, Revision, Option<Revision>, bool), PublishError> {
    let article = editable(services, user, id).await?;
    let (revision, before, lead) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(revision) = db.revision(revision).await?.filter(|r| r.article_id == id)
                else {
                    return Ok((None, None, false));
                };
                let before = db.revisions(id).await?.into_iter().find(|r| r.id < revision.id);
                let lead = lead_id(db).await? == Some(id);
                Ok((Some(revision), before, lead))
            })
        })
        .await?;
    Ok((article, revision.ok_or(PublishError::NotFound)?, before, lead))
}

/// How bodies are rendered from Markdown and indexed for search, as a number: bumped with
/// every change to what a stored body or its index would be (2: headings start at h2, every
/// image has an alt, footnotes' ids; 3: search's stems).
pub const RENDER_VERSION: &str = "3";

/// Renders every article's and page's body again from its Markdown (and indexes it again for
/// search) when the stored ones were made by an older version of the rendering or for another
/// `language`, so that an upgrade changes old pages as it changes new ones. A batch per unit
/// of work; returns how many articles were rendered.
pub async fn render_again(services: &Services) -> Result<u64, StoreError> {
    use crate::store::{PageReads, PageWrites};
    let language = services.config.language.tag().to_owned();
    let wanted = format!("{RENDER_VERSION} {language}");
    let (version, indexed_for) = services
        .store
        .read(|db| {
            Box::pin(async move {
                Ok((
                    db.setting(SiteSetting::RenderedWith).await?,
                    db.setting(SiteSetting::Language).await?,
                ))
            })
        })
        .await?;
    if indexed_for.as_deref() != Some(language.as_str()) {
        // What every save indexes with (read by the store as it indexes).
        services
            .commit(move |unit| {
                Box::pin(
                    async move { unit.set_setting(SiteSetting::Language, Some(&language)).await },
                )
            })
            .await?;
    }
    if version.as_deref() == Some(wanted.as_str()) {
        return Ok(0);
    }
    let (mut after, mut rendered) = (0, 0);
    loop {
        let sources = services.store.read(move |db| db.article_sources(after, 200)).await?;
        let Some((last, _)) = sources.last() else { break };
        after = last.get();
        rendered += sources.len() as u64;
        services
            .commit(move |unit| {
                Box::pin(async move {
                    for (id, markdown) in &sources {
                        let views =
                            media_service::views_for(&mut **unit, &text::media_in(markdown))
                                .await?;
                        unit.set_body_html(*id, &media_service::render_body(markdown, &views))
                            .await?;
                    }
                    Ok::<_, StoreError>(())
                })
            })
            .await?;
    }
    services
        .commit(move |unit| {
            Box::pin(async move {
                for page in unit.pages().await? {
                    unit.set_page_body_html(page.id, &text::markdown_html(&page.body_markdown))
                        .await?;
                }
                unit.set_setting(SiteSetting::RenderedWith, Some(&wanted)).await?;
                unit.site_changed();
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    Ok(rendered)
}

/// Fills in the readable text of articles saved before Byline kept it, so that search finds
/// their bodies after an upgrade; a batch per unit of work. Returns how many batches.
pub async fn fill_body_text(services: &Services) -> Result<u64, StoreError> {
    let (mut after, mut batches) = (0, 0);
    loop {
        let last = services
            .commit(move |unit| Box::pin(async move { unit.fill_body_text(after, 500).await }))
            .await?;
        match last {
            Some(last) => (after, batches) = (last, batches + 1),
            None => return Ok(batches),
        }
    }
}
