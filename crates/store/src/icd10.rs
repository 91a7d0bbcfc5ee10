//! The ICD-10 code list (WHO ICD-10 2019, categories and subcategories), shipped in
//! `assets/icd10` with its source and licence, with an Indonesian title beside WHO's for
//! most codes and the words Puskesmas staff type for the common ones ("ISPA", "maag",
//! "darah tinggi"). Diagnoses are checked against it; searching it by code or words scans
//! 12,000 entries in memory, well under a millisecond.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::text::{name_key, search_words};

const ICD10_TSV: &str = include_str!("../../../assets/icd10/icd10.tsv");
const ICD10_ID_TSV: &str = include_str!("../../../assets/icd10/icd10-id.tsv");
const STAFF_WORDS_TSV: &str = include_str!("../../../assets/icd10/staff-words.tsv");

/// One code of the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icd10Entry {
    /// The code, for example `J06.9`.
    pub code: String,
    /// WHO's English title: the one the reports' forms and FHIR carry.
    pub title: String,
    /// The Indonesian title, where the shipped list has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_id: Option<String>,
}

struct Entry {
    code: &'static str,
    title: &'static str,
    title_id: Option<&'static str>,
    /// The English title, folded for search.
    folded_en: String,
    /// The Indonesian title, folded; empty when there is none.
    folded_id: String,
}

impl Entry {
    fn public(&self) -> Icd10Entry {
        Icd10Entry {
            code: self.code.to_owned(),
            title: self.title.to_owned(),
            title_id: self.title_id.map(str::to_owned),
        }
    }
}

/// The rows of a shipped TSV after its header, split at the first tab.
fn tsv_rows(tsv: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    tsv.lines().skip(1).filter_map(|line| line.split_once('\t'))
}

fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut indonesian: Vec<(&str, &str)> = tsv_rows(ICD10_ID_TSV).collect();
        indonesian.sort_unstable();
        let mut list: Vec<Entry> = tsv_rows(ICD10_TSV)
            .map(|(code, title)| {
                let title_id = indonesian
                    .binary_search_by(|(c, _)| c.cmp(&code))
                    .ok()
                    .map(|i| indonesian[i].1);
                Entry {
                    code,
                    title,
                    title_id,
                    folded_en: name_key(title),
                    folded_id: title_id.map(name_key).unwrap_or_default(),
                }
            })
            .collect();
        // The file keeps WHO's chapter order (U codes come last); lookups bisect by code.
        list.sort_unstable_by(|a, b| a.code.cmp(b.code));
        list
    })
}

/// The staff's words, folded, with the code each usually means, in the file's order.
fn staff_words() -> &'static [(String, &'static str)] {
    static WORDS: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
    WORDS.get_or_init(|| {
        tsv_rows(STAFF_WORDS_TSV)
            .filter_map(|(word, rest)| {
                let code = rest.split('\t').next()?;
                Some((name_key(word), code))
            })
            .collect()
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

fn entry_of(code: &str) -> Option<&'static Entry> {
    let list = entries();
    list.binary_search_by(|e| e.code.cmp(code))
        .ok()
        .map(|i| &list[i])
}

/// WHO's English title of a code, if the list has it.
pub fn title(code: &str) -> Option<&'static str> {
    entry_of(code).map(|e| e.title)
}

/// The Indonesian title of a code, if the list has one.
pub fn title_id(code: &str) -> Option<&'static str> {
    entry_of(code).and_then(|e| e.title_id)
}

/// Codes matching a search: a code prefix (`J06`, `j069`), or words that all appear in the
/// English or the Indonesian title (`upper resp`, `infeksi saluran`). At most `limit`
/// results. By words, the codes of the staff's words the search begins ("ISPA", "maag",
/// "dem" for "demam") come first, the word typed whole before the words it begins; then
/// titles that begin with the first word, then titles with a word beginning with it, then
/// the rest; each group in code order ("fever" finds "Fever of other and unknown origin"
/// before "Typhoid and paratyphoid fevers").
pub fn search(query: &str, limit: usize) -> Vec<Icd10Entry> {
    let code = normalize_code(query);
    let looks_like_code = code.len() >= 2
        && code.as_bytes()[0].is_ascii_uppercase()
        && code.as_bytes()[1].is_ascii_digit();
    if looks_like_code {
        return entries()
            .iter()
            .filter(|e| e.code.starts_with(&code))
            .take(limit)
            .map(Entry::public)
            .collect();
    }
    let words = search_words(query);
    let Some(first) = words.first() else {
        return Vec::new();
    };
    let mut found: Vec<&Entry> = staff_codes(&words.join(" "))
        .into_iter()
        .filter_map(entry_of)
        .take(limit)
        .collect();
    let word_start = format!(" {first}");
    let mut groups: [Vec<&Entry>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for e in entries() {
        let contains =
            |w: &String| e.folded_en.contains(w.as_str()) || e.folded_id.contains(w.as_str());
        if !words.iter().all(contains) || found.iter().any(|f| f.code == e.code) {
            continue;
        }
        let group =
            if e.folded_en.starts_with(first.as_str()) || e.folded_id.starts_with(first.as_str()) {
                0
            } else if e.folded_en.contains(&word_start) || e.folded_id.contains(&word_start) {
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
    found.extend(groups.iter().flatten());
    found.into_iter().take(limit).map(Entry::public).collect()
}

/// The codes of the staff's words that `typed` (folded) begins, the word typed whole
/// first, each code once.
fn staff_codes(typed: &str) -> Vec<&'static str> {
    let words = staff_words();
    if typed.len() < 2 {
        return Vec::new();
    }
    let whole = words.iter().filter(|(w, _)| w == typed);
    let begun = words
        .iter()
        .filter(|(w, _)| w != typed && w.starts_with(typed));
    let mut codes: Vec<&'static str> = Vec::new();
    for (_, code) in whole.chain(begun) {
        if !codes.contains(code) {
            codes.push(code);
        }
    }
    codes
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
    fn the_words_staff_type_find_their_code_first() {
        for (typed, code) in [
            ("ISPA", "J06.9"),
            ("maag", "K30"),
            ("darah tinggi", "I10"),
            ("kencing manis", "E11.9"),
            ("diare", "A09"),
            ("demam", "R50.9"),
            ("dem", "R50.9"),
        ] {
            let found = search(typed, 8);
            assert_eq!(
                found.first().map(|e| e.code.as_str()),
                Some(code),
                "{typed}: {found:?}"
            );
        }
        let fever = search("demam", 8);
        assert!(
            fever.iter().skip(1).any(|e| e.code == "A01.0"),
            "the titles follow: {fever:?}"
        );
        assert_eq!(
            fever.iter().filter(|e| e.code == "R50.9").count(),
            1,
            "each code once"
        );
    }

    #[test]
    fn indonesian_titles_are_shown_beside_whos_and_searched() {
        assert_eq!(title_id("R51"), Some("Sakit kepala"));
        assert_eq!(title("R51"), Some("Headache"));
        assert!(search("infeksi saluran kemih", 10)
            .iter()
            .any(|e| e.code == "N39.0"));
        let headache = search("sakit kepala", 5);
        assert_eq!(headache[0].code, "R51", "{headache:?}");
        assert_eq!(headache[0].title, "Headache", "WHO's title stays");
        assert_eq!(headache[0].title_id.as_deref(), Some("Sakit kepala"));
    }

    #[test]
    fn titles_that_begin_with_the_word_come_first() {
        let found = search("fever", 8);
        assert!(found[0].title.starts_with("Fever"), "{found:?}");
        assert!(found.iter().any(|e| e.code == "R50.9"), "{found:?}");
    }
}
