//! Prometheus metrics of the dataflow: log and checkpoint positions, the media queue, job
//! outcomes and durations, catalog writes. The API registers its own in the same registry.

use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry,
};

pub struct Metrics {
    pub registry: Registry,
    pub log_end_offset: IntGauge,
    pub committed_offset: IntGauge,
    pub media_queue: IntGauge,
    pub media_jobs: IntCounterVec,
    pub media_seconds: HistogramVec,
    pub catalog_write_seconds: Histogram,
    pub catalog_updates: IntCounter,
    pub catalog_write_failures: IntCounter,
    pub bad_log_records: IntCounter,
    pub search_seconds: Histogram,
    pub vector_tail: IntGauge,
    pub lane_queue: IntGaugeVec,
    pub job_progress: GaugeVec,
    pub job_retries: IntCounterVec,
    pub dead_letters: IntCounterVec,
    pub renditions: IntCounterVec,
    pub inference_batch: HistogramVec,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // Metric definitions are constants of this file: an error here is a programming error.
    r.unwrap_or_else(|e| panic!("invalid metric definition: {e}"))
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let log_end_offset = must(IntGauge::new(
            "acervo_log_end_offset",
            "Offset the next event-log append will get",
        ));
        let committed_offset = must(IntGauge::new(
            "acervo_dataflow_committed_offset",
            "Event-log offset below which every output is durable",
        ));
        let media_queue =
            must(IntGauge::new("acervo_media_queue_depth", "Media jobs waiting for a pool thread"));
        let media_jobs = must(IntCounterVec::new(
            Opts::new("acervo_media_stage_total", "Media stages run, by stage and outcome"),
            &["stage", "outcome"],
        ));
        let media_seconds = must(HistogramVec::new(
            HistogramOpts::new("acervo_media_stage_seconds", "Duration of media stages")
                .buckets(prometheus::exponential_buckets(0.005, 2.5, 12).unwrap_or_default()),
            &["stage"],
        ));
        let catalog_write_seconds = must(Histogram::with_opts(HistogramOpts::new(
            "acervo_catalog_write_seconds",
            "Duration of one catalog write batch",
        )));
        let catalog_updates = must(IntCounter::new(
            "acervo_catalog_updates_total",
            "Events and results materialised into the catalog",
        ));
        let catalog_write_failures = must(IntCounter::new(
            "acervo_catalog_write_failures_total",
            "Catalog write batches that failed and were retried",
        ));
        let bad_log_records = must(IntCounter::new(
            "acervo_log_bad_records_total",
            "Event-log records that could not be decoded and were skipped",
        ));
        let search_seconds = must(Histogram::with_opts(
            HistogramOpts::new("acervo_search_seconds", "Duration of searches")
                .buckets(prometheus::exponential_buckets(0.0005, 2.0, 14).unwrap_or_default()),
        ));
        let vector_tail = must(IntGauge::new(
            "acervo_vector_tail",
            "Vectors searchable by flat scan, waiting to enter the HNSW graph",
        ));
        let lane_queue = must(IntGaugeVec::new(
            Opts::new(
                "acervo_media_lane_queue_depth",
                "Media jobs waiting for a pool thread, by lane",
            ),
            &["lane"],
        ));
        let job_progress = must(GaugeVec::new(
            Opts::new(
                "acervo_job_progress_ratio",
                "Progress of running media jobs, 0 to 1 (from decoded timestamps)",
            ),
            &["job", "stage", "lane"],
        ));
        let job_retries = must(IntCounterVec::new(
            Opts::new(
                "acervo_job_retries_total",
                "Media job attempts retried after a transient failure",
            ),
            &["stage"],
        ));
        let dead_letters = must(IntCounterVec::new(
            Opts::new(
                "acervo_dead_letters_total",
                "Media jobs that failed for good (dead-letter records written)",
            ),
            &["stage"],
        ));
        let renditions = must(IntCounterVec::new(
            Opts::new(
                "acervo_renditions_total",
                "Renditions made or reused (already stored), by outcome",
            ),
            &["outcome"],
        ));
        let inference_batch = must(HistogramVec::new(
            HistogramOpts::new(
                "acervo_inference_batch_size",
                "Inputs per model call (pictures, sentences), batched across assets",
            )
            .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
            &["model"],
        ));
        for c in [
            Box::new(log_end_offset.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(committed_offset.clone()),
            Box::new(media_queue.clone()),
            Box::new(media_jobs.clone()),
            Box::new(media_seconds.clone()),
            Box::new(catalog_write_seconds.clone()),
            Box::new(catalog_updates.clone()),
            Box::new(catalog_write_failures.clone()),
            Box::new(bad_log_records.clone()),
            Box::new(search_seconds.clone()),
            Box::new(vector_tail.clone()),
            Box::new(lane_queue.clone()),
            Box::new(job_progress.clone()),
            Box::new(job_retries.clone()),
            Box::new(dead_letters.clone()),
            Box::new(renditions.clone()),
            Box::new(inference_batch.clone()),
        ] {
            must(registry.register(c));
        }
        Metrics {
            registry,
            log_end_offset,
            committed_offset,
            media_queue,
            media_jobs,
            media_seconds,
            catalog_write_seconds,
            catalog_updates,
            catalog_write_failures,
            bad_log_records,
            search_seconds,
            vector_tail,
            lane_queue,
            job_progress,
            job_retries,
            dead_letters,
            renditions,
            inference_batch,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
