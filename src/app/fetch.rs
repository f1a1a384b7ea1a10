//! The hub client's transport in the browser: `fetch`.

use super::settings::HubSettings;
use crate::iothub::{Answer, HubClient, Transport};
use crate::iothub::{Method, Request};
use gloo::net::http::{Method as HttpMethod, RequestBuilder};

/// Sends the core's requests with the browser's `fetch`. A refused CORS answer and a network
/// failure look the same to a page (a `TypeError`); both come back as `Err`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fetch;

impl Fetch {
    /// Sends `request`; the answer, and the answer's headers named in `keep` (lower case).
    async fn fetch(
        request: &Request,
        keep: &[&str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        let _busy = super::browser::Busy::start();
        let method = match request.method {
            Method::Get => HttpMethod::GET,
            Method::Put => HttpMethod::PUT,
            Method::Post => HttpMethod::POST,
            Method::Delete => HttpMethod::DELETE,
        };
        let mut builder = RequestBuilder::new(&request.url).method(method);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let built = match &request.body {
            Some(body) => builder.body(body.clone()),
            None => builder.build(),
        }
        .map_err(|e| e.to_string())?;
        let response = built.send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let now_unix = (js_sys::Date::now() / 1000.0) as u64;
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| crate::iothub::parse_retry_after(&v, now_unix));
        // Cross-origin, a header is readable only when the server exposes it (localhub exposes
        // the query's paging headers; the relay passes them on).
        let kept = keep
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(name)?;
                Some(((*name).to_owned(), value))
            })
            .collect();
        let body = response.text().await.unwrap_or_default();
        Ok((
            Answer {
                status,
                body,
                retry_after,
            },
            kept,
        ))
    }
}

impl Transport for Fetch {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        Self::fetch(request, &[]).await.map(|(answer, _)| answer)
    }

    async fn send_keeping(
        &self,
        request: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        Self::fetch(request, keep).await
    }

    /// A `setTimeout` of `duration`, for the backoff of a throttled call.
    async fn sleep(&self, duration: std::time::Duration) {
        // Between the calls of a run (a backoff, the pace of a fleet run): still under way.
        let _busy = super::browser::Busy::start();
        let ms = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let timer = js_sys::Promise::new(&mut |resolve, _| {
            let set = web_sys::window()
                .map(|w| w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms));
            if !matches!(set, Some(Ok(_))) {
                // No window to wait on: go on at once rather than never.
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(timer).await;
    }
}

/// What localhub says about itself in `/localhub/info`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct LocalhubInfo {
    pub(crate) hub_name: String,
    pub(crate) connection_string: String,
    pub(crate) id_scope: String,
    pub(crate) dps_connection_string: String,
    pub(crate) dps_name: String,
}

/// Reads localhub's `/localhub/info`: its hub name, the hub's and the DPS's connection strings,
/// and the DPS's ID scope.
pub(crate) async fn localhub_info(endpoint: &str) -> Result<LocalhubInfo, String> {
    let _busy = super::browser::Busy::start();
    let url = format!("{}/localhub/info", endpoint.trim().trim_end_matches('/'));
    let response = gloo::net::http::Request::get(&url)
        .send()
        .await
        .map_err(|e| {
            format!("localhub did not answer at {url} ({e}). Start it with ./scripts/run.sh or `cargo run --release -p localhub`.")
        })?;
    if !response.ok() {
        return Err(format!(
            "{url} answered HTTP {}: is this localhub?",
            response.status()
        ));
    }
    let v: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("{url} did not answer JSON ({e}): is this localhub?"))?;
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
    Ok(LocalhubInfo {
        hub_name: text("hubName"),
        connection_string: text("connectionString"),
        id_scope: text("idScope"),
        dps_connection_string: text("dpsConnectionString"),
        dps_name: text("dpsName"),
    })
}

/// The hub client the pages use, over [`Fetch`], for the hub (or localhub) in `settings`.
pub(crate) fn client(settings: &HubSettings) -> HubClient<Fetch> {
    HubClient::new(Fetch, settings.is_localhub())
}
