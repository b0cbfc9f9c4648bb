//! Turning what a reader typed into search terms, and marking matches in a snippet.

/// Marks the start and end of a match in a snippet (private-use characters no text holds).
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

const MAX_QUERY_CHARS: usize = 200;
const MAX_TERMS: usize = 8;

/// Lowercase words of letters and digits, at most eight, from the first 200 characters.
/// Punctuation alone gives none: a normal page with no results.
pub fn terms(query: &str) -> Vec<String> {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        // Lowercasing can add marks that are not letters ('İ' becomes 'i' and a combining
        // dot): a term holds letters and digits only, as the index does.
        let word: String = word.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
        if !word.is_empty() && !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

/// Whether a term is in a script written without spaces (Chinese, Japanese, Korean), where a
/// word index cannot find words inside a run of characters.
pub fn is_cjk(term: &str) -> bool {
    term.chars().any(|c| {
        matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af | 0xf900..=0xfaff)
    })
}

/// A short passage of `text` around the first term found, with every term marked. The marks
/// are taken out of the text first: staff can type any character, these included.
pub fn snippet(text: &str, terms: &[String], width: usize) -> String {
    let text: String = text.chars().filter(|c| !matches!(*c, MARK_START | MARK_END)).collect();
    let text = text.as_str();
    let lower = text.to_lowercase();
    // Lowercasing can change lengths; work on characters of the lowercased text.
    let chars: Vec<char> = if lower.chars().count() == text.chars().count() {
        text.chars().collect()
    } else {
        lower.chars().collect()
    };
    let lower_chars: Vec<char> = lower.chars().collect();
    let first = terms.iter().filter_map(|t| find(&lower_chars, t)).min().unwrap_or(0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        let hit = terms
            .iter()
            .map(|t| t.chars().collect::<Vec<char>>())
            .filter(|t| !t.is_empty() && i + t.len() <= lower_chars.len())
            .filter(|t| lower_chars[i..i + t.len()] == t[..])
            .map(|t| t.len())
            .max();
        match hit {
            Some(n) => {
                out.push(MARK_START);
                out.extend(&chars[i..i + n]);
                out.push(MARK_END);
                i += n;
            }
            None => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

fn find(haystack: &[char], needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    (0..=haystack.len() - needle.len()).find(|&i| haystack[i..i + needle.len()] == needle[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_from_any_query() {
        assert_eq!(terms("Ferry, ferry — TIMES!"), ["ferry", "times"]);
        assert_eq!(terms("?!… — «»"), Vec::<String>::new());
        assert_eq!(terms(&"word ".repeat(500)), ["word"]);
        assert_eq!(terms(&"x".repeat(1000)), ["x".repeat(200)]);
        assert_eq!(terms("東京の朝 Москва"), ["東京の朝", "москва"]);
        assert!(is_cjk("東京") && !is_cjk("москва"));
        // Found by fuzzing: lowercasing 'İ' gives 'i' and U+0307, a mark, not a letter.
        assert_eq!(terms("İstanbul"), ["istanbul"]);
    }

    #[test]
    fn marks_typed_in_the_text_are_not_marks() {
        let text = format!("A {MARK_START}ferry{MARK_END} and a {MARK_START}stray mark");
        let cut = snippet(&text, &["ferry".into()], 80);
        assert_eq!(cut, format!("A {MARK_START}ferry{MARK_END} and a stray mark"));
    }

    #[test]
    fn snippets_mark_the_terms() {
        let text = "The ferry left on time. Ferries rarely do.";
        let s = snippet(text, &["ferr".into()], 200);
        assert_eq!(s, "The \u{E000}ferr\u{E001}y left on time. \u{E000}Ferr\u{E001}ies rarely do.");
        let long = format!("{} needle {}", "a ".repeat(100), "b ".repeat(100));
        let s = snippet(&long, &["needle".into()], 60);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("\u{E000}needle\u{E001}"),
            "{s}"
        );
    }
}
