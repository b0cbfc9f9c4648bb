//! Search, done the same way on both backends: the indexed text and the reader's query are
//! both turned into stems here, in Rust (lowercased, diacritics folded, stemmed for the site's
//! language), and the database only matches stems. Snippets are cut and marked here too.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Marks the start and end of a match in a snippet (private-use characters no text holds).
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

const MAX_QUERY_CHARS: usize = 200;
const MAX_TERMS: usize = 8;

/// The site's language (`language`): a BCP 47 tag such as `en`, `pt-BR`, `de`. It sets
/// `<html lang>`, and picks the stemmer when Snowball has one for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    tag: String,
    algorithm: Option<Algorithm>,
}

impl Language {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tag = raw.trim();
        let well_formed = !tag.is_empty()
            && tag.len() <= 35
            && tag.split('-').all(|part| {
                (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            && tag.split('-').next().is_some_and(|p| p.bytes().all(|b| b.is_ascii_alphabetic()));
        if !well_formed {
            return Err("expected a language tag such as en, fr, de or pt-BR".into());
        }
        let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
        let algorithm = match primary.as_str() {
            "ar" => Some(Algorithm::Arabic),
            "da" => Some(Algorithm::Danish),
            "nl" => Some(Algorithm::Dutch),
            "en" => Some(Algorithm::English),
            "fi" => Some(Algorithm::Finnish),
            "fr" => Some(Algorithm::French),
            "de" => Some(Algorithm::German),
            "el" => Some(Algorithm::Greek),
            "hu" => Some(Algorithm::Hungarian),
            "it" => Some(Algorithm::Italian),
            "no" | "nb" | "nn" => Some(Algorithm::Norwegian),
            "pt" => Some(Algorithm::Portuguese),
            "ro" => Some(Algorithm::Romanian),
            "ru" => Some(Algorithm::Russian),
            "es" => Some(Algorithm::Spanish),
            "sv" => Some(Algorithm::Swedish),
            "ta" => Some(Algorithm::Tamil),
            "tr" => Some(Algorithm::Turkish),
            _ => None,
        };
        Ok(Self { tag: tag.to_owned(), algorithm })
    }

    /// The tag as given, for `<html lang>`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Whether words are stemmed (Snowball has a stemmer for the language).
    pub fn stems(&self) -> bool {
        self.algorithm.is_some()
    }

    fn stemmer(&self) -> Option<Stemmer> {
        self.algorithm.map(Stemmer::create)
    }
}

impl Default for Language {
    fn default() -> Self {
        Self::parse("en").expect("en is a language")
    }
}

/// Words of a text: runs of letters and digits (a combining mark belongs to its letter).
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = None;
    let mut found = Vec::new();
    for (i, c) in text.char_indices() {
        let part = c.is_alphanumeric() || (start.is_some() && is_combining_mark(c));
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                found.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        found.push((s, &text[s..]));
    }
    found.into_iter()
}

/// A word lowercased with its diacritics folded (`Wróbel` → `wrobel`, `Straße` → `strasse`).
/// Only letters of alphabets whose marks are accents are folded: a Japanese voiced kana
/// (`が`) keeps its mark, which makes it another letter.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'ł' => out.push('l'),
            'ø' => out.push('o'),
            'đ' | 'ð' => out.push('d'),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            'þ' => out.push_str("th"),
            'ı' => out.push('i'),
            c if accented_alphabet(c) => {
                out.extend(std::iter::once(c).nfd().filter(|m| !is_combining_mark(*m)))
            }
            // A mark of its own: lowercasing `İ` gives `i` and a combining dot.
            c if is_combining_mark(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Latin, Greek and Cyrillic, whose diacritics readers often leave out when they search.
fn accented_alphabet(c: char) -> bool {
    matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x0370..=0x03FF | 0x1F00..=0x1FFF | 0x0400..=0x04FF)
}

/// A word as the index keeps it: folded, then stemmed.
fn index_word(word: &str, stemmer: Option<&Stemmer>) -> String {
    let folded = fold(word);
    match stemmer {
        Some(stemmer) if !is_cjk(&folded) => stemmer.stem(&folded).into_owned(),
        _ => folded,
    }
}

/// A text as the index keeps it: its words folded and stemmed, one space apart. Both backends
/// index this, so they find the same articles.
pub fn index_text(text: &str, language: &Language) -> String {
    let stemmer = language.stemmer();
    let mut out = String::with_capacity(text.len());
    for (_, word) in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&index_word(word, stemmer.as_ref()));
    }
    out
}

/// What a reader searched for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Each word as the index keeps it (letters and digits only, so never query syntax);
    /// a prefix of the words it finds.
    pub stems: Vec<String>,
    /// Each word as typed, lowercased: for scripts without spaces, found as plain text.
    pub words: Vec<String>,
}

impl Query {
    /// At most eight words from the first 200 characters; punctuation alone gives none.
    pub fn parse(query: &str, language: &Language) -> Self {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let stemmer = language.stemmer();
        let mut parsed = Query::default();
        for (_, word) in words(&query) {
            let lower: String =
                word.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
            if lower.is_empty() || parsed.words.contains(&lower) {
                continue;
            }
            let stem: String = index_word(word, stemmer.as_ref())
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            parsed.words.push(lower);
            if !stem.is_empty() && !parsed.stems.contains(&stem) {
                parsed.stems.push(stem);
            }
            if parsed.words.len() == MAX_TERMS {
                break;
            }
        }
        parsed
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether a word index cannot serve it: a script written without spaces (Chinese,
    /// Japanese, Korean), where words sit inside runs of characters.
    pub fn is_plain(&self) -> bool {
        self.words.iter().any(|w| is_cjk(w))
    }
}

/// Whether a term is in a script written without spaces (Chinese, Japanese, Korean), where a
/// word index cannot find words inside a run of characters.
pub fn is_cjk(term: &str) -> bool {
    term.chars().any(|c| {
        matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af | 0xf900..=0xfaff)
    })
}

/// The byte ranges of `text`'s matches: whole words whose index form starts with a stem, or
/// for a plain query each place a word appears.
fn matches(text: &str, query: &Query, language: &Language) -> Vec<(usize, usize)> {
    if query.is_plain() {
        return plain_matches(text, &query.words);
    }
    let stemmer = language.stemmer();
    words(text)
        .filter(|(_, word)| {
            let indexed = index_word(word, stemmer.as_ref());
            query.stems.iter().any(|s| indexed.starts_with(s.as_str()))
        })
        .map(|(at, word)| (at, at + word.len()))
        .collect()
}

/// Where the words appear in `text`, compared in lowercase, character by character.
fn plain_matches(text: &str, words: &[String]) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let lower: Vec<char> = chars.iter().map(|(_, c)| lower_char(*c)).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let hit = words
            .iter()
            .map(|w| w.chars().collect::<Vec<char>>())
            .filter(|w| {
                !w.is_empty() && i + w.len() <= lower.len() && lower[i..i + w.len()] == w[..]
            })
            .map(|w| w.len())
            .max();
        match hit {
            Some(n) => {
                let end = chars.get(i + n).map_or(text.len(), |(at, _)| *at);
                found.push((chars[i].0, end));
                i += n;
            }
            None => i += 1,
        }
    }
    found
}

/// One character lowercased to one character (lowercasing may give several; the first keeps
/// positions aligned).
fn lower_char(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// `text` with every match marked by [`MARK_START`] and [`MARK_END`] (the marks are taken
/// out of the text first: staff can type any character, these included).
pub fn mark(text: &str, query: &Query, language: &Language) -> String {
    let text = without_marks(text);
    marked(&text, &matches(&text, query, language), 0, text.len())
}

fn without_marks(text: &str) -> String {
    text.chars().filter(|c| !matches!(*c, MARK_START | MARK_END)).collect()
}

fn marked(text: &str, found: &[(usize, usize)], from: usize, to: usize) -> String {
    let mut out = String::with_capacity(to - from + 16);
    let mut at = from;
    for &(start, end) in found.iter().filter(|(s, e)| *s >= from && *e <= to) {
        out.push_str(&text[at..start]);
        out.push(MARK_START);
        out.push_str(&text[start..end]);
        out.push(MARK_END);
        at = end;
    }
    out.push_str(&text[at..to]);
    out
}

/// A passage of about `width` characters of `text` around the first match, cut between words
/// (`…` where it was cut), with every match marked.
pub fn snippet(text: &str, query: &Query, language: &Language, width: usize) -> String {
    let text = without_marks(text);
    let found = matches(&text, query, language);
    let first = found.first().map_or(0, |(start, _)| *start);
    let (from, to) = window(&text, first, width);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(marked(&text, &found, from, to).trim());
    if to < text.len() {
        out.push('…');
    }
    out
}

/// The byte range of a passage of at most `width` characters holding the byte `at`, about a
/// third of it before, starting and ending between words (unless one word is longer).
fn window(text: &str, at: usize, width: usize) -> (usize, usize) {
    let before: Vec<usize> = text[..at].char_indices().map(|(i, _)| i).collect();
    let ideal = before.len().saturating_sub(width / 3);
    let mut from = before.get(ideal).copied().unwrap_or(at);
    // Forward to the start of a word, not past the match.
    if from > 0
        && !text[..from].ends_with(char::is_whitespace)
        && let Some(space) = text[from..at].find(char::is_whitespace)
    {
        from += space;
    }
    from += text[from..].len() - text[from..].trim_start().len();
    let mut to = text[from..].char_indices().nth(width).map_or(text.len(), |(i, _)| from + i);
    // Back to the end of a word, if that leaves the passage its match.
    if to < text.len()
        && !text[to..].starts_with(char::is_whitespace)
        && let Some(space) = text[from..to].rfind(char::is_whitespace)
        && from + space > at
    {
        to = from + space;
    }
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> Language {
        Language::default()
    }

    #[test]
    fn queries_become_stems_and_words() {
        let q = Query::parse("Ferries, ferry — TIMES!", &en());
        assert_eq!(q.stems, ["ferri", "time"]);
        assert_eq!(q.words, ["ferries", "ferry", "times"]);
        assert!(Query::parse("?!… — «»", &en()).is_empty());
        assert_eq!(Query::parse(&"word ".repeat(500), &en()).words, ["word"]);
        assert_eq!(Query::parse(&"x".repeat(1000), &en()).words, ["x".repeat(200)]);
        let mixed = Query::parse("東京の朝 Москва", &en());
        assert_eq!(mixed.words, ["東京の朝", "москва"]);
        assert!(mixed.is_plain() && is_cjk("東京") && !is_cjk("москва"));
        // Found by fuzzing: lowercasing 'İ' gives 'i' and U+0307, a mark, not a letter.
        assert_eq!(Query::parse("İstanbul", &en()).stems, ["istanbul"]);
    }

    #[test]
    fn diacritics_fold_but_other_scripts_keep_their_marks() {
        assert_eq!(fold("Wróbel"), "wrobel");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("Ἀθῆναι"), "αθηναι");
        assert_eq!(fold("がっこう"), "がっこう");
        assert_eq!(index_text("Wróbel's ferries", &en()), "wrobel s ferri");
    }

    #[test]
    fn languages_are_tags_with_a_stemmer_when_there_is_one() {
        assert!(Language::parse("pt-BR").unwrap().stems());
        assert_eq!(Language::parse(" de ").unwrap().tag(), "de");
        assert!(!Language::parse("ja").unwrap().stems());
        for bad in ["", "e n", "en_GB", "-en", "123"] {
            assert!(Language::parse(bad).is_err(), "{bad}");
        }
        let de = Language::parse("de").unwrap();
        assert_eq!(index_text("Fähren", &de), index_text("Fähre", &de));
    }

    #[test]
    fn snippets_cut_between_words_and_mark_every_form() {
        let text = format!(
            "{} The operator said the ferry left on time. Ferries rarely do. {}",
            "Words before it. ".repeat(10),
            "Words after it. ".repeat(10)
        );
        let q = Query::parse("ferries", &en());
        let s = snippet(&text, &q, &en(), 80);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains(&format!("{MARK_START}ferry{MARK_END}")), "{s}");
        assert!(s.contains(&format!("{MARK_START}Ferries{MARK_END}")), "{s}");
        // Whole words at both ends: "…he operator" would be half a word.
        let inner = s.trim_start_matches('…').trim_end_matches('…');
        assert!(text.contains(&inner.replace([MARK_START, MARK_END], "")), "{s}");
        let starts = text.find(&inner.replace([MARK_START, MARK_END], "")).unwrap();
        assert!(text[..starts].ends_with(' '), "{s}");
    }

    #[test]
    fn marks_typed_in_the_text_are_not_marks() {
        let text = format!("A {MARK_START}ferry{MARK_END} and a {MARK_START}stray mark");
        let q = Query::parse("ferry", &en());
        let cut = snippet(&text, &q, &en(), 80);
        assert_eq!(cut, format!("A {MARK_START}ferry{MARK_END} and a stray mark"));
        assert_eq!(
            mark("Ferry to Wróbel", &Query::parse("wrobel", &en()), &en()),
            format!("Ferry to {MARK_START}Wróbel{MARK_END}")
        );
    }

    #[test]
    fn any_text_and_width_cuts_cleanly() {
        let texts = [
            "e\u{301}te\u{301} à Zürich — ﬁn ǅ İi ß",
            "مرحبا بالعالم ferry العربية",
            "👨‍👩‍👧 ferry 🚢🚢 ferries",
            "東京の朝は早い。北京和東京的新闻。",
            "\u{202e}ferry\u{202c} \u{200b}ferry\u{200b}",
            "ferry",
            "",
        ];
        for query in ["ferry", "東京", "e\u{301}te\u{301}", "ǅ", "ß"] {
            let q = Query::parse(query, &en());
            for text in texts {
                for width in 0..40 {
                    let cut = snippet(text, &q, &en(), width);
                    assert_eq!(cut.matches(MARK_START).count(), cut.matches(MARK_END).count());
                }
                let _ = mark(text, &q, &en());
            }
        }
    }

    #[test]
    fn plain_queries_mark_where_the_text_holds_them() {
        let q = Query::parse("東京", &en());
        assert_eq!(
            mark("朝の東京タワー", &q, &en()),
            format!("朝の{MARK_START}東京{MARK_END}タワー")
        );
    }
}
