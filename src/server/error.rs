//! API errors in the seed's format, `{"error":{"code","message","param"}}`, and how backend failures map onto HTTP:
//! not found → 404, bad input → 400 naming the parameter, conflicts and read-only transactions → 409, operations the
//! backend lacks → 403 `not_supported` (the seed's "insufficient permissions": the ledger does not permit it; not a
//! 5xx, since retrying cannot help), anything else → 500 with the backend's message (the operator's own ledger, so nothing to hide).

use crate::backend::BackendError;
use crate::backend::rest::wire::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    /// 400 `invalid_parameter` naming `param`.
    pub fn param(param: &str, message: impl Into<String>) -> Self {
        ApiError {
            param: Some(param.to_string()),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }
}

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        let message = e.to_string();
        match e {
            BackendError::NotFound(_) => ApiError::not_found(message),
            BackendError::Invalid { param, .. } => ApiError::param(&param, message),
            BackendError::Unsupported(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "not_supported", message)
            }
            BackendError::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            BackendError::ReadOnly(..) => ApiError::new(StatusCode::CONFLICT, "read_only", message),
            BackendError::RateLimited { retry_after, .. } => ApiError {
                retry_after: Some(retry_after),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "upstream_rate_limited",
                    message,
                )
            },
            BackendError::Io(_)
            | BackendError::File { .. }
            | BackendError::Http { .. }
            | BackendError::Network { .. }
            | BackendError::Parse(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                param: self.param,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tally\""),
            );
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(e: ApiError) -> (StatusCode, serde_json::Value) {
        let resp = e.into_response();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    /// A backend that refuses a value (the journal refusing a note it cannot hold) is answered 400 naming the field.
    #[tokio::test]
    async fn invalid_values_are_400_with_param() {
        let e = ApiError::from(BackendError::Invalid {
            param: "note".into(),
            message: "a note cannot contain `;`".into(),
        });
        let (status, body) = body_of(e).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "invalid_parameter");
        assert_eq!(body["error"]["param"], "note");
        assert!(
            body["error"]["message"]
                .as_str()
                .expect("message")
                .contains("cannot contain"),
            "{body}"
        );
    }
}
