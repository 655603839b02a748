//! Search text, parsed at the edge: what an agent types becomes [`SearchQuery`] (phrases of
//! lower-case letter/digit words) and from it each backend's full-text query (FTS5 `MATCH` and
//! PostgreSQL `tsquery`), so both match the same things. Also the snippet shown with a hit:
//! plain text plus the character ranges of the words that matched (the console marks them;
//! nothing here produces HTML). Pure: no IO.
//!
//! Both indexes split text on anything that is not a letter or digit (see migration 0013), so
//! the query does the same: `SO-2026-0042` is the phrase `so 2026 0042`, an address
//! `amina@example.com` the phrase `amina example com`, and the last word of each phrase matches
//! as a prefix (`refu` finds "refund"). Words separated by spaces must all occur (AND).

/// Longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// At most this many space-separated parts are used.
const MAX_PHRASES: usize = 8;
/// Longest word kept (longer ones are cut: no index holds them whole anyway).
const MAX_WORD_CHARS: usize = 64;
/// Characters of context a snippet shows around the first hit.
const SNIPPET_CHARS: usize = 160;

/// A parsed search: each phrase is one or more words that must appear next to each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    phrases: Vec<Vec<String>>,
}

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("needs at least one letter or digit")]
    NoWords,
}

/// Lower-case words of letters and digits, in order.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_WORD_CHARS).collect::<String>().to_lowercase())
        .collect()
}

impl SearchQuery {
    pub fn parse(text: &str) -> Result<SearchQuery, QueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let mut phrases: Vec<Vec<String>> =
            text.split_whitespace().map(words).filter(|p| !p.is_empty()).take(MAX_PHRASES).collect();
        phrases.dedup();
        if phrases.is_empty() {
            return Err(QueryError::NoWords);
        }
        Ok(SearchQuery { phrases })
    }

    /// The FTS5 `MATCH` expression: `"so 2026 0042" * AND "amina" *`. Words hold only letters and
    /// digits, so quoting them cannot be escaped from.
    pub fn fts5(&self) -> String {
        let parts: Vec<String> = self.phrases.iter().map(|p| format!("\"{}\" *", p.join(" "))).collect();
        parts.join(" AND ")
    }

    /// The PostgreSQL `to_tsquery('simple', …)` text: `'so' <-> '2026' <-> '0042':* & 'amina':*`.
    pub fn tsquery(&self) -> String {
        let phrase = |p: &Vec<String>| {
            let quoted: Vec<String> = p.iter().map(|w| format!("'{w}'")).collect();
            format!("({}:*)", quoted.join(" <-> "))
        };
        self.phrases.iter().map(phrase).collect::<Vec<_>>().join(" & ")
    }

    /// Whether a word of a text is a hit: equal to a query word, or (for the last word of a
    /// phrase) starting with it.
    fn hits(&self, word: &str) -> bool {
        self.phrases.iter().any(|p| {
            let last = p.len() - 1;
            p.iter().enumerate().any(|(i, q)| if i == last { word.starts_with(q.as_str()) } else { word == q })
        })
    }

    /// A piece of `text` around its first hit (or its start), with the character ranges
    /// (`[start, end)`, counted in Unicode scalar values of the snippet) of every hit in it.
    pub fn snippet(&self, text: &str) -> Snippet {
        let chars: Vec<char> = text.chars().collect();
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if !chars[i].is_alphanumeric() {
                i += 1;
                continue;
            }
            let start = i;
            while i < chars.len() && chars[i].is_alphanumeric() {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect::<String>().to_lowercase();
            if self.hits(&word) {
                ranges.push((start, i));
            }
        }
        let first = ranges.first().map_or(0, |r| r.0);
        // Start a little before the first hit, at a word boundary.
        let mut from = first.saturating_sub(SNIPPET_CHARS / 4);
        while from > 0 && from < first && !chars[from - 1].is_whitespace() {
            from -= 1;
            if first - from > SNIPPET_CHARS / 2 {
                break;
            }
        }
        let to = (from + SNIPPET_CHARS).min(chars.len());
        let mut out: String = chars[from..to].iter().collect();
        let lead = usize::from(from > 0);
        if from > 0 {
            out.insert(0, '…');
        }
        if to < chars.len() {
            out.push('…');
        }
        let highlights = ranges
            .iter()
            .filter(|(s, e)| *s >= from && *e <= to)
            .map(|(s, e)| (s - from + lead, e - from + lead))
            .collect();
        Snippet { text: out, highlights }
    }
}

/// Text to show with a search hit and where the hits are in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub text: String,
    /// `[start, end)` character ranges in `text`.
    pub highlights: Vec<(usize, usize)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_phrases_of_words() {
        let q = SearchQuery::parse("  Refund SO-2026-0042 amina@Example.com ").unwrap();
        assert_eq!(q.fts5(), r#""refund" * AND "so 2026 0042" * AND "amina example com" *"#);
        assert_eq!(q.tsquery(), "('refund':*) & ('so' <-> '2026' <-> '0042':*) & ('amina' <-> 'example' <-> 'com':*)");
        assert_eq!(SearchQuery::parse("\"'); drop --").unwrap().fts5(), r#""drop" *"#);
        assert_eq!(SearchQuery::parse(" -- ! "), Err(QueryError::NoWords));
        assert_eq!(SearchQuery::parse(&"a".repeat(201)), Err(QueryError::TooLong));
        assert_eq!(SearchQuery::parse("Ündə").unwrap().tsquery(), "('ündə':*)");
    }

    #[test]
    fn snippets_mark_whole_words_around_the_first_hit() {
        let q = SearchQuery::parse("lantern so-2026-0042").unwrap();
        let s = q.snippet("Where is order SO-2026-0042? I want the solar lanterns.");
        let marked: Vec<String> =
            s.highlights.iter().map(|(a, b)| s.text.chars().skip(*a).take(b - a).collect()).collect();
        assert_eq!(marked, ["SO", "2026", "0042", "lanterns"]);
        assert!(!marked.contains(&"solar".to_string()), "only the last word of a phrase is a prefix");

        let long = format!("{} the parcel arrived damaged {}", "word ".repeat(100), "more ".repeat(100));
        let s = SearchQuery::parse("damaged").unwrap().snippet(&long);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'), "{}", s.text);
        let (a, b) = s.highlights[0];
        assert_eq!(s.text.chars().skip(a).take(b - a).collect::<String>(), "damaged");
        assert!(s.text.chars().count() <= SNIPPET_CHARS + 2);
    }
}
