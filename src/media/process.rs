//! What is done to an uploaded image: its size read from its header (before anything is
//! decoded), decoded within a memory budget, turned upright as its EXIF says, and written
//! again from its pixels alone, so that no metadata (GPS position, camera serial, owner,
//! thumbnails, XMP, IPTC) reaches any stored file. Only the colour profile is carried over.
//! Synchronous and CPU-bound: callers run it on a blocking thread.

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{AnimationDecoder, DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder};
use sha2::{Digest, Sha256};

use crate::domain::media::{HASH_DIGITS, ImageFormat, UNSUPPORTED};

/// JPEG quality of the variants, and of the kept original (higher: it is the source of any
/// later variant).
const VARIANT_JPEG_QUALITY: u8 = 82;
const ORIGINAL_JPEG_QUALITY: u8 = 92;
/// libwebp's lossy quality (0–100).
const VARIANT_WEBP_QUALITY: f32 = 80.0;
const ORIGINAL_WEBP_QUALITY: f32 = 90.0;

/// Why an upload was refused, in words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{UNSUPPORTED}")]
    NotAnImage,
    #[error(
        "This image is {width} × {height} pixels ({megapixels} megapixels); the most accepted is {max} megapixels."
    )]
    TooManyPixels { width: u32, height: u32, megapixels: u64, max: u64 },
    #[error("This {format} file could not be read: it may be cut short or damaged ({reason}).")]
    Broken { format: &'static str, reason: String },
    #[error("This file is larger than the {0} bytes an image may be (max_upload_bytes).")]
    TooLarge(usize),
}

fn broken(format: ImageFormat, error: impl std::fmt::Display) -> Refusal {
    Refusal::Broken { format: format_name(format), reason: error.to_string() }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Webp => "WebP",
        ImageFormat::Gif => "GIF",
    }
}

fn image_crate_format(format: ImageFormat) -> image::ImageFormat {
    match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
    }
}

/// An upload made fit to keep: the original written again without its metadata, and its
/// pixels (upright) for the variants.
pub struct Prepared {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// The file kept as the original: what was uploaded, decoded and encoded again.
    pub original: Vec<u8>,
    /// The first [`HASH_DIGITS`] hex digits of the SHA-256 of `original`.
    pub hash: String,
    pub pixels: Pixels,
}

/// What variants are made from.
pub struct Pixels {
    image: DynamicImage,
    icc: Option<Vec<u8>>,
    /// A GIF's frames, until the original is written from them.
    frames: Option<Vec<image::Frame>>,
}

/// The format and size an upload's header declares, read without decoding it.
pub fn inspect(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), Refusal> {
    let format = ImageFormat::sniff(bytes).ok_or(Refusal::NotAnImage)?;
    let reader = image::ImageReader::with_format(Cursor::new(bytes), image_crate_format(format));
    let (width, height) = reader.into_dimensions().map_err(|e| broken(format, e))?;
    Ok((format, width, height))
}

/// Checks, decodes and strips an upload: its pixels, and the original written again from them.
pub fn prepare(bytes: &[u8], max_pixels: u64) -> Result<Prepared, Refusal> {
    let (format, mut pixels) = decode(bytes, max_pixels)?;
    let original = match pixels.frames.take() {
        Some(frames) => encode_animation(frames).map_err(|e| broken(format, e))?,
        None => encode(&pixels, format, true).map_err(|e| broken(format, e))?,
    };
    let hash = hash_of(&original);
    let (width, height) = (pixels.image.width(), pixels.image.height());
    Ok(Prepared { format, width, height, original, hash, pixels })
}

/// Decodes an upload (or a kept original) upright. `max_pixels` is checked from the header
/// before any pixel is decoded, and the decoder may allocate no more than the image needs,
/// so that a small file claiming a huge image (a decompression bomb) costs nothing.
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<(ImageFormat, Pixels), Refusal> {
    let (format, width, height) = inspect(bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels || width == 0 || height == 0 {
        return Err(Refusal::TooManyPixels {
            width,
            height,
            megapixels: pixels.div_ceil(1_000_000),
            max: max_pixels / 1_000_000,
        });
    }
    // The JPEG decoder fills in a file cut short with grey rather than failing.
    if format == ImageFormat::Jpeg && !jpeg_is_whole(bytes) {
        return Err(broken(format, "it ends before the picture does"));
    }
    let budget = pixels * 8 + (16 << 20);
    if format == ImageFormat::Gif {
        return Ok((format, decode_gif(bytes, width, height, budget)?));
    }
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(budget);
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    let mut decoder =
        image::ImageReader::with_format(Cursor::new(bytes), image_crate_format(format))
            .into_decoder()
            .map_err(|e| broken(format, e))?;
    decoder.set_limits(limits).map_err(|e| broken(format, e))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| broken(format, e))?;
    image.apply_orientation(orientation);
    Ok((format, Pixels { image: plain_colour(image), icc, frames: None }))
}

/// Eight bits a channel, RGB or RGBA: what every encoder here takes.
fn plain_colour(image: DynamicImage) -> DynamicImage {
    if image.color().has_alpha() {
        match image {
            DynamicImage::ImageRgba8(_) => image,
            other => DynamicImage::ImageRgba8(other.to_rgba8()),
        }
    } else {
        match image {
            DynamicImage::ImageRgb8(_) => image,
            other => DynamicImage::ImageRgb8(other.to_rgb8()),
        }
    }
}

/// A GIF keeps its frames and their timing; everything else in the file (comments,
/// application extensions such as XMP) is left behind.
fn decode_gif(bytes: &[u8], width: u32, height: u32, budget: u64) -> Result<Pixels, Refusal> {
    let format = ImageFormat::Gif;
    let decoder = GifDecoder::new(Cursor::new(bytes)).map_err(|e| broken(format, e))?;
    let frame_bytes = u64::from(width) * u64::from(height) * 4;
    let mut frames = Vec::new();
    let mut used = 0u64;
    for frame in decoder.into_frames() {
        let frame = frame.map_err(|e| broken(format, e))?;
        used += frame_bytes;
        if used > budget * 2 {
            return Err(broken(format, "too many frames"));
        }
        frames.push(frame);
    }
    let Some(first) = frames.first() else {
        return Err(broken(format, "no frames"));
    };
    let image = DynamicImage::ImageRgba8(first.buffer().clone());
    Ok(Pixels { image, icc: None, frames: Some(frames) })
}

fn encode_animation(frames: Vec<image::Frame>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
        encoder.set_repeat(Repeat::Infinite).map_err(|e| e.to_string())?;
        encoder.encode_frames(frames).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Whether a JPEG's last scan is followed by its end marker. Inside a scan's data a 0xFF byte
/// is always followed by 0x00 or a restart marker, so the markers found are real; a thumbnail
/// in the EXIF block has its own, before the picture's scans.
fn jpeg_is_whole(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == marker);
    matches!((last(0xDA), last(0xD9)), (Some(scan), Some(end)) if end > scan)
}

fn hash_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..HASH_DIGITS].to_owned()
}

impl Pixels {
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    /// The image scaled to `width` (its height in proportion) with a Lanczos filter.
    pub fn scaled(&self, width: u32) -> Result<Pixels, String> {
        use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
        let height = {
            let h = u64::from(self.image.height()) * u64::from(width) / u64::from(self.width());
            h.max(1) as u32
        };
        let mut target = DynamicImage::new(width, height, self.image.color());
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        Resizer::new().resize(&self.image, &mut target, &options).map_err(|e| e.to_string())?;
        Ok(Pixels { image: target, icc: self.icc.clone(), frames: None })
    }
}

/// Encodes pixels in `format`; `original` picks the kept original's higher quality.
pub fn encode(pixels: &Pixels, format: ImageFormat, original: bool) -> Result<Vec<u8>, String> {
    let image = &pixels.image;
    let (width, height) = (image.width(), image.height());
    let mut out = Vec::new();
    match format {
        ImageFormat::Jpeg => {
            let quality = if original { ORIGINAL_JPEG_QUALITY } else { VARIANT_JPEG_QUALITY };
            let rgb = image.to_rgb8();
            let mut encoder = JpegEncoder::new_with_quality(&mut out, quality);
            if let Some(icc) = &pixels.icc {
                let _ = encoder.set_icc_profile(icc.clone());
            }
            encoder
                .write_image(&rgb, width, height, ExtendedColorType::Rgb8)
                .map_err(|e| e.to_string())?;
        }
        ImageFormat::Png => {
            let mut encoder = PngEncoder::new_with_quality(
                &mut out,
                CompressionType::Default,
                FilterType::Adaptive,
            );
            if let Some(icc) = &pixels.icc {
                let _ = encoder.set_icc_profile(icc.clone());
            }
            let colour = if image.color().has_alpha() {
                ExtendedColorType::Rgba8
            } else {
                ExtendedColorType::Rgb8
            };
            encoder
                .write_image(image.as_bytes(), width, height, colour)
                .map_err(|e| e.to_string())?;
        }
        ImageFormat::Webp => {
            let quality = if original { ORIGINAL_WEBP_QUALITY } else { VARIANT_WEBP_QUALITY };
            let encoded = if image.color().has_alpha() {
                webp::Encoder::from_rgba(image.as_bytes(), width, height).encode(quality)
            } else {
                webp::Encoder::from_rgb(image.as_bytes(), width, height).encode(quality)
            };
            out.extend_from_slice(&encoded);
        }
        ImageFormat::Gif => {
            let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
            encoder.encode_frame(image::Frame::new(image.to_rgba8())).map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::{GifDecoder, GifEncoder};
    use image::{AnimationDecoder, Delay, Frame, RgbaImage};

    #[test]
    fn a_gif_keeps_its_frames_and_their_timing() {
        let mut gif = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut gif);
            for shade in [0u8, 120, 240] {
                let picture = RgbaImage::from_pixel(40, 30, image::Rgba([shade, 60, 200, 255]));
                let delay = Delay::from_numer_denom_ms(150, 1);
                encoder.encode_frame(Frame::from_parts(picture, 0, 0, delay)).unwrap();
            }
        }
        let prepared = prepare(&gif, 1_000_000).unwrap();
        assert_eq!((prepared.format, prepared.width, prepared.height), (ImageFormat::Gif, 40, 30));
        let frames = GifDecoder::new(Cursor::new(&prepared.original)).unwrap().into_frames();
        let frames: Vec<Frame> = frames.collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 3, "every frame kept");
        assert_eq!(frames[1].delay().numer_denom_ms(), (150, 1), "and its timing");
        assert_eq!(frames[2].buffer().get_pixel(5, 5).0[0], 240);
    }
}
