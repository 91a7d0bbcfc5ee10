//! The face of a newly issued card, to print: a page the size of the card itself (CR80,
//! 85.6 × 54 mm, for a card printer) and an A4 page with the same face drawn at that size
//! and its outline to cut along.

use std::path::{Path, PathBuf};

use crate::pdf::{self, Page};
use crate::problem::Problem;

/// CR80 in points (1 mm = 72 / 25.4 pt).
const CARD_WIDTH: f32 = 242.65;
const CARD_HEIGHT: f32 = 153.07;
const A4_WIDTH: f32 = 595.28;
const A4_HEIGHT: f32 = 841.89;

/// What the face says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardFace {
    /// "Kartu Pasien Kartika".
    pub title: String,
    /// The issuing Puskesmas.
    pub facility: String,
    /// The patient's name.
    pub name: String,
    /// "No. RM P36740600000013V".
    pub patient_number: String,
    /// The card number in groups of four.
    pub card_number: String,
    /// "Terbit 28-11-2026 · Berlaku s.d. 28-11-2031".
    pub dates: String,
}

/// Writes the face onto a page with its bottom left corner at `x`, `y`.
fn draw(page: &mut Page, face: &CardFace, x: f32, y: f32) {
    page.rectangle(x, y, CARD_WIDTH, CARD_HEIGHT);
    page.text(x + 12.0, y + 132.0, 9.0, &face.title);
    page.text(x + 12.0, y + 120.0, 8.0, &face.facility);
    page.text(x + 12.0, y + 84.0, 14.0, &face.name);
    page.text(x + 12.0, y + 66.0, 9.0, &face.patient_number);
    page.text(x + 12.0, y + 40.0, 13.0, &face.card_number);
    page.text(x + 12.0, y + 14.0, 7.0, &face.dates);
}

/// The two pages: the card's size, and A4 with the face to cut out.
pub fn pdf_bytes(face: &CardFace) -> Vec<u8> {
    let mut card = Page::new(CARD_WIDTH, CARD_HEIGHT);
    draw(&mut card, face, 0.0, 0.0);
    let mut a4 = Page::new(A4_WIDTH, A4_HEIGHT);
    draw(
        &mut a4,
        face,
        (A4_WIDTH - CARD_WIDTH) / 2.0,
        A4_HEIGHT - 72.0 - CARD_HEIGHT,
    );
    pdf::document(&[card, a4])
}

/// "6367 4060 0000 0013".
pub fn grouped(card_number: &str) -> String {
    card_number
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes the face into `folder` as `kartu-<card number>.pdf` and returns its path.
pub fn save_pdf(folder: &Path, face: &CardFace, card_number: &str) -> Result<PathBuf, Problem> {
    pdf::save(
        folder,
        &format!("kartu-{card_number}.pdf"),
        &pdf_bytes(face),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_face_is_a_two_page_pdf_the_size_of_a_card_and_of_a4() {
        let face = CardFace {
            title: "Kartu Pasien Kartika".into(),
            facility: "Puskesmas Pamulang".into(),
            name: "Siti Rahayu".into(),
            patient_number: "No. RM P36740600000013V".into(),
            card_number: grouped("6367406000000013"),
            dates: "Terbit 28-11-2026".into(),
        };
        let bytes = pdf_bytes(&face);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("/Count 2"));
        assert!(text.contains("/MediaBox [0 0 242.65 153.07]"));
        assert!(text.contains("/MediaBox [0 0 595.28 841.89]"));
        assert!(text.contains("(6367 4060 0000 0013) Tj"));
        assert!(text.contains("(Siti Rahayu) Tj"));
        assert!(text.trim_end().ends_with("%%EOF"));
        assert!(
            !text.contains("FontFile2"),
            "Latin-1 needs no font of its own"
        );
    }

    #[test]
    fn a_name_beyond_latin_1_is_printed_with_an_embedded_font_not_as_question_marks() {
        let face = CardFace {
            title: "Kartu Pasien Kartika".into(),
            facility: "Puskesmas Pamulang".into(),
            name: "Ā'isyah Yılmaz Şahin".into(),
            patient_number: "No. RM P36740600000013V".into(),
            card_number: grouped("6367406000000013"),
            dates: "Terbit 28-11-2026".into(),
        };
        let bytes = pdf_bytes(&face);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Subtype /Type0"), "a Type0 font");
        assert!(text.contains("/FontFile2"), "with the font's file embedded");
        assert!(
            !text.contains("Yi?maz") && !text.contains("Y?lmaz"),
            "no letter lost"
        );
        // The map back to text holds the letters Latin-1 lacks, so the name can be copied.
        for letter in ['ı', 'Ā', 'Ş'] {
            let utf16: String = letter
                .to_string()
                .encode_utf16()
                .map(|u| format!("{u:04X}"))
                .collect();
            assert!(
                text.contains(&format!("<{utf16}>")),
                "{letter} in the ToUnicode map"
            );
        }
        // And every letter has a real glyph: none is the font's "missing" glyph 0.
        let cmap = &text[text.find("beginbfchar").expect("a ToUnicode map")..];
        assert!(
            !cmap.contains("\n<0000> "),
            "a letter the font lacks: {cmap}"
        );
    }
}
