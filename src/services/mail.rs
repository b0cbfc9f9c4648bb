//! Mail to readers: confirming an address, telling a confirmed address when a reply it
//! follows becomes public (at most `notify_max_per_hour` mails an hour; the rest in one
//! digest), and the use cases behind the links those mails carry (confirm, unsubscribe,
//! manage). Every mail leaves through the outbox's `mail` handler, after the reply's (or the
//! approval's) transaction committed; `mails_sent` keeps each to one sending across retries
//! and nodes.

use std::sync::{Arc, Weak};

use async_trait::async_trait;

use super::Services;
use super::outbox::Handler;
use crate::domain::events::Event;
use crate::domain::{EventKind, ReplyId, ReplyStatus, UserId};
use crate::mail::SendError;
use crate::mail::message::{Content, Letter, Link, Quote, build};
use crate::store::{
    HeldMail, MailAddress, Recipient, ReplyNews, StaffMailChoice, StaffMailReads, StaffMailWrites,
    StaffReads, StaffRecipient, StoreError, Subscription, SubscriptionReads, SubscriptionWrites,
};

/// An address that never confirmed is forgotten after this long (seconds).
pub const UNCONFIRMED_DAYS: i64 = 30;

/// Tokens name their row by a letter and its id: `a12.…` an address, `s34.…` a subscription.
const ADDRESS_TOKEN: (&str, char) = ("mail-address", 'a');
const SUBSCRIPTION_TOKEN: (&str, char) = ("mail-subscription", 's');
/// `u56.…`: an account's mails about new replies on its articles.
const AUTHOR_TOKEN: (&str, char) = ("mail-author-replies", 'u');

/// `a12.SIGNATURE`, signed with the row's creation time too, so that a token outlives neither
/// its row nor a later row that happens to get the same id.
fn token(services: &Services, (purpose, letter): (&str, char), id: i64, created_at: i64) -> String {
    format!("{letter}{id}.{}", services.keys.sign(purpose, &format!("{id}:{created_at}")))
}

/// The id and signature of a token of this kind.
fn token_id<'t>(token: &'t str, (_, letter): (&str, char)) -> Option<(i64, &'t str)> {
    let (id, signature) = token.strip_prefix(letter)?.split_once('.')?;
    Some((id.parse().ok()?, signature))
}

fn genuine(
    services: &Services,
    (purpose, _): (&str, char),
    id: i64,
    created_at: i64,
    signature: &str,
) -> bool {
    services.keys.verify(purpose, &format!("{id}:{created_at}"), signature)
}

/// The token of the page that manages an address's subscriptions.
pub fn address_token(services: &Services, address: &MailAddress) -> String {
    token(services, ADDRESS_TOKEN, address.id, address.created_at)
}

/// The token of one subscription's unsubscribe link.
pub fn subscription_token(services: &Services, id: i64, created_at: i64) -> String {
    token(services, SUBSCRIPTION_TOKEN, id, created_at)
}

/// The token of the one-click link in an author's mails about new replies: it ends them.
fn author_token(services: &Services, user: UserId) -> String {
    token(services, AUTHOR_TOKEN, user.get(), 0)
}

/// The account a genuine author's unsubscribe token names.
pub fn author_of_token(services: &Services, token: &str) -> Option<UserId> {
    let (id, signature) = token_id(token, AUTHOR_TOKEN)?;
    genuine(services, AUTHOR_TOKEN, id, 0, signature).then_some(UserId(id))
}

/// The address a genuine manage (or confirm) token names.
pub async fn address_of_token(
    services: &Services,
    token: &str,
) -> Result<Option<MailAddress>, StoreError> {
    let Some((id, signature)) = token_id(token, ADDRESS_TOKEN) else { return Ok(None) };
    let address = services.store.read(move |db| Box::pin(db.mail_address(id))).await?;
    Ok(address.filter(|a| genuine(services, ADDRESS_TOKEN, a.id, a.created_at, signature)))
}

/// The subscription a genuine unsubscribe token names.
pub async fn subscription_of_token(
    services: &Services,
    token: &str,
) -> Result<Option<Subscription>, StoreError> {
    let Some((id, signature)) = token_id(token, SUBSCRIPTION_TOKEN) else { return Ok(None) };
    let found = services.store.read(move |db| Box::pin(db.subscription(id))).await?;
    Ok(found.filter(|s| genuine(services, SUBSCRIPTION_TOKEN, s.id, s.created_at, signature)))
}

/// What an address follows.
pub async fn subscriptions(
    services: &Services,
    address: &MailAddress,
) -> Result<Vec<Subscription>, StoreError> {
    let id = address.id;
    services.store.read(move |db| Box::pin(db.subscriptions_of(id))).await
}

/// The address a subscription belongs to.
pub async fn address_of(
    services: &Services,
    subscription: &Subscription,
) -> Result<Option<MailAddress>, StoreError> {
    let id = subscription.address_id;
    services.store.read(move |db| Box::pin(db.mail_address(id))).await
}

/// Confirms the address a genuine token names; `None` if the token is not (any more).
pub async fn confirm(services: &Services, token: &str) -> Result<Option<MailAddress>, StoreError> {
    let Some(address) = address_of_token(services, token).await? else { return Ok(None) };
    let (id, now) = (address.id, services.clock.now());
    services.store.write(move |tx| Box::pin(tx.confirm_address(id, now))).await?;
    tracing::info!(address = id, "a reader confirmed their address for mail");
    Ok(Some(MailAddress { confirmed_at: address.confirmed_at.or(Some(now)), ..address }))
}

/// What an unsubscribe link ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsubscribed {
    /// One subscription (a notification's link).
    One(Subscription),
    /// Everything the address followed (a digest's link, or the manage page's button).
    All,
    /// An author's mails about new replies on their articles.
    Author,
}

/// Ends what a genuine unsubscribe token names: one subscription, or with an address's token
/// everything it follows. `None` if the token is not genuine, or names nothing any more.
pub async fn unsubscribe(
    services: &Services,
    token: &str,
) -> Result<Option<Unsubscribed>, StoreError> {
    if token.starts_with(ADDRESS_TOKEN.1) {
        return Ok(forget(services, token).await?.then_some(Unsubscribed::All));
    }
    if let Some(user) = author_of_token(services, token) {
        services
            .store
            .write(move |tx| {
                Box::pin(async move {
                    let choice = tx.staff_mail_choice(user).await?;
                    tx.set_staff_mail_choice(user, StaffMailChoice { replies: false, ..choice })
                        .await
                })
            })
            .await?;
        tracing::info!(user = user.get(), "an author stopped mails about new replies");
        return Ok(Some(Unsubscribed::Author));
    }
    let Some(subscription) = subscription_of_token(services, token).await? else {
        return Ok(None);
    };
    let id = subscription.id;
    services.store.write(move |tx| Box::pin(tx.unsubscribe(id))).await?;
    tracing::info!(subscription = id, "a reader unsubscribed");
    Ok(Some(Unsubscribed::One(subscription)))
}

/// Forgets the address a genuine token names, with everything it follows.
pub async fn forget(services: &Services, token: &str) -> Result<bool, StoreError> {
    let Some(address) = address_of_token(services, token).await? else { return Ok(false) };
    let id = address.id;
    services.store.write(move |tx| Box::pin(tx.forget_address(id))).await?;
    tracing::info!(address = id, "a reader unsubscribed from everything");
    Ok(true)
}

/// The mails given up lately (`mail_give_up_hours` of failures), newest first, with the
/// reason: for the newsroom's settings page.
pub async fn given_up(services: &Services) -> Result<Vec<crate::store::GivenUp>, StoreError> {
    use crate::store::OutboxReads;
    services.store.read(|db| Box::pin(db.given_up("mail", 20))).await
}

/// The outbox's handler that mails readers about replies, on whichever node claims the event.
pub struct Notifier {
    pub services: Weak<Services>,
}

#[async_trait]
impl Handler for Notifier {
    fn name(&self) -> &'static str {
        "mail"
    }

    fn kinds(&self) -> &'static [EventKind] {
        &[EventKind::ReplyPosted, EventKind::ReplyHeld, EventKind::ReplyApproved]
    }

    async fn handle(&self, event: &Event) -> Result<(), String> {
        let services = self.services.upgrade().ok_or("the site is stopping")?;
        let Some(reply) = event.reply_id else { return Ok(()) };
        refresh_identity(&services).await;
        on_reply(&services, event.kind, reply).await
    }

    fn give_up_after(&self) -> Option<i64> {
        self.services.upgrade().map(|s| s.config.mail.give_up_hours * 3600)
    }
}

/// The handlers mail needs, if mail is on.
/// Mail names the site as its settings do now: they are read again if a change was heard.
async fn refresh_identity(services: &Services) {
    if let Err(e) = super::settings::effective(services).await {
        tracing::warn!(error = %e, "mail names the site as last read");
    }
}

pub fn handlers(services: Weak<Services>, on: bool) -> Vec<Arc<dyn Handler>> {
    if on { vec![Arc::new(Notifier { services })] } else { Vec::new() }
}

async fn on_reply(services: &Services, kind: EventKind, id: ReplyId) -> Result<(), String> {
    let news = services.store.read(move |db| Box::pin(db.reply_news(id))).await;
    let Some(news) = news.map_err(|e| e.to_string())? else { return Ok(()) };
    if matches!(news.status, ReplyStatus::Spam | ReplyStatus::Trash) {
        return Ok(());
    }
    confirm_author(services, &news).await?;
    let public = matches!(kind, EventKind::ReplyPosted | EventKind::ReplyApproved)
        && news.status == ReplyStatus::Approved;
    if public {
        notify(services, &news).await?;
        tell_authors(services, &news).await?;
    }
    if kind == EventKind::ReplyHeld && news.status == ReplyStatus::Pending {
        tell_moderators(services, &news).await?;
    }
    Ok(())
}

/// The recipient name `mails_sent` keeps for a member of staff.
fn staff(user: UserId) -> String {
    format!("u{}", user.get())
}

/// Tells each moderator of the article of a held reply: a mail now, or a place in their
/// hourly digest.
async fn tell_moderators(services: &Services, news: &ReplyNews) -> Result<(), String> {
    let article = news.article_id;
    let found = services.store.read(move |db| Box::pin(db.moderators_to_tell(article))).await;
    for moderator in found.map_err(|e| e.to_string())? {
        if moderator.held == HeldMail::Hourly {
            let (user, reply, now) = (moderator.user_id, news.id, services.clock.now());
            let kept = services
                .store
                .write(move |tx| Box::pin(tx.keep_for_staff_digest(user, reply, now)));
            kept.await.map_err(|e| e.to_string())?;
            continue;
        }
        let key = format!("held:{}:{}", news.id, staff(moderator.user_id));
        let letter = held_letter(services, &moderator, std::slice::from_ref(news));
        if let Err(SendError::Transient(e)) =
            send_once(services, key, staff(moderator.user_id), letter).await
        {
            return Err(e);
        }
    }
    Ok(())
}

/// Tells the article's authors who asked of a new public reply (not of their own).
async fn tell_authors(services: &Services, news: &ReplyNews) -> Result<(), String> {
    let article = news.article_id;
    let found = services.store.read(move |db| Box::pin(db.authors_to_tell(article))).await;
    for author in found.map_err(|e| e.to_string())? {
        if author.email.eq_ignore_ascii_case(&news.author_email) {
            continue;
        }
        let key = format!("public:{}:{}", news.id, staff(author.user_id));
        let site = services.known_identity().site_title.clone();
        let content = Content {
            subject: format!("New reply on your article “{}”", news.title),
            intro: format!("{} replied on your article “{}”.", one(&news.author_name), news.title),
            quotes: vec![Quote::new(
                &news.author_name,
                String::new(),
                &news.body,
                reply_url(news, services),
            )],
            reason: format!(
                "You get this email because your account on {site} asks for new replies on \
                 your articles. Change it on your account page."
            ),
            links: vec![Link::new("Your account", site_url(services, "/admin/account"))],
            site,
            ..Content::default()
        };
        let id = format!("public-{}.u{}", news.id, author.user_id.get());
        let thread = Some(mail_id(services, &format!("article-{}", news.article_id)));
        let one_click =
            site_url(services, &format!("/unsubscribe/{}", author_token(services, author.user_id)));
        let letter = letter(services, &author.email, content, id, thread, Some(one_click));
        if let Err(SendError::Transient(e)) =
            send_once(services, key, staff(author.user_id), letter).await
        {
            return Err(e);
        }
    }
    Ok(())
}

const MODERATION_LINK: &str = "moderation-link";
/// How long a held-reply mail's links work (days).
pub const LINK_DAYS: i64 = 7;

/// What a held-reply mail's signed link does: one decision on one reply, as one moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModerationLink {
    pub reply: ReplyId,
    pub decision: &'static str,
    pub user: UserId,
    pub issued: i64,
    pub signature: String,
}

/// The decisions a mail offers, by verb, with their buttons' words.
pub const LINK_DECISIONS: [(&str, &str); 3] =
    [("approve", "Approve"), ("spam", "Mark as spam"), ("trash", "Move to trash")];

fn moderation_url(services: &Services, reply: ReplyId, decision: &str, user: UserId) -> String {
    let issued = services.clock.now();
    let value = format!("{}:{decision}:{}:{issued}", reply.get(), user.get());
    let signature = services.keys.sign(MODERATION_LINK, &value);
    site_url(
        services,
        &format!("/moderate/{}.{decision}.{}.{issued}.{signature}", reply.get(), user.get()),
    )
}

/// The link a genuine, unexpired token names.
pub fn moderation_link(services: &Services, token: &str) -> Option<ModerationLink> {
    let mut parts = token.split('.');
    let reply = ReplyId(parts.next()?.parse().ok()?);
    let verb = parts.next()?;
    let decision = LINK_DECISIONS.iter().find(|(v, _)| *v == verb)?.0;
    let user = UserId(parts.next()?.parse().ok()?);
    let issued: i64 = parts.next()?.parse().ok()?;
    let signature = parts.next()?.to_owned();
    if parts.next().is_some() {
        return None;
    }
    let value = format!("{}:{decision}:{}:{issued}", reply.get(), user.get());
    let fresh = services.clock.now().saturating_sub(issued) <= LINK_DAYS * 86_400;
    (fresh && services.keys.verify(MODERATION_LINK, &value, &signature)).then_some(ModerationLink {
        reply,
        decision,
        user,
        issued,
        signature,
    })
}

/// A reply as mails (and the pages their links open) tell of it.
pub async fn reply_news(services: &Services, id: ReplyId) -> Result<Option<ReplyNews>, StoreError> {
    services.store.read(move |db| Box::pin(db.reply_news(id))).await
}

/// What following a moderation link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    Done,
    /// The link was used before (this one, not another of the same mail).
    Used,
    /// The account may not moderate this reply (any more), or it is gone.
    Refused(String),
}

/// Uses a moderation link, once, with the authority of the account it was mailed to.
pub async fn use_moderation_link(
    services: &Services,
    link: &ModerationLink,
) -> Result<LinkOutcome, StoreError> {
    use super::moderation::{self, Decision, ModerationError};
    let id = link.user;
    let user = services.store.read(move |db| Box::pin(db.user(id))).await?;
    let Some(user) = user.filter(|u| !u.disabled) else {
        return Ok(LinkOutcome::Refused(
            "The account this link was mailed to cannot moderate.".into(),
        ));
    };
    let (signature, now) = (link.signature.clone(), services.clock.now());
    let first = services
        .store
        .write(move |tx| Box::pin(async move { tx.use_moderation_link(&signature, now).await }))
        .await?;
    if !first {
        return Ok(LinkOutcome::Used);
    }
    let decision = Decision::parse(link.decision).expect("the links' decisions are the queue's");
    match moderation::decide(services, &user, decision, vec![link.reply]).await {
        Ok(()) => Ok(LinkOutcome::Done),
        Err(ModerationError::Store(e)) => Err(e),
        Err(e) => Ok(LinkOutcome::Refused(format!("Nothing was changed: {e}."))),
    }
}

fn held_letter(services: &Services, moderator: &StaffRecipient, replies: &[ReplyNews]) -> Letter {
    let site = services.known_identity().site_title.clone();
    let quotes = replies
        .iter()
        .map(|news| {
            let why = if news.held_reason.is_empty() {
                format!("on “{}”", news.title)
            } else {
                format!("on “{}”, held because: {}", news.title, one(&news.held_reason))
            };
            let mut quote =
                Quote::new(&news.author_name, why, &news.body, reply_url(news, services));
            quote.url =
                site_url(services, &format!("/admin/replies/?status=pending#reply-{}", news.id));
            quote.actions = LINK_DECISIONS
                .iter()
                .map(|(verb, label)| {
                    Link::new(label, moderation_url(services, news.id, verb, moderator.user_id))
                })
                .collect();
            quote
        })
        .collect();
    let (subject, intro, id) = match replies {
        [one_reply] => (
            format!("A reply waits for moderation on “{}”", one_reply.title),
            format!("{} posted a reply that waits for a moderator.", one(&one_reply.author_name)),
            format!("held-{}.u{}", one_reply.id, moderator.user_id.get()),
        ),
        many => (
            format!("{} replies wait for moderation on {site}", many.len()),
            "These replies were held in the last hour and wait for a moderator.".to_owned(),
            format!(
                "held-digest.u{}.{}",
                moderator.user_id.get(),
                many.last().map_or(0, |n| n.id.get())
            ),
        ),
    };
    let content = Content {
        subject,
        intro,
        quotes,
        action: Some(Link::new("Open the moderation queue", site_url(services, "/admin/replies/"))),
        reason: format!(
            "You get this email because you moderate replies on {site}. The buttons work once, \
             without signing in, for {LINK_DAYS} days; each asks before it acts. Choose each, \
             hourly or no such emails on your account page."
        ),
        links: vec![Link::new("Your account", site_url(services, "/admin/account"))],
        site,
    };
    letter(services, &moderator.email, content, id, None, None)
}

/// Sends the moderators' hourly digests that are due: the replies held an hour ago or more
/// and still waiting, one mail per moderator.
pub async fn send_staff_digests(services: &Services) -> Result<(), String> {
    refresh_identity(services).await;
    loop {
        let due = services.clock.now() - 3600;
        let taken = services.store.write(move |tx| Box::pin(tx.take_staff_digest(due))).await;
        let Some((user, replies)) = taken.map_err(|e| e.to_string())? else { return Ok(()) };
        let ids = replies.clone();
        let (moderator, news) = services
            .store
            .read(move |db| {
                Box::pin(async move {
                    let mut found = Vec::new();
                    for id in ids {
                        found.extend(db.reply_news(id).await?);
                    }
                    Ok((db.user(user).await?, found))
                })
            })
            .await
            .map_err(|e| e.to_string())?;
        let Some(moderator) = moderator.filter(|u| !u.disabled) else { continue };
        let waiting: Vec<ReplyNews> =
            news.into_iter().filter(|n| n.status == ReplyStatus::Pending).collect();
        let Some(last) = waiting.last() else { continue };
        let recipient = StaffRecipient {
            user_id: user,
            email: moderator.email.clone(),
            held: HeldMail::Hourly,
        };
        let key = format!("held-digest:{}:{}", staff(user), last.id);
        let letter = held_letter(services, &recipient, &waiting);
        if let Err(SendError::Transient(e)) = send_once(services, key, staff(user), letter).await {
            let now = services.clock.now();
            let back = services.store.write(move |tx| {
                Box::pin(async move {
                    for reply in replies {
                        tx.keep_for_staff_digest(user, reply, now).await?;
                    }
                    Ok::<_, StoreError>(())
                })
            });
            back.await.map_err(|e| e.to_string())?;
            return Err(e);
        }
    }
}

/// The recipient name `mails_sent` keeps for a reader's address: never the address itself.
fn reader(address_id: i64) -> String {
    format!("a{address_id}")
}

/// Sends the one confirmation mail of a new address that asked to follow something.
async fn confirm_author(services: &Services, news: &ReplyNews) -> Result<(), String> {
    let email = news.author_email.clone();
    let address =
        services.store.read(move |db| Box::pin(async move { db.mail_address_of(&email).await }));
    let Some(address) = address.await.map_err(|e| e.to_string())? else { return Ok(()) };
    if address.confirmed_at.is_some() {
        return Ok(());
    }
    let key = format!("confirm:{}", reader(address.id));
    let letter = confirmation(services, &address, news);
    match send_once(services, key, reader(address.id), letter).await {
        Err(SendError::Transient(e)) => Err(e),
        _ => Ok(()),
    }
}

/// Tells every confirmed follower of the reply's thread but its author, each once.
async fn notify(services: &Services, news: &ReplyNews) -> Result<(), String> {
    let (article, parent) = (news.article_id, news.parent_id);
    let recipients = services.store.read(move |db| Box::pin(db.recipients(article, parent)));
    let recipients = recipients.await.map_err(|e| e.to_string())?;
    let limit = services.config.mail.notify_max_per_hour;
    let mut failed = None;
    for recipient in recipients.iter().filter(|r| r.email != news.author_email) {
        let key = format!("reply:{}:{}", news.id, reader(recipient.address_id));
        let (id, address) = (news.id, recipient.address_id);
        let since = services.clock.now() - 3600;
        let who = reader(address);
        let check = key.clone();
        let (sent, recent) = services
            .store
            .read(move |db| {
                Box::pin(async move {
                    Ok((db.mail_sent(&check).await?, db.mails_sent_since(&who, since).await?))
                })
            })
            .await
            .map_err(|e| e.to_string())?;
        if sent {
            continue;
        }
        if recent >= limit {
            let now = services.clock.now();
            services
                .store
                .write(move |tx| Box::pin(tx.keep_for_digest(address, id, now)))
                .await
                .map_err(|e| e.to_string())?;
            continue;
        }
        let letter = notification(services, news, recipient);
        if let Err(SendError::Transient(e)) =
            send_once(services, key, reader(address), letter).await
        {
            failed = Some(e);
            break;
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Sends a mail unless `key` says it was sent (or is being sent by another delivery), then
/// records it. A permanent refusal is recorded too (and logged): retrying would be refused
/// again. The claim lasts as long as the outbox's lease: a node killed while it holds one
/// leaves the mail to the delivery's next attempt.
async fn send_once(
    services: &Services,
    key: String,
    recipient: String,
    letter: Letter,
) -> Result<(), SendError> {
    let now = services.clock.now();
    let until = now + super::outbox::LEASE;
    let claim = key.clone();
    let claimed = services
        .store
        .write(move |tx| {
            Box::pin(async move { tx.claim_mail(&claim, &recipient, now, until).await })
        })
        .await
        .map_err(|e| SendError::Transient(e.to_string()))?;
    if !claimed {
        // Sent already, or being sent by a delivery that may yet die: this delivery is done
        // only when the mail is marked sent, so it tries again later.
        if mail_sent(services, &key).await? {
            return Ok(());
        }
        return Err(SendError::Transient(format!("{key} is being sent by another delivery")));
    }
    let outcome = match build(&services.mailer.from, &letter) {
        Ok(message) => services.mailer.send(message).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let done = key.clone();
    let now = services.clock.now();
    let recorded = match &outcome {
        Ok(()) => {
            tracing::info!(mail = key, "mail sent");
            services
                .store
                .write(move |tx| Box::pin(async move { tx.mail_was_sent(&done, now).await }))
                .await
        }
        Err(SendError::Permanent(e)) => {
            tracing::warn!(mail = key, error = e, "mail refused");
            services
                .store
                .write(move |tx| Box::pin(async move { tx.mail_was_sent(&done, now).await }))
                .await
        }
        Err(SendError::Transient(e)) => {
            tracing::info!(mail = key, error = e, "mail not sent yet");
            services
                .store
                .write(move |tx| Box::pin(async move { tx.release_mail(&done).await }))
                .await
        }
    };
    if let Err(e) = recorded {
        // Sent but not recorded: once the claim ends, a retry may send it again.
        tracing::warn!(error = %e, "cannot record a mail's sending");
    }
    outcome
}

async fn mail_sent(services: &Services, key: &str) -> Result<bool, SendError> {
    let key = key.to_owned();
    services
        .store
        .read(move |db| Box::pin(async move { db.mail_sent(&key).await }))
        .await
        .map_err(|e| SendError::Transient(e.to_string()))
}

/// The site's address for `path`; an embedded thread's discussion is on another site, whose
/// address is given whole.
fn site_url(services: &Services, path: &str) -> String {
    if path.contains("://") {
        return path.to_owned();
    }
    format!("{}{path}", services.config.base_url)
}

/// `<what@host>`: a message id on the site's own host.
fn mail_id(services: &Services, what: &str) -> String {
    format!("<{what}@{}>", crate::config::host_of(&services.config.base_url))
}

/// The reply's lasting address: it sends the reader to the page of the thread that shows the
/// reply when the mail is read (a long thread's pages move as it grows).
fn reply_url(news: &ReplyNews, services: &Services) -> String {
    site_url(services, &format!("/replies/{}", news.id))
}

fn manage_link(services: &Services, address: &MailAddress) -> Link {
    let token = address_token(services, address);
    Link::new("Manage your subscriptions", site_url(services, &format!("/subscriptions/{token}")))
}

fn confirmation(services: &Services, address: &MailAddress, news: &ReplyNews) -> Letter {
    let site = services.known_identity().site_title.clone();
    let token = address_token(services, address);
    let content = Content {
        subject: format!("Confirm your email address for {site}"),
        intro: format!(
            "Someone, hopefully you, asked {site} to send this address an email about new \
             replies to “{}”. Nothing will be sent until you confirm.",
            news.title
        ),
        action: Some(Link::new(
            "Confirm my address",
            site_url(services, &format!("/mail/confirm/{token}")),
        )),
        reason: format!(
            "If it was not you, ignore this email: nothing more will be sent, and the address \
             is forgotten in {UNCONFIRMED_DAYS} days."
        ),
        site,
        ..Content::default()
    };
    letter(services, &address.email, content, format!("confirm.{}", address.id), None, None)
}

fn notification(services: &Services, news: &ReplyNews, recipient: &Recipient) -> Letter {
    let site = services.known_identity().site_title.clone();
    let (subject, intro, reason) = if recipient.answered {
        (
            format!("{} replied to you on “{}”", one(&news.author_name), news.title),
            format!("{} replied to your comment on “{}”.", one(&news.author_name), news.title),
            format!(
                "You get this email because you asked {site} to tell you of replies to your \
                 comment."
            ),
        )
    } else {
        (
            format!("New reply on “{}”", news.title),
            format!("There is a new reply on “{}”.", news.title),
            format!(
                "You get this email because you asked {site} to tell you of new replies to \
                 this article."
            ),
        )
    };
    let context = news
        .parent_author
        .as_deref()
        .filter(|_| !recipient.answered)
        .map(|name| format!("in reply to {}", one(name)))
        .unwrap_or_default();
    let unsubscribe = site_url(
        services,
        &format!(
            "/unsubscribe/{}",
            subscription_token(
                services,
                recipient.subscription_id,
                recipient.subscription_created_at
            )
        ),
    );
    let address = MailAddress {
        id: recipient.address_id,
        email: recipient.email.clone(),
        created_at: recipient.address_created_at,
        confirmed_at: None,
    };
    let content = Content {
        subject,
        intro,
        quotes: vec![Quote::new(&news.author_name, context, &news.body, reply_url(news, services))],
        action: Some(Link::new("Read and reply", reply_url(news, services))),
        reason,
        links: vec![Link::new("Unsubscribe", unsubscribe.clone()), manage_link(services, &address)],
        site,
    };
    letter(
        services,
        &recipient.email,
        content,
        format!("reply-{}.{}", news.id, recipient.address_id),
        Some(mail_id(services, &format!("article-{}", news.article_id))),
        Some(unsubscribe),
    )
}

fn one(text: &str) -> String {
    crate::mail::message::one_line(text)
}

fn letter(
    services: &Services,
    to: &str,
    content: Content,
    id: String,
    thread: Option<String>,
    unsubscribe: Option<String>,
) -> Letter {
    let (text, html) = content.render();
    Letter {
        to: to.to_owned(),
        subject: content.subject,
        text,
        html,
        message_id: mail_id(services, &id),
        thread,
        unsubscribe,
        date: services.clock.now(),
    }
}

/// Sends the digests that are due: one mail to each address that had replies kept back past
/// its hourly limit, once its last hour allows another mail.
pub async fn send_digests(services: &Services) -> Result<(), String> {
    refresh_identity(services).await;
    let limit = services.config.mail.notify_max_per_hour;
    loop {
        let since = services.clock.now() - 3600;
        let taken = services.store.write(move |tx| Box::pin(tx.take_digest(limit, since))).await;
        let Some((address, replies)) = taken.map_err(|e| e.to_string())? else { return Ok(()) };
        let ids = replies.clone();
        let news = services
            .store
            .read(move |db| {
                Box::pin(async move {
                    let mut found = Vec::new();
                    for id in ids {
                        found.extend(db.reply_news(id).await?);
                    }
                    Ok(found)
                })
            })
            .await;
        let news = match news {
            Ok(news) => news,
            Err(e) => {
                keep_again(services, address.id, replies).await?;
                return Err(e.to_string());
            }
        };
        let public: Vec<ReplyNews> =
            news.into_iter().filter(|n| n.status == ReplyStatus::Approved).collect();
        let Some(last) = public.last() else { continue };
        let key = format!("digest:{}:{}", reader(address.id), last.id);
        let letter = digest(services, &address, &public);
        if let Err(SendError::Transient(e)) =
            send_once(services, key, reader(address.id), letter).await
        {
            keep_again(services, address.id, replies).await?;
            return Err(e);
        }
    }
}

/// Puts back the replies of a digest that could not be sent.
async fn keep_again(
    services: &Services,
    address: i64,
    replies: Vec<ReplyId>,
) -> Result<(), String> {
    let now = services.clock.now();
    let back = services.store.write(move |tx| {
        Box::pin(async move {
            for reply in replies {
                tx.keep_for_digest(address, reply, now).await?;
            }
            Ok::<_, StoreError>(())
        })
    });
    back.await.map_err(|e| e.to_string())
}

fn digest(services: &Services, address: &MailAddress, replies: &[ReplyNews]) -> Letter {
    let site = services.known_identity().site_title.clone();
    let unsubscribe =
        site_url(services, &format!("/unsubscribe/{}", address_token(services, address)));
    let quotes = replies
        .iter()
        .map(|news| {
            let context = format!("on “{}”", news.title);
            Quote::new(&news.author_name, context, &news.body, reply_url(news, services))
        })
        .collect();
    let content = Content {
        subject: format!("{} new replies on {site}", replies.len()),
        intro: format!(
            "More replies you follow were posted than {} an hour, so here they are together.",
            services.config.mail.notify_max_per_hour
        ),
        quotes,
        action: None,
        reason: format!(
            "You get this email because you asked {site} to tell you of new replies. The \
             unsubscribe link below ends every subscription of this address."
        ),
        links: vec![
            Link::new("Unsubscribe from everything", unsubscribe.clone()),
            manage_link(services, address),
        ],
        site,
    };
    let last = replies.last().map_or(0, |n| n.id.get());
    letter(
        services,
        &address.email,
        content,
        format!("digest-{}.{last}", address.id),
        None,
        Some(unsubscribe),
    )
}

/// The "Forgot password" mail: a single-use link to set a new password, valid for an hour.
pub async fn send_password_reset(
    services: &Services,
    user: &crate::store::User,
    token: &str,
) -> Result<(), String> {
    refresh_identity(services).await;
    let site = services.known_identity().site_title.clone();
    let content = Content {
        subject: format!("Set a new password for {site}"),
        intro: format!(
            "Someone, hopefully you, asked to set a new password for the newsroom account of \
             this address on {site}. The link works once, for an hour; using it signs the \
             account out everywhere."
        ),
        action: Some(Link::new(
            "Set a new password",
            site_url(services, &format!("/admin/reset/{token}")),
        )),
        reason: "If it was not you, ignore this email: the password stays as it is.".into(),
        site,
        ..Content::default()
    };
    let now = services.clock.now();
    let letter = letter(
        services,
        &user.email,
        content,
        format!("reset.{}.{now}", user.id.get()),
        None,
        None,
    );
    send_now(services, &letter).await
}

/// The link of a reader's request for a copy of their replies, or their erasure.
pub async fn send_data_link(
    services: &Services,
    email: &str,
    action: super::reader_data::Action,
    token: &str,
    replies: usize,
) -> Result<(), String> {
    use super::reader_data::Action;
    refresh_identity(services).await;
    let site = services.known_identity().site_title.clone();
    let (subject, intro, label) = match action {
        Action::Copy => (
            format!("A copy of your replies on {site}"),
            format!(
                "Someone, hopefully you, asked {site} for a copy of the {replies} replies posted with this address."
            ),
            "See and download my replies",
        ),
        Action::Erase => (
            format!("Erase your replies on {site}"),
            format!(
                "Someone, hopefully you, asked {site} to erase the {replies} replies posted with this address. The link asks once more before it erases anything."
            ),
            "Erase my replies",
        ),
    };
    let content = Content {
        subject,
        intro,
        action: Some(Link::new(label, site_url(services, &format!("/my-replies/{token}")))),
        reason: "The link works for a day. If it was not you, ignore this email: nothing changes."
            .into(),
        site,
        ..Content::default()
    };
    let now = services.clock.now();
    let id = format!("data.{}.{now}", &token[..8]);
    let letter = letter(services, email, content, id, None, None);
    send_now(services, &letter).await
}

/// Sends a mail that is asked for on a page (a reset or data link), at once and without
/// `mails_sent`: asking again sends a new link, which is the retry.
async fn send_now(services: &Services, letter: &Letter) -> Result<(), String> {
    let message = build(&services.mailer.from, letter).map_err(|e| e.to_string())?;
    services.mailer.send(message).await.map(|_| ()).map_err(|e| e.to_string())
}
