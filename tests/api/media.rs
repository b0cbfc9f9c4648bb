//! The media library: uploads checked by their bytes and stripped of their metadata (read
//! back with exiftool), variants made in the background, files served at addresses that never
//! change meaning, articles showing them with their sizes, and the library's rules.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use byline::domain::Role;
use byline::store::ArticleReads;
use image::{ImageEncoder, RgbImage};
use serde_json::Value;

use crate::helpers::{Page, StaffClient, TestApp, attr, spawn_app, spawn_with, text};

const BOUNDARY: &str = "----byline-media-boundary-Qx81rTz";

/// A multipart body: text fields, then files as (field, file name, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_multipart(
    app: &TestApp,
    staff: &StaffClient,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> Page {
    let mut all = vec![("csrf", staff.csrf.as_str())];
    all.extend_from_slice(fields);
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [("cookie", staff.cookie.as_str()), ("content-type", content_type.as_str())];
    app.post_raw(path, multipart(&all, files), &headers).await
}

/// Uploads one image through the library's form; returns its id.
pub async fn upload(
    app: &TestApp,
    staff: &StaffClient,
    name: &str,
    bytes: &[u8],
    alt: &str,
) -> i64 {
    let page =
        post_multipart(app, staff, "/admin/media", &[("alt", alt)], &[("file", name, bytes)]).await;
    assert_eq!(page.status, 303, "upload refused:\n{}", page.body);
    media_id(page.location())
}

fn media_id(location: &str) -> i64 {
    location
        .trim_start_matches("/admin/media/")
        .split('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no image id in {location}"))
}

async fn editor(app: &TestApp) -> StaffClient {
    app.add_staff("editor@example.com", "Eda Editor", Role::Editor).await;
    app.sign_in("editor@example.com").await
}

/// A photograph-like picture: smooth light with grain, as a camera makes.
pub fn photo(width: u32, height: u32) -> RgbImage {
    let mut seed = 0x2545_f491_u32;
    RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 17) as i32 - 8;
        let base = |v: u32, span: u32| (v * 200 / span.max(1)) as i32;
        let px = |v: i32| (v + grain).clamp(0, 255) as u8;
        image::Rgb([
            px(40 + base(x, width)),
            px(60 + base(y, height) / 2),
            px(180 - base(x + y, width + height) / 2),
        ])
    })
}

pub fn jpeg(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(picture, picture.width(), picture.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn png(picture: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(picture, picture.width(), picture.height(), image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn exiftool() -> &'static str {
    let found = Command::new("exiftool").arg("-ver").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "exiftool is needed to read the stored files' metadata: run scripts/setup"
    );
    "exiftool"
}

/// Every tag exiftool reads in a file, by group and name.
fn metadata(path: &Path) -> serde_json::Map<String, Value> {
    let output =
        Command::new(exiftool()).args(["-j", "-a", "-G1", "-n"]).arg(path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
    parsed[0].as_object().unwrap().clone()
}

/// A JPEG as a phone writes it: GPS position, camera serial, owner, XMP and IPTC, a
/// thumbnail, and turned on its side (orientation 6: shown rotated 90° clockwise).
fn tagged_jpeg(dir: &Path) -> Vec<u8> {
    let path = dir.join("source.jpg");
    std::fs::write(&path, jpeg(&photo(1400, 900))).unwrap();
    let thumb = dir.join("thumb.jpg");
    std::fs::write(&thumb, jpeg(&photo(160, 120))).unwrap();
    let status = Command::new(exiftool())
        .args([
            "-q",
            "-overwrite_original",
            "-GPSLatitude=48.8566",
            "-GPSLatitudeRef=N",
            "-GPSLongitude=2.3522",
            "-GPSLongitudeRef=E",
            "-SerialNumber=CAM-SERIAL-4471",
            "-OwnerName=Jane Source",
            "-Artist=Jane Source",
            "-Make=PhoneCo",
            "-Model=Pocket 9",
            "-XMP-dc:Creator=Jane Source",
            "-IPTC:By-line=Jane Source",
            "-Orientation=6",
            "-n",
        ])
        .arg(format!("-ThumbnailImage<={}", thumb.display()))
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let tags = metadata(&path);
    assert!(tags.keys().any(|k| k.contains("GPSLatitude")), "the source carries GPS: {tags:?}");
    std::fs::read(&path).unwrap()
}

/// The image's page once every variant is made (the outbox's handler makes them).
async fn ready(app: &TestApp, staff: &StaffClient, id: i64) -> Page {
    let started = Instant::now();
    loop {
        let page = app.staff_get(staff, &format!("/admin/media/{id}/")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if !page.has(".media-pending") {
            return page;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "variants never made:\n{}", page.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Fetched {
    let mut request = app.client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    Fetched { status, headers, bytes: response.bytes().await.unwrap().to_vec() }
}

fn header<'a>(f: &'a Fetched, name: &str) -> &'a str {
    f.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn an_upload_loses_its_metadata_in_every_file_and_is_served_in_every_size() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let source = tagged_jpeg(dir.path());
    let id =
        upload(&app, &staff, "Harbour at Dawn.JPG", &source, "Boats in a harbour at dawn").await;
    let page = ready(&app, &staff, id).await;
    let files: Vec<String> =
        page.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()).collect();
    // Upright: the 1400 × 900 picture on its side is 900 wide; variants narrower than that.
    let mut expected = vec![];
    for w in [320, 640] {
        expected.push(format!("harbour-at-dawn-{w}.webp"));
        expected.push(format!("harbour-at-dawn-{w}.jpg"));
    }
    expected.push("harbour-at-dawn.jpg".to_owned());
    let mut names: Vec<String> =
        files.iter().map(|f| f.rsplit('/').next().unwrap().to_owned()).collect();
    names.sort();
    expected.sort();
    assert_eq!(names, expected, "{}", page.body);
    let mut sizes = std::collections::HashMap::new();
    for file in &files {
        let got = fetch(&app, file, &[]).await;
        assert_eq!(got.status, 200, "{file}");
        let ext = file.rsplit('.').next().unwrap();
        let mime = if ext == "webp" { "image/webp" } else { "image/jpeg" };
        assert_eq!(header(&got, "content-type"), mime, "{file}");
        assert_eq!(header(&got, "cache-control"), "public, max-age=31536000, immutable", "{file}");
        assert_eq!(header(&got, "x-content-type-options"), "nosniff");
        assert_eq!(header(&got, "content-length"), got.bytes.len().to_string());
        let etag = header(&got, "etag").to_owned();
        assert!(etag.starts_with('"') && !etag.starts_with("W/"), "a strong tag: {etag}");
        let again = fetch(&app, file, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, 304, "{file}");
        assert!(again.bytes.is_empty());
        // Read back with a real metadata reader: nothing but what the image needs.
        let path = dir.path().join(file.rsplit('/').next().unwrap());
        std::fs::write(&path, &got.bytes).unwrap();
        let tags = metadata(&path);
        let text = serde_json::to_string(&tags).unwrap();
        for leak in [
            "GPS",
            "CAM-SERIAL",
            "Jane Source",
            "PhoneCo",
            "Pocket 9",
            "ThumbnailImage",
            "Orientation",
        ] {
            assert!(!text.contains(leak), "{file} still says {leak}: {text}");
        }
        for group in ["XMP", "IPTC", "IFD0", "ExifIFD", "GPS", "IFD1"] {
            assert!(
                !tags.keys().any(|k| k.starts_with(&format!("{group}:"))),
                "{file} keeps {group}: {text}"
            );
        }
        let decoded = image::load_from_memory(&got.bytes).unwrap();
        let width = file
            .rsplit('-')
            .next()
            .and_then(|w| w.split('.').next())
            .and_then(|w| w.parse::<u32>().ok())
            .unwrap_or(900);
        assert_eq!(decoded.width(), width, "{file}");
        assert_eq!(decoded.height(), width * 1400 / 900, "{file}: upright, in proportion");
        sizes.insert(names_of(file), got.bytes.len());
    }
    for w in [320, 640] {
        let webp = sizes[&format!("harbour-at-dawn-{w}.webp")];
        let jpg = sizes[&format!("harbour-at-dawn-{w}.jpg")];
        assert!(webp < jpg, "a photo's WebP ({webp} bytes) is smaller than its JPEG ({jpg})");
    }
    // HEAD: the headers without the bytes.
    let head = app.client.head(app.url(&files[0])).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.headers().get("content-length").is_some());
    // An address that is not one of its files, or not of the shape Byline writes.
    let hash = files[0].split('/').nth(2).unwrap();
    for missing in [
        format!("/media/{hash}/harbour-at-dawn-1280.jpg"),
        format!("/media/{hash}/other.jpg"),
        format!("/media/{hash}/..%2f..%2fbyline.db"),
        "/media/0123456789abcdef0123456789abcdef/x.jpg".to_owned(),
        format!("/media/{hash}/harbour-at-dawn.svg"),
    ] {
        assert_eq!(fetch(&app, &missing, &[]).await.status, 404, "{missing}");
    }
    // The library's own address for it redirects to its current file.
    let named = fetch(&app, &format!("/media/{id}"), &[]).await;
    assert_eq!(named.status, 302);
    assert!(header(&named, "location").starts_with(&format!("/media/{hash}/")));
}

fn names_of(file: &str) -> String {
    file.rsplit('/').next().unwrap().to_owned()
}

/// A PNG whose header claims `width` × `height` with almost no data: a decompression bomb.
fn bomb(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&width.to_be_bytes());
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &header);
    let mut zipped = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut zipped, &vec![0u8; 1 << 20]).unwrap();
    chunk(&mut out, b"IDAT", &zipped.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

fn stored_files(app: &TestApp) -> Vec<String> {
    let dir = &app.config.media_dir;
    let mut found = Vec::new();
    if let Ok(folders) = std::fs::read_dir(dir) {
        for folder in folders.flatten() {
            for file in std::fs::read_dir(folder.path()).into_iter().flatten().flatten() {
                found.push(file.path().display().to_string());
            }
        }
    }
    found
}

#[tokio::test]
async fn what_is_not_an_image_we_take_is_refused_by_its_bytes_and_nothing_is_kept() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let real = jpeg(&photo(400, 300));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("photo.jpg", b"#!/bin/sh\nrm -rf /\n".to_vec(), "not a JPEG, PNG, WebP or GIF"),
        (
            "page.png",
            b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
            "not a JPEG, PNG, WebP or GIF",
        ),
        (
            "logo.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            "SVG is not accepted",
        ),
        ("cut.jpg", real[..real.len() / 3].to_vec(), "could not be read"),
        ("bomb.png", bomb(100_000, 100_000), "10000 megapixels"),
    ];
    for (name, bytes, message) in cases {
        let page = post_multipart(
            &app,
            &staff,
            "/admin/media",
            &[("alt", "typed")],
            &[("file", name, &bytes)],
        )
        .await;
        assert_eq!(page.status, 422, "{name}:\n{}", page.body);
        assert!(
            text(page.one("#upload-error")).contains(message),
            "{name}: {}",
            text(page.one("#upload-error"))
        );
        assert_eq!(attr(page.one("#alt"), "value"), "typed", "what was typed comes back");
    }
    let none = post_multipart(&app, &staff, "/admin/media", &[], &[]).await;
    assert_eq!(none.status, 422);
    let library = app.staff_get(&staff, "/admin/media").await;
    assert!(library.all(".media-grid li").is_empty(), "nothing stored:\n{}", library.body);
    assert_eq!(stored_files(&app), Vec::<String>::new());

    // Past max_upload_bytes: 413, and nothing kept.
    let small = spawn_with(&[("max_upload_bytes", "20000")]).await;
    let staff = editor(&small).await;
    let big = jpeg(&photo(800, 600));
    assert!(big.len() > 20_000);
    let page =
        post_multipart(&small, &staff, "/admin/media", &[], &[("file", "big.jpg", &big)]).await;
    assert_eq!(page.status, 413, "{}", page.body);
    assert!(page.body.contains("max_upload_bytes"), "{}", page.body);
    assert_eq!(stored_files(&small), Vec::<String>::new());
    // A declared length past the route's limit is refused before it is read.
    let huge = vec![0u8; 20_000 + 3 * 1024 * 1024];
    let page =
        post_multipart(&small, &staff, "/admin/media", &[], &[("file", "huge.jpg", &huge)]).await;
    assert_eq!(page.status, 413);
}

/// Saves an article through the editor's form; returns its public path.
async fn publish(app: &TestApp, staff: &StaffClient, fields: &[(&str, &str)]) -> (i64, String) {
    let id = app.write(staff, fields, "publish").await;
    let article = app.article(id).await.unwrap();
    (id.get(), article.public_path().unwrap())
}

#[tokio::test]
async fn articles_show_library_images_with_their_sizes_caption_and_credit() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let id = upload(
        &app,
        &staff,
        "market.jpg",
        &jpeg(&photo(2000, 1200)),
        "Stalls at the Saturday market",
    )
    .await;
    let item = ready(&app, &staff, id).await;
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/media/{id}/"),
            &[
                ("alt", "Stalls at the Saturday market"),
                ("caption", "The market on its first Saturday."),
                ("credit", "Photo: Ana Lens / Agency"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    drop(item);
    let body = format!(
        "Opening paragraph.\n\n![](/media/{id})\n\nMore text with an inline ![icon](/media/{id}) in it."
    );
    let featured = format!("/media/{id}");
    let (article_id, path) = publish(
        &app,
        &staff,
        &[("headline", "The market opens"), ("body", &body), ("image_url", &featured)],
    )
    .await;
    let page = app.get(&path).await;
    assert_eq!(page.status, 200);
    // In the body: a figure with the library's words, and every size made.
    let figure = page.one(".story-body figure.photo");
    let img = figure.select(&scraper::Selector::parse("img").unwrap()).next().unwrap();
    assert_eq!(attr(img, "alt"), "Stalls at the Saturday market");
    assert_eq!(attr(img, "width"), "2000");
    assert_eq!(attr(img, "height"), "1200");
    assert_eq!(attr(img, "loading"), "lazy");
    assert!(!attr(img, "sizes").is_empty());
    let srcset = attr(img, "srcset");
    for w in [320, 640, 960, 1280, 1920] {
        assert!(srcset.contains(&format!("market-{w}.jpg {w}w")), "{srcset}");
    }
    assert!(!srcset.contains("2560w"), "never wider than the original: {srcset}");
    let source = figure
        .select(&scraper::Selector::parse("source[type='image/webp']").unwrap())
        .next()
        .unwrap();
    assert!(attr(source, "srcset").contains("market-640.webp 640w"));
    let caption =
        text(figure.select(&scraper::Selector::parse("figcaption").unwrap()).next().unwrap());
    assert_eq!(caption, "The market on its first Saturday. Photo: Ana Lens / Agency");
    // Each address in srcset answers with the image.
    for candidate in srcset.split(',') {
        let url = candidate.split_whitespace().next().unwrap();
        assert_eq!(fetch(&app, url, &[]).await.status, 200, "{url}");
    }
    // Inline, an image keeps its text's alt and has no figure of its own.
    assert_eq!(page.all(".story-body figure.photo").len(), 1);
    assert!(page.all(".story-body p img").iter().any(|i| attr(*i, "alt") == "icon"));
    // At the head: the featured image, loaded at once, with its caption and credit.
    let head_img = page.one("figure.featured img");
    assert_ne!(attr(head_img, "loading"), "lazy");
    assert!(attr(head_img, "srcset").contains("1280w"));
    assert!(text(page.one("figure.featured figcaption")).contains("Ana Lens"));
    // Cards and JSON-LD carry it with its size, at an absolute address.
    let og = attr(page.one("meta[property='og:image']"), "content");
    assert!(og.starts_with(&app.config.base_url) && og.contains("/media/"), "{og}");
    assert_eq!(attr(page.one("meta[property='og:image:width']"), "content"), "1280");
    assert_eq!(attr(page.one("meta[property='og:image:height']"), "content"), "768");
    assert_eq!(attr(page.one("meta[name='twitter:card']"), "content"), "summary_large_image");
    assert_eq!(attr(page.one("meta[name='twitter:image']"), "content"), og);
    let json: Value =
        serde_json::from_str(&text(page.one("script[type='application/ld+json']"))).unwrap();
    assert_eq!(json["image"][0]["width"], 1280);
    // So does the Atom feed: an enclosure, and Media RSS for feed readers' thumbnails.
    let feed = app.get("/feed.atom").await.body;
    let enclosure = format!("<link rel=\"enclosure\" href=\"{og}\" type=\"image/jpeg\"/>");
    assert!(feed.contains(&enclosure), "{feed}");
    let media = format!(
        "<media:content url=\"{og}\" medium=\"image\" type=\"image/jpeg\" width=\"1280\" height=\"768\"/>"
    );
    assert!(feed.contains(&media), "{feed}");
    // The front page shows its thumbnail.
    let front = app.get("/").await;
    assert!(front.body.contains("market-320.jpg"), "{}", front.body);

    // Where it is used, and deleting it refused while it is.
    let item = app.staff_get(&staff, &format!("/admin/media/{id}/")).await;
    assert_eq!(text(item.one(".media-uses")), "The market opens");
    let refused = app.staff_post(&staff, &format!("/admin/media/{id}/delete"), &[]).await;
    assert_eq!(refused.status, 409);
    assert!(text(refused.one("#media-error")).contains("The market opens"));

    // An author may not change a photograph that another's article shows: neither its words
    // nor its picture.
    app.add_staff("author@example.com", "Al Author", Role::Author).await;
    let author = app.sign_in("author@example.com").await;
    let words = [("alt", "Something else"), ("caption", ""), ("credit", "")];
    let refused = app.staff_post(&author, &format!("/admin/media/{id}/"), &words).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("The market opens"), "{}", refused.body);
    let swap = [("file", "other.png", &png(&photo(600, 400))[..])];
    let refused =
        post_multipart(&app, &author, &format!("/admin/media/{id}/replace"), &[], &swap).await;
    assert_eq!(refused.status, 403);
    let item = app.staff_get(&staff, &format!("/admin/media/{id}/")).await;
    assert_ne!(attr(item.one("#alt"), "value"), "Something else", "nothing changed");
    // Their own upload, shown by no one else's article, is theirs to describe.
    let own = upload(&app, &author, "own.jpg", &jpeg(&photo(640, 400)), "Mine").await;
    let mine = [("alt", "My own picture"), ("caption", ""), ("credit", "")];
    let saved = app.staff_post(&author, &format!("/admin/media/{own}/"), &mine).await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    // Replacing it keeps the entry, its words and its uses; the article shows the new files.
    let old_hash = og.split('/').nth(4).unwrap().to_owned();
    let replaced = post_multipart(
        &app,
        &staff,
        &format!("/admin/media/{id}/replace"),
        &[],
        &[("file", "market-v2.png", &png(&photo(1000, 500)))],
    )
    .await;
    assert_eq!(replaced.status, 303, "{}", replaced.body);
    ready(&app, &staff, id).await;
    let page = app.get(&path).await;
    let img = page.one(".story-body figure.photo img");
    assert!(!attr(img, "src").contains(&old_hash), "{}", attr(img, "src"));
    assert!(attr(img, "src").ends_with(".png"), "{}", attr(img, "src"));
    assert_eq!(attr(img, "width"), "1000");
    assert!(text(page.one(".story-body figcaption")).contains("Ana Lens"));
    assert_eq!(fetch(&app, &format!("/media/{old_hash}/market.jpg"), &[]).await.status, 404);

    // Taken out of the article, it may go; an author may not delete.
    let body = "No picture now.".to_owned();
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{article_id}/"),
            &[("headline", "The market opens"), ("body", &body), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let forbidden = app.staff_post(&author, &format!("/admin/media/{id}/delete"), &[]).await;
    assert_eq!(forbidden.status, 403);
    let item = app.staff_get(&staff, &format!("/admin/media/{id}/")).await;
    let served: Vec<String> =
        item.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()).collect();
    for f in &served {
        assert_eq!(fetch(&app, f, &[]).await.status, 200, "{f}: served, and now held in memory");
    }
    let deleted = app.staff_post(&staff, &format!("/admin/media/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    assert_eq!(app.staff_get(&staff, &format!("/admin/media/{id}/")).await.status, 404);
    let named = |f: &String| f.rsplit('/').next().unwrap().starts_with("own");
    let left: Vec<String> = stored_files(&app).into_iter().filter(|f| !named(f)).collect();
    assert_eq!(left, Vec::<String>::new(), "its files went with it (the author's own stay)");
    for f in &served {
        assert_eq!(fetch(&app, f, &[]).await.status, 404, "{f} is no longer served");
    }
}

#[tokio::test]
async fn the_editor_uploads_without_javascript_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let picture = jpeg(&photo(700, 400));
    let page = post_multipart(
        &app,
        &staff,
        "/admin/articles/new",
        &[
            ("headline", "Storm <b>damage</b> on the coast"),
            ("body", "First paragraph, typed before the upload."),
            ("tags", "weather, coast"),
            ("photo_alt", "A fallen tree across the road"),
            ("action", "upload"),
        ],
        &[("photo", "tree.jpg", &picture)],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(attr(page.one("#headline"), "value"), "Storm <b>damage</b> on the coast");
    assert_eq!(attr(page.one("#tags"), "value"), "weather, coast");
    let body = text(page.one("#body"));
    assert!(body.starts_with("First paragraph, typed before the upload."), "{body}");
    let markdown = text(page.one(".editor-library code"));
    assert!(markdown.starts_with("![A fallen tree across the road](/media/"), "{markdown}");
    assert!(body.contains(&markdown), "{body}");
    assert!(page.has(".notice"));
    // Nothing was saved: the article list is empty.
    let list = app.staff_get(&staff, "/admin/articles/").await;
    assert!(!list.body.contains("Storm"), "{}", list.body);
    // "Use as featured image" fills in the featured image's address, saving nothing.
    let button = page.one(".editor-library button");
    let feature = attr(button, "value").to_owned();
    let featured = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "Storm"), ("body", &body), ("action", &feature)],
        )
        .await;
    assert_eq!(featured.status, 200);
    assert!(attr(featured.one("#image_url"), "value").starts_with("/media/"));
    // A refused file comes back with the typed text and a message at the field.
    let bad = post_multipart(
        &app,
        &staff,
        "/admin/articles/new",
        &[("headline", "Still here"), ("body", "Kept."), ("action", "upload")],
        &[("photo", "notes.jpg", b"plain text")],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(text(bad.one("#photo-error")).contains("notes.jpg"));
    assert_eq!(attr(bad.one("#headline"), "value"), "Still here");
    assert_eq!(text(bad.one("#body")), "Kept.");
}

#[tokio::test]
async fn publishing_an_image_without_a_description_warns_and_names_it() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let id = upload(&app, &staff, "Quay Side.png", &png(&photo(500, 300)), "").await;
    let body = format!(
        "Text.\n\n![](/media/{id})\n\n![](https://elsewhere.example/pic.jpg)\n\n\
         <p><img src=\"https://elsewhere.example/raw.png\"></p>\n\n\
         <p><img src=\"https://elsewhere.example/described.png\" alt=\"A described one\"></p>"
    );
    let form = [
        ("headline", "Quay works"),
        ("body", body.as_str()),
        ("action", "publish"),
        ("replies_open", "yes"),
    ];
    let warned = app.staff_post(&staff, "/admin/articles/new", &form).await;
    assert_eq!(warned.status, 422, "{}", warned.body);
    let message = text(warned.one("#body-error"));
    assert!(
        message.contains("quay-side.png") && message.contains("elsewhere.example/pic.jpg"),
        "{message}"
    );
    // An image in raw HTML without a description is named too; a described one is not.
    assert!(message.contains("elsewhere.example/raw.png"), "{message}");
    assert!(!message.contains("described.png"), "{message}");
    assert!(warned.has("#without_descriptions"));
    // A draft may keep it; publishing anyway is the journalist's call.
    let saved = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "Quay works"), ("body", &body), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let mut anyway = form.to_vec();
    anyway.push(("without_descriptions", "yes"));
    anyway[0] = ("headline", "Quay works again");
    let published = app.staff_post(&staff, "/admin/articles/new", &anyway).await;
    assert_eq!(published.status, 303, "{}", published.body);
    // Every image leaves with an alt, empty when none was given.
    let article = app.article_by_slug("quay-works-again").await.unwrap();
    let page = app.get(&article.public_path().unwrap()).await;
    assert!(page.all(".story-body img").iter().all(|i| i.value().attr("alt").is_some()));
}

#[tokio::test]
async fn the_library_is_searched_and_filtered_and_its_script_gets_json() {
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let a =
        upload(&app, &staff, "council.jpg", &jpeg(&photo(400, 300)), "The council chamber").await;
    let b = upload(&app, &staff, "river.jpg", &jpeg(&photo(300, 400)), "The river in flood").await;
    // The same picture twice is the same library entry.
    assert_eq!(upload(&app, &staff, "again.jpg", &jpeg(&photo(300, 400)), "").await, b);
    app.write(
        &staff,
        &[("headline", "Council meets"), ("body", &format!("![](/media/{a})"))],
        "save",
    )
    .await;
    let ids = |page: &Page| -> Vec<String> {
        page.all(".media-grid li").iter().map(|li| attr(*li, "data-id").to_owned()).collect()
    };
    let all = app.staff_get(&staff, "/admin/media").await;
    assert_eq!(ids(&all), vec![b.to_string(), a.to_string()], "newest first");
    let found = app.staff_get(&staff, "/admin/media?q=FLOOD").await;
    assert_eq!(ids(&found), vec![b.to_string()]);
    let found = app.staff_get(&staff, "/admin/media?q=council.jpg").await;
    assert_eq!(ids(&found), vec![a.to_string()]);
    let unused = app.staff_get(&staff, "/admin/media?unused=1").await;
    assert_eq!(ids(&unused), vec![b.to_string()]);
    // What the editor's script sends: several files at once, JSON back.
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [
        ("cookie", staff.cookie.as_str()),
        ("content-type", content_type.as_str()),
        ("accept", "application/json"),
    ];
    let body = multipart(
        &[("csrf", &staff.csrf)],
        &[
            ("file", "one.jpg", &jpeg(&photo(350, 200))),
            ("file", "two.png", &png(&photo(200, 350))),
        ],
    );
    let answer = app.post_raw("/admin/media", body, &headers).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let json: Value = serde_json::from_str(&answer.body).unwrap();
    let images = json["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert!(images[0]["markdown"].as_str().unwrap().starts_with("![](/media/"));
    let refused = app
        .post_raw(
            "/admin/media",
            multipart(&[("csrf", &staff.csrf)], &[("file", "x.jpg", b"nope")]),
            &headers,
        )
        .await;
    assert_eq!(refused.status, 422);
    let json: Value = serde_json::from_str(&refused.body).unwrap();
    assert!(json["error"].as_str().unwrap().contains("x.jpg"));
    // Without the session's token, nothing.
    let forged = app
        .post_raw(
            "/admin/media",
            multipart(&[("csrf", "forged")], &[("file", "y.jpg", &jpeg(&photo(64, 64)))]),
            &headers,
        )
        .await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn img_src_self_keeps_readers_browsers_on_this_site() {
    let open = spawn_app().await;
    let page = open.get("/").await;
    assert!(page.header("content-security-policy").contains("img-src 'self' https: data:"));
    let closed = spawn_with(&[("img_src", "self")]).await;
    let page = closed.get("/").await;
    let policy = page.header("content-security-policy");
    assert!(policy.contains("img-src 'self';"), "{policy}");
    let error = byline::config::Config::from_values(
        &[("img_src".to_owned(), "everywhere".to_owned())].into_iter().collect(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("BYLINE_IMG_SRC"), "{error}");

    // A featured image given by address still works, and the editor says where it is from;
    // with `img_src = "self"` it says that readers will not see it.
    for (app, blocked) in [(&open, false), (&closed, true)] {
        let staff = editor(app).await;
        let image = "https://photos.example/quay.jpg";
        let fields = [("headline", "Elsewhere"), ("image_url", image), ("image_alt", "The quay")];
        let id = app.write(&staff, &fields, "save").await;
        let page = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
        let shown = text(page.one(".featured-shown"));
        assert!(shown.contains("An external image, from photos.example"), "{shown}");
        assert_eq!(shown.contains("it will not show"), blocked, "{shown}");
        assert_eq!(attr(page.one(".featured-shown img"), "src"), image);
    }
}

/// The S3-protocol server the test run started (moto's, from `scripts/test`).
fn s3_endpoint() -> String {
    std::env::var("BYLINE_TEST_S3").unwrap_or_else(|_| {
        panic!(
            "BYLINE_TEST_S3 is not set: run scripts/test, which starts an S3 server, or start \
             one (tests/python/.venv/bin/moto_server -p 5900) and set \
             BYLINE_TEST_S3=http://127.0.0.1:5900"
        )
    })
}

/// A new bucket on the test's S3 server, and the settings that reach it.
async fn bucket() -> (String, Vec<(&'static str, String)>) {
    let endpoint = s3_endpoint();
    let name = format!("byline-{}", byline::domain::signing::new_secret()[..12].to_lowercase());
    let made = reqwest::Client::new().put(format!("{endpoint}/{name}")).send().await;
    let made = made.unwrap_or_else(|e| panic!("the S3 server at {endpoint} answers: {e}"));
    assert!(made.status().is_success(), "bucket {name} made: {}", made.status());
    let settings = vec![
        ("aws_endpoint_url", endpoint),
        ("aws_region", "us-east-1".to_owned()),
        ("aws_access_key_id", "byline-test".to_owned()),
        ("aws_secret_access_key", "byline-test-secret".to_owned()),
    ];
    (name, settings)
}

/// The keys under `prefix` in `bucket`, as the S3 server lists them.
async fn bucket_keys(bucket: &str, prefix: &str) -> Vec<String> {
    let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", s3_endpoint());
    let listing = reqwest::get(url).await.unwrap().text().await.unwrap();
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
        .collect()
}

#[tokio::test]
async fn several_nodes_share_one_bucket() {
    if !crate::helpers::first_run() {
        return;
    }
    let database = crate::helpers::fresh_postgres_url().await;
    let (name, aws) = bucket().await;
    let store = format!("s3://{name}/site-one");
    let mut settings: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings.push(("media_store", &store));
    settings.push(("moderation", "none"));
    let a = crate::helpers::spawn_on_database(&database, &settings).await;
    let b = crate::helpers::spawn_on_database(&database, &settings).await;
    let staff = editor(&a).await;

    // Uploaded on A; its variants made by whichever node's outbox took the event.
    let original = jpeg(&photo(1700, 1000));
    let id = upload(&a, &staff, "Ferry.jpg", &original, "The ferry leaving the pier").await;
    let page = ready(&b, &staff, id).await;
    let files: Vec<String> =
        page.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()).collect();
    assert_eq!(files.len(), 2 * 4 + 1, "320 to 1280 in two formats, and the original");
    let keys = bucket_keys(&name, "site-one/").await;
    for file in &files {
        let key = format!("site-one/{}", file.trim_start_matches("/media/"));
        assert!(keys.contains(&key), "{key} is in the bucket: {keys:?}");
        // Either node serves every file, from the bucket.
        for node in [&a, &b] {
            let got = fetch(node, file, &[]).await;
            assert_eq!(got.status, 200, "{file}");
            assert_eq!(header(&got, "content-length"), got.bytes.len().to_string());
            assert_eq!(header(&got, "cache-control"), "public, max-age=31536000, immutable");
        }
    }
    assert!(stored_files(&a).is_empty() && stored_files(&b).is_empty(), "no node keeps a copy");
    let served_by_b =
        fetch(&b, files.iter().find(|f| f.ends_with("ferry.jpg")).unwrap(), &[]).await;
    let kept = image::load_from_memory(&served_by_b.bytes).unwrap();
    assert_eq!((kept.width(), kept.height()), (1700, 1000));

    // An article written on A shows it on B; replaced on B, A's article shows the new files.
    let body = format!("Crossing.\n\n![](/media/{id})\n");
    let (_, path) = publish(&a, &staff, &[("headline", "The last ferry"), ("body", &body)]).await;
    let shown = b.get(&path).await;
    let src = attr(shown.one("figure.photo img"), "src").to_owned();
    assert!(files.contains(&src), "{src} is one of the image's files");
    let replaced = post_multipart(
        &b,
        &staff,
        &format!("/admin/media/{id}/replace"),
        &[],
        &[("file", "ferry-2.jpg", &jpeg(&photo(900, 600)))],
    )
    .await;
    assert_eq!(replaced.status, 303, "{}", replaced.body);
    ready(&a, &staff, id).await;
    let now_shown = a.get(&path).await;
    let new_src = attr(now_shown.one("figure.photo img"), "src").to_owned();
    assert_ne!(new_src, src, "a replacement has new addresses");
    assert_eq!(fetch(&a, &new_src, &[]).await.status, 200);
    assert_eq!(fetch(&b, &src, &[]).await.status, 404, "the old files are gone from the bucket");

    // With the bucket readable by anyone and its public address set, files are sent there,
    // and img-src allows it.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*",
            "Action":"s3:GetObject","Resource":"arn:aws:s3:::{name}/*"}}]}}"#
    );
    let client = reqwest::Client::new();
    let opened = client.put(format!("{}/{name}?policy", s3_endpoint())).body(policy).send().await;
    assert!(opened.unwrap().status().is_success(), "the bucket is made public");
    let public = format!("{}/{name}/site-one", s3_endpoint());
    let mut redirecting = settings.clone();
    redirecting.extend([("media_public_url", public.as_str()), ("img_src", "self")]);
    let c = crate::helpers::spawn_on_database(&database, &redirecting).await;
    let sent = fetch(&c, &new_src, &[]).await;
    assert_eq!(sent.status, 302);
    let location = header(&sent, "location").to_owned();
    assert_eq!(location, format!("{public}/{}", new_src.trim_start_matches("/media/")));
    let from_bucket = reqwest::get(&location).await.unwrap();
    assert_eq!(from_bucket.status(), 200);
    assert_eq!(from_bucket.headers()["content-type"], "image/jpeg", "the bucket knows the type");
    let policy = c.get(&path).await.header("content-security-policy").to_owned();
    let origin = s3_endpoint();
    assert!(policy.contains(&format!("img-src 'self' {origin};")), "{policy}");
}

#[tokio::test]
async fn a_bucket_that_cannot_be_reached_stops_the_start_naming_the_setting() {
    let (_, aws) = bucket().await;
    let mut values: std::collections::BTreeMap<String, String> =
        aws.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    values.insert("media_store".into(), "s3://no-such-bucket-here/x".into());
    values.insert("listen".into(), "127.0.0.1:0".into());
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("byline.db");
    values.insert("database".into(), database.display().to_string());
    let config = byline::config::Config::from_values(&values).unwrap();
    let store = byline::store::Store::open(&config.database, crate::helpers::now()).await.unwrap();
    let options = byline::app::Options::default();
    let error = byline::app::Application::with_store(store, config, options).await.err();
    let error = error.expect("refused").to_string();
    assert!(error.contains("`media_store` (BYLINE_MEDIA_STORE)"), "{error}");
    assert!(error.contains("s3://no-such-bucket-here/x"), "{error}");
    for bad in ["no-scheme", "s3://UPPER_case", "https://bucket"] {
        let values = [("media_store".to_owned(), bad.to_owned())].into_iter().collect();
        let error = byline::config::Config::from_values(&values).unwrap_err().to_string();
        assert!(error.contains("BYLINE_MEDIA_STORE"), "{bad}: {error}");
    }
    let values = [("media_public_url".to_owned(), "https://cdn.example".to_owned())];
    let error = byline::config::Config::from_values(&values.into_iter().collect()).unwrap_err();
    assert!(error.to_string().contains("BYLINE_MEDIA_PUBLIC_URL"), "{error}");
}

/// `byline backup` puts the library's files beside the database's copy; `byline copy` brings
/// them to the new site's folder or bucket, where its pages find them.
#[tokio::test]
async fn backup_and_copy_take_the_library_files_along() {
    use crate::helpers::{Backend, fresh_postgres_url, spawn_on, spawn_on_database};
    if !crate::helpers::first_run() {
        return; // The source is SQLite whatever the run's backend.
    }
    let source = spawn_on(Backend::Sqlite, &[("moderation", "none")]).await;
    let staff = editor(&source).await;
    let id = upload(&source, &staff, "Quay.jpg", &jpeg(&photo(1400, 900)), "The quay").await;
    let page = ready(&source, &staff, id).await;
    let files: Vec<String> =
        page.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()).collect();
    assert!(files.len() > 1, "{files:?}");
    let body = format!("Harbour news.\n\n![](/media/{id})\n");
    let (_, path) = publish(&source, &staff, &[("headline", "Quay works"), ("body", &body)]).await;
    let database = format!("sqlite://{}", source.db_path.display());

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.db");
    let output = crate::cli::byline()
        .args(["--database", &database, "backup", file.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("Copied {} media files", files.len())), "{stdout}");
    for f in &files {
        let kept =
            std::fs::read(dir.path().join("site.db.media").join(f.trim_start_matches("/media/")));
        let served = fetch(&source, f, &[]).await.bytes;
        assert_eq!(kept.unwrap_or_default(), served, "{f} is in the backup, byte for byte");
    }

    // Copied to PostgreSQL, the files to a folder of the new site's.
    let target = fresh_postgres_url().await;
    let media = dir.path().join("new-media");
    let output = crate::cli::byline()
        .args(["copy", "--from", &database, "--to", &target, "--to-media"])
        .arg(&media)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(&format!("media: {} files", files.len())), "{stdout}");
    let copy = spawn_on_database(&target, &[("media_dir", media.to_str().unwrap())]).await;
    let shown = copy.get(&path).await;
    assert_eq!(shown.status, 200);
    for f in &files {
        let (a, b) = (fetch(&source, f, &[]).await, fetch(&copy, f, &[]).await);
        assert_eq!((b.status, &b.bytes), (200, &a.bytes), "{f} is served by the copy");
    }

    // And to a bucket, reached with the usual AWS_* variables.
    let (bucket, aws) = bucket().await;
    let target = fresh_postgres_url().await;
    let place = format!("s3://{bucket}/copied");
    let mut command = crate::cli::byline();
    command.args(["copy", "--from", &database, "--to", &target, "--to-media", &place]);
    for (name, value) in &aws {
        command.env(name.to_uppercase(), value);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut settings: Vec<(&str, &str)> = aws.iter().map(|(k, v)| (*k, v.as_str())).collect();
    settings.push(("media_store", &place));
    let copy = spawn_on_database(&target, &settings).await;
    for f in &files {
        let (a, b) = (fetch(&source, f, &[]).await, fetch(&copy, f, &[]).await);
        assert_eq!((b.status, &b.bytes), (200, &a.bytes), "{f} is served from the bucket");
    }
}

/// `byline media add` keeps images from the command line, every size made before it returns,
/// and refuses what is not an image we take, saying so.
#[tokio::test]
async fn media_add_on_the_command_line_makes_every_size() {
    let dir = tempfile::tempdir().unwrap();
    let (photo_file, text_file) = (dir.path().join("Pier.jpg"), dir.path().join("notes.jpg"));
    std::fs::write(&photo_file, jpeg(&photo(1000, 700))).unwrap();
    std::fs::write(&text_file, b"<script>alert(1)</script>").unwrap();
    let database = dir.path().join("site.db");
    let output = crate::cli::byline()
        .arg("--database")
        .arg(&database)
        .args(["media", "add", "--alt", "The pier at low tide", "--credit", "Photo: Sam Ray"])
        .arg(&photo_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // 320, 640 and 960 wide in JPEG and WebP, and the original.
    assert!(stdout.contains("(1000×700, 7 files): ![The pier at low tide](/media/1)"), "{stdout}");
    let mut kept: Vec<String> = std::fs::read_dir(dir.path().join("media"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 7, "{kept:?}");
    assert!(kept.contains(&"pier.jpg".to_owned()) && kept.contains(&"pier-960.webp".to_owned()));
    let refused = crate::cli::byline()
        .arg("--database")
        .arg(&database)
        .args(["media", "add"])
        .arg(&text_file)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("notes.jpg") && stderr.contains("not a JPEG, PNG, WebP or GIF"),
        "{stderr}"
    );
}

/// `byline import wordpress FILE --uploads DIR`: the export's attachments, found in a copy of
/// `wp-content/uploads`, join the library with the export's alt text, their metadata gone, and
/// the posts show them from the library; a second run adds nothing.
#[tokio::test]
async fn a_wordpress_import_brings_its_uploads_into_the_library() {
    use crate::imports::{expected, fixture, run};
    let facts = expected();
    for key in [
        "wordpress-importer/wxr-flat-attachment-same-site.xml",
        "wordpress-importer/wxr-flat-attachment-different-site.xml",
    ] {
        let attachments = facts[key]["items"]["attachment/inherit"].as_u64().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let uploads = dir.path().join("uploads");
        std::fs::create_dir_all(uploads.join("2008/06")).unwrap();
        let source = tagged_jpeg(dir.path());
        std::fs::write(uploads.join("2008/06/canola2.jpg"), &source).unwrap();
        let database = dir.path().join("site.db");
        let import = || {
            let mut command = crate::cli::byline();
            command.arg("--database").arg(&database).args(["import", "wordpress", "--json"]);
            command.arg(fixture(key)).arg("--uploads").arg(&uploads);
            command
        };
        let output = run(import()).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{key}: {}", String::from_utf8_lossy(&output.stderr));
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(summary["imported"]["media"]["added to the library"], attachments, "{stdout}");

        let app = crate::helpers::spawn_on_database(
            database.to_str().unwrap(),
            &[("moderation", "none")],
        )
        .await;
        let staff = editor(&app).await;
        let item = ready(&app, &staff, 1).await;
        assert_eq!(attr(item.one("#alt"), "value"), "canola", "{key}: the export's alt text");
        assert!(text(item.one(".media-uses")).contains("Post with Attachment"), "{key}");
        // Every stored file without the source's GPS position.
        for file in item.all(".media-files a") {
            let href = attr(file, "href");
            let path = dir.path().join(href.rsplit('/').next().unwrap());
            std::fs::write(&path, fetch(&app, href, &[]).await.bytes).unwrap();
            let tags = metadata(&path);
            assert!(!tags.keys().any(|k| k.contains("GPS")), "{href}: {tags:?}");
        }
        // The post shows it from the library, with its sizes, keeping its tag's own words.
        let (_, path) = app
            .db(|db| db.published_articles(0, 1, None))
            .await
            .first()
            .map(|s| {
                (
                    s.id,
                    byline::domain::paths::article_path(s.date_path.as_deref().unwrap(), &s.slug),
                )
            })
            .unwrap();
        let page = app.get(&path).await;
        let img = page.one(".story-body img");
        assert!(attr(img, "src").starts_with("/media/"), "{key}: {}", page.body);
        assert!(attr(img, "srcset").contains("/media/"), "{key}: sizes offered");
        assert_eq!((attr(img, "alt"), attr(img, "width")), ("canola", "100"));
        assert!(!page.body.contains("wordpress.com/2008"), "{key}: no old address left");
        // Deleting it is refused while the post shows it.
        let refused = app.staff_post(&staff, "/admin/media/1/delete", &[]).await;
        assert_eq!(refused.status, 409, "{key}");

        drop(app);
        let again = run(import()).await;
        let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(summary["already_there"]["media"]["in the library"], attachments, "{summary}");
    }
}

/// A post's featured image (`_thumbnail_id`) comes from the library too.
#[tokio::test]
async fn an_imported_posts_featured_image_comes_from_the_library() {
    let original = crate::imports::fixture("wordpress-importer/wxr-flat-attachment-same-site.xml");
    let wxr = std::fs::read_to_string(original).unwrap().replace(
        "<wp:post_type>post</wp:post_type>",
        "<wp:post_type>post</wp:post_type>\n<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>\
         <wp:meta_value><![CDATA[611]]></wp:meta_value></wp:postmeta>",
    );
    let dir = tempfile::tempdir().unwrap();
    let (file, uploads) = (dir.path().join("featured.xml"), dir.path().join("uploads"));
    std::fs::write(&file, wxr).unwrap();
    std::fs::create_dir_all(uploads.join("2008/06")).unwrap();
    std::fs::write(uploads.join("2008/06/canola2.jpg"), jpeg(&photo(1600, 1000))).unwrap();
    let database = dir.path().join("site.db");
    let mut command = crate::cli::byline();
    command.arg("--database").arg(&database).args(["import", "wordpress"]).arg(&file);
    command.arg("--uploads").arg(&uploads);
    let output = crate::imports::run(command).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let app = crate::helpers::spawn_on_database(database.to_str().unwrap(), &[]).await;
    let staff = editor(&app).await;
    ready(&app, &staff, 1).await;
    let front = app.get("/").await;
    let path = attr(front.one("main h2 a, main h3 a"), "href").to_owned();
    let page = app.get(&path).await;
    let featured = page.one("figure.featured img");
    assert!(attr(featured, "src").starts_with("/media/"), "{}", page.body);
    assert!(attr(featured, "srcset").contains("1280w"), "every size offered");
}

/// A two-frame animated GIF, `width` × `height`.
fn animated_gif(width: u32, height: u32) -> Vec<u8> {
    use image::codecs::gif::{GifEncoder, Repeat};
    use image::{Delay, Frame, Rgba, RgbaImage};
    let mut bytes = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut bytes);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        for shade in [40u8, 200] {
            let picture = RgbaImage::from_pixel(width, height, Rgba([shade, 90, 160, 255]));
            let delay = Delay::from_numer_denom_ms(250, 1);
            encoder.encode_frame(Frame::from_parts(picture, 0, 0, delay)).unwrap();
        }
    }
    bytes
}

#[tokio::test]
async fn an_animated_gif_keeps_its_frames_and_a_webp_gets_webp_sizes() {
    use image::AnimationDecoder;
    let app = spawn_app().await;
    let staff = editor(&app).await;
    let names = |page: &Page| -> Vec<String> {
        let mut found: Vec<String> = page
            .all(".media-files a")
            .iter()
            .map(|a| attr(*a, "href").rsplit('/').next().unwrap().to_owned())
            .collect();
        found.sort();
        found
    };

    let gif = upload(&app, &staff, "wave.gif", &animated_gif(400, 240), "A wave, twice").await;
    let page = ready(&app, &staff, gif).await;
    assert!(names(&page).contains(&"wave.gif".to_owned()), "{:?}", names(&page));
    for file in page.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()) {
        let got = fetch(&app, &file, &[]).await;
        assert_eq!(got.status, 200, "{file}");
        if file.ends_with(".gif") {
            assert_eq!(header(&got, "content-type"), "image/gif");
            let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(got.bytes))
                .expect("a GIF");
            let frames = decoder.into_frames().collect_frames().unwrap();
            assert_eq!(frames.len(), 2, "{file} keeps its animation");
            assert_eq!(frames[0].buffer().dimensions(), (400, 240), "{file} at its own size");
        }
    }

    let picture = photo(700, 420);
    let webp = webp::Encoder::from_rgb(picture.as_raw(), 700, 420).encode(85.0).to_vec();
    let id = upload(&app, &staff, "pier.webp", &webp, "The pier at noon").await;
    let page = ready(&app, &staff, id).await;
    assert_eq!(names(&page), ["pier-320.webp", "pier-640.webp", "pier.webp"]);
    for file in page.all(".media-files a").iter().map(|a| attr(*a, "href").to_owned()) {
        let got = fetch(&app, &file, &[]).await;
        assert_eq!((got.status, header(&got, "content-type")), (200, "image/webp"), "{file}");
        assert!(image::load_from_memory(&got.bytes).is_ok(), "{file} decodes");
    }
}
