//! Sample content for `byline serve --demo`, so a newcomer sees a real page at once.

use crate::domain::reply::{AuthorName, Email, ReplyBody};
use crate::domain::{ArticleId, FieldError, Headline, ReplyId, ReplyStatus, Slug};
use crate::services::Services;
use crate::services::publishing::{self, Draft, PublishError};
use crate::store::{ArticleReads, ArticleWrites, NewReply, ReplyWrites, StoreError};

const LEAD_BODY: &str = "\
The 6.40 from Harrow Quay left on time on Tuesday. That sentence would not be news almost \
anywhere else, but on the estuary it drew a small crowd — and, by the far bank, a round of \
applause.

For eleven months the crossing has run to what regulars call “river time”: a timetable \
honoured mostly in the breach, a ticket office that opened when it felt like it, and a \
public-address system that announced delays in a voice nobody could quite make out.

“I’ve started bringing a flask and a book,” said Maureen Oyelaran, 71, who crosses four \
days a week to volunteer at the library in Fennick. “This morning I didn’t get past the \
first page. I felt almost cheated.”

## What changed

The operator, Estuary Crossings, replaced both of the ferry’s engines in October and, \
more quietly, hired two extra deckhands so that mooring no longer waits on a single pair \
of hands. Its operations manager, Tomasz Wróbel, says punctuality over the past fortnight \
was 96 per cent – up from 58 per cent in the summer.

> We were never short of goodwill. We were short of engines and people.

Not everyone is persuaded. The Harrow Quay residents’ association notes that the winter \
timetable still has a 90-minute gap in the early afternoon, and that the promised shelter \
on the Fennick side is «still a drawing on a noticeboard».

The council’s transport committee meets on 3 December to decide whether to extend the \
operator’s contract for another five years. Public comments are open until the end of \
the month.
";

const SECOND_BODY: &str = "\
Volunteers counted 212 species at the Marsh Lane allotments this summer, from the common \
blue butterfly to a lesser stag beetle nobody had recorded there since 1998.

The survey — the first in a decade — was run by pupils of St Aldhelm’s primary school and \
checked by the county’s records centre. “The children were stricter than the experts,” \
said the teacher who organised it.
";

const THIRD_BODY: &str = "\
The bakery on Corn Street that has baked the town’s hot cross buns since 1952 is for sale. \
Its owners, who are retiring, say they would rather sell to someone who keeps the ovens \
lit than to the highest bidder.
";

/// Files a demo article in a section, with tags.
async fn file(
    services: &Services,
    id: ArticleId,
    section: &'static str,
    tags: &'static str,
) -> Result<(), PublishError> {
    services
        .commit(move |unit| {
            Box::pin(async move {
                let mut article = unit.article(id).await?.ok_or(PublishError::NotFound)?;
                let (section, _) =
                    unit.find_or_create_section(section, &section.to_lowercase()).await?;
                let pairs: Vec<_> = publishing::tag_names(tags)
                    .into_iter()
                    .map(|n| (n.clone(), Slug::from_headline(&n).to_string()))
                    .collect();
                let tags = unit.find_or_create_tags(&pairs).await?;
                let fields = crate::store::ArticleFields {
                    slug: Slug::parse(&article.slug)
                        .unwrap_or_else(|| Slug::from_headline(&article.headline)),
                    headline: Headline::parse(&article.headline)
                        .map_err(|e| PublishError::Fields(vec![FieldError::new("headline", e)]))?,
                    standfirst: std::mem::take(&mut article.standfirst),
                    body_markdown: std::mem::take(&mut article.body_markdown),
                    body_html: std::mem::take(&mut article.body_html),
                    author_ids: article.authors.iter().map(|a| a.id).collect(),
                    section_id: Some(section.id),
                    tag_ids: tags.iter().map(|t| t.id).collect(),
                    image: None,
                    replies_open: true,
                    word_count: article.word_count,
                    seo: Default::default(),
                };
                unit.update_article(id, &fields, article.updated_at).await?;
                unit.site_changed();
                Ok(())
            })
        })
        .await
}

/// Publishes the demo articles and replies if the database has no articles; says whether it did.
pub async fn seed_if_empty(services: &Services) -> Result<bool, PublishError> {
    let published = services.store.read(|db| db.count_published_articles(None)).await?;
    if published > 0 {
        return Ok(false);
    }
    let now = services.clock.now();
    let hour = 3600;
    let draft = |headline: &str, standfirst: &str, author: &str, body: &str| Draft {
        headline: headline.into(),
        standfirst: standfirst.into(),
        author: author.into(),
        body_markdown: body.into(),
        replies_open: true,
    };
    let articles = [
        draft(
            "The bakery that made the town’s hot cross buns is up for sale",
            "After seventy years on Corn Street, the owners want a buyer who will keep baking.",
            "Priya Natarajan",
            THIRD_BODY,
        ),
        draft(
            "Schoolchildren find 212 species on the Marsh Lane allotments",
            "A survey run by pupils turned up a beetle unseen there for a quarter of a century.",
            "Daniel Okafor",
            SECOND_BODY,
        ),
        draft(
            "The night the river ferry ran on time",
            "After eleven months of “river time”, the Harrow Quay crossing is suddenly \
             punctual — and its passengers hardly know what to do with themselves.",
            "Eleanor Marsh",
            LEAD_BODY,
        ),
    ];
    let filing = [
        ("Business", "Shops, Corn Street"),
        ("Environment", "Wildlife, Schools"),
        ("Local", "Transport, Ferries"),
    ];
    let mut lead = ArticleId(0);
    for (i, article) in articles.iter().enumerate() {
        let published_at = now - (articles.len() - i) as i64 * 20 * hour;
        lead = publishing::publish_at(services, article, published_at).await?.id;
        file(services, lead, filing[i].0, filing[i].1).await?;
    }
    let replies: [(Option<usize>, &str, &str, i64); 5] = [
        (
            None,
            "Maureen O.",
            "At last! I may have to read the second page of my book at home now.",
            0,
        ),
        (
            Some(0),
            "Tomasz Wróbel",
            "Thank you, Maureen — the crew were delighted to see you on board.\n\nWe will keep the flask-and-book service going for anyone who misses it.",
            1,
        ),
        (
            None,
            "Sam Whitley",
            "Good news, but the 90-minute gap after lunch is the real problem for shift workers. Will the council ask about it on 3 December?",
            2,
        ),
        (
            Some(2),
            "Ines",
            "The agenda is online: https://example.org/council/transport-committee — item 7.",
            3,
        ),
        (Some(3), "Sam Whitley", "Thanks, Ines. I’ll send a comment before the deadline.", 4),
    ];
    let published = now - 20 * hour;
    services
        .commit(move |unit| {
            Box::pin(async move {
                let mut ids: Vec<ReplyId> = Vec::new();
                for (parent, name, body, minutes) in replies {
                    let reply = NewReply {
                        article_id: lead,
                        parent_id: parent.map(|i| ids[i]),
                        author_name: AuthorName::parse(name, usize::MAX)
                            .expect("the demo's names are valid"),
                        author_email: Email::parse(
                            &format!("reader{}@example.com", ids.len() + 1),
                            usize::MAX,
                        )
                        .expect("the demo's addresses are valid"),
                        author_url: None,
                        body: ReplyBody::parse(body, usize::MAX)
                            .expect("the demo's replies are valid"),
                        status: ReplyStatus::Approved,
                        ip: None,
                        held_reason: String::new(),
                        user_id: None,
                        created_at: published + hour + minutes * 17 * 60,
                    };
                    ids.push(unit.insert_reply(&reply).await?);
                }
                unit.site_changed();
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    Ok(true)
}
