//! Input normalisation before matching, and a cheap English/Swahili detector.
//!
//! Normalised text is lowercase, without diacritics, with single spaces, without a `#` before a
//! number, and with misspellings of short words the rules care about corrected. Rule
//! patterns are written against this form.

use crate::domain::Locale;

/// Folding lives with the domain (the back office folds names the same way).
pub use crate::domain::fold;

/// Misspellings of words too short for fuzzy matching (under 5 letters); longer ones are left
/// to the fuzzy patterns (see `pattern.rs`).
const MISSPELLINGS: &[(&str, &str)] = &[("oder", "order"), ("ordr", "order"), ("orde", "order"), ("stok", "stock")];

/// The form rule patterns are matched against.
pub fn normalize(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    let mut word = String::new();
    let mut chars = folded.chars().peekable();
    let mut pending_space = false;
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            let fixed = MISSPELLINGS.iter().find(|(bad, _)| *bad == word.as_str()).map(|(_, good)| *good);
            out.push_str(fixed.unwrap_or(word));
            word.clear();
        }
    };
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            flush(&mut word, &mut out);
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if c.is_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            // "#1001" → "1001": a hash directly before a digit is decoration.
            if c == '#' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                continue;
            }
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

const SW_WORDS: &[&str] = &[
    "yangu",
    "yako",
    "wangu",
    "langu",
    "changu",
    "iko",
    "liko",
    "uko",
    "ziko",
    "wapi",
    "lini",
    "gani",
    "nini",
    "tafadhali",
    "habari",
    "asante",
    "ahsante",
    "asanteni",
    "asnte",
    "shukrani",
    "nataka",
    "naomba",
    "oda",
    "agizo",
    "maagizo",
    "ankara",
    "bili",
    "bidhaa",
    "mna",
    "mnayo",
    "kuna",
    "ipo",
    "zipo",
    "je",
    "sawa",
    "mambo",
    "hujambo",
    "salama",
    "karibu",
    "mtu",
    "kuongea",
    "kuzungumza",
    "nisaidie",
    "msaada",
    "bado",
    "haijafika",
    "imefika",
    "kiasi",
    "bei",
    "ya",
    "na",
    "ni",
    "kwa",
    "za",
    "hii",
    "hiyo",
    "lakini",
    "sijapokea",
    "mzigo",
    "kifurushi",
    "namba",
    "nambari",
    "shikamoo",
    "vipi",
    "mchana",
    "asubuhi",
    "jioni",
    "kwaheri",
    "samahani",
    "hapana",
    "ndiyo",
    "ndio",
    "nimeagiza",
    "nimelipa",
    "imelipwa",
    "itafika",
    "inapatikana",
    "imeisha",
    "zimeisha",
    "hakuna",
    "wakala",
    "mhudumu",
    "huduma",
    "wateja",
    "niunganishe",
    "binadamu",
    "stoo",
    "ghala",
    "leo",
    "kesho",
    "jana",
    "malipo",
    "risiti",
    "deni",
    "salio",
    "barua",
    "pepe",
    "mimi",
    "wewe",
    "nina",
    "sina",
    "una",
    "tena",
    "hali",
    "poa",
    "safi",
    "nzuri",
    "mzima",
    "ufuatiliaji",
    "kufuatilia",
    "usafirishaji",
];

const EN_WORDS: &[&str] = &[
    "the",
    "my",
    "is",
    "where",
    "what",
    "when",
    "please",
    "thanks",
    "thank",
    "hello",
    "hi",
    "hey",
    "you",
    "your",
    "have",
    "do",
    "does",
    "can",
    "i",
    "how",
    "much",
    "are",
    "with",
    "to",
    "of",
    "a",
    "an",
    "it",
    "has",
    "was",
    "will",
    "be",
    "me",
    "want",
    "need",
    "talk",
    "speak",
    "person",
    "human",
    "agent",
    "someone",
    "morning",
    "afternoon",
    "evening",
    "good",
    "great",
    "still",
    "yet",
    "not",
    "arrived",
    "shipped",
    "paid",
    "due",
    "in",
    "and",
    "for",
    "about",
    "any",
    "check",
    "there",
    "real",
    "help",
    "bye",
    "cheers",
    "which",
    "am",
    "got",
];

/// Words the language detector knows: fuzzy matching never "corrects" them.
pub fn known_words() -> impl Iterator<Item = &'static str> {
    SW_WORDS.iter().chain(EN_WORDS).copied()
}

/// `Some(locale)` when the words lean one way, `None` when they don't say (e.g. just a number).
pub fn detect_locale(normalized: &str) -> Option<Locale> {
    // Sorted once, searched per word (every message passes here).
    static SORTED: std::sync::LazyLock<[Vec<&str>; 2]> = std::sync::LazyLock::new(|| {
        [SW_WORDS, EN_WORDS].map(|words| {
            let mut v = words.to_vec();
            v.sort_unstable();
            v
        })
    });
    let [sw_words, en_words] = &*SORTED;
    let (mut sw, mut en) = (0u32, 0u32);
    for w in normalized.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if sw_words.binary_search(&w).is_ok() || w.starts_with("nime") || w.starts_with("ime") && w.len() > 5 {
            sw += 1;
        } else if en_words.binary_search(&w).is_ok() {
            en += 1;
        }
    }
    match sw.cmp(&en) {
        std::cmp::Ordering::Greater => Some(Locale::Sw),
        std::cmp::Ordering::Less => Some(Locale::En),
        std::cmp::Ordering::Equal => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_space_hash_and_diacritics() {
        assert_eq!(normalize("  Where   is my Order #1001?? "), "where is my order 1001??");
        assert_eq!(normalize("Café\tCRÈME"), "cafe creme");
        assert_eq!(normalize("# tag"), "# tag");
    }

    #[test]
    fn corrects_common_misspellings_on_word_boundaries() {
        assert_eq!(normalize("my oder staus"), "my order staus", "long words are the fuzzy patterns' job");
        assert_eq!(normalize("border"), "border");
    }

    #[test]
    fn detects_language_from_words() {
        assert_eq!(detect_locale("oda yangu iko wapi"), Some(Locale::Sw));
        assert_eq!(detect_locale("order yangu iko wapi"), Some(Locale::Sw));
        assert_eq!(detect_locale("where is my order"), Some(Locale::En));
        assert_eq!(detect_locale("1001"), None);
        assert_eq!(detect_locale("nimeagiza simu"), Some(Locale::Sw));
    }
}
