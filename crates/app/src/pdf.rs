//! A small PDF writer for what the app prints: pages of text and lines. While every letter
//! is Latin-1, as most Indonesian names are, the text is set in Helvetica and nothing is
//! embedded; a document with any other letter (ā, ş, ễ, Cyrillic…) gets the font the app
//! draws its screens with (Ubuntu Light) embedded, so a name prints as it is written,
//! never as `?`.

use std::io::Write;

/// The font embedded when Helvetica's Latin-1 is not enough: egui's own, so the paper
/// shows what the screen showed. Its licence (the Ubuntu Font Licence) allows embedding.
const EMBEDDED_FONT: &[u8] = epaint_default_fonts::UBUNTU_LIGHT;
const EMBEDDED_FONT_NAME: &str = "Ubuntu-Light";

/// What a page holds.
enum Item {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rectangle {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

/// One page: its size in points and what is drawn on it.
pub struct Page {
    /// Width, points.
    pub width: f32,
    /// Height, points.
    pub height: f32,
    items: Vec<Item>,
}

impl Page {
    /// An empty page.
    pub fn new(width: f32, height: f32) -> Self {
        Self {
            width,
            height,
            items: Vec::new(),
        }
    }

    /// Text at `x`, `y` (from the bottom left), `size` points high.
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.items.push(Item::Text {
            x,
            y,
            size,
            text: text.to_owned(),
        });
    }

    /// Text centred on `centre`, by an average letter's width (near enough for a label).
    pub fn centred_text(&mut self, centre: f32, y: f32, size: f32, text: &str) {
        let width = text.chars().count() as f32 * size * 0.55;
        self.text((centre - width / 2.0).max(8.0), y, size, text);
    }

    /// A rectangle's outline.
    pub fn rectangle(&mut self, x: f32, y: f32, width: f32, height: f32) {
        self.items.push(Item::Rectangle {
            x,
            y,
            width,
            height,
        });
    }

    fn texts(&self) -> impl Iterator<Item = &str> {
        self.items.iter().filter_map(|item| match item {
            Item::Text { text, .. } => Some(text.as_str()),
            Item::Rectangle { .. } => None,
        })
    }

    /// The page's content stream, with each text written by `encode`.
    fn content(&self, encode: &mut dyn FnMut(&str) -> String) -> Vec<u8> {
        let mut content = String::new();
        for item in &self.items {
            match item {
                Item::Text { x, y, size, text } => content.push_str(&format!(
                    "BT /F1 {size} Tf {x:.1} {y:.1} Td {} Tj ET\n",
                    encode(text)
                )),
                Item::Rectangle {
                    x,
                    y,
                    width,
                    height,
                } => content.push_str(&format!(
                    "0.5 w {x:.1} {y:.1} {width:.1} {height:.1} re S\n"
                )),
            }
        }
        // Latin-1 text is written as its bytes (WinAnsi); embedded text is hex, plain ASCII.
        content
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    }
}

/// The pages as one PDF file.
pub fn document(pages: &[Page]) -> Vec<u8> {
    let latin1_only = pages
        .iter()
        .flat_map(Page::texts)
        .all(|text| text.chars().all(|c| u32::from(c) < 256));
    let embedded = if latin1_only {
        None
    } else {
        EmbeddedFont::load()
    };
    let mut objects = Objects::default();
    let catalog = objects.reserve();
    let page_tree = objects.reserve();
    let font = objects.reserve();
    let mut kids = Vec::new();
    let mut glyphs = UsedGlyphs::default();
    for page in pages {
        let content = match &embedded {
            Some(embedded) => page.content(&mut |text| embedded.hex_glyphs(text, &mut glyphs)),
            None => page.content(&mut |text| format!("({})", pdf_string(text))),
        };
        let contents = objects.stream("", &content);
        kids.push(objects.add(format!(
            "<< /Type /Page /Parent {page_tree} 0 R /MediaBox [0 0 {} {}] \
             /Resources << /Font << /F1 {font} 0 R >> >> /Contents {contents} 0 R >>",
            page.width, page.height
        )));
    }
    match &embedded {
        Some(embedded) => embedded.write_objects(&mut objects, font, &glyphs),
        None => objects.set(
            font,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        ),
    }
    let kids: Vec<String> = kids.iter().map(|k| format!("{k} 0 R")).collect();
    objects.set(
        page_tree,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        ),
    );
    objects.set(
        catalog,
        &format!("<< /Type /Catalog /Pages {page_tree} 0 R >>"),
    );
    objects.file()
}

/// The numbered objects of a file, written as bytes (a font stream is binary).
#[derive(Default)]
struct Objects(Vec<Vec<u8>>);

impl Objects {
    /// A number for an object written later.
    fn reserve(&mut self) -> usize {
        self.0.push(Vec::new());
        self.0.len()
    }

    fn set(&mut self, number: usize, body: &str) {
        self.0[number - 1] = body.as_bytes().to_vec();
    }

    fn add(&mut self, body: String) -> usize {
        self.0.push(body.into_bytes());
        self.0.len()
    }

    /// A stream object; `entries` go in its dictionary beside the length.
    fn stream(&mut self, entries: &str, data: &[u8]) -> usize {
        let mut body = format!("<< /Length {}{entries} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.0.push(body);
        self.0.len()
    }

    fn file(&self) -> Vec<u8> {
        // The binary comment line tells readers the file holds binary streams.
        let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in self.0.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend(format!("{} 0 obj\n", i + 1).bytes());
            pdf.extend_from_slice(body);
            pdf.extend(b"\nendobj\n");
        }
        let xref = pdf.len();
        pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", self.0.len() + 1).bytes());
        for offset in offsets {
            pdf.extend(format!("{offset:010} 00000 n \n").bytes());
        }
        pdf.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                self.0.len() + 1
            )
            .bytes(),
        );
        pdf
    }
}

/// The glyphs a document's text used: id, width per 1000 em, and the text it stands for.
#[derive(Default)]
struct UsedGlyphs(std::collections::BTreeMap<u16, (u32, String)>);

/// The app's font, read for what a PDF needs: each letter's glyph and its width.
struct EmbeddedFont {
    font: skrifa::FontRef<'static>,
    units_per_em: f32,
}

impl EmbeddedFont {
    fn load() -> Option<Self> {
        use skrifa::MetadataProvider;
        let font = skrifa::FontRef::new(EMBEDDED_FONT).ok()?;
        let metrics = font.metrics(
            skrifa::prelude::Size::unscaled(),
            skrifa::prelude::LocationRef::default(),
        );
        Some(Self {
            font,
            units_per_em: f32::from(metrics.units_per_em.max(1)),
        })
    }

    /// `text` as a hex string of glyph ids (Identity-H), noting each glyph used. A letter
    /// the font lacks is its "missing" glyph, which still shows there was one.
    fn hex_glyphs(&self, text: &str, used: &mut UsedGlyphs) -> String {
        use skrifa::MetadataProvider;
        let charmap = self.font.charmap();
        let advances = self.font.glyph_metrics(
            skrifa::prelude::Size::unscaled(),
            skrifa::prelude::LocationRef::default(),
        );
        let mut hex = String::from("<");
        for c in text.chars() {
            let glyph = charmap.map(c).unwrap_or_default();
            let id = u16::try_from(glyph.to_u32()).unwrap_or(0);
            let width = advances.advance_width(glyph).unwrap_or(0.0) * 1000.0 / self.units_per_em;
            // A glyph keeps the first letter it stood for, for the text a reader copies.
            used.0
                .entry(id)
                .or_insert_with(|| (width.round() as u32, c.to_string()));
            hex.push_str(&format!("{id:04X}"));
        }
        hex.push('>');
        hex
    }

    /// The font's objects: the Type0 font at `font`, its CID font, descriptor, the font
    /// file (compressed) and the map back to text (so the PDF's text can be searched and
    /// copied).
    fn write_objects(&self, objects: &mut Objects, font: usize, used: &UsedGlyphs) {
        let file = objects.stream(
            &format!(" /Length1 {} /Filter /FlateDecode", EMBEDDED_FONT.len()),
            &deflate(EMBEDDED_FONT),
        );
        let descriptor = objects.add(format!(
            "<< /Type /FontDescriptor /FontName /{EMBEDDED_FONT_NAME} /Flags 32 \
             /FontBBox [-200 -250 1100 950] /ItalicAngle 0 /Ascent 932 /Descent -189 \
             /CapHeight 693 /StemV 60 /FontFile2 {file} 0 R >>"
        ));
        let widths: Vec<String> = used
            .0
            .iter()
            .map(|(id, (width, _))| format!("{id} [{width}]"))
            .collect();
        let cid_font = objects.add(format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{EMBEDDED_FONT_NAME} \
             /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW 500 /W [{}] >>",
            widths.join(" ")
        ));
        let to_unicode = objects.stream("", to_unicode_cmap(used).as_bytes());
        objects.set(
            font,
            &format!(
                "<< /Type /Font /Subtype /Type0 /BaseFont /{EMBEDDED_FONT_NAME} \
                 /Encoding /Identity-H /DescendantFonts [{cid_font} 0 R] \
                 /ToUnicode {to_unicode} 0 R >>"
            ),
        );
    }
}

/// The CMap that maps each glyph used back to its letter (UTF-16, as PDF wants).
fn to_unicode_cmap(used: &UsedGlyphs) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    let pairs: Vec<(u16, &str)> = used
        .0
        .iter()
        .map(|(id, (_, text))| (*id, text.as_str()))
        .collect();
    // At most 100 entries to a block, as the CMap format asks.
    for block in pairs.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", block.len()));
        for (id, text) in block {
            let utf16: String = text.encode_utf16().map(|u| format!("{u:04X}")).collect();
            cmap.push_str(&format!("<{id:04X}> <{utf16}>\n"));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap CMapName currentdict /CMap defineresource pop end end\n");
    cmap
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into memory cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
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

/// Text for a PDF string literal in WinAnsi: brackets and backslashes escaped, each letter
/// its Latin-1 byte (only called when every letter has one).
fn pdf_string(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '(' | ')' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect()
}
