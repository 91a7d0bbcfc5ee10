//! The ICD-10 code list (WHO ICD-10 2019, categories and subcategories), shipped in
//! `assets/icd10` with its source and licence. Diagnoses are checked against it; searching
//! it by code or words scans 12,000 titles in memory, well under a millisecond.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text::{name_key, search_words};

const ICD10_TSV: &str = include_str!("../../../assets/icd10/icd10.tsv");

/// One code of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icd10Entry {
    /// The code, for example `J06.9`.
    pub code: String,
    /// Its English title.
    pub title: String,
}

struct Entry {
    code: &'static str,
    title: &'static str,
    folded: String,
}

fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut list: Vec<Entry> = ICD10_TSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let (code, title) = line.split_once('\t')?;
                Some(Entry {
                    code,
                    title,
                    folded: format!("{} {}", code.to_ascii_lowercase(), name_key(title)),
                })
            })
            .collect();
        // The file keeps WHO's chapter order (U codes come last); lookups bisect by code.
        list.sort_unstable_by(|a, b| a.code.cmp(b.code));
        list
    })
}

/// Writes a code the way the list does: upper case, with the dot after three characters
/// (`j069` → `J06.9`).
pub fn normalize_code(text: &str) -> String {
    let compact: String = text
        .trim()
        .chars()
        .filter(|c| *c != '.')
        .flat_map(char::to_uppercase)
        .collect();
    if compact.len() > 3 && compact.is_ascii() {
        format!("{}.{}", &compact[..3], &compact[3..])
    } else {
        compact
    }
}

/// The title of a code, if the list has it.
pub fn title(code: &str) -> Option<&'static str> {
    let list = entries();
    list.binary_search_by(|e| e.code.cmp(code))
        .ok()
        .map(|i| list[i].title)
}

/// Codes matching a search: a code prefix (`J06`, `j069`), or words that all appear in the
/// title (`upper resp`). At most `limit` results: by words, titles that begin with the
/// first word come first, then titles with a word beginning with it, then the rest; each
/// group in code order ("fever" finds "Fever of other and unknown origin" before
/// "Typhoid and paratyphoid fevers").
pub fn search(query: &str, limit: usize) -> Vec<Icd10Entry> {
    let code = normalize_code(query);
    let looks_like_code = code.len() >= 2
        && code.as_bytes()[0].is_ascii_uppercase()
        && code.as_bytes()[1].is_ascii_digit();
    let entry = |e: &Entry| Icd10Entry {
        code: e.code.to_owned(),
        title: e.title.to_owned(),
    };
    if looks_like_code {
        return entries()
            .iter()
            .filter(|e| e.code.starts_with(&code))
            .take(limit)
            .map(entry)
            .collect();
    }
    let words = search_words(query);
    let Some(first) = words.first() else {
        return Vec::new();
    };
    let word_start = format!(" {first}");
    let mut groups: [Vec<&Entry>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for e in entries() {
        if !words.iter().all(|w| e.folded.contains(w.as_str())) {
            continue;
        }
        // `folded` is "code title": the title starts after the code and a space.
        let title = e.folded.get(e.code.len() + 1..).unwrap_or("");
        let group = if title.starts_with(first.as_str()) {
            0
        } else if title.contains(&word_start) {
            1
        } else {
            2
        };
        if groups[group].len() < limit {
            groups[group].push(e);
        }
        if groups[0].len() >= limit {
            break;
        }
    }
    groups
        .iter()
        .flatten()
        .take(limit)
        .map(|e| entry(e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_so_lookup_can_bisect() {
        assert!(entries().windows(2).all(|w| w[0].code < w[1].code));
        assert!(entries().len() > 10_000);
    }

    #[test]
    fn codes_are_found_by_code_and_by_words() {
        assert_eq!(
            title("J06.9"),
            Some("Acute upper respiratory infection, unspecified")
        );
        assert_eq!(normalize_code(" j069 "), "J06.9");
        assert!(search("j06", 10).iter().any(|e| e.code == "J06.9"));
        assert!(search("HYPERTENSION essential", 10)
            .iter()
            .any(|e| e.code == "I10"));
        assert!(search("'; DROP TABLE", 10).is_empty());
        assert!(search("  ", 10).is_empty());
    }

    #[test]
    fn titles_that_begin_with_the_word_come_first() {
        let found = search("fever", 8);
        assert!(found[0].title.starts_with("Fever"), "{found:?}");
        assert!(found.iter().any(|e| e.code == "R50.9"), "{found:?}");
    }
}
