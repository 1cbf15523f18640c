//! Request rate limits (GCRA from `governor`): one bucket per client address, checked before
//! authentication (so guessing tokens is slowed too), and one per principal, checked after it.
//! A request over its limit is a 429 problem with `Retry-After`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use acervo_identity::Authenticated;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::problem::ApiError;

fn keyed<K: Clone + std::hash::Hash + Eq>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_second).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_second(n)))
}

pub(crate) struct RateLimits {
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_principal: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl RateLimits {
    pub(crate) fn new(per_principal: u32, per_address: u32) -> Arc<RateLimits> {
        Arc::new(RateLimits {
            per_address: keyed(per_address),
            per_principal: keyed(per_principal),
            clock: DefaultClock::default(),
        })
    }

    fn refuse(&self, wait: std::time::Duration, whom: &str) -> Response {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            format!("too many requests from {whom}: try again in {secs} s"),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

pub(crate) async fn per_address(
    State(limits): State<Arc<RateLimits>>,
    req: Request,
    next: Next,
) -> Response {
    if let (Some(limiter), Some(addr)) =
        (&limits.per_address, req.extensions().get::<ConnectInfo<SocketAddr>>())
    {
        let ip = addr.0.ip();
        if let Err(not_until) = limiter.check_key(&ip) {
            return limits.refuse(not_until.wait_time_from(limits.clock.now()), "this address");
        }
    }
    next.run(req).await
}

pub(crate) async fn per_principal(
    State(limits): State<Arc<RateLimits>>,
    req: Request,
    next: Next,
) -> Response {
    if let (Some(limiter), Some(who)) =
        (&limits.per_principal, req.extensions().get::<Authenticated>())
        && let Err(not_until) = limiter.check_key(&who.principal.name)
    {
        return limits.refuse(not_until.wait_time_from(limits.clock.now()), &who.principal.name);
    }
    next.run(req).await
}
