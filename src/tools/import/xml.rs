//! Reading an export: the file (or standard input) as XML whatever it came in (plain, gzip,
//! a zip holding one XML file), streamed, each element of interest handed over as a small
//! tree of its own, so that memory follows the largest item, not the file.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Why a file cannot be read. Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {0}: {1}")]
    Io(String, io::Error),
    #[error("{0}")]
    Refused(String),
    /// Not well-formed at a place of the file.
    #[error("the file is not well-formed XML at line {line}, column {column}: {reason}")]
    Malformed { line: u64, column: u64, reason: String },
}

/// An export on disk, opened anew for each pass over it.
pub struct Source {
    path: PathBuf,
    kind: Packing,
    /// Bytes before the XML that a tool left there (a stray character): skipped, reported.
    skip: usize,
    /// Standard input (or a zip's entry) copied to a file, removed when done.
    spooled: bool,
    /// What the user named: the file, or standard input.
    label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Packing {
    Plain,
    Gzip,
}

impl Drop for Source {
    fn drop(&mut self) {
        if self.spooled {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Source {
    /// Opens `path`, or standard input for `-` (copied to a temporary file first, since the
    /// import reads the file twice: once to check it whole, once to bring it in).
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let label = if path == Path::new("-") {
            "standard input".into()
        } else {
            path.display().to_string()
        };
        let (path, spooled) =
            if path == Path::new("-") { (spool_stdin()?, true) } else { (path.to_owned(), false) };
        let name = path.display().to_string();
        let mut head = [0u8; 4];
        let n = File::open(&path)
            .and_then(|mut f| read_up_to(&mut f, &mut head))
            .map_err(|e| ReadError::Io(name.clone(), e))?;
        let (path, kind, spooled) = match &head[..n] {
            [0x1f, 0x8b, ..] => (path, Packing::Gzip, spooled),
            [b'P', b'K', 3, 4] => {
                let unzipped = unzip(&path)?;
                if spooled {
                    let _ = std::fs::remove_file(&path);
                }
                (unzipped, Packing::Plain, true)
            }
            _ => (path, Packing::Plain, spooled),
        };
        let mut source = Self { path, kind, skip: 0, spooled, label };
        source.skip = source.stray_prefix()?;
        Ok(source)
    }

    /// The same file, named otherwise in messages (an upload by the name it had).
    pub fn named(mut self, label: &str) -> Self {
        self.label = label.to_owned();
        self
    }

    /// A display name for messages.
    pub fn name(&self) -> String {
        self.label.clone()
    }

    /// How many stray bytes before the XML were skipped (0 for a clean file).
    pub fn skipped(&self) -> usize {
        self.skip
    }

    /// The decompressed bytes, from the start of the XML.
    pub fn reader(&self) -> Result<Box<dyn BufRead>, ReadError> {
        let name = self.name();
        let io = |e| ReadError::Io(name.clone(), e);
        let file = File::open(&self.path).map_err(io)?;
        let inner: Box<dyn Read> = match self.kind {
            Packing::Plain => Box::new(file),
            Packing::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        };
        let mut reader = BufReader::with_capacity(64 * 1024, inner);
        io::copy(&mut (&mut reader).take(self.skip as u64), &mut io::sink()).map_err(io)?;
        Ok(Box::new(reader))
    }

    /// Characters before the first `<` that are not white space nor a byte-order mark: an
    /// export tool's slip (some Disqus exports begin with a backtick). Up to a line of them
    /// is skipped; more means this is not XML at all.
    fn stray_prefix(&self) -> Result<usize, ReadError> {
        let mut start = Vec::with_capacity(256);
        let reader = Self {
            skip: 0,
            spooled: false,
            path: self.path.clone(),
            kind: self.kind,
            label: self.label.clone(),
        };
        reader
            .reader()?
            .take(256)
            .read_to_end(&mut start)
            .map_err(|e| ReadError::Io(self.name(), e))?;
        let text = start.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&start);
        let Some(at) = text.iter().position(|&b| b == b'<') else {
            return Err(ReadError::Refused(format!(
                "{} is not XML: it does not begin with a tag",
                self.name()
            )));
        };
        let stray = &text[..at];
        if stray.iter().all(u8::is_ascii_whitespace) {
            return Ok(0);
        }
        if stray.len() > 16 || stray.contains(&b'\n') && stray.trim_ascii().contains(&b'\n') {
            return Err(ReadError::Refused(format!(
                "{} is not XML: it begins with text, not a tag",
                self.name()
            )));
        }
        Ok(start.len() - text.len() + at)
    }

    /// Line and column (from 1) of a byte offset in the XML, for messages.
    pub fn place(&self, offset: u64) -> (u64, u64) {
        let Ok(reader) = self.reader() else { return (0, 0) };
        let (mut line, mut column) = (1, 1);
        for byte in reader.bytes().take(offset as usize) {
            match byte {
                Ok(b'\n') => {
                    line += 1;
                    column = 1;
                }
                // Columns count characters: continuation bytes of UTF-8 do not start one.
                Ok(b) if b & 0xC0 != 0x80 => column += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        (line, column)
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Copies `from` into a new temporary file, removed when the [`Source`] is dropped.
fn spool(from: &mut dyn Read, what: &str) -> Result<PathBuf, ReadError> {
    let path = temp_path("import").map_err(|e| ReadError::Refused(e.to_string()))?;
    let io = |e| ReadError::Io(what.to_owned(), e);
    let mut file = File::create(&path).map_err(io)?;
    io::copy(from, &mut file).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(path)
}

/// A new file name in the temporary directory, `byline-<what>-<random>`.
pub(crate) fn temp_path(what: &str) -> Result<PathBuf, getrandom::Error> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix)?;
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Ok(std::env::temp_dir().join(format!("byline-{what}-{name}")))
}

/// Standard input copied to a new temporary file (the caller removes it).
pub(crate) fn spool_stdin() -> Result<PathBuf, ReadError> {
    spool(&mut io::stdin().lock(), "standard input")
}

/// The one `.xml` file of a zip archive (WordPress.com gives its exports so), unpacked to a
/// temporary file: deflate cannot seek, and the import reads the file twice.
fn unzip(path: &Path) -> Result<PathBuf, ReadError> {
    let index = zip_entry(path)?;
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| ReadError::Io(name.clone(), e))?;
    let bad = |e: zip::result::ZipError| {
        ReadError::Refused(format!("{name} is not a readable zip archive: {e}"))
    };
    let mut archive = zip::ZipArchive::new(file).map_err(bad)?;
    let mut entry = archive.by_index(index).map_err(bad)?;
    spool(&mut entry, &name)
}

/// The index of the one `.xml` file in a zip archive.
fn zip_entry(path: &Path) -> Result<usize, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| ReadError::Io(name.clone(), e))?;
    let archive = zip::ZipArchive::new(file)
        .map_err(|e| ReadError::Refused(format!("{name} is not a readable zip archive: {e}")))?;
    let xml: Vec<(usize, &str)> = (0..archive.len())
        .filter_map(|i| archive.name_for_index(i).map(|n| (i, n)))
        .filter(|(_, n)| n.to_ascii_lowercase().ends_with(".xml") && !n.starts_with("__MACOSX/"))
        .collect();
    match xml.as_slice() {
        [(index, _)] => Ok(*index),
        [] => Err(ReadError::Refused(format!("{name} is a zip archive with no .xml file in it"))),
        several => Err(ReadError::Refused(format!(
            "{name} is a zip archive with {} .xml files ({}): unzip it and import each",
            several.len(),
            several.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// An element as a small tree: its canonical name (`wp:post_id`, `title`, `dsq:id`…),
/// attributes, the text directly in it, and its child elements.
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
    /// Where it starts in the file (a byte offset), for messages.
    pub offset: u64,
    /// The last piece of text was CDATA (see [`Walk::text`]).
    pub(super) cdata_last: bool,
}

impl Node {
    /// The first child of this name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child of this name, trimmed; empty when there is none.
    pub fn get(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.trim())
    }

    /// The text of the first child of this name, exactly.
    pub fn raw(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.as_str())
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// What the walk saw of the document as a whole.
#[derive(Debug, Default, Clone)]
pub struct Document {
    /// The root element's canonical name.
    pub root: String,
    /// WordPress export namespaces that elements use (`http(s)://wordpress.org/export/1.N/`,
    /// and its `excerpt/`).
    pub wordpress_namespaces: Vec<String>,
    /// Places where text was recovered (an unescaped `]]>` inside CDATA), as byte offsets.
    pub recovered: Vec<u64>,
}

/// Namespaces by what Byline calls them; anything else keeps its address, and so matches
/// nothing the importers look for.
fn prefix_of(namespace: &str, doc: &mut Document) -> String {
    let rest = namespace.strip_prefix("https://").or_else(|| namespace.strip_prefix("http://"));
    if let Some(rest) = rest {
        if let Some(version) = rest.strip_prefix("wordpress.org/export/") {
            let (number, tail) = version.split_once('/').unwrap_or((version, ""));
            let numbered =
                number.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if numbered
                && (tail.is_empty() || tail == "excerpt/")
                && !doc.wordpress_namespaces.iter().any(|n| n == namespace)
            {
                doc.wordpress_namespaces.push(namespace.to_owned());
            }
            if numbered && tail.is_empty() {
                return "wp".into();
            }
            if numbered && tail == "excerpt/" {
                return "excerpt".into();
            }
        }
        match rest.trim_end_matches('/') {
            "purl.org/rss/1.0/modules/content" => return "content".into(),
            "purl.org/dc/elements/1.1" => return "dc".into(),
            "disqus.com" => return String::new(),
            "disqus.com/disqus-internals" => return "dsq".into(),
            _ => {}
        }
    }
    format!("{{{namespace}}}")
}

fn canonical(resolved: &ResolveResult, local: &[u8], doc: &mut Document) -> String {
    let local = String::from_utf8_lossy(local);
    match resolved {
        ResolveResult::Bound(ns) => {
            let prefix = prefix_of(&String::from_utf8_lossy(ns.as_ref()), doc);
            if prefix.is_empty() { local.into_owned() } else { format!("{prefix}:{local}") }
        }
        ResolveResult::Unbound => local.into_owned(),
        ResolveResult::Unknown(prefix) => format!("{}:{local}", String::from_utf8_lossy(prefix)),
    }
}

/// Walks a document, handing `each` every element `depth` levels down (the root is depth 1)
/// as a tree; what lies above it is only looked at. A file that is not well-formed stops the
/// walk with the place, whatever `each` was handed before: callers that must not act on part
/// of a file walk it once to check it first.
pub fn walk(
    source: &Source,
    depth: usize,
    mut each: impl FnMut(&[String], Node) -> Result<(), ReadError>,
) -> Result<Document, ReadError> {
    let mut reader = NsReader::from_reader(source.reader()?);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    let mut doc = Document::default();
    // Names of the open elements above the collected depth; the open nodes at and below it.
    let mut above: Vec<String> = Vec::new();
    let mut open: Vec<Node> = Vec::new();
    let mut buf = Vec::new();
    let malformed = |reader: &NsReader<_>, reason: String| {
        let (line, column) = source.place(reader.error_position());
        ReadError::Malformed { line, column, reason }
    };
    loop {
        let offset = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => return Err(malformed(&reader, e.to_string())),
        };
        match event {
            Event::Start(start) => {
                let name = canonical(&resolved, start.local_name().as_ref(), &mut doc);
                let node = element(&reader, &start, name, offset, &mut doc)
                    .map_err(|reason| at(source, offset, reason))?;
                if above.is_empty() && open.is_empty() {
                    doc.root = node.name.clone();
                }
                if above.len() + 1 < depth {
                    above.push(node.name);
                } else {
                    open.push(node);
                }
            }
            Event::Empty(start) => {
                let name = canonical(&resolved, start.local_name().as_ref(), &mut doc);
                let node = element(&reader, &start, name, offset, &mut doc)
                    .map_err(|reason| at(source, offset, reason))?;
                if above.is_empty() && open.is_empty() {
                    doc.root = node.name.clone();
                }
                if above.len() + 1 >= depth {
                    close(&mut open, &above, node, &mut each)?;
                }
            }
            Event::End(_) => match open.pop() {
                Some(node) => close(&mut open, &above, node, &mut each)?,
                None => {
                    above.pop();
                }
            },
            Event::Text(text) => {
                if let Some(node) = open.last_mut() {
                    let text = text.decode().map_err(|e| malformed(&reader, e.to_string()))?;
                    push_text(node, &text, offset, &mut doc, false);
                }
            }
            Event::CData(text) => {
                if let Some(node) = open.last_mut() {
                    let text = text.decode().map_err(|e| malformed(&reader, e.to_string()))?;
                    push_text(node, &text, offset, &mut doc, true);
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(node) = open.last_mut() {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name = reference
                                .decode()
                                .map_err(|e| malformed(&reader, e.to_string()))?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| {
                                    malformed(&reader, format!("unknown entity &{name};"))
                                })?
                                .to_owned()
                        }
                        Err(e) => return Err(malformed(&reader, e.to_string())),
                    };
                    push_text(node, &resolved, offset, &mut doc, false);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        buf.clear();
    }
    if let Some(name) = open.first().map(|n| n.name.clone()).or_else(|| above.last().cloned()) {
        let end = reader.buffer_position();
        let (line, column) = source.place(end);
        return Err(ReadError::Malformed {
            line,
            column,
            reason: format!("the file ends inside <{name}>: it was cut short"),
        });
    }
    if doc.root.is_empty() {
        return Err(ReadError::Refused(format!("{} holds no XML element", source.name())));
    }
    Ok(doc)
}

fn at(source: &Source, offset: u64, reason: String) -> ReadError {
    let (line, column) = source.place(offset);
    ReadError::Malformed { line, column, reason }
}

fn element<R>(
    reader: &NsReader<R>,
    start: &BytesStart,
    name: String,
    offset: u64,
    doc: &mut Document,
) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(false) {
        let attr = attr.map_err(|e| format!("a bad attribute in <{name}>: {e}"))?;
        let key = attr.key;
        if key.as_ref().starts_with(b"xmlns") {
            continue;
        }
        let (resolved, local) = reader.resolve_attribute(key);
        let key = canonical(&resolved, local.as_ref(), doc);
        let value = attr
            .unescape_value()
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&attr.value).into_owned());
        attrs.push((key, value));
    }
    Ok(Node { name, attrs, offset, ..Node::default() })
}

/// Old WordPress versions wrote a body holding `]]>` inside one CDATA section, which ends the
/// section early: the text after it then holds the real end (`]]>`). What the file evidently
/// held is the section's text, the `]]>`, and that text without its last `]]>`.
fn push_text(node: &mut Node, text: &str, offset: u64, doc: &mut Document, cdata: bool) {
    if !cdata && node.cdata_last && text.contains("]]>") {
        let last = text.rfind("]]>").unwrap_or(0);
        node.text.push_str("]]>");
        node.text.push_str(&text[..last]);
        node.text.push_str(&text[last + 3..]);
        doc.recovered.push(offset);
    } else {
        node.text.push_str(text);
    }
    node.cdata_last = cdata;
}

fn close(
    open: &mut [Node],
    above: &[String],
    node: Node,
    each: &mut impl FnMut(&[String], Node) -> Result<(), ReadError>,
) -> Result<(), ReadError> {
    match open.last_mut() {
        Some(parent) => {
            parent.children.push(node);
            Ok(())
        }
        None => each(above, node),
    }
}
