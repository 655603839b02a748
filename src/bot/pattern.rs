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

/// What a regex spells out literally: whole words (`\b(?:talk|speak)\b` → talk, speak; `orders?`
/// → order, orders) and stems, words the regex continues (`polic(?:y|ies)`, `cancel\w*` → polic,
/// cancel). Letters right after a backslash (`\b`, `\d`) or inside `(?P<name>` are skipped.
#[derive(Debug, Default, PartialEq)]
pub struct Literals {
    pub words: Vec<String>,
    pub stems: Vec<String>,
}

pub fn literals(regex: &str) -> Literals {
    let mut out = Literals::default();
    let mut word = String::new();
    let mut chars = regex.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        if c.is_alphabetic() && !in_class {
            word.push(c);
            if chars.peek().is_some_and(|n| n.is_alphabetic()) {
                continue;
            }
            let w = std::mem::take(&mut word);
            if w.chars().count() < 3 {
                continue;
            }
            let boundary = next_is_boundary(&chars);
            match chars.peek() {
                // optional last letter: both spellings are words
                Some('?') => {
                    let mut short = w.clone();
                    short.pop();
                    out.words.push(short);
                    out.words.push(w);
                }
                Some('(' | '[' | '\\' | '*' | '+' | '{') if !boundary => out.stems.push(w),
                _ => out.words.push(w),
            }
            continue;
        }
        match c {
            '\\' => {
                chars.next();
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '<' => {
                // a group name: (?P<name> or (?<name>
                for n in chars.by_ref() {
                    if n == '>' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Whether the rest starts with `\b` or a non-letter escape that ends a word (`\s`, `\d`).
fn next_is_boundary(rest: &std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let mut it = rest.clone();
    matches!((it.next(), it.next()), (Some('\\'), Some('b' | 's' | 'd' | '.' | '?' | '-')))
}

/// The words fuzzy patterns use, and the words that must stay as written.
#[derive(Debug, Default, Clone)]
pub struct Vocabulary {
    /// Sorted, so the targets sharing a first letter are neighbours; with their characters.
    targets: Vec<(String, Box<[char]>)>,
    known: HashSet<String>,
    /// A word a pattern continues (`polic` of `polic(?:y|ies)`): words starting with one stay.
    stems: Vec<String>,
}

impl Vocabulary {
    /// `fuzzy`: regexes of fuzzy patterns (their words are targets); `plain`: every other
    /// pattern (its words are known, never corrected); `known`: extra words to leave alone.
    pub fn new<'a>(
        fuzzy: impl IntoIterator<Item = &'a str>,
        plain: impl IntoIterator<Item = &'a str>,
        extra: impl IntoIterator<Item = &'a str>,
    ) -> Vocabulary {
        let mut stems = BTreeSet::new();
        let mut targets = BTreeSet::new();
        for l in fuzzy.into_iter().map(literals) {
            targets.extend(l.words.into_iter().filter(|w| w.len() >= 4));
            stems.extend(l.stems);
        }
        let mut known = HashSet::new();
        for l in plain.into_iter().map(literals) {
            known.extend(l.words);
            stems.extend(l.stems);
        }
        known.extend(targets.iter().cloned());
        known.extend(extra.into_iter().map(str::to_string));
        known.extend(super::normalize::known_words().map(str::to_string));
        let stems = stems.into_iter().filter(|s| s.chars().count() >= 4).collect();
        let targets = targets.into_iter().map(|t| (t.clone(), t.chars().collect())).collect();
        Vocabulary { targets, known, stems }
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
        let mut chars = ['\0'; MAX_WORD];
        let len = fill(word, &mut chars)?;
        let word_chars = &chars[..len];
        let max = match len {
            0..=4 => return None,
            5..=8 => 1,
            _ => 2,
        };
        if self.known.contains(word) || self.stems.iter().any(|s| word.starts_with(s.as_str())) {
            return None;
        }
        // Sorted strings sort by their first character: the candidates are one run.
        let first = word_chars[0];
        let from = self.targets.partition_point(|(_, t)| t[0] < first);
        let to = self.targets.partition_point(|(_, t)| t[0] <= first);
        let mut best: Option<(usize, &str)> = None;
        let mut tie = false;
        for (t, t_chars) in &self.targets[from..to] {
            if t_chars.len().abs_diff(len) > max {
                continue;
            }
            if let Some(d) = osa(word_chars, t_chars, max) {
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

/// Longest word that is ever corrected (and that [`distance`] measures): a pattern's words are
/// far shorter, and the work per word stays on the stack.
const MAX_WORD: usize = 48;

/// Copies `word`'s characters into `buf`; `None` when it has more than [`MAX_WORD`].
fn fill(word: &str, buf: &mut [char; MAX_WORD]) -> Option<usize> {
    let mut n = 0;
    for c in word.chars() {
        *buf.get_mut(n)? = c;
        n += 1;
    }
    Some(n)
}

/// Optimal string alignment distance (Levenshtein plus swapping two neighbours), or `None`
/// when it exceeds `max` (or a word is longer than [`MAX_WORD`] characters).
pub fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let (mut x, mut y) = (['\0'; MAX_WORD], ['\0'; MAX_WORD]);
    let (n, m) = (fill(a, &mut x)?, fill(b, &mut y)?);
    osa(&x[..n], &y[..m], max)
}

/// [`distance`] over characters, with three rows of the table on the stack (both at most
/// [`MAX_WORD`] long).
fn osa(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    // Rows i - 2, i - 1 and i of the full table.
    let mut rows = [[0u8; MAX_WORD + 1]; 3];
    for (j, cell) in rows[1].iter_mut().take(b.len() + 1).enumerate() {
        *cell = j as u8;
    }
    for i in 1..=a.len() {
        let (before, now) = rows.split_at_mut(2);
        let (two_up, up, row) = (&before[0], &before[1], &mut now[0]);
        row[0] = i as u8;
        // The row's first cell counts too (an empty `b`: the distance is `a`'s length).
        let mut row_min = row[0];
        for j in 1..=b.len() {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (up[j] + 1).min(row[j - 1] + 1).min(up[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(two_up[j - 2] + 1);
            }
            row[j] = v;
            row_min = row_min.min(v);
        }
        if usize::from(row_min) > max {
            return None;
        }
        rows.rotate_left(1);
    }
    // After the last rotation, row a.len() is in the middle.
    let v = usize::from(rows[1][b.len()]);
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
        let l =
            literals(r"\b(?:talk|speak)(?:ing)? (?P<who>someone)\b[a-z]+ orders? polic(?:y|ies) cancel\w* refund\b");
        assert_eq!(l.words, ["talk", "speak", "ing", "someone", "order", "orders", "ies", "refund"]);
        assert_eq!(l.stems, ["polic", "cancel"]);
        let v = Vocabulary::new([r"polic(?:y|ies)", r"\brefund\b"], [], []);
        assert_eq!(v.correct("refund policy"), None, "a word a stem continues stays");
        assert_eq!(v.correct("refnud").as_deref(), Some("refund"));
    }

    /// The whole table, as the definition reads.
    fn full_table(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        for (j, cell) in d[0].iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
                }
            }
        }
        d[a.len()][b.len()]
    }

    #[test]
    fn the_rolling_rows_agree_with_the_whole_table() {
        // Words from a small alphabet, so that swaps, repeats and near misses are common.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let letters = ['a', 'b', 'c', 'é', 'ñ'];
        for _ in 0..5_000 {
            let (la, lb) = (next(11), next(11));
            let a: String = (0..la).map(|_| letters[next(5) as usize]).collect();
            let b: String = (0..lb).map(|_| letters[next(5) as usize]).collect();
            let full = full_table(&a, &b);
            for max in 0..4 {
                assert_eq!(distance(&a, &b, max), (full <= max).then_some(full), "{a:?} {b:?} max {max}");
            }
        }
        let long = "a".repeat(MAX_WORD + 1);
        assert_eq!(distance(&long, &long, 2), None, "longer than any pattern word");
        assert_eq!(distance(&long[1..], &long[1..], 2), Some(0));
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
