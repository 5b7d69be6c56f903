//! One handler per endpoint of `assets/openapi.json`, each a thin translation between HTTP and one or two `Backend`
//! calls. Request bodies are read as raw JSON and checked field by field, so a bad field is answered 400 with its
//! name in `param` (serde's messages would not say which parameter). Writes run through `ServerState::write`, which
//! finishes them even when the client disconnects and lets shutdown wait for them.

use super::ServerState;
use super::error::ApiError;
use super::params::{self, Params};
use crate::backend::rest::wire::{
    BulkTagResult, Data, ListMeta, TxnListOut, TxnOut, WireAccount, WireBreakdownRow, WirePeriod,
    balance_to_wire,
};
use crate::backend::{Dimension, GroupBy, TxnPatch};
use crate::domain::{Status, Tag, TxnId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;
type ApiResult = Result<Response, ApiError>;

const LIST_PARAMS: &[&str] = &[
    "page",
    "limit",
    "start_date",
    "end_date",
    "source",
    "min_amount",
    "max_amount",
    "tags",
    "search",
    "q",
    "sort",
    "order",
];
const ANALYTICS_FILTERS: &[&str] = &[
    "start_date",
    "end_date",
    "source",
    "min_amount",
    "max_amount",
    "tags",
    "search",
    "q",
];
/// Most ids one bulk-tag call may name.
pub const MAX_BULK_IDS: usize = 10_000;

fn params(pairs: Pairs, allowed: &[&str]) -> Result<Params, ApiError> {
    match pairs {
        Ok(Query(p)) => Params::new(p, allowed),
        Err(e) => Err(ApiError::param(
            "query",
            format!("the query string is not valid: {}", e.body_text()),
        )),
    }
}

fn path(p: Result<Path<String>, PathRejection>, name: &str) -> Result<String, ApiError> {
    match p {
        Ok(Path(v)) => Ok(v),
        Err(e) => Err(ApiError::param(name, e.body_text())),
    }
}

fn json<T: serde::Serialize>(data: T) -> Response {
    Json(Data { data }).into_response()
}

/// Parses a request body that must be a JSON object, naming only `allowed` fields.
fn body_object(
    body: Result<Bytes, BytesRejection>,
    allowed: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    let bytes = body.map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "payload_too_large", e.body_text()).with_param("body")
        } else if stalled(&e) {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body stopped arriving (see --idle-timeout)",
            )
            .with_param("body")
        } else {
            ApiError::param("body", e.body_text())
        }
    })?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::param("body", format!("the body is not valid JSON: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::param("body", "the body must be a JSON object"));
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(ApiError::param(
            k,
            format!("unknown field '{k}'; accepted: {}", allowed.join(", ")),
        ));
    }
    Ok(map)
}

/// Whether the body failed because the client stopped sending it (`RequestBodyTimeoutLayer`).
fn stalled(e: &BytesRejection) -> bool {
    let first: &(dyn std::error::Error + 'static) = e;
    std::iter::successors(Some(first), |e| e.source())
        .any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

fn opt_string(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::param(
            field,
            format!("'{field}' must be a string"),
        )),
    }
}

fn string_list(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ApiError::param(
                    field,
                    format!("'{field}' must be an array of strings"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::param(
            field,
            format!("'{field}' must be an array of strings"),
        )),
    }
}

/// A tag name as a journal can hold it: no blanks, commas, colons or control characters.
fn check_tag_name(name: &str, field: &str) -> Result<(), ApiError> {
    if name.is_empty() {
        return Err(ApiError::param(field, "a tag name cannot be empty"));
    }
    if name.len() > 100 {
        return Err(ApiError::param(field, "a tag name is at most 100 bytes"));
    }
    if name
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ':' | ';' | '='))
    {
        return Err(ApiError::param(
            field,
            format!("tag name {name:?} may not contain blanks or any of , : ; ="),
        ));
    }
    Ok(())
}

/// Tags to add: `"name"` or `"name:value"`; values may hold spaces but no commas, semicolons or line breaks.
fn parse_add_tags(items: &[String], field: &str) -> Result<Vec<Tag>, ApiError> {
    items
        .iter()
        .map(|s| {
            let tag = Tag::parse(s);
            check_tag_name(&tag.name, field)?;
            if tag
                .value
                .chars()
                .any(|c| c.is_control() || matches!(c, ',' | ';'))
                || tag.value.len() > 200
            {
                return Err(ApiError::param(
                    field,
                    format!(
                        "tag value {:?} may not contain , ; or control characters (max 200 bytes)",
                        tag.value
                    ),
                ));
            }
            Ok(tag)
        })
        .collect()
}

fn parse_remove_tags(items: &[String], field: &str) -> Result<Vec<String>, ApiError> {
    items
        .iter()
        .map(|s| {
            let name = s.split_once(':').map_or(s.as_str(), |(n, _)| n).trim();
            check_tag_name(name, field)?;
            Ok(name.to_string())
        })
        .collect()
}

fn check_text(value: &str, field: &str, max: usize) -> Result<(), ApiError> {
    if value.len() > max {
        return Err(ApiError::param(
            field,
            format!("'{field}' is at most {max} bytes"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(ApiError::param(
            field,
            format!("'{field}' may not contain line breaks or control characters"),
        ));
    }
    Ok(())
}

pub async fn openapi(q: Pairs) -> ApiResult {
    params(q, &[])?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        super::OPENAPI,
    )
        .into_response())
}

pub async fn capabilities(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    Ok(json(s.backend.capabilities()))
}

pub async fn accounts(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    let accounts = s.backend.accounts().await?;
    Ok(json(
        accounts.iter().map(WireAccount::from).collect::<Vec<_>>(),
    ))
}

pub async fn diagnostics(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    Ok(json(s.backend.diagnostics().await))
}

/// The ledger's change counter (tally extension): it grows whenever the data changes, so a client polls this
/// instead of re-reading everything. Checks the file on disk first.
pub async fn changes(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    s.reload_if_idle().await?;
    Ok(json(
        serde_json::json!({ "generation": s.generation().to_string() }),
    ))
}

pub async fn list_transactions(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    let p = params(q, LIST_PARAMS)?;
    let (page, limit, req) = params::page_request(&p)?;
    let query = params::build_query(&p)?;
    let result = s.backend.transactions(&query, req).await?;
    let body = TxnListOut {
        data: result.items.iter().map(TxnOut).collect(),
        meta: ListMeta {
            total: result.total,
            page,
            limit,
            total_pages: result.total.div_ceil(limit),
            sum: balance_to_wire(&result.sum),
        },
    };
    json_bytes(&body, 256 + result.items.len() * 1024)
}

/// Serialises into one buffer sized up front (axum's `Json` grows its buffer piecemeal, which showed up as the
/// largest cost of a listing under load).
fn json_bytes<T: serde::Serialize>(value: &T, capacity: usize) -> ApiResult {
    let mut buf = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut buf, value).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            format!("cannot encode the answer: {e}"),
        )
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        buf,
    )
        .into_response())
}

pub async fn get_transaction(
    State(s): State<ServerState>,
    id: Result<Path<String>, PathRejection>,
    q: Pairs,
) -> ApiResult {
    params(q, &[])?;
    let id = TxnId(path(id, "id")?);
    let t = s.backend.transaction(&id).await?;
    json_bytes(&Data { data: TxnOut(&t) }, 2048)
}

const PATCH_FIELDS: &[&str] = &[
    "add_tags",
    "remove_tags",
    "tags",
    "status",
    "reviewed",
    "category",
    "note",
    "notes",
];

/// PATCH body → `TxnPatch`. `tags` is the full set wanted (the seed's form): turned into adds and removes against
/// the transaction's current tags, so it needs `current`.
fn parse_patch(
    map: &Map<String, Value>,
    current_tags: Option<&[Tag]>,
) -> Result<TxnPatch, ApiError> {
    let mut patch = TxnPatch::default();
    if let Some(add) = string_list(map, "add_tags")? {
        patch.add_tags = parse_add_tags(&add, "add_tags")?;
    }
    if let Some(remove) = string_list(map, "remove_tags")? {
        patch.remove_tags = parse_remove_tags(&remove, "remove_tags")?;
    }
    if let Some(full) = string_list(map, "tags")? {
        if !patch.add_tags.is_empty() || !patch.remove_tags.is_empty() {
            return Err(ApiError::param(
                "tags",
                "give either 'tags' (the full set) or 'add_tags'/'remove_tags', not both",
            ));
        }
        let wanted = parse_add_tags(&full, "tags")?;
        let current = current_tags.unwrap_or_default();
        for t in current {
            if !wanted.contains(t) {
                patch.remove_tags.push(t.name.clone());
            }
        }
        for t in &wanted {
            // A tag whose value changes is removed by name above and added back with the new value.
            if !current.contains(t) {
                patch.add_tags.push(t.clone());
            }
        }
    }
    let status = opt_string(map, "status")?;
    let reviewed = match map.get("reviewed") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(ApiError::param(
                "reviewed",
                "'reviewed' must be true or false",
            ));
        }
    };
    patch.status = match (status, reviewed) {
        (Some(_), Some(_)) => {
            return Err(ApiError::param(
                "reviewed",
                "give either 'status' or 'reviewed', not both",
            ));
        }
        (Some(s), None) => Some(match s.as_str() {
            "unmarked" => Status::Unmarked,
            "pending" => Status::Pending,
            "cleared" => Status::Cleared,
            _ => {
                return Err(ApiError::param(
                    "status",
                    "'status' must be unmarked, pending or cleared",
                ));
            }
        }),
        (None, Some(true)) => Some(Status::Cleared),
        (None, Some(false)) => Some(Status::Unmarked),
        (None, None) => None,
    };
    if let Some(c) = opt_string(map, "category")? {
        check_text(&c, "category", 500)?;
        patch.category = Some(c);
    }
    let note = opt_string(map, "note")?;
    let notes = opt_string(map, "notes")?;
    if note.is_some() && notes.is_some() {
        return Err(ApiError::param(
            "notes",
            "give either 'note' or 'notes', not both",
        ));
    }
    if let Some(n) = note.or(notes) {
        let field = if map.contains_key("note") {
            "note"
        } else {
            "notes"
        };
        check_text(&n, field, 2000)?;
        patch.note = Some(n);
    }
    Ok(patch)
}

pub async fn patch_transaction(
    State(s): State<ServerState>,
    id: Result<Path<String>, PathRejection>,
    q: Pairs,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    params(q, &[])?;
    let id = TxnId(path(id, "id")?);
    let map = body_object(body, PATCH_FIELDS)?;
    let current = s.backend.transaction(&id).await?;
    let patch = parse_patch(&map, Some(&current.tags))?;
    if patch.is_empty() {
        return json_bytes(
            &Data {
                data: TxnOut(&current),
            },
            2048,
        );
    }
    let backend = s.backend.clone();
    let t = s
        .write(async move {
            let change = crate::ops::Change::Patch(patch);
            let applied =
                crate::ops::apply(backend.as_ref(), std::slice::from_ref(&id), &change).await?;
            // A new note or category gives a journal transaction a new id.
            let now = applied
                .result
                .renamed
                .iter()
                .find(|(old, _)| *old == id)
                .map_or(&id, |(_, new)| new);
            backend.transaction(now).await
        })
        .await?;
    json_bytes(&Data { data: TxnOut(&t) }, 2048)
}

pub async fn bulk_tag(
    State(s): State<ServerState>,
    q: Pairs,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    params(q, &[])?;
    let map = body_object(body, &["ids", "add", "remove"])?;
    let ids = string_list(&map, "ids")?
        .ok_or_else(|| ApiError::param("ids", "'ids' is required: the transaction ids to tag"))?;
    if ids.is_empty() {
        return Err(ApiError::param(
            "ids",
            "'ids' must name at least one transaction",
        ));
    }
    if ids.len() > MAX_BULK_IDS {
        return Err(ApiError::param(
            "ids",
            format!("'ids' may name at most {MAX_BULK_IDS} transactions per call"),
        ));
    }
    let add = parse_add_tags(&string_list(&map, "add")?.unwrap_or_default(), "add")?;
    let remove = parse_remove_tags(&string_list(&map, "remove")?.unwrap_or_default(), "remove")?;
    if add.is_empty() && remove.is_empty() {
        return Err(ApiError::param("add", "give tags to 'add' and/or 'remove'"));
    }
    let ids: Vec<TxnId> = ids.into_iter().map(TxnId).collect();
    let backend = s.backend.clone();
    // All or nothing: the operations layer reads every id before anything is written.
    let r = s
        .write(async move {
            let change = crate::ops::Change::tags(add, remove);
            crate::ops::apply(backend.as_ref(), &ids, &change).await
        })
        .await
        .map_err(|e| match e.code {
            "not_found" => {
                ApiError::not_found(format!("{}; nothing was changed", e.message)).with_param("ids")
            }
            _ => e,
        })?
        .result;
    Ok(json(BulkTagResult {
        changed: r.changed,
        unchanged: r.unchanged,
    }))
}

pub async fn list_tags(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    Ok(json(s.backend.tags().await?))
}

fn tag_name_body(body: Result<Bytes, BytesRejection>) -> Result<String, ApiError> {
    let map = body_object(body, &["name"])?;
    let name =
        opt_string(&map, "name")?.ok_or_else(|| ApiError::param("name", "'name' is required"))?;
    check_tag_name(&name, "name")?;
    Ok(name)
}

pub async fn create_tag(
    State(s): State<ServerState>,
    q: Pairs,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    params(q, &[])?;
    let name = tag_name_body(body)?;
    let backend = s.backend.clone();
    let tag = s
        .write(async move { backend.create_tag(&name).await })
        .await?;
    Ok((StatusCode::CREATED, Json(Data { data: tag })).into_response())
}

pub async fn rename_tag(
    State(s): State<ServerState>,
    id: Result<Path<String>, PathRejection>,
    q: Pairs,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    params(q, &[])?;
    let id = path(id, "id")?;
    let name = tag_name_body(body)?;
    let backend = s.backend.clone();
    let tag = s
        .write(async move { backend.rename_tag(&id, &name).await })
        .await?;
    Ok(json(tag))
}

pub async fn delete_tag(
    State(s): State<ServerState>,
    id: Result<Path<String>, PathRejection>,
    q: Pairs,
) -> ApiResult {
    params(q, &[])?;
    let id = path(id, "id")?;
    let backend = s.backend.clone();
    s.write(async move { backend.delete_tag(&id).await })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn group_by_param(p: &Params) -> Result<Option<GroupBy>, ApiError> {
    p.get("group_by")
        .map(|g| {
            match g {
                "day" | "week" | "month" | "year" => GroupBy::parse(g),
                _ => None,
            }
            .ok_or_else(|| {
                ApiError::param(
                    "group_by",
                    "The 'group_by' parameter must be one of: day, week, month, year",
                )
            })
        })
        .transpose()
}

fn dimension_param(p: &Params) -> Result<Option<Dimension>, ApiError> {
    p.get("dimension")
        .map(|d| {
            match d {
                "category" | "tag" | "source" | "account" | "merchant" | "payee" => {
                    Dimension::parse(d)
                }
                _ => None,
            }
            .ok_or_else(|| {
                ApiError::param(
                    "dimension",
                    "The 'dimension' parameter must be one of: category, tag, source, merchant (or account, payee)",
                )
            })
        })
        .transpose()
}

pub async fn summary(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    let mut allowed = ANALYTICS_FILTERS.to_vec();
    allowed.push("group_by");
    let p = params(q, &allowed)?;
    let group_by = group_by_param(&p)?.unwrap_or(GroupBy::Month);
    let query = params::build_query(&p)?;
    let rows = s.backend.summary(&query, group_by).await?;
    Ok(Json(serde_json::json!({
        "data": rows.iter().map(WirePeriod::from).collect::<Vec<_>>(),
        "meta": { "group_by": group_by.name() },
    }))
    .into_response())
}

pub async fn breakdown(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    let mut allowed = ANALYTICS_FILTERS.to_vec();
    allowed.push("dimension");
    let p = params(q, &allowed)?;
    let dimension = dimension_param(&p)?.unwrap_or(Dimension::Category);
    let query = params::build_query(&p)?;
    let rows = s.backend.breakdown(&query, dimension).await?;
    Ok(Json(serde_json::json!({
        "data": rows.iter().map(WireBreakdownRow::from).collect::<Vec<_>>(),
        "meta": { "dimension": dimension.name() },
    }))
    .into_response())
}

/// A query in tally's language (`q`, with the seed's filters) answered by period (`group_by`) and/or by a
/// dimension: the same rows `tally summary` and `tally breakdown` print.
pub async fn analytics_query(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    let mut allowed = ANALYTICS_FILTERS.to_vec();
    allowed.extend(["group_by", "dimension"]);
    let p = params(q, &allowed)?;
    let (group_by, dimension) = (group_by_param(&p)?, dimension_param(&p)?);
    if group_by.is_none() && dimension.is_none() {
        return Err(ApiError::param(
            "group_by",
            "give group_by (day, week, month, year) and/or dimension (category, tag, source, merchant)",
        ));
    }
    let query = params::build_query(&p)?;
    let mut data = serde_json::Map::new();
    if let Some(g) = group_by {
        let rows = s.backend.summary(&query, g).await?;
        data.insert(
            "summary".into(),
            serde_json::json!(rows.iter().map(WirePeriod::from).collect::<Vec<_>>()),
        );
    }
    if let Some(d) = dimension {
        let rows = s.backend.breakdown(&query, d).await?;
        data.insert(
            "breakdown".into(),
            serde_json::json!(rows.iter().map(WireBreakdownRow::from).collect::<Vec<_>>()),
        );
    }
    Ok(Json(serde_json::json!({
        "data": data,
        "meta": {
            "q": query.source,
            "group_by": group_by.map(GroupBy::name),
            "dimension": dimension.map(Dimension::name),
        },
    }))
    .into_response())
}

/// Most months a projection may reach.
pub const MAX_PROJECTION_MONTHS: u32 = 24;

/// Recurring transactions found in the history (with their evidence) and each account's projected balance for
/// the next `months` months (default 3).
pub async fn projections(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    let mut allowed = ANALYTICS_FILTERS.to_vec();
    allowed.push("months");
    let p = params(q, &allowed)?;
    // Digits only, as for page and limit ("+3" and " 3" are refused).
    let months = p.positive("months", 3, MAX_PROJECTION_MONTHS as usize)? as u32;
    let query = params::build_query(&p)?;
    Ok(json(s.backend.projections(&query, months).await?))
}

pub async fn sources(State(s): State<ServerState>, q: Pairs) -> ApiResult {
    params(q, &[])?;
    Ok(json(s.backend.sources().await?))
}

async fn find_source(s: &ServerState, provider: &str) -> Result<crate::backend::Source, ApiError> {
    s.backend
        .sources()
        .await?
        .into_iter()
        .find(|src| src.id == provider || src.name == provider)
        .ok_or_else(|| {
            ApiError::not_found(format!("source {provider:?} not found")).with_param("provider")
        })
}

pub async fn source_status(
    State(s): State<ServerState>,
    provider: Result<Path<String>, PathRejection>,
    q: Pairs,
) -> ApiResult {
    params(q, &[])?;
    let provider = path(provider, "provider")?;
    Ok(json(find_source(&s, &provider).await?))
}

pub async fn sync_source(
    State(s): State<ServerState>,
    provider: Result<Path<String>, PathRejection>,
    q: Pairs,
) -> ApiResult {
    params(q, &[])?;
    let provider = path(provider, "provider")?;
    let found = find_source(&s, &provider).await?;
    let backend = s.backend.clone();
    let src = s
        .write(async move { backend.sync(&found.id).await })
        .await?;
    Ok(json(src))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /api/v1/openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method; see /api/v1/openapi.json",
    )
}
