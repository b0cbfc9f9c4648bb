//! The site's sections and tags, looked after by editors and admins: renamed, described,
//! merged into another, or deleted when no article uses them. A section or tag that moves
//! leaves its old address (and its feed's) answering with a `301` to the new one, as an
//! article's old slug does.

use super::Services;
use crate::domain::{FieldError, Slug};
use crate::store::{ImportWrites, StoreError, Term, TermKind, TermReads, TermWrites, User};

#[derive(Debug, thiserror::Error)]
pub enum TermError {
    #[error("the form has problems")]
    Invalid(Vec<FieldError>),
    #[error("only editors and admins look after sections and tags")]
    Forbidden,
    #[error("no such section or tag")]
    NotFound,
    /// Articles use it: merge it instead.
    #[error("{0} articles use it")]
    InUse(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every section or tag, by name, with how many articles use each.
pub async fn list(services: &Services, kind: TermKind) -> Result<Vec<Term>, StoreError> {
    services.store.read(move |db| db.terms(kind)).await
}

/// The section or tag with this slug.
pub async fn by_slug(
    services: &Services,
    kind: TermKind,
    slug: &str,
) -> Result<Option<Term>, StoreError> {
    let slug = slug.to_owned();
    services.store.read(move |db| Box::pin(async move { db.term_by_slug(kind, &slug).await })).await
}

/// The address of a section's or tag's page (`/section/local/`).
pub fn path(kind: TermKind, slug: &str) -> String {
    match kind {
        TermKind::Section => format!("/section/{slug}/"),
        TermKind::Tag => format!("/tag/{slug}/"),
    }
}

fn check_editor(user: &User) -> Result<(), TermError> {
    if user.role.edits_all_articles() { Ok(()) } else { Err(TermError::Forbidden) }
}

/// What a term's form asks for, checked.
struct Checked {
    name: String,
    slug: Slug,
    description: String,
}

fn check(name: &str, slug: &str, description: &str) -> Result<Checked, TermError> {
    let mut errors = Vec::new();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(FieldError::new("name", "Give it a name of at most 80 characters."));
    }
    let slug = match slug.trim() {
        "" => Some(Slug::from_headline(&name)),
        typed => Slug::parse(typed),
    };
    if slug.is_none() {
        errors.push(FieldError::new(
            "slug",
            "Use lowercase letters, digits and single hyphens, such as local-news.",
        ));
    }
    let description = description.trim().to_owned();
    if description.chars().count() > 1000 {
        errors.push(FieldError::new("description", "The description: at most 1,000 characters."));
    }
    match slug {
        Some(slug) if errors.is_empty() => Ok(Checked { name, slug, description }),
        _ => Err(TermError::Invalid(errors)),
    }
}

/// Old addresses of a term (its page and feed) answering with a `301` to another's, and the
/// addresses that led to the old one leading on to the new.
async fn move_addresses(
    tx: &mut dyn crate::store::Tx,
    kind: TermKind,
    from: &str,
    to: &str,
) -> Result<(), StoreError> {
    let (old, new) = (path(kind, from), path(kind, to));
    for suffix in ["", "feed.atom"] {
        let (old, new) = (format!("{old}{suffix}"), format!("{new}{suffix}"));
        tx.retarget_url_redirects(&old, &new).await?;
        tx.set_url_redirect(&old, &new).await?;
        // The new address answers for itself; no redirect may shadow it.
        tx.remove_url_redirect(&new).await?;
    }
    Ok(())
}

/// Renames (its name, its address) and describes a section or tag.
pub async fn update(
    services: &Services,
    user: &User,
    kind: TermKind,
    id: i64,
    fields: [&str; 3],
) -> Result<(), TermError> {
    check_editor(user)?;
    let Checked { name, slug, description } = check(fields[0], fields[1], fields[2])?;
    let staff = user.id.get();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let old = unit.term(kind, id).await?.ok_or(TermError::NotFound)?;
                let saved = unit.update_term(kind, id, &name, slug.as_str(), &description).await;
                match saved {
                    Err(StoreError::Conflict(_)) => {
                        return Err(TermError::Invalid(vec![FieldError::new(
                            "slug",
                            "Another one has this name or address: merge them instead.",
                        )]));
                    }
                    other => other?,
                };
                if old.slug != slug.as_str() {
                    move_addresses(&mut **unit, kind, &old.slug, slug.as_str()).await?;
                }
                // Names show in every page's navigation, on articles and in listings.
                unit.site_changed();
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, id, ?kind, "changed a section or tag"))
}

/// Merges `from` into `into`: its articles take `into`, its addresses lead there, and it is
/// gone.
pub async fn merge(
    services: &Services,
    user: &User,
    kind: TermKind,
    from: i64,
    into: i64,
) -> Result<(), TermError> {
    check_editor(user)?;
    if from == into {
        return Err(TermError::Invalid(vec![FieldError::new(
            "into",
            "Choose another one to merge it into.",
        )]));
    }
    let staff = user.id.get();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let old = unit.term(kind, from).await?.ok_or(TermError::NotFound)?;
                let target = unit.term(kind, into).await?.ok_or(TermError::NotFound)?;
                unit.merge_terms(kind, from, into).await?;
                move_addresses(&mut **unit, kind, &old.slug, &target.slug).await?;
                unit.site_changed();
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, from, into, ?kind, "merged sections or tags"))
}

/// Deletes a section or tag no article uses.
pub async fn delete(
    services: &Services,
    user: &User,
    kind: TermKind,
    id: i64,
) -> Result<(), TermError> {
    check_editor(user)?;
    let staff = user.id.get();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let term = unit.term(kind, id).await?.ok_or(TermError::NotFound)?;
                if term.articles > 0 || !unit.delete_term(kind, id).await? {
                    return Err(TermError::InUse(term.articles));
                }
                unit.site_changed();
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, id, ?kind, "deleted a section or tag"))
}
