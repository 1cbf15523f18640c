//! OCR with tesseract over real pictures: Spanish text in a photo-like image (rotated by EXIF),
//! a caption burned into a video ("PLAZA DE MAYO 2024" from second 2), a picture with no text.

use std::sync::atomic::AtomicBool;

use acervo_operators::frames::Sampling;
use acervo_operators::ocr::{Ocr, ocr_image, ocr_video};
use acervo_operators::{OperatorError, ProbeLimits};
use acervo_tests::*;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// Lower case, accents folded, punctuation to spaces: how a search analyzer would see it.
fn normalise(s: &str) -> String {
    let folded: String = s
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn tesseract_reads_spanish_text_in_images_and_captions_in_video_frames() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let mut ocr = Ocr::new("spa+eng").unwrap();

    // An image with two lines of Spanish, stored sideways (EXIF orientation 6).
    let upright = dir.join("cartel.png");
    let text = format!(
        "color=white:size=1400x400,drawtext=fontfile={FONT}:text='Manifestación en la plaza':fontsize=64:x=60:y=90:fontcolor=black,drawtext=fontfile={FONT}:text='Año 2024, Córdoba':fontsize=64:x=60:y=220:fontcolor=black"
    );
    ffmpeg(&["-f", "lavfi", "-i", &text, "-frames:v", "1", upright.to_str().unwrap()]).unwrap();
    let sideways = dir.join("cartel.jpg");
    // Stored turned 90° counter-clockwise; orientation 6 says "turn clockwise to view".
    ffmpeg(&[
        "-i",
        upright.to_str().unwrap(),
        "-vf",
        "transpose=cclock",
        "-q:v",
        "2",
        sideways.to_str().unwrap(),
    ])
    .unwrap();
    tag_exif(&sideways, "Canon", "R6", "2024:05:01 10:00:00", 6).unwrap();
    let read =
        ocr_image(&sideways, Some(6), ProbeLimits::default(), &mut ocr, &AtomicBool::new(false))
            .unwrap();
    let seen = normalise(&read.text);
    for word in ["manifestacion", "en", "la", "plaza", "ano", "2024", "cordoba"] {
        assert!(
            seen.split(' ').any(|w| w == word),
            "{word:?} not in {seen:?} (raw {:?})",
            read.text
        );
    }
    assert!(read.confidence >= 70, "confidence {}", read.confidence);

    // A video with a caption from second 2 on, read every second.
    let video = dir.join("plaza.mp4");
    let filter = format!(
        "color=0x203050:size=1280x720:rate=25:duration=5,drawtext=fontfile={FONT}:text='PLAZA DE MAYO 2024':fontsize=72:x=(w-tw)/2:y=h-160:fontcolor=white:enable='gte(t,2)'"
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &filter,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ])
    .unwrap();
    let frames =
        ocr_video(&video, Sampling::every(1.0), &mut ocr, &AtomicBool::new(false)).unwrap();
    assert!(!frames.is_empty(), "no text found in the video");
    let first = &frames[0];
    assert!(
        (2000..=3000).contains(&first.at_ms),
        "the caption appears at 2 s, first read at {} ms",
        first.at_ms
    );
    for f in &frames {
        assert_eq!(normalise(&f.text), "plaza de mayo 2024", "at {} ms: {:?}", f.at_ms, f.text);
    }
    assert_eq!(frames.len(), 3, "frames at 2, 3 and 4 s: {frames:?}");

    // A picture with no text: nothing, not noise.
    let blank = dir.join("blank.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=gray:size=640x480",
        "-frames:v",
        "1",
        blank.to_str().unwrap(),
    ])
    .unwrap();
    let none =
        ocr_image(&blank, None, ProbeLimits::default(), &mut ocr, &AtomicBool::new(false)).unwrap();
    assert_eq!(none.text, "", "{none:?}");

    // A cancelled job stops inside tesseract (which asks after every word), and the engine
    // reads the next picture as before.
    let stopped =
        ocr_image(&sideways, Some(6), ProbeLimits::default(), &mut ocr, &AtomicBool::new(true));
    assert!(matches!(stopped, Err(OperatorError::Cancelled)), "{stopped:?}");
    let again =
        ocr_image(&sideways, Some(6), ProbeLimits::default(), &mut ocr, &AtomicBool::new(false))
            .unwrap();
    assert_eq!(normalise(&again.text), seen);
}

/// Video frames are read at scene changes as well as on the clock: three shots cut at 3.32 s
/// and 5.12 s, each with its own caption, are all read though the clock reads every 10 s; with
/// scene changes off, only the first shot is.
#[test]
fn tesseract_reads_every_shot_of_a_video_at_its_cut() {
    let work = tempfile::tempdir().unwrap();
    let video = work.path().join("shots.mp4");
    let shot = |colour: &str, seconds: f64, word: &str, label: &str| {
        format!(
            "color=c={colour}:s=1280x720:r=25:d={seconds},drawtext=fontfile={FONT}:text='{word}':fontsize=96:x=(w-tw)/2:y=(h-th)/2:fontcolor=white[{label}]"
        )
    };
    let graph = format!(
        "{};{};{};[a][b][c]concat=n=3:v=1:a=0[out0]",
        shot("0x203050", 3.32, "PRIMERA", "a"),
        shot("0x805020", 1.8, "SEGUNDA", "b"),
        shot("0x206030", 3.88, "TERCERA", "c")
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &graph,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ])
    .unwrap();
    let mut ocr = Ocr::new("spa+eng").unwrap();
    let no = AtomicBool::new(false);
    let frames =
        ocr_video(&video, Sampling { every_seconds: 10.0, scene_change: 0.1 }, &mut ocr, &no)
            .unwrap();
    let read: Vec<(u64, String)> = frames.iter().map(|f| (f.at_ms, normalise(&f.text))).collect();
    assert_eq!(
        read.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        ["primera", "segunda", "tercera"],
        "{read:?}"
    );
    for ((at, _), cut) in read.iter().zip([0, 3320, 5120]) {
        assert!(at.abs_diff(cut) <= 40, "read at {at} ms, the shot starts at {cut} ms: {read:?}");
    }
    let clock_only = ocr_video(&video, Sampling::every(10.0), &mut ocr, &no).unwrap();
    assert_eq!(
        clock_only.iter().map(|f| normalise(&f.text)).collect::<Vec<_>>(),
        ["primera"],
        "{clock_only:?}"
    );
}
