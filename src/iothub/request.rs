//! An HTTP request as plain data. Nothing here does I/O: the browser shell sends a [`Request`] with
//! `fetch`, native tests send the same request to localhub with reqwest.

use crate::contract::Redacted;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One HTTP request, ready to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Full URL with query.
    pub url: String,
    /// Headers, in the order they are set.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
}

impl Request {
    pub(super) fn new(method: Method, url: String, authorization: String) -> Self {
        Self {
            method,
            url,
            headers: vec![("Authorization", authorization)],
            body: None,
        }
    }

    pub(super) fn if_match(mut self, etag: &str) -> Self {
        self.headers.push(("If-Match", etag.to_owned()));
        self
    }

    pub(super) fn json(mut self, body: impl serde::Serialize) -> Self {
        self.headers
            .push(("Content-Type", "application/json".to_owned()));
        // The contract's types and JSON values always serialise (no maps with non-string keys).
        self.body = Some(serde_json::to_string(&body).unwrap_or_default());
        self
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// One header, its value redacted when it is a credential.
        struct Header<'a>(&'a str, &'a str);
        impl std::fmt::Debug for Header<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                if self.0.eq_ignore_ascii_case("authorization") {
                    f.debug_tuple("")
                        .field(&self.0)
                        .field(&Redacted(self.1))
                        .finish()
                } else {
                    f.debug_tuple("").field(&self.0).field(&self.1).finish()
                }
            }
        }
        let headers: Vec<Header<'_>> = self.headers.iter().map(|(n, v)| Header(n, v)).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .finish()
    }
}
