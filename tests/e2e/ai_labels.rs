//! Image labels with torchvision's MobileNetV2 (legacy .pth from PyPI, read without torch) in
//! candle, over real photos: scikit-image's chelsea (a cat), coffee and motorcycle_left from Debian's
//! python3-skimage. Odd inputs (a 1×1 picture, a broken checkpoint) give results or errors,
//! never a crash.

use std::path::{Path, PathBuf};

use acervo_catalog::AcervoConfig;
use acervo_operators::ProbeLimits;
use acervo_operators::vision::{Labeller, prepare_image};
use acervo_tests::*;

pub const SKIMAGE: &str = "/usr/lib/python3/dist-packages/skimage/data";

pub fn photo(name: &str) -> PathBuf {
    Path::new(SKIMAGE).join(name)
}

fn labeller() -> Labeller {
    let ai = AcervoConfig::defaults().ai;
    Labeller::load(&ai.label_model_file().unwrap(), &ai.label_model)
        .unwrap_or_else(|e| panic!("{e} (run scripts/install-models.sh)"))
}

#[test]
fn mobilenet_puts_the_right_imagenet_class_in_the_top_five_of_real_photos() {
    let model = labeller();
    // ImageNet classes that name what is in each photo.
    let cases: [(&str, &[&str]); 3] = [
        ("chelsea.png", &["tabby", "tiger cat", "Egyptian cat"]),
        ("coffee.png", &["espresso", "cup", "coffee mug"]),
        ("motorcycle_left.png", &["moped", "motor scooter"]),
    ];
    let pictures: Vec<Vec<u8>> = cases
        .iter()
        .map(|(f, _)| prepare_image(&photo(f), None, ProbeLimits::default()).unwrap())
        .collect();
    let ranked = model.classify(&pictures, 5).unwrap();
    for ((file, expected), top) in cases.iter().zip(&ranked) {
        let names: Vec<&str> = top.iter().map(|(c, _)| model.class_name(*c)).collect();
        assert!(
            names.iter().any(|n| expected.contains(n)),
            "{file}: top 5 {names:?}, expected one of {expected:?}"
        );
        assert!(top.windows(2).all(|w| w[0].1 >= w[1].1), "{file}: not best first: {top:?}");
        let total: f32 = top.iter().map(|(_, p)| p).sum();
        assert!(total > 0.0 && total <= 1.0001, "{file}: probabilities {top:?}");
    }
    // A batch gives what each picture gives alone.
    let alone = model.classify(&pictures[..1], 5).unwrap();
    assert_eq!(
        alone[0].iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        ranked[0].iter().map(|(c, _)| *c).collect::<Vec<_>>()
    );
    assert!((alone[0][0].1 - ranked[0][0].1).abs() < 1e-4);
    // Readable labels: the cat's classes and the plain word "cat" for them.
    let labels = model.labels(&ranked[..1], 0.05);
    assert!(labels.iter().any(|l| l.name == "cat"), "{labels:?}");

    // A photo stored sideways with EXIF orientation 6 is turned upright first: same top class.
    let dir = tempfile::tempdir().unwrap();
    let sideways = dir.path().join("chelsea-sideways.jpg");
    ffmpeg(&[
        "-i",
        photo("chelsea.png").to_str().unwrap(),
        "-vf",
        "transpose=cclock",
        "-q:v",
        "2",
        sideways.to_str().unwrap(),
    ])
    .unwrap();
    tag_exif(&sideways, "Canon", "R6", "2024:05:01 10:00:00", 6).unwrap();
    let upright = model
        .classify(&[prepare_image(&sideways, Some(6), ProbeLimits::default()).unwrap()], 5)
        .unwrap();
    assert_eq!(model.class_name(upright[0][0].0), model.class_name(ranked[0][0].0), "{upright:?}");

    // A 1×1 picture is classified (as something), not refused or crashed on.
    let dot = dir.path().join("dot.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=red:size=2x2,format=rgb24,scale=1:1",
        "-frames:v",
        "1",
        dot.to_str().unwrap(),
    ])
    .unwrap();
    let p = prepare_image(&dot, None, ProbeLimits::default()).unwrap();
    assert_eq!(model.classify(&[p], 5).unwrap()[0].len(), 5);
}

#[test]
fn a_broken_checkpoint_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ai = AcervoConfig::defaults().ai;
    let good = std::fs::read(ai.label_model_file().unwrap()).unwrap();
    for (name, bytes) in [
        ("truncated.pth", good[..good.len() / 2].to_vec()),
        ("text.pth", b"not a checkpoint".to_vec()),
        ("empty.pth", Vec::new()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = match Labeller::load(&path, "mobilenet_v2") {
            Ok(_) => panic!("{name} loaded"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(name), "{name}: {err}");
    }
}

/// Inference batched across assets: while the model works on one asset's frames, two other
/// assets' photos wait and then share one call; each asset gets its own photo's labels back,
/// the same as alone.
#[test]
fn pictures_of_different_assets_share_a_model_call_and_each_gets_its_own_labels() {
    use acervo_dataflows::batcher::Batcher;
    use std::sync::Arc;

    let model = Arc::new(labeller());
    let sizes = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("sizes", "batch sizes").buckets(vec![1.0, 2.0, 3.0, 8.0]),
    )
    .unwrap();
    let m = Arc::clone(&model);
    let batcher = Batcher::spawn("labels", 8, Some(sizes.clone()), move |p: &[Vec<u8>]| {
        m.classify(p, 5).map_err(|e| e.to_string())
    })
    .unwrap();
    let prepared = |name: &str| prepare_image(&photo(name), None, ProbeLimits::default()).unwrap();
    let top = |ranked: &[Vec<(usize, f32)>]| model.class_name(ranked[0][0].0).to_string();

    let photos = [prepared("chelsea.png"), prepared("motorcycle_left.png")];
    // A video's eight frames keep the model busy…
    let frames = vec![prepared("coffee.png"); 8];
    let busy = {
        let b = batcher.clone();
        std::thread::spawn(move || b.run(frames).unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(60));
    // …while two photos of two other assets arrive.
    let asks: Vec<_> = photos
        .into_iter()
        .map(|p| {
            let b = batcher.clone();
            std::thread::spawn(move || b.run(vec![p]).unwrap())
        })
        .collect();
    let answers: Vec<Vec<Vec<(usize, f32)>>> =
        asks.into_iter().map(|h| h.join().unwrap()).collect();
    let frames = busy.join().unwrap();
    assert_eq!(frames.len(), 8);
    assert_eq!(top(&frames), top(&model.classify(&[prepared("coffee.png")], 5).unwrap()));
    for (name, answer) in ["chelsea.png", "motorcycle_left.png"].iter().zip(&answers) {
        assert_eq!(answer.len(), 1, "{name}");
        assert_eq!(top(answer), top(&model.classify(&[prepared(name)], 5).unwrap()), "{name}");
    }
    // Two model calls: the eight frames, then both photos together.
    assert_eq!(sizes.get_sample_count(), 2, "calls");
    assert_eq!(sizes.get_sample_sum(), 10.0, "pictures");
    // Nothing is lost when the model fails: the error reaches the caller.
    assert!(
        batcher.run(vec![vec![1, 2, 3]]).unwrap_err().to_string().contains("RGB"),
        "a malformed input is an error"
    );
}
