//! A small PDF writer for what the app prints: pages of Helvetica text and lines, nothing
//! embedded, Latin-1 text (what Indonesian names use).

/// One page: its size in points and its content stream.
pub struct Page {
    /// Width, points.
    pub width: f32,
    /// Height, points.
    pub height: f32,
    /// PDF content operators.
    pub content: String,
}

impl Page {
    /// An empty page.
    pub fn new(width: f32, height: f32) -> Self {
        Self {
            width,
            height,
            content: String::new(),
        }
    }

    /// Text at `x`, `y` (from the bottom left), Helvetica of `size` points.
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.content.push_str(&format!(
            "BT /F1 {size} Tf {x:.1} {y:.1} Td ({}) Tj ET\n",
            pdf_string(text)
        ));
    }

    /// Text centred on `centre`, by Helvetica's average width (near enough for a label).
    pub fn centred_text(&mut self, centre: f32, y: f32, size: f32, text: &str) {
        let width = text.chars().count() as f32 * size * 0.55;
        self.text((centre - width / 2.0).max(8.0), y, size, text);
    }

    /// A rectangle's outline.
    pub fn rectangle(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.content.push_str(&format!(
            "0.5 w {x:.1} {y:.1} {width:.1} {height:.1} re S\n"
        ));
    }
}

/// The pages as one PDF file.
pub fn document(pages: &[Page]) -> Vec<u8> {
    let count = pages.len();
    // Objects: catalog, pages, font, then a page and its content per page.
    let kids: Vec<String> = (0..count).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {count} >>",
            kids.join(" ")
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    for (i, page) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            page.width,
            page.height,
            5 + 2 * i
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}endstream",
            latin1(&page.content).len(),
            page.content
        ));
    }
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(latin1(&format!("{} 0 obj\n{object}\nendobj\n", i + 1)));
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

/// Writes `bytes` as `folder/name` (making the folder) and returns the path.
pub fn save(
    folder: &std::path::Path,
    name: &str,
    bytes: &[u8],
) -> Result<std::path::PathBuf, crate::problem::Problem> {
    let fail = |e: std::io::Error| crate::problem::Problem::FileNotSaved(e.to_string());
    std::fs::create_dir_all(folder).map_err(fail)?;
    let path = folder.join(name);
    std::fs::write(&path, bytes).map_err(fail)?;
    Ok(path)
}

/// Text for a PDF string literal: brackets and backslashes escaped.
fn pdf_string(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}

/// WinAnsi is Latin-1 for the letters Indonesian names use; anything beyond is `?`.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}
