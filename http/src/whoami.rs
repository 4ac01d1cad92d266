//! The demo handler of `sspi http-server`.

use crate::Authenticated;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;

/// `GET /whoami`: `200` with `NAME PACKAGE\n`; anything else `404`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WhoAmI;

impl<B> hyper::service::Service<Request<B>> for WhoAmI {
    type Response = Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Response<Full<Bytes>>, Self::Error>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let mut response = Response::new(Full::default());
        match (
            request.uri().path(),
            request.extensions().get::<Authenticated>(),
        ) {
            ("/whoami", Some(who)) if request.method() == http::Method::GET => {
                *response.body_mut() = Full::from(format!("{} {}\n", who.name, who.package));
            }
            _ => *response.status_mut() = StatusCode::NOT_FOUND,
        }
        std::future::ready(Ok(response))
    }
}
