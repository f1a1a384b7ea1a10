//! An HTTP request as plain data. Nothing here does I/O: the browser shell sends a [`Request`] with
//! `fetch`, native tests send the same request to localhub with reqwest.

use serde_json::Value;

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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    pub(super) fn json(mut self, body: Value) -> Self {
        self.headers
            .push(("Content-Type", "application/json".to_owned()));
        self.body = Some(body.to_string());
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
