//! `cargo bench --bench images`: one photograph through the whole pipeline a newsroom's upload
//! takes (checked, decoded, turned upright, its metadata dropped, the thumbnail, then every
//! variant in JPEG and WebP), timed, with the process's peak memory while it ran. A 12 MP
//! camera JPEG and a 50 MP one (the `max_upload_pixels` default). Run as a test
//! (`cargo test --bench images`) it does the same with one small photo.
//!
//! `BENCH_IMAGE_OUT=FILE` also writes the 12 MP JPEG there (`bench/run` serves its variants).

use std::time::Instant;

use byline::clock::Clock;
use byline::config::{Config, DatabaseUrl};
use byline::services::Services;
use byline::services::media::{MediaText, Upload, files_of};
use byline::store::Store;
use image::{ImageEncoder, RgbImage};

/// A photograph-like picture: smooth light with grain, as a camera makes (grain is what makes
/// a JPEG large and its encoding slow).
fn photo(width: u32, height: u32) -> RgbImage {
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

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = photo(width, height);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(&picture, width, height, image::ExtendedColorType::Rgb8)
        .expect("an encoded JPEG");
    out
}

/// A line of `/proc/self/status`, in MB.
fn status_mb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    kb / 1024
}

/// Starts counting the peak (VmHWM) again from what the process holds now.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[(u32, u32, &str)] =
        if full { &[(4000, 3000, "12 MP"), (8160, 6120, "50 MP")] } else { &[(1200, 800, "1 MP")] };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let database = DatabaseUrl::Sqlite(dir.path().join("images.db"));
    let store = runtime.block_on(Store::open(&database, Clock::system().now())).unwrap();
    let mut config = Config { database, media_dir: dir.path().join("media"), ..Config::default() };
    config.max_upload_bytes = 200_000_000;
    let services = runtime.block_on(Services::new(store, Clock::system(), config)).unwrap();
    for (i, &(width, height, label)) in sizes.iter().enumerate() {
        let bytes = jpeg(width, height);
        if let (0, Ok(out)) = (i, std::env::var("BENCH_IMAGE_OUT")) {
            std::fs::write(&out, &bytes).expect("the image written out");
        }
        let kb = bytes.len() / 1024;
        let text = MediaText { alt: format!("A {label} photograph"), ..MediaText::default() };
        let upload = Upload { file_name: format!("photo-{i}.jpg"), bytes };
        reset_peak();
        let before = status_mb("VmRSS:");
        let started = Instant::now();
        let item = runtime.block_on(services.upload_image(None, upload, &text)).expect("kept");
        let thumbnail = started.elapsed();
        runtime.block_on(services.make_variants(item.id)).expect("variants made");
        let all = started.elapsed();
        let peak = status_mb("VmHWM:");
        let item = runtime.block_on(services.media_item(item.id)).unwrap().expect("in the library");
        println!(
            "{label} JPEG ({width}×{height}, {kb} KB): {} files in {:.2} s (the upload's own \
             part, with the thumbnail: {:.2} s); peak RSS {peak} MB, {before} MB before",
            files_of(&item).len(),
            all.as_secs_f64(),
            thumbnail.as_secs_f64(),
        );
    }
}
