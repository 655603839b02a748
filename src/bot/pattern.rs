//! The rule format's extensions to plain Rust regexes, and fuzzy word matching.
//!
//! - A pattern written with a leading `~` is *fuzzy*: it is matched against the message with
//!   misspelt words corrected towards the words the fuzzy patterns use (`"can I talkk to somone"`
//!   reads `"can i talk to someone"`). An intent with `fuzzy = true` has every pattern fuzzy.
//! - ` ... ` (three dots between spaces) in a pattern stands for "up to four words in between":
//!   `talk ... person` matches "talk to a real person" and "talk with a goddamn person".
//!
//! Correction rules: a customer's word of 5+ letters may be one edit (insert, delete, substitute,
//! swap two neighbours) from a pattern word, one of 9+ letters two edits. The first letter must
//! agree, the pattern word must be unique at the smallest distance, and words any pattern spells
//! out (or that the locale detector knows) are never "corrected". Owns no state beyond the
//! vocabulary built once per rule set; never touches the store.

use std::collections::{BTreeSet, HashSet};

/// What ` ... ` expands to: up to four words (no punctuation between them), then the next one.
pub const GAP: &str = r"(?:\s+[\w'-]+){0,4}\s+";

/// A pattern as written, split into its flags and the regex it compiles to.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    pub fuzzy: bool,
    pub regex: String,
}

/// `~pattern` → fuzzy; ` ... ` → [`GAP`].
pub fn expand(raw: &str, intent_fuzzy: bool) -> Expanded {
    let (fuzzy, body) = match raw.strip_prefix('~') {
        Some(rest) => (true, rest.trim_start()),
        None => (intent_fuzzy, raw),
    };
    let regex = if body.contains(" ... ") { body.replace(" ... ", GAP) } else { body.to_string() };
    Expanded { fuzzy, regex }
}

/// Runs of 3+ lowercase letters a regex spells out literally (`\b(?:talk|speak)\b` → talk,
/// speak); letters right after a backslash (`\b`, `\d`) or inside `(?P<name>` are skipped.
pub fn literal_words(regex: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = regex.chars().peekable();
    let mut in_class = false;
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if word.chars().count() >= 3 {
            words.push(std::mem::take(word));
        }
        word.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                flush(&mut word, &mut words);
                chars.next();
            }
            '[' => {
                flush(&mut word, &mut words);
                in_class = true;
            }
            ']' => in_class = false,
            '<' => {
                // a group name: (?P<name> or (?<name>
                flush(&mut word, &mut words);
                for n in chars.by_ref() {
                    if n == '>' {
                        break;
                    }
                }
            }
            c if c.is_alphabetic() && !in_class => word.push(c),
            _ => {
                flush(&mut word, &mut words);
            }
        }
    }
    flush(&mut word, &mut words);
    words
}

/// The words fuzzy patterns use, and the words that must stay as written.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    targets: Vec<String>,
    known: HashSet<String>,
}

impl Vocabulary {
    /// `fuzzy`: regexes of fuzzy patterns (their words are targets); `plain`: every other
    /// pattern (its words are known, never corrected); `known`: extra words to leave alone.
    pub fn new<'a>(
        fuzzy: impl IntoIterator<Item = &'a str>,
        plain: impl IntoIterator<Item = &'a str>,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> Vocabulary {
        let targets: BTreeSet<String> = fuzzy.into_iter().flat_map(literal_words).filter(|w| w.len() >= 4).collect();
        let mut known: HashSet<String> = plain.into_iter().flat_map(literal_words).collect();
        known.extend(targets.iter().cloned());
        known.extend(extra.into_iter().map(str::to_string));
        known.extend(super::normalize::known_words().map(str::to_string));
        Vocabulary { targets: targets.into_iter().collect(), known }
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The text with misspelt words corrected, or `None` when nothing changed.
    pub fn correct(&self, norm: &str) -> Option<String> {
        if self.targets.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(norm.len());
        let mut changed = false;
        let mut start = None;
        let mut push_word = |out: &mut String, w: &str| match self.correct_word(w) {
            Some(fixed) => {
                changed = true;
                out.push_str(fixed);
            }
            None => out.push_str(w),
        };
        for (i, c) in norm.char_indices() {
            if c.is_alphabetic() {
                start.get_or_insert(i);
            } else {
                if let Some(s) = start.take() {
                    push_word(&mut out, &norm[s..i]);
                }
                out.push(c);
            }
        }
        if let Some(s) = start {
            push_word(&mut out, &norm[s..]);
        }
        changed.then_some(out)
    }

    fn correct_word(&self, word: &str) -> Option<&str> {
        let len = word.chars().count();
        let max = match len {
            0..=4 => return None,
            5..=8 => 1,
            _ => 2,
        };
        if self.known.contains(word) {
            return None;
        }
        let first = word.chars().next()?;
        let mut best: Option<(usize, &str)> = None;
        let mut tie = false;
        for t in &self.targets {
            if !t.starts_with(first) || t.chars().count().abs_diff(len) > max {
                continue;
            }
            if let Some(d) = distance(word, t, max) {
                match best {
                    Some((b, _)) if d > b => {}
                    Some((b, _)) if d == b => tie = true,
                    _ => {
                        best = Some((d, t));
                        tie = false;
                    }
                }
            }
        }
        match best {
            Some((_, t)) if !tie => Some(t),
            _ => None,
        }
    }
}

/// Optimal string alignment distance (Levenshtein plus swapping two neighbours), or `None`
/// when it exceeds `max`.
pub fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for j in 0..=b.len() {
        d[j] = j;
    }
    for i in 1..=a.len() {
        d[i * w] = i;
        let mut row_min = usize::MAX;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1).min(d[i * w + j - 1] + 1).min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
    }
    let v = d[a.len() * w + b.len()];
    (v <= max).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilde_and_gaps_expand() {
        let e = expand(r"~\btalk ... person\b", false);
        assert!(e.fuzzy);
        assert_eq!(e.regex, format!(r"\btalk{GAP}person\b"));
        assert!(!expand(r"\border\b", false).fuzzy);
        assert!(expand(r"\border\b", true).fuzzy);
        let re = regex::Regex::new(&e.regex).unwrap();
        assert!(re.is_match("i want help talking with a goddamn person".replace("talking", "talk").as_str()));
        assert!(re.is_match("talk person"));
        assert!(!re.is_match("talk to one two three four five person"));
    }

    #[test]
    fn words_are_read_from_regexes() {
        assert_eq!(
            literal_words(r"\b(?:talk|speak)(?:ing)? (?P<who>someone)\b[a-z]+"),
            ["talk", "speak", "ing", "someone"]
        );
    }

    #[test]
    fn distances_follow_the_word_length_rule() {
        assert_eq!(distance("somone", "someone", 1), Some(1));
        assert_eq!(distance("talkk", "talk", 1), Some(1));
        assert_eq!(distance("reciept", "receipt", 1), Some(1));
        assert_eq!(distance("kitten", "sitting", 2), None);
        let v = Vocabulary::new(["someone|somebody|talk|assistant|representative"], ["border"], []);
        assert_eq!(v.correct("can i talkk to somone?").as_deref(), Some("can i talk to someone?"));
        assert_eq!(v.correct("a representitve please").as_deref(), Some("a representative please"));
        assert_eq!(v.correct("the border"), None, "known words stay");
        assert_eq!(v.correct("tal to me"), None, "short words stay");
    }
}
