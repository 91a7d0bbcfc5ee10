//! SATUSEHAT's answers read: a transaction's entries, a searchset's first id, and an
//! OperationOutcome's words with their rule numbers.

use serde_json::Value;

/// What SATUSEHAT made of one entry of a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryAnswer {
    /// `Encounter`, `Condition`, `Observation`.
    pub resource_type: String,
    /// SATUSEHAT's id of it.
    pub id: String,
}

/// The entries of a transaction's answer, in the order sent; `None` when the answer is not
/// one (or names no id for an entry).
pub(crate) fn transaction_entries(body: &Value) -> Option<Vec<EntryAnswer>> {
    body["entry"]
        .as_array()?
        .iter()
        .map(|entry| {
            let response = &entry["response"];
            let location = response["location"].as_str().unwrap_or_default();
            let mut parts = location.split('/');
            let (from_location_type, from_location_id) = (parts.next(), parts.next());
            let resource_type = response["resourceType"]
                .as_str()
                .or(from_location_type)
                .filter(|t| !t.is_empty())?;
            let id = response["resourceID"]
                .as_str()
                .or(from_location_id)
                .filter(|id| !id.is_empty())?;
            Some(EntryAnswer {
                resource_type: resource_type.to_owned(),
                id: id.to_owned(),
            })
        })
        .collect()
}

/// The first resource's id of a searchset, or `None` when it found nothing.
pub(crate) fn first_found(body: &Value) -> Option<String> {
    if body["total"].as_u64() == Some(0) {
        return None;
    }
    body["entry"][0]["resource"]["id"]
        .as_str()
        .map(str::to_owned)
}

/// Why SATUSEHAT refused, in its words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Each issue's words, with the field it names first (`Encounter.period: …`).
    pub text: String,
    /// The rule numbers the words end in (`(RuleNumber: 20002)`).
    pub rules: Vec<u32>,
}

/// "Found duplicate resource": the identifier is registered already.
const DUPLICATE: u32 = 20002;
/// How much of an answer that is not an OperationOutcome is kept as the reason.
const MOST_PLAIN_TEXT: usize = 300;

impl Outcome {
    /// Reads an OperationOutcome, or keeps the start of any other body (5xx answers may be
    /// `text/plain`).
    pub fn from_body(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let issues = parsed
            .as_ref()
            .and_then(|outcome| outcome["issue"].as_array())
            .filter(|issues| !issues.is_empty());
        let Some(issues) = issues else {
            let plain = String::from_utf8_lossy(body);
            let plain: String = plain.trim().chars().take(MOST_PLAIN_TEXT).collect();
            return Self {
                text: if plain.is_empty() {
                    format!("HTTP {status}")
                } else {
                    format!("HTTP {status}: {plain}")
                },
                rules: Vec::new(),
            };
        };
        let mut texts = Vec::new();
        let mut rules = Vec::new();
        for issue in issues {
            let words = issue["details"]["text"]
                .as_str()
                .or_else(|| issue["diagnostics"].as_str())
                .or_else(|| issue["code"].as_str())
                .unwrap_or("no words given");
            if let Some(rule) = rule_number(words) {
                rules.push(rule);
            }
            let field = issue["expression"][0]
                .as_str()
                .or_else(|| issue["location"][0].as_str());
            texts.push(match field {
                Some(field) => format!("{field}: {words}"),
                None => words.to_owned(),
            });
        }
        Self {
            text: texts.join("; "),
            rules,
        }
    }

    /// Whether SATUSEHAT holds the resource already (a resend after a lost answer).
    pub fn is_duplicate(&self) -> bool {
        self.rules.first() == Some(&DUPLICATE)
    }
}

/// `… (RuleNumber: 10121)` → 10121.
fn rule_number(words: &str) -> Option<u32> {
    let (_, after) = words.rsplit_once("RuleNumber:")?;
    after.trim().trim_end_matches(')').trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_keeps_the_words_the_field_and_the_rule_number() {
        let body = br#"{"resourceType":"OperationOutcome","issue":[
            {"severity":"error","code":"duplicate","details":{"text":"Found duplicate resource (RuleNumber: 20002)"},"expression":["Encounter.identifier"]},
            {"severity":"error","code":"processing","details":{"text":"Failed because of previous entry (RuleNumber: 20013)"}}]}"#;
        let outcome = Outcome::from_body(400, body);
        assert_eq!(outcome.rules, vec![20002, 20013]);
        assert!(outcome.is_duplicate());
        assert!(outcome
            .text
            .starts_with("Encounter.identifier: Found duplicate resource (RuleNumber: 20002)"));
    }

    #[test]
    fn a_plain_text_answer_is_kept_short_with_its_status() {
        let outcome = Outcome::from_body(503, b"Service Unavailable");
        assert_eq!(outcome.text, "HTTP 503: Service Unavailable");
        assert!(outcome.rules.is_empty());
    }
}
