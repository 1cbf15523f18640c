//! OCR with Debian's tesseract 5 through its C API: text in pictures and in video frames (a
//! frame every N seconds), with tesseract's mean word confidence. Languages by tesseract code
//! (`spa+eng`); the trained data comes from the `tesseract-ocr-{eng,spa}` packages.

use std::ffi::{CStr, CString};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use ffmpeg_next::format::Pixel;
use ffmpeg_next::util::frame::video::Video as VideoFrame;

use crate::error::OperatorError;
use crate::probe::ProbeLimits;
use crate::thumbnail::{Source, decode_picture, orient};

/// Text tesseract found, with its mean word confidence (0–100).
#[derive(Clone, Debug, PartialEq)]
pub struct OcrText {
    pub text: String,
    pub confidence: i32,
}

/// Text found in a video frame at `at_ms`.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameText {
    pub at_ms: u64,
    pub text: String,
    pub confidence: i32,
}

/// One tesseract engine. Not shareable between threads (tesseract's own rule); cheap enough to
/// make one per job.
pub struct Ocr {
    api: *mut tesseract_sys::TessBaseAPI,
}

// The engine is used by one thread at a time (it is not `Sync`); moving it is fine.
unsafe impl Send for Ocr {}

/// Pictures whose long side is shorter than this are enlarged 2× first: tesseract reads text
/// best at cap heights of 20+ pixels.
const UPSCALE_BELOW: u32 = 1600;

impl Ocr {
    /// An engine for `languages` (tesseract codes joined by `+`).
    pub fn new(languages: &str) -> Result<Ocr, OperatorError> {
        let bad = |reason: String| OperatorError::Ocr { reason };
        let langs = CString::new(languages)
            .map_err(|_| bad(format!("invalid language list {languages:?}")))?;
        let api = unsafe { tesseract_sys::TessBaseAPICreate() };
        if api.is_null() {
            return Err(bad("tesseract could not be created".into()));
        }
        let ocr = Ocr { api };
        let rc =
            unsafe { tesseract_sys::TessBaseAPIInit3(ocr.api, std::ptr::null(), langs.as_ptr()) };
        if rc != 0 {
            return Err(bad(format!(
                "tesseract has no trained data for {languages:?} (install tesseract-ocr-eng/-spa)"
            )));
        }
        Ok(ocr)
    }

    /// The tesseract library's version (`5.3.0`), recorded with its results.
    pub fn version() -> String {
        let v = unsafe { tesseract_sys::TessVersion() };
        if v.is_null() {
            "unknown".into()
        } else {
            unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned()
        }
    }

    /// Reads the text of a decoded picture, turned upright by `orientation` (EXIF 1–8).
    pub fn read_frame(
        &mut self,
        frame: &VideoFrame,
        orientation: u16,
        cancel: &AtomicBool,
    ) -> Result<OcrText, OperatorError> {
        let rgb = prepare(frame, orientation)
            .map_err(|e| OperatorError::Ocr { reason: format!("converting the picture: {e}") })?;
        self.read(&rgb, cancel)
    }

    /// Reads the text of an RGB24 picture. Tesseract asks `cancel` after every word, so a
    /// cancelled job stops within one word even on a busy machine (a frame can take seconds).
    pub fn read(
        &mut self,
        rgb: &VideoFrame,
        cancel: &AtomicBool,
    ) -> Result<OcrText, OperatorError> {
        let bad = |reason: String| OperatorError::Ocr { reason };
        if rgb.format() != Pixel::RGB24 || rgb.width() == 0 || rgb.height() == 0 {
            return Err(bad("OCR takes a non-empty RGB24 picture".into()));
        }
        let (w, h, stride) = (rgb.width() as i32, rgb.height() as i32, rgb.stride(0) as i32);
        let data = rgb.data(0);
        let monitor = Monitor::new(cancel)
            .ok_or_else(|| bad("tesseract could not make a progress monitor".into()))?;
        unsafe {
            tesseract_sys::TessBaseAPISetImage(self.api, data.as_ptr(), w, h, 3, stride);
            tesseract_sys::TessBaseAPISetSourceResolution(self.api, 300);
            if tesseract_sys::TessBaseAPIRecognize(self.api, monitor.0) != 0 {
                tesseract_sys::TessBaseAPIClear(self.api);
                if cancel.load(Ordering::Relaxed) {
                    return Err(OperatorError::Cancelled);
                }
                return Err(bad("tesseract could not recognise the picture".into()));
            }
            let raw = tesseract_sys::TessBaseAPIGetUTF8Text(self.api);
            let text = if raw.is_null() {
                String::new()
            } else {
                CStr::from_ptr(raw).to_string_lossy().into_owned()
            };
            if !raw.is_null() {
                tesseract_sys::TessDeleteText(raw);
            }
            let confidence = tesseract_sys::TessBaseAPIMeanTextConf(self.api);
            tesseract_sys::TessBaseAPIClear(self.api);
            Ok(OcrText { text: tidy(&text), confidence })
        }
    }
}

impl Drop for Ocr {
    fn drop(&mut self) {
        unsafe {
            tesseract_sys::TessBaseAPIEnd(self.api);
            tesseract_sys::TessBaseAPIDelete(self.api);
        }
    }
}

/// Tesseract's progress monitor, asking a cancel flag (which outlives it: it borrows it).
struct Monitor<'a>(*mut tesseract_sys::ETEXT_DESC, std::marker::PhantomData<&'a AtomicBool>);

unsafe extern "C" fn cancel_requested(
    flag: *mut std::os::raw::c_void,
    _words: std::os::raw::c_int,
) -> bool {
    // SAFETY: `flag` is the `&AtomicBool` the monitor borrows for its whole life.
    unsafe { (*(flag as *const AtomicBool)).load(Ordering::Relaxed) }
}

impl<'a> Monitor<'a> {
    fn new(cancel: &'a AtomicBool) -> Option<Monitor<'a>> {
        let m = unsafe { tesseract_sys::TessMonitorCreate() };
        if m.is_null() {
            return None;
        }
        unsafe {
            tesseract_sys::TessMonitorSetCancelFunc(m, Some(cancel_requested));
            tesseract_sys::TessMonitorSetCancelThis(
                m,
                cancel as *const AtomicBool as *mut std::os::raw::c_void,
            );
        }
        Some(Monitor(m, std::marker::PhantomData))
    }
}

impl Drop for Monitor<'_> {
    fn drop(&mut self) {
        unsafe { tesseract_sys::TessMonitorDelete(self.0) }
    }
}

/// Lines trimmed, blank lines dropped.
fn tidy(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// `frame` as RGB24, enlarged 2× when small, turned upright by `orientation` (EXIF 1–8).
fn prepare(frame: &VideoFrame, orientation: u16) -> Result<VideoFrame, ffmpeg_next::Error> {
    let factor = if frame.width().max(frame.height()) < UPSCALE_BELOW { 2 } else { 1 };
    let rgb = crate::transcode::scale_picture(
        frame,
        frame.width() * factor,
        frame.height() * factor,
        Pixel::RGB24,
    )?;
    Ok(orient(&rgb, orientation))
}

/// The text of an image, upright by its EXIF orientation.
pub fn ocr_image(
    path: &Path,
    orientation: Option<u16>,
    limits: ProbeLimits,
    ocr: &mut Ocr,
    cancel: &AtomicBool,
) -> Result<OcrText, OperatorError> {
    let (frame, _) = decode_picture(path, Source::Image { orientation }, limits)?;
    let rgb = prepare(&frame, orientation.unwrap_or(1))
        .map_err(|e| OperatorError::Decode { path: path.to_path_buf(), reason: e.to_string() })?;
    ocr.read(&rgb, cancel)
}

/// The text of a video, read from the frames `sampling` picks (frames with no text left out).
/// Stops with `Cancelled` when `cancel` is raised.
pub fn ocr_video(
    path: &Path,
    sampling: crate::frames::Sampling,
    ocr: &mut Ocr,
    cancel: &AtomicBool,
) -> Result<Vec<FrameText>, OperatorError> {
    let mut found = Vec::new();
    crate::frames::sample_video(path, sampling, cancel, |at_ms, frame, orientation| {
        let read = ocr.read_frame(frame, orientation, cancel)?;
        if !read.text.is_empty() {
            found.push(FrameText { at_ms, text: read.text, confidence: read.confidence });
        }
        Ok(())
    })?;
    Ok(found)
}
