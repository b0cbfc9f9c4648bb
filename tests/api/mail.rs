//! Mail to readers, against a real SMTP server (aiosmtpd, `tests/python/smtp_sink.py`), each
//! message read back by Python's own MIME parser: the confirmation, notifications when a reply
//! becomes public and never for a held one, the headers and both parts, escaping, one-click
//! unsubscribing (RFC 8058) that a GET cannot trigger, forged tokens, a server down while
//! replies arrive, a temporary refusal, two nodes, and a node killed while it was sending.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use byline::domain::ReplyId;
use byline::store::SubscriptionReads;
use serde_json::Value;

use crate::helpers::{
    Page, TestApp, database_of, encode, reply_with, restart, spawn_database_with, spawn_with,
};

/// The site's public address in mail: the tests follow its links on the test server.
const BASE: &str = "https://news.example";

/// A running SMTP server that keeps what it receives; stopped when dropped.
pub struct Sink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/.venv/bin/python");
    assert!(venv.exists(), "tests/python/.venv is missing: run scripts/setup");
    venv
}

/// A free port on loopback (for a server started later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Sink {
    pub fn start() -> Sink {
        Self::start_on(0)
    }

    pub fn start_on(port: u16) -> Sink {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP server starts (aiosmtpd, from scripts/setup)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().strip_prefix("listening ").expect("the SMTP server listens");
        Sink { port: port.parse().unwrap(), child, dir }
    }

    /// Where the messages are kept (for the browser test to read).
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Every message received so far, in order.
    pub fn received(&self) -> Vec<Mail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|json| {
                let parsed: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
                let raw = std::fs::read(json.with_extension("eml")).unwrap();
                Mail { parsed, raw: String::from_utf8_lossy(&raw).into_owned() }
            })
            .collect()
    }

    /// Waits until at least `count` messages have arrived (20 s at most); returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Mail> {
        for _ in 0..400 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{count} mails expected, {} received", self.received().len());
    }
}

/// One message as the SMTP server received and Python's MIME parser read it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub parsed: Value,
    /// The message as it came over the wire.
    pub raw: String,
}

impl Mail {
    /// The (decoded) value of each header with this name.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.parsed["headers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h[1].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn header(&self, name: &str) -> String {
        let found = self.headers(name);
        assert_eq!(found.len(), 1, "one {name} header in {:?}", self.parsed["headers"]);
        found[0].clone()
    }

    pub fn rcpt(&self) -> Vec<String> {
        serde_json::from_value(self.parsed["rcpt_tos"].clone()).unwrap()
    }

    pub fn text(&self) -> String {
        self.parsed["text"].as_str().expect("a plain text part").to_owned()
    }

    pub fn html(&self) -> String {
        self.parsed["html"].as_str().expect("an HTML part").to_owned()
    }

    /// The first link in the text part to a path starting with `prefix`, as a path on the
    /// test server (the mail names the public `base_url`).
    pub fn link(&self, prefix: &str) -> String {
        let text = self.text();
        let start = text
            .find(&format!("{BASE}{prefix}"))
            .unwrap_or_else(|| panic!("a link to {prefix} in:\n{text}"));
        let link: String =
            text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '>').collect();
        link.strip_prefix(BASE).unwrap().to_owned()
    }
}

/// Settings for a server that mails through `sink`.
fn mail_settings(port: &str) -> Vec<(&'static str, String)> {
    vec![
        ("mail", "smtp".into()),
        ("smtp_host", "127.0.0.1".into()),
        ("smtp_port", port.into()),
        ("smtp_security", "none".into()),
        ("base_url", BASE.into()),
        ("mail_from", "The Daily Test <news@news.example>".into()),
        ("site_title", "The Daily Test".into()),
        ("moderation", "none".into()),
        ("hold_list", "holdme".into()),
    ]
}

async fn spawn_mailing(port: u16, extra: &[(&'static str, &str)]) -> TestApp {
    let port = port.to_string();
    let mut settings = mail_settings(&port);
    for (name, value) in extra {
        settings.retain(|(n, _)| n != name);
        settings.push((name, (*value).to_owned()));
    }
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(n, v)| (*n, v.as_str())).collect();
    spawn_with(&pairs).await
}

fn as_pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// A reply by `name` (`name@example.com`) asking for replies to it by mail.
fn following(name: &str, comment: &str) -> Vec<(&'static str, String)> {
    let email = format!("{}@example.com", name.to_lowercase());
    let mut form = reply_with(&[("comment", comment), ("name", name), ("email", &email)]);
    form.push(("notify_replies", "yes".into()));
    form
}

fn answer(name: &str, comment: &str, parent: ReplyId) -> Vec<(&'static str, String)> {
    let email = format!("{}@example.com", name.to_lowercase());
    let parent = parent.to_string();
    reply_with(&[("comment", comment), ("name", name), ("email", &email), ("parent", &parent)])
}

async fn post_form(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
    let form: Vec<(&str, String)> = form.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    app.post_raw(path, encode(&form).into_bytes(), &[]).await
}

/// Confirms `mail`'s address through its link: the page's button, then its POST.
async fn confirm_from(app: &TestApp, mail: &Mail) {
    let link = mail.link("/mail/confirm/");
    let page = app.get(&link).await;
    assert_eq!(page.status, 200);
    assert_eq!(crate::helpers::attr(page.one("main form"), "action"), link);
    let confirmed = post_form(app, &link, &[]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    assert!(confirmed.body.contains("Your address is confirmed"));
}

/// The quoted reply of a mail's HTML part, as a browser shows it (a real HTML parser).
fn quoted_html(mail: &Mail) -> String {
    let html = scraper::Html::parse_document(&mail.html());
    let quote =
        html.select(&scraper::Selector::parse("blockquote").unwrap()).next().expect("a quote");
    quote.text().collect::<String>().trim().to_owned()
}

async fn settle(app: &TestApp) {
    // The outbox polls every 50 ms in tests; give a mail that should not come its chance.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let _ = app;
}

#[tokio::test]
async fn the_form_offers_mail_only_when_mail_is_on() {
    let off = spawn_with(&[]).await;
    let path = off.publish("No mail here").await.path;
    let page = off.get(&path).await;
    assert!(!page.has("input[name=notify_replies]"));
    assert!(!page.has("input[name=follow_article]"));

    let sink = Sink::start();
    let on = spawn_mailing(sink.port, &[]).await;
    let path = on.publish("Mail here").await.path;
    let page = on.get(&path).await;
    for (name, label) in [
        ("notify_replies", "Notify me of replies to my comment by email"),
        ("follow_article", "Notify me of new replies to this article"),
    ] {
        let input = page.one(&format!("input[name={name}]"));
        assert_eq!(crate::helpers::attr(input, "type"), "checkbox");
        assert!(input.value().attr("checked").is_none(), "unticked");
        let label_css = format!("label[for={name}]");
        assert_eq!(crate::helpers::text(page.one(&label_css)), label);
    }
    // A form sent back with an error keeps the boxes as they were ticked.
    let mut form = following("Ada", "");
    form.push(("follow_article", "yes".into()));
    let refused = on.post(&path, &form).await;
    assert_eq!(refused.status, 422);
    assert!(refused.one("input[name=notify_replies]").value().attr("checked").is_some());
    assert!(refused.one("input[name=follow_article]").value().attr("checked").is_some());
}

#[tokio::test]
async fn a_confirmed_reader_is_told_of_public_replies_and_never_of_held_ones() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Harbour plans").await.path;
    let ada = app.reply(&path, &following("Ada", "The harbour needs dredging.")).await;

    // The first subscription of an address sends one confirmation, and nothing else.
    let mails = sink.wait_for(1).await;
    let confirmation = &mails[0];
    assert_eq!(confirmation.rcpt(), ["ada@example.com"]);
    assert_eq!(confirmation.header("To"), "ada@example.com");
    assert!(confirmation.header("Subject").contains("Confirm your email address"));
    assert_eq!(confirmation.header("From"), "The Daily Test <news@news.example>");

    // Until the address is confirmed (a GET of the link confirms nothing), no notification.
    let link = confirmation.link("/mail/confirm/");
    assert_eq!(app.get(&link).await.status, 200);
    app.reply(&path, &answer("Bea", "Unconfirmed yet.", ada)).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 1, "nothing sent to an unconfirmed address");

    confirm_from(&app, confirmation).await;
    let bea = app.reply(&path, &answer("Bea", "Dredging costs <b>millions</b>.", ada)).await;
    let mails = sink.wait_for(2).await;
    let note = &mails[1];
    assert_eq!(note.rcpt(), ["ada@example.com"]);
    assert_eq!(note.header("To"), "ada@example.com");
    assert_eq!(note.parsed["content_type"], "multipart/alternative");
    assert_eq!(
        note.parsed["parts"],
        serde_json::json!(["multipart/alternative", "text/plain", "text/html"])
    );
    assert!(note.header("Subject").contains("Bea replied to you on “Harbour plans”"));
    assert_eq!(note.header("Auto-Submitted"), "auto-generated");
    assert!(note.header("Message-ID").ends_with("@news.example>"));
    assert!(!note.header("Date").is_empty());
    let thread = note.header("In-Reply-To");
    assert!(thread.starts_with('<') && thread.ends_with("@news.example>"));
    assert_eq!(note.header("References"), thread);
    let unsubscribe = note.header("List-Unsubscribe");
    assert!(unsubscribe.starts_with(&format!("<{BASE}/unsubscribe/")), "{unsubscribe}");
    assert_eq!(note.header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    // Both parts quote the reply, link to its anchor and say why the mail came.
    assert!(note.text().contains("> Dredging costs <b>millions</b>."));
    assert_eq!(
        quoted_html(note),
        "Dredging costs <b>millions</b>.",
        "shown as typed, not as markup"
    );
    assert!(!note.html().contains("<b>millions"));
    let lasting = format!("{BASE}/replies/{bea}");
    assert!(note.text().contains(&lasting) && note.html().contains(&lasting));
    let followed = app.get(&format!("/replies/{bea}")).await;
    assert_eq!(followed.status, 302);
    assert_eq!(followed.location(), format!("{path}#comment-{bea}"));
    assert!(note.text().contains("replies to your comment"));
    // Nobody else's address, anywhere in the message.
    assert!(!note.raw.contains("bea@example.com"));

    // A held reply mails nobody; approving it does, once.
    let held = app.reply(&path, &answer("Cal", "Please holdme for review.", ada)).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 2, "no mail for a held reply");
    byline::services::moderation::approve_from_command_line(&app.services, held).await.unwrap();
    let mails = sink.wait_for(3).await;
    assert!(mails[2].text().contains("Please holdme for review."));
    assert_eq!(mails[2].rcpt(), ["ada@example.com"]);
    // Ada's own reply on the thread is not news to her.
    app.reply(&path, &answer("Ada", "Thanks, all.", bea)).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test]
async fn a_reply_its_poster_edits_is_not_mailed_again() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Tide tables").await.path;
    let ada = app.reply(&path, &following("Ada", "When is high tide?")).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    let posted = app.post(&path, &answer("Bea", "At noon.", ada)).await;
    assert_eq!(posted.status, 303);
    let bea = crate::helpers::comment_id(posted.location());
    let cookie = crate::helpers::cookies_from(&posted);
    assert!(sink.wait_for(2).await[1].text().contains("At noon."));

    let edit = format!("/replies/{bea}/edit");
    let send = |text: &str| encode(&[("comment", text.to_owned())]).into_bytes();
    let edited = app.post_raw(&edit, send("At half past twelve."), &[("cookie", &cookie)]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    // Back to the queue (the hold list) and approved again: still not news.
    let held = app.post_raw(&edit, send("holdme: half past twelve."), &[("cookie", &cookie)]).await;
    assert_eq!(held.status, 303);
    byline::services::moderation::approve_from_command_line(&app.services, bea).await.unwrap();
    settle(&app).await;
    assert_eq!(sink.received().len(), 2, "Ada heard of Bea's reply once");
}

#[tokio::test]
async fn a_mail_link_finds_its_reply_on_a_long_thread() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[("replies_per_page", "2")]).await;
    let path = app.publish("Ferry timetable").await.path;
    let ada = app.reply(&path, &following("Ada", "Is the late ferry back?")).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    for name in ["Bea", "Cal", "Dee"] {
        let email = format!("{}@example.com", name.to_lowercase());
        let comment = format!("{name} on the ferry.");
        app.reply(&path, &reply_with(&[("name", name), ("email", &email), ("comment", &comment)]))
            .await;
    }
    let eve = app.reply(&path, &answer("Eve", "From June, yes.", ada)).await;
    let note = sink.wait_for(2).await[1].clone();
    let link = note.link("/replies/");
    assert_eq!(link, format!("/replies/{eve}"));
    // The article's address shows the newest page, where Eve's answer to Ada is not.
    assert!(!app.get(&path).await.has(&format!("#comment-{eve}")));
    let followed = app.get(&link).await;
    assert_eq!(followed.status, 302);
    let location = followed.location().to_owned();
    assert_eq!(location, format!("{path}?replies=1#comment-{eve}"));
    let (page, _) = location.split_once('#').unwrap();
    assert!(app.get(page).await.has(&format!("#comment-{eve}")), "the link finds the reply");

    // A held reply, or one that is not there, has no public address.
    let held = app.reply(&path, &answer("Fay", "Please holdme.", ada)).await;
    assert_eq!(app.get(&format!("/replies/{held}")).await.status, 404);
    assert_eq!(app.get("/replies/999999").await.status, 404);
    assert_eq!(app.get("/replies/x").await.status, 404);
}

#[tokio::test]
async fn a_held_reply_edited_clean_is_news_then_and_spam_or_trash_never() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    app.add_staff("mod@example.com", "Mo Derator", byline::domain::Role::Editor).await;
    let staff = app.sign_in("mod@example.com").await;
    let path = app.publish("Bridge repairs").await.path;
    let ada = app.reply(&path, &following("Ada", "When will the bridge reopen?")).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    // What reached Ada (the moderator is mailed of each held reply too).
    let to_ada = || -> Vec<Mail> {
        sink.received().into_iter().filter(|m| m.rcpt() == ["ada@example.com"]).collect()
    };

    // Held (the hold list), then edited by its poster into one that passes: public now,
    // and Ada is told, as of an approval.
    let posted = app.post(&path, &answer("Bea", "holdme: in May.", ada)).await;
    assert_eq!(posted.status, 303);
    let bea = crate::helpers::comment_id(posted.location());
    let cookie = crate::helpers::cookies_from(&posted);
    settle(&app).await;
    assert_eq!(to_ada().len(), 1, "nothing for a held reply");
    let edit = format!("/replies/{bea}/edit");
    let text = encode(&[("comment", "In May, they say.".to_owned())]).into_bytes();
    let edited = app.post_raw(&edit, text, &[("cookie", &cookie)]).await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    for _ in 0..100 {
        if to_ada().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mails = to_ada();
    assert_eq!(mails.len(), 2, "told once it is public");
    assert!(mails[1].text().contains("In May, they say."), "{}", mails[1].text());

    // Held replies that staff mark as spam or put in the trash are nobody's news.
    for (name, action) in [("Cal", "spam"), ("Dee", "trash")] {
        let comment = format!("Please holdme, {name}.");
        let held = app.reply(&path, &answer(name, &comment, ada)).await;
        let decision = format!("{action}:{held}");
        let done = app
            .staff_post(&staff, "/admin/replies/", &[("action", &decision), ("confirmed", "yes")])
            .await;
        assert!(done.status < 400, "{action}: {}", done.status);
        let status = app.stored(held).await.unwrap().status;
        assert_eq!(status.as_str(), action, "the queue's action took");
    }
    settle(&app).await;
    assert_eq!(to_ada().len(), 2, "no mail for spam or trash");
}

#[tokio::test]
async fn the_unsubscribe_page_also_stops_every_mail_to_the_address() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let first = app.publish("Market day").await.path;
    let second = app.publish("Harvest fair").await.path;
    let ada = app.reply(&first, &following("Ada", "Which stalls?")).await;
    let mut form = reply_with(&[("name", "Ada"), ("email", "ada@example.com")]);
    form.push(("follow_article", "yes".into()));
    app.reply(&second, &form).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    app.reply(&first, &answer("Bea", "Cheese and bread.", ada)).await;
    let note = loop {
        // Both replies asked for the one confirmation: the second delivery retries later.
        app.clock.advance(5);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(note) = sink.received().get(1) {
            break note.clone();
        }
    };
    let one = note.header("List-Unsubscribe");
    let one = one.trim_matches(|c| c == '<' || c == '>').strip_prefix(BASE).unwrap().to_owned();
    let page = app.get(&one).await;
    assert_eq!(page.status, 200);
    let forms = page.all("main form[method=post]");
    assert_eq!(forms.len(), 2, "{}", page.body);
    assert_eq!(crate::helpers::attr(forms[0], "action"), one);
    let everything = crate::helpers::attr(forms[1], "action").to_owned();
    assert_ne!(everything, one);
    assert_eq!(
        crate::helpers::text(page.all("main form button")[1]),
        "Stop every email from this site to this address"
    );
    assert!(page.has("main a[href^='/subscriptions/']"), "and a way to see the rest");
    let done = post_form(&app, &everything, &[]).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("This address is forgotten"));
    let gone = app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await;
    assert!(gone.is_none(), "the address and both subscriptions are gone");
    let other = reply_with(&[("name", "Cal"), ("email", "cal@example.com"), ("comment", "Pies!")]);
    app.reply(&second, &other).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 2, "nothing after stopping every mail");
}

#[tokio::test]
async fn a_temporary_refusal_is_tried_again_and_the_mail_sent_once() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Night buses").await.path;
    let refuse = sink.dir().join("refuse");
    std::fs::write(&refuse, "2").unwrap();
    app.reply(&path, &following("Ada", "Will they run on Sundays?")).await;
    for _ in 0..60 {
        if !sink.received().is_empty() {
            break;
        }
        app.clock.advance(30);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = sink.wait_for(1).await;
    assert_eq!(std::fs::read_to_string(&refuse).unwrap(), "0", "refused twice, then sent");
    assert!(mails[0].header("Subject").contains("Confirm your email address"));
    for _ in 0..5 {
        app.clock.advance(60);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sink.received().len(), 1, "sent once");
}

#[tokio::test]
async fn following_an_article_tells_of_every_new_reply() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Council vote").await.path;
    let mut form = reply_with(&[("name", "Dee"), ("email", "dee@example.com")]);
    form.push(("follow_article", "yes".into()));
    app.reply(&path, &form).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    let other =
        reply_with(&[("name", "Eli"), ("email", "eli@example.com"), ("comment", "A new thread.")]);
    app.reply(&path, &other).await;
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1].rcpt(), ["dee@example.com"]);
    assert!(mails[1].header("Subject").contains("New reply on “Council vote”"));
    assert!(mails[1].text().contains("new replies to this article"));
}

#[tokio::test]
async fn one_click_unsubscribes_and_a_get_or_a_forged_token_changes_nothing() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Tram line").await.path;
    let ada = app.reply(&path, &following("Ada", "Trams, please.")).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    app.reply(&path, &answer("Bea", "Buses are cheaper.", ada)).await;
    let note = sink.wait_for(2).await[1].clone();
    let unsubscribe = note
        .header("List-Unsubscribe")
        .trim_matches(|c| c == '<' || c == '>')
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let subscriptions = || async {
        let address = app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await.unwrap();
        app.db(move |db| Box::pin(db.subscriptions_of(address.id))).await.len()
    };
    assert_eq!(subscriptions().await, 1);

    // Following the link (as a mail scanner does) shows a button and ends nothing.
    let page = app.get(&unsubscribe).await;
    assert_eq!(page.status, 200);
    assert!(page.has("main form[method=post] button"));
    assert_eq!(subscriptions().await, 1);

    // A forged or altered token is refused and ends nothing.
    let (id, signature) = unsubscribe.rsplit_once('.').unwrap();
    let mut altered = signature.to_owned();
    altered.replace_range(..1, if signature.starts_with('0') { "1" } else { "0" });
    for forged in [format!("{id}.{altered}"), format!("{id}.x"), "/unsubscribe/s1".into()] {
        let one_click = post_form(&app, &forged, &[("List-Unsubscribe", "One-Click")]).await;
        assert_eq!(one_click.status, 404, "{forged}");
        assert_eq!(subscriptions().await, 1, "{forged}");
    }

    // The mail client's one-click POST (RFC 8058) ends the subscription.
    let done = post_form(&app, &unsubscribe, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("No more emails about replies to your comment on “Tram line”"));
    assert_eq!(subscriptions().await, 0);
    app.reply(&path, &answer("Cal", "And again.", ada)).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 2, "nothing after unsubscribing");
    // A second POST of the same link finds nothing to end.
    assert_eq!(post_form(&app, &unsubscribe, &[]).await.status, 404);
}

#[tokio::test]
async fn the_manage_page_lists_and_ends_subscriptions() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let first = app.publish("First story").await.path;
    let second = app.publish("Second story").await.path;
    let ada = app.reply(&first, &following("Ada", "On the first.")).await;
    let mut form = following("Ada", "On the second.");
    form.push(("follow_article", "yes".into()));
    app.reply(&second, &form).await;
    let confirmation = sink.wait_for(1).await[0].clone();
    confirm_from(&app, &confirmation).await;
    app.reply(&first, &answer("Bea", "Answering Ada.", ada)).await;
    // Both replies asked for the one confirmation: the delivery that found it being sent by
    // the other retries after its backoff, on the test's clock, and the answer's mail after it.
    for _ in 0..5 {
        app.clock.advance(5);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let note = sink.wait_for(2).await[1].clone();
    let manage = note.link("/subscriptions/");
    let page = app.get(&manage).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "private, no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    let listed: Vec<String> =
        page.all("ul.subscriptions li").into_iter().map(crate::helpers::text).collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(
        listed.iter().any(|l| l.contains("First story") && l.contains("replies to your comment"))
    );
    assert!(listed.iter().any(|l| l.contains("Second story") && l.contains("every new reply")));
    assert!(!page.body.contains("ada@example.com"), "the address is not shown whole");
    // "Unsubscribe from everything" forgets the address.
    let everything = crate::helpers::attr(page.one("main > section > form"), "action").to_owned();
    assert_eq!(post_form(&app, &everything, &[]).await.status, 200);
    let gone = app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await;
    assert!(gone.is_none());
    assert_eq!(app.get(&manage).await.status, 404);
}

#[tokio::test]
async fn names_and_titles_cannot_inject_headers() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Line Bcc: victim@example.org").await.path;
    let ada = app.reply(&path, &following("Ada", "First.")).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    let form = reply_with(&[
        ("name", "Mallory\r\nBcc: victim@example.org"),
        ("email", "mallory@example.com"),
        ("comment", "<script>alert(1)</script>\r\nBcc: victim@example.org"),
        ("parent", &ada.to_string()),
    ]);
    // The form refuses a name with a line break; what it takes cannot break a header either.
    assert_eq!(app.post(&path, &form).await.status, 422);
    let form = reply_with(&[
        ("name", "Mallory <b>"),
        ("email", "mallory@example.com"),
        ("comment", "<script>alert(1)</script>\r\nBcc: victim@example.org"),
        ("parent", &ada.to_string()),
    ]);
    app.reply(&path, &form).await;
    let note = sink.wait_for(2).await[1].clone();
    assert!(note.headers("Bcc").is_empty(), "{:?}", note.parsed["headers"]);
    assert_eq!(note.rcpt(), ["ada@example.com"]);
    let head = note.raw.split("\r\n\r\n").next().unwrap();
    assert!(
        !head.lines().any(|line| line.to_ascii_lowercase().starts_with("bcc:")),
        "no header line a name or title made:\n{head}"
    );
    for (name, value) in
        note.parsed["headers"].as_array().unwrap().iter().map(|h| (h[0].clone(), h[1].clone()))
    {
        assert!(!value.as_str().unwrap().contains('\n'), "{name}: {value}");
    }
    assert!(quoted_html(&note).starts_with("<script>alert(1)</script>"), "{}", quoted_html(&note));
    assert!(!note.html().contains("<script>"));
    assert!(note.parsed["defects"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn replies_are_acknowledged_while_the_mail_server_is_down_and_mailed_once_after() {
    let port = free_port();
    let app = spawn_mailing(port, &[]).await;
    let path = app.publish("Outage").await.path;
    let mut ids = Vec::new();
    for name in ["Ada", "Bea", "Cal"] {
        ids.push(
            app.reply(&path, &following(name, &format!("{name} posts while mail is down."))).await,
        );
    }
    assert_eq!(ids.len(), 3, "every reply acknowledged");
    settle(&app).await;
    // The server comes back; the retries (their backoff on the test's clock) reach it.
    let sink = Sink::start_on(port);
    for _ in 0..6 {
        app.clock.advance(120);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mails = sink.wait_for(3).await;
    settle(&app).await;
    app.clock.advance(3600);
    settle(&app).await;
    let mut to: Vec<String> = sink.received().iter().flat_map(|m| m.rcpt()).collect();
    to.sort();
    assert_eq!(to, ["ada@example.com", "bea@example.com", "cal@example.com"], "each once");
    assert!(mails.iter().all(|m| m.header("Subject").contains("Confirm")));
}

#[tokio::test]
async fn two_nodes_send_each_mail_once() {
    let sink = Sink::start();
    let first = spawn_mailing(sink.port, &[]).await;
    let port = sink.port.to_string();
    let settings = mail_settings(&port);
    let second = restart(&first, &as_pairs(&settings)).await;
    let path = first.publish("Two nodes").await.path;
    let ada = first.reply(&path, &following("Ada", "On node one.")).await;
    confirm_from(&second, &sink.wait_for(1).await[0]).await;
    for (i, node) in [&first, &second, &first, &second].into_iter().enumerate() {
        node.reply(&path, &answer("Bea", &format!("Answer {i}."), ada)).await;
    }
    let mails = sink.wait_for(5).await;
    settle(&first).await;
    settle(&second).await;
    let received = sink.received();
    assert_eq!(received.len(), 5, "one confirmation and four notifications, each once");
    for i in 0..4 {
        let quoted = format!("> Answer {i}.");
        assert_eq!(received.iter().filter(|m| m.text().contains(&quoted)).count(), 1, "{quoted}");
    }
    assert!(mails.iter().all(|m| m.rcpt() == ["ada@example.com"]));
}

/// Run as a separate process by the next test: a node mailing through a server that is down.
#[tokio::test]
#[ignore = "started by a_node_killed_while_it_mailed_mails_once_after_a_restart"]
async fn a_mailing_node_to_kill() {
    let Ok(database) = std::env::var("BYLINE_TEST_NODE_DATABASE") else { return };
    let port = std::env::var("BYLINE_TEST_NODE_SMTP").unwrap();
    let settings = mail_settings(&port);
    let setup = crate::helpers::Setup {
        settings: &as_pairs(&settings),
        clock: Some(byline::clock::Clock::system()),
        ..Default::default()
    };
    let app = spawn_database_with(&database, setup).await;
    println!("listening {}", app.address);
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn a_node_killed_while_it_mailed_mails_once_after_a_restart() {
    use std::io::BufRead;
    // The mail server holds the node's message unanswered: the node has claimed the mail and
    // is sending it when it is killed.
    let sink = Sink::start();
    let port = sink.port;
    let stall = sink.dir().join("stall");
    std::fs::write(&stall, "").unwrap();
    // This node sends no mail: the one started below, in another process, does.
    let first = spawn_with(&[("moderation", "none")]).await;
    let path = first.publish("Killed").await.path;
    let database = database_of(&first);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["mail::a_mailing_node_to_kill", "--exact", "--ignored", "--nocapture"])
        .arg("--test-threads=1")
        .env("BYLINE_TEST_NODE_DATABASE", &database)
        .env("BYLINE_TEST_NODE_SMTP", port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let address = loop {
        let line = lines.next().expect("the node speaks").unwrap();
        if let Some((_, rest)) = line.split_once("listening ") {
            break rest.trim().to_owned();
        }
    };
    // A reply through the other node: committed, its mail not sent (the server is down)...
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{address}{path}")).send().await.unwrap().text().await.unwrap();
    let token = page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut form = following("Ada", "Committed, then the node died.");
    form.push(("token", token.to_owned()));
    let response = client
        .post(format!("{address}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    // ...its mail claimed and on its way when the node is killed with SIGKILL.
    for _ in 0..200 {
        if sink.dir().join("stalled").exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sink.dir().join("stalled").exists(), "the node was sending");
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&stall).unwrap();
    assert!(sink.received().is_empty(), "the killed node's message was not taken");

    // A node is started again: the mail goes, once.
    let port_text = port.to_string();
    let settings = mail_settings(&port_text);
    let setup = crate::helpers::Setup { settings: &as_pairs(&settings), ..Default::default() };
    let again = spawn_database_with(&database, setup).await;
    let behind = crate::helpers::now() - again.clock.now();
    for _ in 0..4 {
        // Past the dead node's lease and backoff, which it took by the system clock.
        again.clock.advance(behind + byline::services::outbox::LEASE + 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt(), ["ada@example.com"]);
    settle(&again).await;
    again.clock.advance(3600);
    settle(&again).await;
    assert_eq!(sink.received().len(), 1, "sent once");
    drop(first);
}

#[tokio::test]
async fn past_the_hourly_limit_replies_wait_for_one_digest() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[("notify_max_per_hour", "2")]).await;
    let path = app.publish("Busy thread").await.path;
    let mut form = reply_with(&[("name", "Ada"), ("email", "ada@example.com")]);
    form.push(("follow_article", "yes".into()));
    app.reply(&path, &form).await;
    confirm_from(&app, &sink.wait_for(1).await[0]).await;
    for (name, text) in [("Bea", "First news."), ("Cal", "Second news."), ("Dee", "Third news.")] {
        let email = format!("{}@example.com", name.to_lowercase());
        app.reply(&path, &reply_with(&[("name", name), ("email", &email), ("comment", text)]))
            .await;
    }
    // The confirmation and one notification make the hour's two.
    sink.wait_for(2).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 2, "no more than notify_max_per_hour");
    // An hour on, the rest come in one digest.
    app.clock.advance(3601);
    let mails = sink.wait_for(3).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 3, "one digest");
    let digest = &mails[2];
    assert_eq!(digest.rcpt(), ["ada@example.com"]);
    assert!(digest.header("Subject").contains("2 new replies"), "{}", digest.header("Subject"));
    assert!(digest.text().contains("> Second news.") && digest.text().contains("> Third news."));
    assert!(!digest.text().contains("First news."));
    // Its one-click link ends every subscription of the address.
    let unsubscribe = digest.header("List-Unsubscribe");
    let unsubscribe =
        unsubscribe.trim_matches(|c| c == '<' || c == '>').strip_prefix(BASE).unwrap();
    let done = post_form(&app, unsubscribe, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(done.status, 200);
    assert!(app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await.is_none());
}

#[tokio::test]
async fn mail_test_sends_one_message_and_prints_the_servers_answer() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let output = crate::cli::byline()
        .args(["mail", "test", "editor@example.com"])
        .current_dir(dir.path())
        .env("BYLINE_MAIL", "smtp")
        .env("BYLINE_SMTP_HOST", "127.0.0.1")
        .env("BYLINE_SMTP_PORT", sink.port.to_string())
        .env("BYLINE_SMTP_SECURITY", "none")
        .env("BYLINE_BASE_URL", BASE)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("250"), "the server's answer: {stdout}");
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt(), ["editor@example.com"]);

    // Nothing listening: the command says so and fails.
    let output = crate::cli::byline()
        .args(["mail", "test", "editor@example.com"])
        .current_dir(dir.path())
        .env("BYLINE_MAIL", "smtp")
        .env("BYLINE_SMTP_HOST", "127.0.0.1")
        .env("BYLINE_SMTP_PORT", free_port().to_string())
        .env("BYLINE_SMTP_SECURITY", "none")
        .env("BYLINE_BASE_URL", BASE)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("error"));
}

#[tokio::test]
async fn start_up_refuses_mail_without_the_sites_address() {
    let dir = tempfile::tempdir().unwrap();
    let output = crate::cli::byline()
        .args(["serve"])
        .current_dir(dir.path())
        .env("BYLINE_MAIL", "smtp")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`base_url` (BYLINE_BASE_URL)"), "{stderr}");
    let output = crate::cli::byline()
        .args(["serve"])
        .current_dir(dir.path())
        .env("BYLINE_MAIL", "smtp")
        .env("BYLINE_BASE_URL", BASE)
        .env("BYLINE_SMTP_SECURITY", "ssl")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("`smtp_security` (BYLINE_SMTP_SECURITY)")
    );
}

#[tokio::test]
async fn the_newsroom_says_whether_mail_is_on_and_why_not() {
    let off = spawn_with(&[]).await;
    off.add_staff("admin@example.com", "Admin", byline::domain::Role::Admin).await;
    let admin = off.sign_in("admin@example.com").await;
    let page = off.staff_get(&admin, "/admin/settings").await;
    let said = crate::helpers::text(page.one("#mail-state"));
    assert!(said.contains("Email notifications are off") && said.contains("BYLINE_MAIL"), "{said}");

    let sink = Sink::start();
    let on = spawn_mailing(sink.port, &[]).await;
    on.add_staff("admin@example.com", "Admin", byline::domain::Role::Admin).await;
    let admin = on.sign_in("admin@example.com").await;
    let page = on.staff_get(&admin, "/admin/settings").await;
    let said = crate::helpers::text(page.one("#mail-state"));
    assert!(said.contains("Email notifications are on") && said.contains("127.0.0.1"), "{said}");
}

#[tokio::test]
async fn a_forgotten_password_is_reset_once_with_a_mailed_link() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    app.add_staff("ed@example.com", "Ed Itor", byline::domain::Role::Editor).await;
    let before = app.sign_in("ed@example.com").await;
    let login = app.get("/admin/login").await;
    assert_eq!(crate::helpers::attr(login.one("a[href='/admin/forgot']"), "href"), "/admin/forgot");

    // The same answer, whether or not the address has an account.
    let known = post_form(&app, "/admin/forgot", &[("email", "ed@example.com")]).await;
    let unknown = post_form(&app, "/admin/forgot", &[("email", "nobody@example.com")]).await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        crate::helpers::text(known.one("#forgot-sent")),
        crate::helpers::text(unknown.one("#forgot-sent"))
    );
    let mails = sink.wait_for(1).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 1, "nothing to an address without an account");
    assert_eq!(mails[0].rcpt(), ["ed@example.com"]);
    let link = mails[0].link("/admin/reset/");

    // Showing the form uses nothing up; a mismatch is corrected in place.
    assert_eq!(app.get(&link).await.status, 200);
    assert_eq!(app.get(&link).await.status, 200);
    let new = "a brand new passphrase";
    let wrong = post_form(&app, &link, &[("new", new), ("again", "something else")]).await;
    assert_eq!(wrong.status, 422);
    let done = post_form(&app, &link, &[("new", new), ("again", new)]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), "/admin/login?reset=1");
    // Every earlier session has ended; the new password signs in.
    let ended = app.staff_get(&before, "/admin/").await;
    assert_eq!(ended.status, 303, "signed out");
    app.sign_in_with("ed@example.com", new).await;
    // Once only.
    assert_eq!(
        post_form(&app, &link, &[("new", "another passphrase"), ("again", "another passphrase")])
            .await
            .status,
        404
    );
    assert_eq!(app.get(&link).await.status, 404);
    // An altered link works not at all.
    let altered = format!("{}0", &link[..link.len() - 1]);
    assert_eq!(app.get(&altered).await.status, 404);

    // A link older than an hour works no more.
    app.clock.advance(61);
    post_form(&app, "/admin/forgot", &[("email", "ed@example.com")]).await;
    let second = sink.wait_for(2).await[1].link("/admin/reset/");
    app.clock.advance(3601);
    assert_eq!(app.get(&second).await.status, 404);
    let late = post_form(
        &app,
        &second,
        &[("new", "too late passphrase"), ("again", "too late passphrase")],
    )
    .await;
    assert_eq!(late.status, 404);
    app.sign_in_with("ed@example.com", new).await;
}

/// The `/moderate/…` links of a held-reply mail, by button.
fn moderation_links(mail: &Mail) -> Vec<String> {
    let text = mail.text();
    text.split_whitespace()
        .filter_map(|word| word.strip_prefix(&format!("{BASE}/moderate/")))
        .map(|token| format!("/moderate/{token}"))
        .collect()
}

async fn status_of(app: &TestApp, id: ReplyId) -> byline::domain::ReplyStatus {
    app.stored(id).await.unwrap().status
}

#[tokio::test]
async fn moderators_are_mailed_held_replies_with_links_that_work_once() {
    use byline::domain::{ReplyStatus, Role};
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    app.add_staff("ed@example.com", "Ed Itor", Role::Editor).await;
    app.add_staff("al@example.com", "Al Admin", Role::Admin).await;
    app.add_staff("au@example.com", "Au Thor", Role::Author).await;
    let al = app.sign_in("al@example.com").await;
    let quiet = [("form", "mail"), ("held_mail", "none")];
    assert_eq!(app.staff_post(&al, "/admin/account", &quiet).await.status, 303);
    let path = app.publish("Held here").await.path;

    let held = app.reply(&path, &reply_with(&[("comment", "Please holdme, moderators.")])).await;
    let mails = sink.wait_for(1).await;
    settle(&app).await;
    assert_eq!(
        sink.received().len(),
        1,
        "the editor only: the admin chose none, the author is not this article's"
    );
    let mail = &mails[0];
    assert_eq!(mail.rcpt(), ["ed@example.com"]);
    assert!(mail.header("Subject").contains("waits for moderation on “Held here”"));
    assert!(mail.text().contains("> Please holdme, moderators."));
    assert!(
        mail.text().contains("held because: matched “holdme” on the hold list"),
        "{}",
        mail.text()
    );
    assert!(
        !mail.raw.contains("ada@example.com"),
        "the reader's address is not in staff mail either"
    );
    let links = moderation_links(mail);
    assert_eq!(links.len(), 3, "approve, spam, trash: {links:?}");
    let approve = links.iter().find(|l| l.contains(".approve.")).unwrap().clone();

    // The link opens a page that asks first: a GET changes nothing, signed in or not.
    let asked = app.get(&approve).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Please holdme, moderators."));
    assert_eq!(status_of(&app, held).await, ReplyStatus::Pending);
    // An altered link does nothing.
    let altered = approve.replace(".approve.", ".spam.");
    assert_eq!(post_form(&app, &altered, &[]).await.status, 404);
    assert_eq!(status_of(&app, held).await, ReplyStatus::Pending);
    // The POST acts, without signing in, once.
    let done = post_form(&app, &approve, &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(status_of(&app, held).await, ReplyStatus::Approved);
    assert_eq!(post_form(&app, &approve, &[]).await.status, 409, "used already");
    assert_eq!(status_of(&app, held).await, ReplyStatus::Approved);

    // After seven days the links work no more.
    let later = app.reply(&path, &reply_with(&[("comment", "holdme again")])).await;
    let trash = moderation_links(&sink.wait_for(2).await[1])
        .into_iter()
        .find(|l| l.contains(".trash."))
        .unwrap();
    app.clock.advance(7 * 86_400 + 1);
    assert_eq!(post_form(&app, &trash, &[]).await.status, 404);
    assert_eq!(status_of(&app, later).await, ReplyStatus::Pending);
}

#[tokio::test]
async fn a_moderator_may_choose_an_hourly_digest_and_authors_their_articles_replies() {
    use byline::domain::Role;
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    app.add_staff("ed@example.com", "Ed Itor", Role::Editor).await;
    app.add_staff("au@example.com", "Au Thor", Role::Author).await;
    let ed = app.sign_in("ed@example.com").await;
    let au = app.sign_in("au@example.com").await;
    let hourly = [("form", "mail"), ("held_mail", "hourly")];
    assert_eq!(app.staff_post(&ed, "/admin/account", &hourly).await.status, 303);
    let account = app.staff_get(&ed, "/admin/account").await;
    assert!(account.one("#held_mail option[value=hourly]").value().attr("selected").is_some());
    let replies = [("form", "mail"), ("held_mail", "none"), ("reply_mail", "yes")];
    assert_eq!(app.staff_post(&au, "/admin/account", &replies).await.status, 303);
    let draft = byline::services::publishing::Draft {
        headline: "By the author".into(),
        standfirst: "A standfirst.".into(),
        author: "Au Thor".into(),
        body_markdown: "Body.".into(),
        replies_open: true,
    };
    let path = app.publish_draft(draft).await.path;

    app.reply(&path, &reply_with(&[("comment", "First holdme.")])).await;
    app.reply(&path, &reply_with(&[("comment", "Second holdme.")])).await;
    app.reply(&path, &reply_with(&[("comment", "A public one."), ("email", "pub@example.com")]))
        .await;
    // The author hears of the public reply at once; the moderator of nothing yet.
    let mails = sink.wait_for(1).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(mails[0].rcpt(), ["au@example.com"]);
    assert!(mails[0].header("Subject").contains("New reply on your article “By the author”"));
    assert!(mails[0].text().contains("> A public one."));
    // One click (RFC 8058) ends them, and the account page shows it.
    assert_eq!(mails[0].header("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
    let one_click = mails[0].header("List-Unsubscribe");
    let one_click = one_click.trim_matches(|c| c == '<' || c == '>').strip_prefix(BASE).unwrap();
    let asked = app.get(one_click).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("new replies on your articles"), "{}", asked.body);
    let done = post_form(&app, one_click, &[("List-Unsubscribe", "One-Click")]).await;
    assert_eq!(done.status, 200);
    let account = app.staff_get(&au, "/admin/account").await;
    assert!(account.one("input[name=reply_mail]").value().attr("checked").is_none());
    let forged = format!("{}0", one_click);
    assert_eq!(post_form(&app, &forged, &[]).await.status, 404);
    let other = [("comment", "Another public one."), ("email", "pub2@example.com")];
    app.reply(&path, &reply_with(&other)).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 1, "the author asked for no more");
    // An hour on, one digest with both held replies and their buttons.
    app.clock.advance(3601);
    let digest = sink.wait_for(2).await[1].clone();
    assert_eq!(digest.rcpt(), ["ed@example.com"]);
    assert!(digest.header("Subject").contains("2 replies wait for moderation"));
    assert!(
        digest.text().contains("> First holdme.") && digest.text().contains("> Second holdme.")
    );
    assert_eq!(moderation_links(&digest).len(), 6);
}

#[tokio::test]
async fn a_reader_gets_a_copy_of_their_replies_and_erases_them() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("My data").await.path;
    let mut form = reply_with(&[
        ("comment", "My first words."),
        ("email", "ada@example.com"),
        ("website", "https://ada.example/"),
    ]);
    form.push(("notify_replies", "yes".into()));
    let first = app.reply(&path, &form).await;
    let second = app
        .reply(&path, &reply_with(&[("comment", "My second words."), ("email", "ada@example.com")]))
        .await;
    let answer = app.reply(&path, &answer("Bea", "Answering Ada.", first)).await;
    sink.wait_for(1).await; // the confirmation of Ada's subscription

    // The same answer whether or not the address posted here; a link only to one that did.
    let asked =
        post_form(&app, "/my-replies", &[("email", "ada@example.com"), ("action", "copy")]).await;
    let nobody =
        post_form(&app, "/my-replies", &[("email", "nobody@example.com"), ("action", "copy")])
            .await;
    assert_eq!((asked.status, nobody.status), (200, 200));
    assert_eq!(asked.one("main p").inner_html(), nobody.one("main p").inner_html());
    let mails = sink.wait_for(2).await;
    settle(&app).await;
    assert_eq!(sink.received().len(), 2);
    assert_eq!(mails[1].rcpt(), ["ada@example.com"]);
    let copy = mails[1].link("/my-replies/");
    let page = app.get(&copy).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "private, no-store");
    let listed: Vec<String> =
        page.all("ol.my-replies li").into_iter().map(crate::helpers::text).collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(listed[0].contains("My first words.") && listed[1].contains("My second words."));
    let json_path = crate::helpers::attr(page.one("a[download]"), "href").to_owned();
    let response = app.client.get(app.url(&json_path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let json: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let replies = json["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0]["email"], "ada@example.com");
    assert_eq!(replies[0]["website"], "https://ada.example/");
    assert_eq!(replies[0]["text"], "My first words.");
    assert_eq!(replies[0]["id"], first.get());

    // The erasure: the link asks once more; the POST erases, once.
    app.clock.advance(61);
    post_form(&app, "/my-replies", &[("email", "ada@example.com"), ("action", "erase")]).await;
    let erase = sink.wait_for(3).await[2].link("/my-replies/");
    let asked = app.get(&erase).await;
    assert_eq!(asked.status, 200);
    assert_eq!(asked.all("ol.my-replies li").len(), 2);
    assert!(app.stored(first).await.is_some(), "a GET erases nothing");
    let done = post_form(&app, &erase, &[]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(app.stored(first).await.is_none() && app.stored(second).await.is_none());
    assert!(app.stored(answer).await.is_some(), "others' answers stay");
    let article = app.get(&path).await;
    assert!(!article.body.contains("My first words.") && !article.body.contains("Ada Reader"));
    assert!(article.body.contains("Answering Ada."));
    // The answered reply keeps its place, under the words the erasure page promised.
    let kept = format!("li#comment-{first} > .removed-note");
    assert_eq!(crate::helpers::text(article.one(&kept)), "This reply was removed.");
    assert!(asked.body.contains("This reply was removed."), "promised before erasing");
    assert!(app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await.is_none());
    assert_eq!(post_form(&app, &erase, &[]).await.status, 404, "once");
    // The copy's link ends after a day.
    app.clock.advance(86_401);
    assert_eq!(app.get(&copy).await.status, 404);
}

#[tokio::test]
async fn staff_copy_or_erase_an_addresss_replies_from_the_queue() {
    use byline::domain::Role;
    let app = spawn_with(&[("moderation", "none")]).await;
    let path = app.publish("Asked by phone").await.path;
    let first =
        app.reply(&path, &reply_with(&[("comment", "One."), ("email", "ada@example.com")])).await;
    app.reply(&path, &reply_with(&[("comment", "Two."), ("email", "ADA@example.com")])).await;
    let other = app
        .reply(&path, &reply_with(&[("comment", "Not hers."), ("email", "bea@example.com")]))
        .await;
    app.add_staff("ed@example.com", "Ed Itor", Role::Editor).await;
    app.add_staff("au@example.com", "Au Thor", Role::Author).await;
    let ed = app.sign_in("ed@example.com").await;
    let au = app.sign_in("au@example.com").await;
    let queue = app.staff_get(&ed, "/admin/replies/?status=all&email=ada%40example.com").await;
    assert!(queue.has("form.address-rights button[value=erase]"));
    assert!(
        !app.staff_get(&au, "/admin/replies/?status=all&email=ada%40example.com")
            .await
            .has("form.address-rights")
    );
    let refused = app
        .staff_post(
            &au,
            "/admin/replies/address",
            &[("email", "ada@example.com"), ("what", "erase")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(app.stored(first).await.is_some());

    let copy = app
        .staff_post(
            &ed,
            "/admin/replies/address",
            &[("email", "ada@example.com"), ("what", "copy")],
        )
        .await;
    assert_eq!(copy.status, 200);
    let json: Value = serde_json::from_str(&copy.body).unwrap();
    let texts: Vec<&str> =
        json["replies"].as_array().unwrap().iter().map(|r| r["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["One.", "Two."]);
    let erased = app
        .staff_post(
            &ed,
            "/admin/replies/address",
            &[("email", "ada@example.com"), ("what", "erase")],
        )
        .await;
    assert_eq!(erased.status, 303);
    assert!(app.stored(first).await.is_none());
    assert!(app.stored(other).await.is_some());
}

#[tokio::test]
async fn unconfirmed_addresses_are_forgotten_after_30_days() {
    let sink = Sink::start();
    let app = spawn_mailing(sink.port, &[]).await;
    let path = app.publish("Forgotten").await.path;
    app.reply(&path, &following("Ada", "Never confirmed.")).await;
    sink.wait_for(1).await;
    let known = || async { app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await };
    app.clock.advance(29 * 86_400);
    settle(&app).await;
    assert!(known().await.is_some(), "kept for 30 days");
    app.clock.advance(2 * 86_400);
    for _ in 0..40 {
        if known().await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(known().await.is_none(), "forgotten by the jobs after 30 days");
}

#[tokio::test]
async fn a_mail_the_server_never_takes_is_given_up_after_mail_give_up_hours() {
    let port = free_port();
    let app = spawn_mailing(port, &[("mail_give_up_hours", "2")]).await;
    let path = app.publish("Never delivered").await.path;
    app.reply(&path, &following("Ada", "Nobody listens.")).await;
    let mail = || async {
        let all = app.db(|db| Box::pin(byline::store::OutboxReads::deliveries(db, "mail"))).await;
        all.into_iter().last().unwrap()
    };
    settle(&app).await;
    assert!(mail().await.done_at.is_none(), "retried, not given up, within the hours");
    for _ in 0..12 {
        app.clock.advance(900);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let given_up = mail().await;
    assert_eq!(given_up.outcome.as_deref(), Some("given up"), "{given_up:?}");
    assert!(!given_up.last_error.is_empty(), "the reason is kept for staff");
    assert!(!given_up.last_error.contains("ada@example.com"));
    // ...and shown to them on the settings page, with a link to the reply it was about.
    app.add_staff("admin@example.com", "Ad Min", byline::domain::Role::Admin).await;
    let admin = app.sign_in("admin@example.com").await;
    let settings = app.staff_get(&admin, "/admin/settings").await;
    let listed = crate::helpers::text(settings.one("ul.given-up li"));
    assert!(listed.contains(&given_up.last_error), "{listed}");
    let reply = app.db(|db| Box::pin(db.mail_address_of("ada@example.com"))).await;
    assert!(reply.is_some());
    let link = crate::helpers::attr(settings.one("ul.given-up li a"), "href").to_owned();
    assert!(link.starts_with("/admin/replies/") && link.ends_with("/edit"), "{link}");
    assert_eq!(app.staff_get(&admin, &link).await.status, 200);
}
