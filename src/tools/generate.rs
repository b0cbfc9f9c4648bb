//! `byline generate`: fills an empty database with a realistic site for benchmarks and load
//! tests, written in bulk (as `byline copy` writes), so a million replies take seconds.

use crate::domain::{text, time};
use crate::store::{
    CopyReads, CopyWrites, SettingWrites, SiteSetting, Store, StoreError, Table, Value,
};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub articles: i64,
    /// Replies on every article but the first.
    pub replies_per_article: i64,
    /// Replies on the first article (the one a story that spreads would be), threaded.
    pub lead_replies: i64,
}

const WORDS: &[&str] = &[
    "harbour",
    "council",
    "ferry",
    "tide",
    "market",
    "school",
    "bridge",
    "river",
    "evening",
    "winter",
    "residents",
    "committee",
    "budget",
    "station",
    "weather",
    "library",
    "quay",
];

/// About `words` words of prose in paragraphs, with typographic quotes and dashes.
fn prose(seed: i64, words: usize) -> String {
    let mut out = String::new();
    for i in 0..words {
        let word = WORDS[(seed as usize + i * 7) % WORDS.len()];
        if i % 60 == 0 && i > 0 {
            out.push_str(".\n\n");
        } else if i > 0 {
            out.push(' ');
        }
        if i % 23 == 5 {
            out.push('“');
            out.push_str(word);
            out.push_str("” —");
        } else {
            out.push_str(word);
        }
    }
    out.push('.');
    out
}

/// A reader's reply: 15 to 90 words, the longer ones in two paragraphs.
fn reply_text(article: i64, r: i64) -> String {
    let words = 15 + (r * 37 + article) % 76;
    format!("Reply {r} to story {article}: {}", prose(article * 31 + r, words as usize))
}

/// Fills the store; it must be empty. Article 1 has `lead_replies` threaded replies, and the
/// newest article was published ten minutes before `now`.
pub async fn generate(store: &Store, plan: Plan, now: i64) -> Result<(), StoreError> {
    let text_value = |s: String| Value::Text(s);
    let authors: Vec<Vec<Value>> = (1..=10)
        .map(|i| {
            vec![
                Value::Int(i),
                text_value(format!("Author {i}")),
                text_value(String::new()),
                Value::Int(0),
                text_value(String::new()),
            ]
        })
        .collect();
    import(store, Table::Authors, authors).await?;
    let sections: Vec<Vec<Value>> = ["Local", "Business", "Sport"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            vec![
                Value::Int(i as i64 + 1),
                text_value((*name).into()),
                text_value(name.to_lowercase()),
                text_value(String::new()),
            ]
        })
        .collect();
    import(store, Table::Sections, sections).await?;
    // The first article is the newest: the one on the front page that a story that spreads
    // would be.
    let newest = now - 600;
    let mut reply_id = 0;
    let ids: Vec<i64> = (1..=plan.articles).collect();
    for chunk in ids.chunks(500) {
        let (mut rows, mut bylines, mut replies) = (Vec::new(), Vec::new(), Vec::new());
        for &i in chunk {
            let at = newest - (i - 1) * 600;
            let body = prose(i, if i == 1 { 900 } else { 250 });
            let html = text::markdown_html(&body);
            let headline = format!(
                "Story {i}: the {} and the {}",
                WORDS[i as usize % WORDS.len()],
                WORDS[(i as usize + 3) % WORDS.len()]
            );
            let standfirst = format!(
                "What happened at the {} on day {i}.",
                WORDS[(i as usize + 5) % WORDS.len()]
            );
            let readable = text::readable_text(&html);
            let section = ["Local", "Business", "Sport"][(i % 3) as usize];
            // Indexed as a save would index it (see `store::articles::index_article`).
            let language = crate::domain::search::Language::default();
            let search_headline = crate::domain::search::index_text(&headline, &language);
            let search_body = crate::domain::search::index_text(
                &format!("{standfirst} {readable} {section}"),
                &language,
            );
            rows.push(vec![
                Value::Int(i),
                text_value(format!("story-{i}")),
                text_value(headline),
                text_value(standfirst),
                text_value(body.clone()),
                text_value(html.clone()),
                text_value("published".into()),
                Value::Int(i % 3 + 1),
                Value::Null,
                text_value(String::new()),
                text_value(String::new()),
                text_value(time::date_path(at, &jiff::tz::TimeZone::UTC)),
                Value::Int(at),
                Value::Int(at),
                Value::Int(at),
                Value::Bool(true),
                Value::Int(0),
                Value::Int(text::word_count(&body)),
                text_value(readable),
                text_value(search_headline),
                text_value(search_body),
                text_value(String::new()),
                text_value(String::new()),
                text_value(String::new()),
                Value::Null,
                Value::Null,
            ]);
            bylines.push(vec![Value::Int(i), Value::Int(i % 10 + 1), Value::Int(0)]);
            let count = if i == 1 { plan.lead_replies } else { plan.replies_per_article };
            let first = reply_id + 1;
            for r in 0..count {
                reply_id += 1;
                // Every third reply answers an earlier one: threads two or three deep.
                let parent = if r % 3 == 2 {
                    Value::Int(reply_id - 1)
                } else if r % 5 == 4 {
                    Value::Int(first)
                } else {
                    Value::Null
                };
                replies.push(vec![
                    Value::Int(reply_id),
                    Value::Int(i),
                    parent,
                    text_value(format!("Reader {}", r % 97)),
                    text_value(format!("reader{}@example.com", r % 97)),
                    Value::Null,
                    text_value(reply_text(i, r)),
                    text_value("approved".into()),
                    text_value("192.0.2.1".into()),
                    text_value(String::new()),
                    Value::Null,
                    Value::Int(at + 60 + r),
                    Value::Null,
                    Value::Bool(false),
                    Value::Null,
                ]);
            }
        }
        import(store, Table::Articles, rows).await?;
        import(store, Table::ArticleAuthors, bylines).await?;
        for batch in replies.chunks(5000) {
            import(store, Table::Comments, batch.to_vec()).await?;
        }
    }
    // New rows (a reply posted to the generated site) take ids past the generated ones.
    let mut next_ids = Vec::new();
    for table in Table::ALL.into_iter().filter(|t| t.has_id()) {
        next_ids.push((table, store.read(move |db| db.next_id(table)).await?));
    }
    // Rendered and indexed as this Byline does, in the default language: a start need not
    // render it again.
    let language = crate::domain::search::Language::default().tag().to_owned();
    let rendered = format!("{} {language}", crate::services::publishing::RENDER_VERSION);
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.finish_import(&next_ids).await?;
                tx.set_setting(SiteSetting::Language, Some(&language)).await?;
                tx.set_setting(SiteSetting::RenderedWith, Some(&rendered)).await
            })
        })
        .await
}

/// Inserts rows in one unit of work.
async fn import(store: &Store, table: Table, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
    store.write(move |tx| Box::pin(async move { tx.import_rows(table, &rows).await })).await
}
