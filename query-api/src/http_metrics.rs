//! Request counts and latencies by route, method and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use std::sync::Arc;

pub struct HttpMetrics {
    requests: IntCounterVec,
    seconds: HistogramVec,
}

impl HttpMetrics {
    pub fn register(registry: &Registry) -> HttpMetrics {
        let requests = IntCounterVec::new(
            Opts::new("acervo_http_requests_total", "HTTP requests"),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| panic!("invalid metric definition: {e}"));
        let seconds = HistogramVec::new(
            HistogramOpts::new("acervo_http_request_seconds", "HTTP request latency"),
            &["method", "route"],
        )
        .unwrap_or_else(|e| panic!("invalid metric definition: {e}"));
        // A second registration (a second server in one process) keeps the first's metrics.
        let _ = registry.register(Box::new(requests.clone()));
        let _ = registry.register(Box::new(seconds.clone()));
        HttpMetrics { requests, seconds }
    }
}

pub async fn record(State(http): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    http.seconds.with_label_values(&[&method, &route]).observe(start.elapsed().as_secs_f64());
    http.requests.with_label_values(&[&method, &route, response.status().as_str()]).inc();
    response
}
