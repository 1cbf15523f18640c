//! A synthetic newsroom corpus: Spanish and English titles, descriptions and tags drawn from a
//! Zipf-distributed vocabulary, projects, kinds, statuses, creation times and durations,
//! transcripts for a fifth of the assets, and 512-d embeddings drawn around topic centroids
//! (real embeddings cluster by topic; uniform noise would make every index look bad).

use acervo_catalog::{
    Asset, AssetId, AssetStatus, MediaKind, SegmentRow, Stages, TechnicalMetadata,
};
use chrono::{DateTime, Duration, Utc};

/// A small, fast, seedable generator (SplitMix64), so every run builds the same corpus.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    }
}

/// Samples ranks 0..n with probability ∝ 1/(rank+1)^s by inverting the cumulative table.
pub struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 0..n {
            acc += 1.0 / ((k + 1) as f64).powf(s);
            cdf.push(acc);
        }
        cdf.iter_mut().for_each(|c| *c /= acc);
        Zipf { cdf }
    }
    pub fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

const ES: &str = "gobierno ayuntamiento alcaldesa alcalde presidente congreso senado pleno elecciones votación partido \
campaña debate ley reforma presupuesto impuestos economía empleo paro trabajadores sindicato huelga empresa mercado \
bolsa banco inflación precios vivienda alquiler hipoteca turismo hotel playa verano invierno lluvia sequía incendio \
bomberos policía accidente tráfico carretera autopista camión coche tren metro aeropuerto vuelo puerto barco pesca \
agricultura campo cosecha aceite vino ganadería sanidad hospital médicos enfermeras vacuna pandemia salud educación \
colegio universidad estudiantes profesores examen cultura museo exposición teatro cine festival música concierto \
libro escritor premio deporte fútbol partido liga equipo jugador entrenador gol estadio baloncesto tenis ciclismo \
maratón olimpiadas tribunal juez juicio sentencia fiscal abogado cárcel delito robo estafa corrupción investigación \
ciencia investigadores laboratorio tecnología internet móvil datos inteligencia artificial energía luz gas petróleo \
renovable solar eólica clima temperatura calor frío nieve tormenta inundación río mar montaña bosque medio ambiente \
contaminación reciclaje agua ciudad barrio vecinos calle plaza mercado fiesta tradición procesión semana santa feria \
mujeres igualdad jóvenes mayores pensiones inmigración frontera refugiados guerra paz ejército seguridad terrorismo \
europa españa madrid barcelona valencia sevilla bilbao andalucía cataluña galicia entrevista rueda prensa declaraciones";

const EN: &str = "government council mayor president parliament senate session election vote party campaign debate \
law reform budget taxes economy jobs unemployment workers union strike company market stocks bank inflation prices \
housing rent mortgage tourism hotel beach summer winter rain drought wildfire firefighters police crash traffic road \
highway truck car train subway airport flight port ship fishing farming harvest olive wine livestock health hospital \
doctors nurses vaccine pandemic education school university students teachers exam culture museum exhibition theatre \
film festival music concert book writer award sport football match league team player coach goal stadium basketball \
tennis cycling marathon olympics court judge trial ruling prosecutor lawyer prison crime robbery fraud corruption \
inquiry science researchers laboratory technology internet mobile data artificial intelligence energy power gas oil \
renewable solar wind climate temperature heat cold snow storm flood river sea mountain forest environment pollution \
recycling water city neighbourhood residents street square fair tradition parade women equality young elderly \
pensions immigration border refugees war peace army security terrorism europe london interview press conference";

const SYLLABLES: [&str; 24] = [
    "ta", "ro", "me", "li", "san", "cor", "ve", "lu", "mar", "ti", "no", "bel", "ca", "do", "ra",
    "pe", "gal", "vi", "so", "ten", "mo", "ri", "ba", "zu",
];

pub struct Vocab {
    pub es: Vec<String>,
    pub en: Vec<String>,
    pub tags: Vec<String>,
    pub zipf: Zipf,
    pub tag_zipf: Zipf,
    pub project_zipf: Zipf,
}

/// Real newsroom words at the head of the distribution, then a long tail of pseudo-words
/// (place and person names, rare terms) up to `size` entries per language.
pub fn vocab(size: usize, projects: usize) -> Vocab {
    let mut rng = Rng::new(7);
    let mut tail = |prefix: &str| -> String {
        let n = 2 + rng.below(3);
        let mut w = prefix.to_string();
        for _ in 0..n {
            w.push_str(SYLLABLES[rng.below(SYLLABLES.len())]);
        }
        w
    };
    let mut es: Vec<String> = ES.split_whitespace().map(str::to_string).collect();
    let mut en: Vec<String> = EN.split_whitespace().map(str::to_string).collect();
    while es.len() < size {
        es.push(tail(""));
    }
    while en.len() < size {
        en.push(tail(""));
    }
    let tags: Vec<String> = es.iter().take(300).chain(en.iter().take(200)).cloned().collect();
    Vocab {
        zipf: Zipf::new(size, 1.0),
        tag_zipf: Zipf::new(tags.len(), 1.1),
        project_zipf: Zipf::new(projects, 0.8),
        es,
        en,
        tags,
    }
}

/// Projects of the corpus unless `--projects` says otherwise.
pub const PROJECTS: usize = 20;
pub const CENTROIDS: usize = 1000;

pub struct Generated {
    pub asset: Asset,
    pub segments: Vec<SegmentRow>,
    /// Which topic centroid the embedding was drawn around.
    pub topic: usize,
}

fn words(v: &Vocab, rng: &mut Rng, english: bool, n: usize) -> String {
    let list = if english { &v.en } else { &v.es };
    (0..n).map(|_| list[v.zipf.sample(rng)].as_str()).collect::<Vec<_>>().join(" ")
}

pub fn asset(v: &Vocab, rng: &mut Rng, i: u64, epoch: DateTime<Utc>) -> Generated {
    let english = rng.unit() < 0.3;
    let kind = match rng.below(20) {
        0..10 => MediaKind::Video,
        10..16 => MediaKind::Image,
        16..19 => MediaKind::Audio,
        _ => MediaKind::Document,
    };
    let status = match rng.below(100) {
        0..90 => AssetStatus::Ready,
        90..95 => AssetStatus::Processing,
        95..98 => AssetStatus::Failed,
        _ => AssetStatus::Deleted,
    };
    let project = format!("proyecto-{:02}", v.project_zipf.sample(rng));
    let ntags = 2 + rng.below(4);
    let tags = Asset::clean_tags((0..ntags).map(|_| v.tags[v.tag_zipf.sample(rng)].as_str()));
    let created_at = epoch + Duration::seconds((rng.unit() * 5.0 * 365.0 * 86400.0) as i64);
    let duration =
        matches!(kind, MediaKind::Video | MediaKind::Audio).then(|| 10.0 + rng.unit() * 3600.0);
    let id = AssetId(uuid::Uuid::from_u64_pair(created_at.timestamp_millis() as u64, i));
    let transcribed = matches!(kind, MediaKind::Video | MediaKind::Audio) && rng.below(5) < 2;
    let mut segments = Vec::new();
    if transcribed {
        let n = 10;
        let span = (duration.unwrap_or(60.0) * 1000.0) as u64 / n;
        for s in 0..n {
            let len = 10 + rng.below(10);
            segments.push(SegmentRow {
                asset_id: id,
                start_ms: s * span,
                end_ms: (s + 1) * span,
                text: words(v, rng, english, len),
                model: None,
            });
        }
    }
    let transcript_text = segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n");
    let (title_len, desc_len) = (4 + rng.below(7), 15 + rng.below(26));
    let title = words(v, rng, english, title_len);
    let description = words(v, rng, english, desc_len);
    let asset = Asset {
        id,
        title,
        description,
        tags,
        descriptive: Default::default(),
        kind,
        mime: "application/octet-stream".into(),
        size: 1_000_000 + i,
        sha256: format!("{i:064x}"),
        master_key: format!("masters/{id}/x/source.bin"),
        original_filename: format!("file{i}.bin"),
        project,
        owner: "bench".into(),
        status,
        // Most of an archive is published; the rest is on its way.
        editorial_status: match rng.below(10) {
            0 => acervo_catalog::EditorialStatus::Draft,
            1 => acervo_catalog::EditorialStatus::InReview,
            2 => acervo_catalog::EditorialStatus::Approved,
            _ => acervo_catalog::EditorialStatus::Published,
        },
        collections: Vec::new(),
        status_reason: None,
        created_at,
        updated_at: created_at,
        deleted_at: None,
        retention_until: None,
        legal_hold: None,
        technical: duration
            .map(|d| TechnicalMetadata { duration_seconds: Some(d), ..Default::default() }),
        stages: Stages::new(),
        labels: Vec::new(),
        ocr_text: String::new(),
        transcript_text,
        ai: Default::default(),
    };
    Generated { asset, segments, topic: rng.below(CENTROIDS) }
}

/// Topic centroids for embeddings (unit vectors).
pub fn centroids(dim: usize) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(11);
    (0..CENTROIDS)
        .map(|_| {
            let mut v: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
            acervo_lakehouse::search::normalise(&mut v);
            v
        })
        .collect()
}

/// A vector near `centroid`: the centroid plus isotropic noise of comparable norm.
pub fn near(centroid: &[f32], rng: &mut Rng, spread: f32) -> Vec<f32> {
    let scale = spread / (centroid.len() as f32).sqrt();
    let mut v: Vec<f32> = centroid.iter().map(|c| c + rng.normal() * scale).collect();
    acervo_lakehouse::search::normalise(&mut v);
    v
}
