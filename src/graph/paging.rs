//! Following `@odata.nextLink` through a collection.

use std::collections::HashSet;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::client::{GraphClient, GraphRequest};
use super::error::GraphError;

/// More pages than this is treated as a runaway loop.
pub const MAX_PAGES: usize = 1000;

/// One page of a collection.
#[derive(Debug, Deserialize)]
pub struct Page<T> {
    /// The items of this page (required: a body without `value` is a decode error).
    pub value: Vec<T>,
    /// The absolute URL of the next page, when there is one.
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// Sends `first` and follows `@odata.nextLink` verbatim until it is absent. Fails closed on
/// a link that repeats, a link to another origin, or more than [`MAX_PAGES`] pages.
pub async fn collect<T: DeserializeOwned>(
    client: &GraphClient,
    first: GraphRequest,
) -> Result<Vec<T>, GraphError> {
    let context = first.describe();
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut request = first;
    for page_no in 1..=MAX_PAGES {
        let page: Page<T> = client.send(&request).await?.json(&context)?;
        items.extend(page.value);
        let Some(link) = page.next_link else {
            tracing::debug!(request = %context, pages = page_no, items = items.len(), "listed");
            return Ok(items);
        };
        if !seen.insert(link.clone()) {
            let message = format!("@odata.nextLink repeats after {page_no} pages: {link}");
            return Err(GraphError::decode(context, message));
        }
        let url = Url::parse(&link)
            .map_err(|e| GraphError::decode(&context, format!("bad @odata.nextLink: {e}")))?;
        request = GraphRequest::next_link(url);
    }
    Err(GraphError::decode(
        context,
        format!("more than {MAX_PAGES} pages"),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use axum::extract::{Query, State};
    use axum::routing::get;
    use serde_json::{Value, json};

    use super::super::testing::{client, serve};

    async fn users(
        State(base): State<String>,
        Query(q): Query<HashMap<String, String>>,
    ) -> axum::Json<Value> {
        let page = q.get("$skiptoken").map(String::as_str).unwrap_or("0");
        axum::Json(match page {
            "0" => {
                json!({"value": [{"id": "a"}], "@odata.nextLink": format!("{base}/graph/v1.0/users?$skiptoken=1")})
            }
            "1" => {
                json!({"value": [{"id": "b"}, {"id": "c"}], "@odata.nextLink": format!("{base}/graph/v1.0/users?$skiptoken=2")})
            }
            "2" => json!({"value": [{"id": "d", "extra": true}]}),
            // a page whose link points at itself
            "loop" => {
                json!({"value": [], "@odata.nextLink": format!("{base}/graph/v1.0/users?$skiptoken=loop")})
            }
            "away" => {
                json!({"value": [], "@odata.nextLink": "http://127.0.0.2:1/graph/v1.0/users"})
            }
            _ => json!({"nope": []}),
        })
    }

    #[derive(Debug, serde::Deserialize)]
    struct User {
        id: String,
    }

    #[tokio::test]
    async fn follows_three_pages_and_guards() {
        let base = serve(|base| {
            axum::Router::new()
                .route("/graph/v1.0/users", get(users))
                .with_state(base)
        })
        .await;
        let c = client(&base);
        let all: Vec<User> = c.list("users").await.unwrap();
        let ids: Vec<_> = all.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d"]);

        let err = c.list::<User>("users?$skiptoken=loop").await.unwrap_err();
        assert!(err.to_string().contains("repeats"), "{err}");
        let err = c.list::<User>("users?$skiptoken=away").await.unwrap_err();
        assert!(
            err.to_string().contains("leaves the Graph endpoint"),
            "{err}"
        );
        let err = c.list::<User>("users?$skiptoken=bad").await.unwrap_err();
        assert!(matches!(err, super::GraphError::Decode { .. }), "{err}");
    }
}
