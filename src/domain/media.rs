//! Images in the media library: which files Byline accepts (told by their bytes), the widths
//! it makes of them, and the content-addressed names they are served under.

use std::fmt;

use super::MediaId;

/// The widths (in CSS pixels) of the variants made of each image, never wider than it.
pub const WIDTHS: [u32; 6] = [320, 640, 960, 1280, 1920, 2560];

/// The width the library's grid and the listings show.
pub const THUMBNAIL_WIDTH: u32 = 320;

/// The longest name an image's files carry (before the width and extension).
const NAME_MAX_CHARS: usize = 60;

/// How many hex digits of the SHA-256 name an image's folder.
pub const HASH_DIGITS: usize = 32;

/// The formats an upload may be, recognised from the file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageFormat {
    pub const ALL: [ImageFormat; 4] = [Self::Jpeg, Self::Png, Self::Webp, Self::Gif];

    /// The format the bytes are, whatever the file is called or claims to be.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    /// The extension its files get.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            other => other.as_str(),
        }
    }

    pub fn from_extension(ext: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.extension() == ext)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    /// The formats each variant is made in: WebP, and the original's own (a GIF has no
    /// variants: it keeps its animation at its own size).
    pub fn variant_formats(self) -> &'static [ImageFormat] {
        match self {
            Self::Jpeg => &[Self::Webp, Self::Jpeg],
            Self::Png => &[Self::Webp, Self::Png],
            Self::Webp => &[Self::Webp],
            Self::Gif => &[],
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an upload that is not an image we take is told.
pub const UNSUPPORTED: &str =
    "This file is not a JPEG, PNG, WebP or GIF image (SVG is not accepted: it can carry script).";

/// An upload's file name made into the name its files carry: lower-case ASCII letters, digits
/// and hyphens, `image` when nothing is left.
pub fn file_stem(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let mut name = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
        if name.len() >= NAME_MAX_CHARS {
            break;
        }
    }
    let name = name.trim_end_matches('-');
    if name.is_empty() { "image".to_owned() } else { name.to_owned() }
}

/// The widths of the variants an image `width` pixels wide gets: every standard width
/// narrower than it.
pub fn planned_widths(format: ImageFormat, width: u32) -> Vec<u32> {
    if format.variant_formats().is_empty() {
        return Vec::new();
    }
    WIDTHS.into_iter().filter(|w| *w < width).collect()
}

/// One stored file of an image: the original (`width: None`) or a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub hash: String,
    pub name: String,
    pub width: Option<u32>,
    pub format: ImageFormat,
}

impl MediaFile {
    /// Its key in the media store, which is also its address under `/media/`:
    /// `<hash>/<name>-<width>.<ext>`, `<hash>/<name>.<ext>` for the original.
    pub fn key(&self) -> String {
        match self.width {
            Some(w) => format!("{}/{}-{w}.{}", self.hash, self.name, self.format.extension()),
            None => format!("{}/{}.{}", self.hash, self.name, self.format.extension()),
        }
    }

    pub fn url(&self) -> String {
        format!("/media/{}", self.key())
    }

    /// Reads a key back from an address's two segments, refusing anything that is not the
    /// shape Byline writes (so no path can leave the media folder). A name ending in a number
    /// reads as a variant; its key, the only thing an address is used for, is the same.
    pub fn parse(hash: &str, file: &str) -> Option<Self> {
        let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if hash.len() != HASH_DIGITS || !hash.chars().all(hex) {
            return None;
        }
        let (stem, ext) = file.rsplit_once('.')?;
        let format = ImageFormat::from_extension(ext)?;
        let (name, width) = match stem.rsplit_once('-') {
            Some((name, w)) if !w.is_empty() && w.chars().all(|c| c.is_ascii_digit()) => {
                (name, Some(w.parse().ok()?))
            }
            _ => (stem, None),
        };
        let shaped = !name.is_empty()
            && name.len() <= NAME_MAX_CHARS
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        shaped.then(|| Self { hash: hash.to_owned(), name: name.to_owned(), width, format })
    }
}

/// The path of a library image that names it by id: what the editor inserts into Markdown.
/// It stays right when the image is replaced; at render it becomes the image's files.
pub fn library_path(id: MediaId) -> String {
    format!("/media/{id}")
}

/// The id in a library path (`/media/42`), if the address is one.
pub fn library_id(url: &str) -> Option<MediaId> {
    let rest = url.strip_prefix("/media/")?;
    let digits = rest.strip_suffix('/').unwrap_or(rest);
    if digits.is_empty() || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    MediaId::parse(digits)
}

/// What rendering needs of a library image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaView {
    pub id: MediaId,
    pub hash: String,
    pub name: String,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// The variants' widths made so far.
    pub widths: Vec<u32>,
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

impl MediaView {
    pub fn original(&self) -> MediaFile {
        MediaFile {
            hash: self.hash.clone(),
            name: self.name.clone(),
            width: None,
            format: self.format,
        }
    }

    fn file(&self, width: u32, format: ImageFormat) -> MediaFile {
        MediaFile { hash: self.hash.clone(), name: self.name.clone(), width: Some(width), format }
    }

    /// The height of a variant `width` wide.
    pub fn height_at(&self, width: u32) -> u32 {
        let h = u64::from(self.height) * u64::from(width) / u64::from(self.width.max(1));
        h.max(1) as u32
    }

    /// `srcset` in one format: the variants made, then the original when it is no wider than
    /// the widest variant would be.
    pub fn srcset(&self, format: ImageFormat) -> String {
        let mut parts: Vec<String> =
            self.widths.iter().map(|w| format!("{} {w}w", self.file(*w, format).url())).collect();
        if format == self.format && self.width <= WIDTHS[WIDTHS.len() - 1] {
            parts.push(format!("{} {}w", self.original().url(), self.width));
        }
        parts.join(", ")
    }

    /// Whether `src` is one of this image's files (of its current picture).
    pub fn serves(&self, src: &str) -> bool {
        src.strip_prefix("/media/")
            .and_then(|rest| rest.strip_prefix(self.hash.as_str()))
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The plain `src`: the variant nearest 1280 wide from below, or the original.
    pub fn src(&self) -> String {
        match self.src_width() {
            w if w < self.width => self.file(w, self.format).url(),
            _ => self.original().url(),
        }
    }

    /// How wide the plain `src` is.
    pub fn src_width(&self) -> u32 {
        match self.widths.iter().rev().find(|w| **w <= 1280) {
            Some(w) if self.width > 1280 => *w,
            _ => self.width,
        }
    }

    /// The small file a listing or the library's grid shows.
    pub fn thumbnail(&self) -> String {
        if self.widths.contains(&THUMBNAIL_WIDTH) {
            self.file(THUMBNAIL_WIDTH, self.format).url()
        } else {
            self.original().url()
        }
    }

    /// A WebP `srcset` when the image has WebP variants (a `<picture>` offers it first).
    pub fn webp_srcset(&self) -> Option<String> {
        let has_webp = self.format != ImageFormat::Webp
            && self.format.variant_formats().contains(&ImageFormat::Webp)
            && !self.widths.is_empty();
        has_webp.then(|| {
            self.widths
                .iter()
                .map(|w| format!("{} {w}w", self.file(*w, ImageFormat::Webp).url()))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(ImageFormat::sniff(b"\xFF\xD8\xFF\xE0rest"), Some(ImageFormat::Jpeg));
        assert_eq!(ImageFormat::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageFormat::Webp));
        assert_eq!(ImageFormat::sniff(b"GIF89a..."), Some(ImageFormat::Gif));
        assert_eq!(ImageFormat::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageFormat::sniff(b"#!/bin/sh\n"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }

    #[test]
    fn names_are_plain_ascii() {
        assert_eq!(file_stem("Harbour at Dawn.JPG"), "harbour-at-dawn");
        assert_eq!(file_stem("C:\\photos\\x.y.png"), "x-y");
        assert_eq!(file_stem("../../etc/passwd"), "passwd");
        assert_eq!(file_stem("Ærø.jpg"), "r");
        assert_eq!(file_stem("日本.jpg"), "image");
        assert_eq!(file_stem(".jpg"), "jpg");
        assert!(file_stem(&"a".repeat(500)).len() <= NAME_MAX_CHARS);
    }

    #[test]
    fn keys_read_back_and_nothing_else() {
        let hash = "0123456789abcdef0123456789abcdef";
        for width in [None, Some(640)] {
            let file = MediaFile {
                hash: hash.into(),
                name: "a-b-2".into(),
                width,
                format: ImageFormat::Jpeg,
            };
            // `a-b-2.jpg` reads as a variant 2 wide of `a-b`: the same address either way.
            let key = file.key();
            let (h, f) = key.split_once('/').unwrap();
            assert_eq!(MediaFile::parse(h, f).map(|f| f.key()), Some(key.clone()));
        }
        assert_eq!(MediaFile::parse(hash, "../x.jpg"), None);
        assert_eq!(MediaFile::parse(hash, "x.svg"), None);
        assert_eq!(MediaFile::parse("0123", "x.jpg"), None);
        assert_eq!(MediaFile::parse(&hash.to_uppercase(), "x.jpg"), None);
        assert_eq!(MediaFile::parse(hash, "X.jpg"), None);
    }

    #[test]
    fn widths_never_exceed_the_original() {
        assert_eq!(planned_widths(ImageFormat::Jpeg, 1000), vec![320, 640, 960]);
        assert_eq!(planned_widths(ImageFormat::Jpeg, 300), Vec::<u32>::new());
        assert_eq!(planned_widths(ImageFormat::Gif, 4000), Vec::<u32>::new());
        assert_eq!(library_id("/media/42"), Some(MediaId(42)));
        assert_eq!(library_id("/media/0"), None);
        assert_eq!(library_id("/media/42/x.jpg"), None);
    }
}
