//! The check and the stamp every request passes, as tower layers. As `axum::middleware::from_fn`
//! functions they cloned and boxed the stack below them, and their futures, on every request:
//! about a tenth of the instructions of `GET /auth/me`. These call the service below in place,
//! as tower-http's layers do.

use app::backend::AppState;
use app::backend::auth::web::{check_same_origin, over_https};
use app::backend::security;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, MapOk, Ready, TryFutureExt, ready};
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Refuses cross-site state changes (CSRF): [`check_same_origin`] on every request with an
/// unsafe method.
#[derive(Clone)]
pub struct SameOriginLayer {
    pub state: AppState,
}

impl<S> Layer<S> for SameOriginLayer {
    type Service = SameOrigin<S>;

    fn layer(&self, inner: S) -> SameOrigin<S> {
        SameOrigin {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct SameOrigin<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for SameOrigin<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let safe = matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        if !safe && let Err(err) = check_same_origin(&self.state, request.headers()) {
            tracing::warn!(path = %request.uri().path(), "cross-site request refused");
            return Either::Left(ready(Ok(err.into_response())));
        }
        Either::Right(self.inner.call(request))
    }
}

/// Headers every response carries: no MIME sniffing, no framing, a referrer only to our own
/// origin, a policy that allows nothing where a page has not set its own, and HSTS when the
/// app is reached over https (`FRONTEND_URL` is https, or a proxy says so).
#[derive(Clone)]
pub struct SecurityHeadersLayer {
    pub state: AppState,
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> SecurityHeaders<S> {
        SecurityHeaders {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: S,
    state: AppState,
}

type Stamp = fn(Response) -> Response;

impl<S> Service<Request> for SecurityHeaders<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = MapOk<S::Future, Stamp>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let stamp: Stamp = if over_https(&self.state, request.headers()) {
            |response| with_hsts(stamped(response))
        } else {
            stamped
        };
        self.inner.call(request).map_ok(stamp)
    }
}

fn stamped(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(security::DEFAULT_POLICY));
    response
}

fn with_hsts(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    response
}
