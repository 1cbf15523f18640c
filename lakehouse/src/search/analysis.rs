//! Text analysis for Spanish and English: words are lower-cased, accent-folded and stemmed per
//! language, so "camión", "camion" and "camiones" meet on one term. Each document is indexed in
//! the fields of its language (detected from its own text); queries search both languages.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, TokenStream,
    TokenizerManager,
};
use whatlang::{Detector, Lang as WLang};

/// The languages the index analyses; everything else is treated as the default one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    Es,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Es, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Es => "es",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "es" => Some(Lang::Es),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The analyzer name registered for this language.
    pub fn analyzer(self) -> &'static str {
        match self {
            Lang::Es => "acervo_es",
            Lang::En => "acervo_en",
        }
    }
}

/// Tokens longer than this are dropped (base64 blobs, hashes pasted into descriptions).
const MAX_TOKEN_LEN: usize = 40;

fn analyzer(lang: Option<Language>) -> TextAnalyzer {
    let base = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match lang {
        Some(l) => base.filter(Stemmer::new(l)).build(),
        None => base.build(),
    }
}

/// Registers the analyzers on an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(Lang::Es.analyzer(), analyzer(Some(Language::Spanish)));
    manager.register(Lang::En.analyzer(), analyzer(Some(Language::English)));
    manager.register(FOLD, analyzer(None));
}

/// Lower-case and accent folding without stemming: prefixes typed so far are matched with it.
pub const FOLD: &str = "acervo_fold";

/// The terms `text` yields under a registered analyzer.
pub fn terms(manager: &TokenizerManager, analyzer_name: &str, text: &str) -> Vec<String> {
    let Some(mut a) = manager.get(analyzer_name) else { return Vec::new() };
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The terms of `text` under `lang`'s analysis (what the index stores for it).
pub fn analyze(lang: Lang, text: &str) -> Vec<String> {
    let manager = TokenizerManager::default();
    register(&manager);
    terms(&manager, lang.analyzer(), text)
}

/// The language of a document: Spanish or English when the text says so reliably, else
/// `default`. Titles alone are often too short to tell; descriptions and transcripts help.
pub fn detect(text: &str, default: Lang) -> Lang {
    let sample: String = text.chars().take(2000).collect();
    let detector = Detector::with_allowlist(vec![WLang::Spa, WLang::Eng]);
    match detector.detect(&sample) {
        Some(info) if info.is_reliable() => match info.lang() {
            WLang::Eng => Lang::En,
            _ => Lang::Es,
        },
        _ => default,
    }
}
