//! The HTTP transport handed to `azure_identity`: our `reqwest::Client`, remembering the last
//! error answer. `azure_identity` turns a refusal into "ClientSecretCredential authentication
//! failed." followed at best by the description, and a body that is not Entra's JSON (a 404
//! page from a proxy) into a JSON parse error, losing the URL and the status; what is
//! recorded here lets our error say which URL answered what.

use std::sync::Mutex;

use async_trait::async_trait;
use azure_core::http::{AsyncRawResponse, HttpClient, Request};

use super::TokenRejection;
use super::oidc_request::shown_url;

/// The last non-2xx answer seen, as a rejection (secret-free: only the answer is kept).
#[derive(Debug, Default)]
pub(super) struct RecordingTransport {
    http: reqwest::Client,
    last_error: Mutex<Option<TokenRejection>>,
}

impl RecordingTransport {
    pub(super) fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            last_error: Mutex::default(),
        }
    }

    /// Takes the last error answer recorded, if any.
    pub(super) fn take_last_error(&self) -> Option<TokenRejection> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

#[async_trait]
impl HttpClient for RecordingTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let response = self.http.execute_request(request).await?;
        let status = u16::from(response.status());
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let (status_code, headers, body) = response.deconstruct();
        let bytes = body.collect().await?;
        let url = url::Url::parse(request.url().as_str())
            .map(|u| shown_url(&u))
            .unwrap_or_default();
        let rejection = TokenRejection::from_answer(url, status, &bytes);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(rejection);
        Ok(AsyncRawResponse::from_bytes(status_code, headers, bytes))
    }
}
