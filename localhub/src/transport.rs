//! The app's hub client (`hubcert::iothub::client`) over reqwest: what `fetch` does in the
//! browser, for native tools and tests that drive localhub or a hub the way the app does.

use hubcert::iothub::{Answer, Transport};
use hubcert::iothub::{Method, Request};

/// Sends the core's requests with reqwest.
#[derive(Debug, Clone, Default)]
pub struct HttpTransport(pub reqwest::Client);

impl HttpTransport {
    /// Sends `req`; the answer's status, headers and body.
    async fn exchange(
        &self,
        req: &Request,
    ) -> Result<(u16, reqwest::header::HeaderMap, String), String> {
        let method = match req.method {
            Method::Get => reqwest::Method::GET,
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut b = self.0.request(method, &req.url);
        for (name, value) in &req.headers {
            b = b.header(*name, value);
        }
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        let r = b.send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        Ok((status, headers, r.text().await.unwrap_or_default()))
    }
}

impl Transport for HttpTransport {
    async fn send(&self, req: &Request) -> Result<Answer, String> {
        let (status, headers, body) = self.exchange(req).await?;
        Ok(Answer {
            retry_after: retry_after(&headers),
            ..Answer::new(status, body)
        })
    }

    async fn sleep(&self, duration: std::time::Duration) {
        tokio::time::sleep(duration).await;
    }

    async fn send_keeping(
        &self,
        req: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        let (status, headers, body) = self.exchange(req).await?;
        let kept = keep
            .iter()
            .filter_map(|name| {
                let value = headers.get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), value.to_owned()))
            })
            .collect();
        let answer = Answer {
            retry_after: retry_after(&headers),
            ..Answer::new(status, body)
        };
        Ok((answer, kept))
    }
}

/// The wait an answer's `Retry-After` asks for.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    hubcert::iothub::parse_retry_after(value, crate::store::now_unix().unsigned_abs())
}
