//! Text analysis for Spanish and English: words are lower-cased, accent-folded and stemmed per
//! language, so "camión", "camion" and "camiones" meet on one term. Each document is indexed in
//! the fields of its language (detected from its own text); queries search both languages.

use std::collections::HashMap;

use frostem::Algorithm;
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer, TokenizerManager,
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

    /// The same analysis, counting each word of a [`weighted`] value `weight` times: the
    /// indexing analyzer of the asset text fields (BM25F).
    pub fn weighted_analyzer(self) -> &'static str {
        match self {
            Lang::Es => "acervo_es_weighted",
            Lang::En => "acervo_en_weighted",
        }
    }
}

/// Tokens longer than this are dropped (base64 blobs, hashes pasted into descriptions).
const MAX_TOKEN_LEN: usize = 40;

/// Words split, over-long ones dropped, lower-cased, accents folded: the start of every analyzer.
fn folded() -> tantivy::tokenizer::TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_LEN))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
}

fn analyzer(lang: Option<Algorithm>) -> TextAnalyzer {
    match lang {
        Some(l) => folded().filter(MemoStemmer(l)).build(),
        None => folded().build(),
    }
}

fn weighted_analyzer(lang: Algorithm) -> TextAnalyzer {
    folded().filter(MemoStemmer(lang)).filter(RepeatByWeight).build()
}

/// Registers the analyzers on an index's tokenizer manager.
pub fn register(manager: &TokenizerManager) {
    manager.register(Lang::Es.analyzer(), analyzer(Some(Algorithm::Spanish)));
    manager.register(Lang::En.analyzer(), analyzer(Some(Algorithm::English)));
    manager.register(Lang::Es.weighted_analyzer(), weighted_analyzer(Algorithm::Spanish));
    manager.register(Lang::En.weighted_analyzer(), weighted_analyzer(Algorithm::English));
    manager.register(FOLD, analyzer(None));
}

/// Words an analyzer remembers the stems of before it starts over.
const STEM_MEMO: usize = 50_000;

/// Snowball stemming (the algorithms tantivy's `Stemmer` runs) that remembers the stems of the
/// words it has seen: text is Zipfian, so most words repeat, and stemming was an eighth of
/// indexing. Each analyzer instance (tantivy keeps one per field of a segment being written)
/// has its own memo; a clone starts empty.
struct MemoStemmer(Algorithm);

impl TokenFilter for MemoStemmer {
    type Tokenizer<T: Tokenizer> = MemoStemTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> MemoStemTokenizer<T> {
        MemoStemTokenizer { algorithm: self.0, inner: tokenizer, memo: HashMap::new() }
    }
}

struct MemoStemTokenizer<T> {
    algorithm: Algorithm,
    inner: T,
    memo: HashMap<String, String>,
}

impl<T: Clone> Clone for MemoStemTokenizer<T> {
    fn clone(&self) -> Self {
        MemoStemTokenizer {
            algorithm: self.algorithm,
            inner: self.inner.clone(),
            memo: HashMap::new(),
        }
    }
}

impl<T: Tokenizer> Tokenizer for MemoStemTokenizer<T> {
    type TokenStream<'a> = MemoStemStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        MemoStemStream {
            tail: self.inner.token_stream(text),
            stemmer: frostem::Stemmer::new(self.algorithm),
            memo: &mut self.memo,
        }
    }
}

struct MemoStemStream<'a, S> {
    tail: S,
    stemmer: frostem::Stemmer,
    memo: &'a mut HashMap<String, String>,
}

impl<S: TokenStream> TokenStream for MemoStemStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.memo.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if self.memo.len() >= STEM_MEMO {
            self.memo.clear();
        }
        self.memo.insert(std::mem::replace(&mut token.text, stem.clone()), stem);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Starts a weighted value: the marker, then the weight as one digit.
const WEIGHT_MARK: char = '\u{1f}';

/// `text` as a value of a weighted field whose words count `weight` times (1–9) in the term
/// frequencies and the length BM25 sees. Weighting in the analyzer, rather than handing
/// tantivy repeated pre-made tokens, indexes a million assets several times faster: tantivy
/// serialises pre-tokenised values through JSON on their way to its indexing threads.
pub fn weighted(text: &str, weight: u32) -> String {
    let digit = char::from_digit(weight.clamp(1, 9), 10).unwrap_or('1');
    let mut out = String::with_capacity(text.len() + 2);
    out.push(WEIGHT_MARK);
    out.push(digit);
    out.push_str(text);
    out
}

/// The weight and text of a value; a value without the marker weighs 1.
fn split_weight(text: &str) -> (u32, &str) {
    let mut chars = text.chars();
    if chars.next() == Some(WEIGHT_MARK)
        && let Some(w) = chars.next().and_then(|c| c.to_digit(10)).filter(|w| *w >= 1)
    {
        return (w, chars.as_str());
    }
    (1, text)
}

/// The last filter of a weighted analyzer: reads the value's weight and yields each token of
/// the analysed text that many times at its position (so phrases still match).
#[derive(Clone)]
struct RepeatByWeight;

impl TokenFilter for RepeatByWeight {
    type Tokenizer<T: Tokenizer> = WeightedTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WeightedTokenizer<T> {
        WeightedTokenizer(tokenizer)
    }
}

#[derive(Clone)]
struct WeightedTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for WeightedTokenizer<T> {
    type TokenStream<'a> = Repeated<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        let (weight, text) = split_weight(text);
        Repeated { inner: self.0.token_stream(text), weight, left: 0 }
    }
}

struct Repeated<S> {
    inner: S,
    weight: u32,
    left: u32,
}

impl<S: TokenStream> TokenStream for Repeated<S> {
    fn advance(&mut self) -> bool {
        if self.left > 0 {
            self.left -= 1;
            return true;
        }
        if self.inner.advance() {
            self.left = self.weight - 1;
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
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

/// Bytes of a document's text language detection reads: a few sentences tell Spanish from
/// English reliably, and detection time grows with the sample (it was a tenth of indexing).
pub const DETECT_SAMPLE: usize = 600;

/// The language of a document: Spanish or English when the text says so reliably, else
/// `default`. Titles alone are often too short to tell; descriptions and transcripts help.
pub fn detect(text: &str, default: Lang) -> Lang {
    let mut end = text.len().min(DETECT_SAMPLE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let detector = Detector::with_allowlist(vec![WLang::Spa, WLang::Eng]);
    match detector.detect(&text[..end]) {
        Some(info) if info.is_reliable() => match info.lang() {
            WLang::Eng => Lang::En,
            _ => Lang::Es,
        },
        _ => default,
    }
}
