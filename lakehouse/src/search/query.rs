//! Turns a search request into tantivy queries: the query text (words, "quoted phrases",
//! `-excluded` words, `prefix*` words, and the last word as a prefix while typing) across the
//! boosted fields of both languages, and the filters as a non-scoring query.

use std::ops::Bound;

use acervo_catalog::{AssetStatus, ReadScope};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery,
    RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenizerManager;

use super::analysis::{FOLD, Lang, terms};
use super::request::SearchFilter;
use super::schema::AssetFields;

#[derive(Clone, Debug, PartialEq)]
enum ClauseKind {
    Word,
    Phrase,
    Prefix,
}

#[derive(Clone, Debug, PartialEq)]
struct Clause {
    kind: ClauseKind,
    negated: bool,
    text: String,
}

/// Groups of alternatives: every group must match, any clause of a group will do
/// (`a OR b c` is (a or b) and c).
fn parse(q: &str, last_is_prefix: bool) -> Vec<Vec<Clause>> {
    let mut groups: Vec<Vec<Clause>> = Vec::new();
    let mut join_next = false;
    for clause in parse_clauses(q, last_is_prefix) {
        if clause.kind == ClauseKind::Word && !clause.negated && clause.text == "OR" {
            join_next = !groups.is_empty();
            continue;
        }
        match groups.last_mut() {
            Some(g) if join_next && !clause.negated => g.push(clause),
            _ => groups.push(vec![clause]),
        }
        join_next = false;
    }
    groups
}

/// Splits query text into clauses. Unbalanced quotes close at the end of the text.
fn parse_clauses(q: &str, last_is_prefix: bool) -> Vec<Clause> {
    let mut out = Vec::new();
    let mut chars = q.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut negated = false;
        if c == '-' {
            negated = true;
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let text: String = chars.by_ref().take_while(|c| *c != '"').collect();
            out.push(Clause { kind: ClauseKind::Phrase, negated, text });
            continue;
        }
        let mut text = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            text.push(c);
            chars.next();
        }
        let kind = if text.ends_with('*') {
            text.pop();
            ClauseKind::Prefix
        } else {
            ClauseKind::Word
        };
        out.push(Clause { kind, negated, text });
    }
    if last_is_prefix
        && let Some(last) = out.iter_mut().rev().find(|c| !c.negated)
        && last.kind == ClauseKind::Word
        && last.text != "OR"
    {
        last.kind = ClauseKind::Prefix;
    }
    out
}

fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !c.is_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The scoring queries for `q`, one per language, each over that language's text field;
/// `None` when `q` has nothing to search. A document is indexed in the field of its own
/// language only, so the per-language results are disjoint and their union is the answer:
/// run one after the other into the same top-k. Words become a plain intersection of term
/// queries, which tantivy scores with block-max pruning.
pub fn text_queries(
    fields: &[(Lang, Field)],
    tokenizers: &TokenizerManager,
    q: &str,
    last_is_prefix: bool,
) -> Option<Vec<(Lang, Box<dyn Query>)>> {
    let groups = parse(q, last_is_prefix);
    let out: Vec<(Lang, Box<dyn Query>)> = fields
        .iter()
        .filter_map(|(lang, field)| {
            lang_query(*lang, *field, tokenizers, &groups).map(|q| (*lang, q))
        })
        .collect();
    (!out.is_empty()).then_some(out)
}

fn lang_query(
    lang: Lang,
    field: Field,
    tokenizers: &TokenizerManager,
    groups: &[Vec<Clause>],
) -> Option<Box<dyn Query>> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut positive = 0;
    for group in groups {
        let negated = group.iter().any(|c| c.negated);
        let mut alternatives: Vec<Box<dyn Query>> =
            group.iter().filter_map(|c| clause_query(lang, field, tokenizers, c)).collect();
        let q: Box<dyn Query> = match alternatives.len() {
            0 => continue, // punctuation only
            1 => alternatives.pop()?,
            _ => Box::new(BooleanQuery::new(
                alternatives.into_iter().map(|q| (Occur::Should, q)).collect(),
            )),
        };
        if negated {
            must.push((Occur::MustNot, q));
        } else {
            positive += 1;
            must.push((Occur::Must, q));
        }
    }
    if positive == 0 {
        return None;
    }
    if must.len() == 1 {
        return must.pop().map(|(_, q)| q);
    }
    Some(Box::new(BooleanQuery::new(must)))
}

/// One clause over one language's field.
fn clause_query(
    lang: Lang,
    field: Field,
    tokenizers: &TokenizerManager,
    clause: &Clause,
) -> Option<Box<dyn Query>> {
    let field_terms = terms(tokenizers, lang.analyzer(), &clause.text);
    match clause.kind {
        ClauseKind::Prefix => {
            // Only a one-word prefix is a prefix; "e-ma*" splits, keep it a phrase.
            let folded = terms(tokenizers, FOLD, &clause.text);
            if folded.len() > 1 {
                return phrase(field, &field_terms);
            }
            // The folded prefix, and its stem (a typed "camione" still reaches "camion").
            let mut prefixes = folded;
            prefixes.extend(field_terms.iter().cloned());
            prefixes.sort();
            prefixes.dedup();
            let alts: Vec<(Occur, Box<dyn Query>)> = prefixes
                .iter()
                .filter_map(|p| {
                    RegexQuery::from_pattern(&format!("{}.*", escape_regex(p)), field).ok()
                })
                .map(|r| (Occur::Should, Box::new(r) as Box<dyn Query>))
                .collect();
            (!alts.is_empty()).then(|| Box::new(BooleanQuery::new(alts)) as Box<dyn Query>)
        }
        ClauseKind::Word | ClauseKind::Phrase => phrase(field, &field_terms),
    }
}

fn phrase(field: Field, terms: &[String]) -> Option<Box<dyn Query>> {
    match terms {
        [] => None,
        [one] => Some(Box::new(TermQuery::new(
            Term::from_field_text(field, one),
            IndexRecordOption::WithFreqs,
        ))),
        many => Some(Box::new(PhraseQuery::new(
            many.iter().map(|t| Term::from_field_text(field, t)).collect(),
        ))),
    }
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

/// The filter and the principal's read scope as one query that adds nothing to scores.
pub fn filter_query(fields: &AssetFields, f: &SearchFilter, scope: &ReadScope) -> Box<dyn Query> {
    explicit_filter_query(fields, f, scope, true).unwrap_or_else(|| Box::new(AllQuery))
}

/// Like `filter_query`; without `exclude_deleted` the implicit "not deleted" is left to the
/// caller (a post-filter keeps the text query prunable). `None`: nothing to filter.
pub fn explicit_filter_query(
    fields: &AssetFields,
    f: &SearchFilter,
    scope: &ReadScope,
    exclude_deleted: bool,
) -> Option<Box<dyn Query>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
    match f.status {
        Some(s) => clauses.push((Occur::Must, term(fields.status, s.as_str()))),
        None if exclude_deleted => {
            clauses.push((Occur::MustNot, term(fields.status, AssetStatus::Deleted.as_str())))
        }
        None => {}
    }
    if let Some(k) = f.kind {
        clauses.push((Occur::Must, term(fields.kind, k.as_str())));
    }
    if let Some(p) = &f.project {
        clauses.push((Occur::Must, term(fields.project, p)));
    }
    if let Some(s) = f.editorial_status {
        clauses.push((Occur::Must, term(fields.editorial_status, s.as_str())));
    }
    if let Some(c) = &f.collection {
        clauses.push((Occur::Must, term(fields.collection, c)));
    }
    for t in &f.tags {
        clauses.push((Occur::Must, term(fields.tag, t)));
    }
    for l in &f.labels {
        clauses.push((Occur::Must, term(fields.label, l)));
    }
    for (field, value) in [
        (fields.category, &f.category),
        (fields.source, &f.source),
        (fields.licence, &f.licence),
        (fields.language, &f.language),
        (fields.story, &f.story),
        (fields.person, &f.person),
    ] {
        if let Some(v) = value {
            clauses.push((Occur::Must, term(field, v)));
        }
    }
    for (field, from, to) in [
        (fields.created_ms, f.created_from, f.created_to),
        (fields.taken_ms, f.taken_from, f.taken_to),
        (fields.embargo_ms, f.embargo_from, f.embargo_to),
        (fields.rights_ms, f.rights_expire_from, f.rights_expire_to),
    ] {
        if let Some(range) = time_range(field, from, to) {
            clauses.push((Occur::Must, range));
        }
    }
    if f.duration_min_ms.is_some() || f.duration_max_ms.is_some() {
        let at = |v: u64| Term::from_field_u64(fields.duration_ms, v);
        let lo = f.duration_min_ms.map_or(Bound::Unbounded, |v| Bound::Included(at(v)));
        let hi = f.duration_max_ms.map_or(Bound::Unbounded, |v| Bound::Included(at(v)));
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
    }
    if scope.is_nothing() {
        return Some(Box::new(EmptyQuery));
    }
    if !scope.is_everything() {
        clauses.extend(scope_clauses(fields, scope));
    }
    if clauses.len() == 1 {
        return None; // only the AllQuery: every document passes
    }
    Some(Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(clauses)), 0.0)))
}

/// Any of `values` in `field`.
fn any_of<'a>(field: Field, values: impl IntoIterator<Item = &'a str>) -> Box<dyn Query> {
    let any: Vec<(Occur, Box<dyn Query>)> =
        values.into_iter().map(|v| (Occur::Should, term(field, v))).collect();
    Box::new(BooleanQuery::new(any))
}

/// The read scope as clauses of the filter: one of its grants, and none of the hidden
/// collections. The one rendering of `ReadScope` over the search index.
fn scope_clauses(fields: &AssetFields, scope: &ReadScope) -> Vec<(Occur, Box<dyn Query>)> {
    let mut out = Vec::new();
    let grants: Vec<Box<dyn Query>> = scope
        .clauses()
        .iter()
        .map(|c| {
            let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            if let Some(ps) = &c.projects {
                parts.push((Occur::Must, any_of(fields.project, ps.iter().map(String::as_str))));
            }
            if let Some(ss) = &c.statuses {
                parts.push((
                    Occur::Must,
                    any_of(fields.editorial_status, ss.iter().map(|s| s.as_str())),
                ));
            }
            match parts.len() {
                0 => Box::new(AllQuery) as Box<dyn Query>,
                1 => parts.pop().map(|p| p.1).unwrap_or_else(|| Box::new(AllQuery)),
                _ => Box::new(BooleanQuery::new(parts)),
            }
        })
        .collect();
    match grants.len() {
        1 => out.extend(grants.into_iter().map(|g| (Occur::Must, g))),
        _ => out.push((
            Occur::Must,
            Box::new(BooleanQuery::new(grants.into_iter().map(|g| (Occur::Should, g)).collect())),
        )),
    }
    for c in &scope.hidden_collections {
        out.push((Occur::MustNot, term(fields.collection, c)));
    }
    out
}

/// Times in [from, to) in a millisecond field; `None` when neither bound is given.
fn time_range(
    field: Field,
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<Box<dyn Query>> {
    if from.is_none() && to.is_none() {
        return None;
    }
    let at = |t: chrono::DateTime<chrono::Utc>| Term::from_field_i64(field, t.timestamp_millis());
    let lo = from.map_or(Bound::Unbounded, |t| Bound::Included(at(t)));
    let hi = to.map_or(Bound::Unbounded, |t| Bound::Excluded(at(t)));
    Some(Box::new(RangeQuery::new(lo, hi)))
}
