//! JSON:API documents as Glue's formatter writes them
//! (`GlueJsonApiConvention`'s `JsonGlueResponseFormatter` and
//! `RelationshipResponseBuilder`, spryker/spryker-core):
//!
//! - `data` is one object when the response has exactly one resource and
//!   the request names its resource's own id or is a POST; otherwise an
//!   array (so `PATCH /picking-lists/{id}/picking-list-items` answers an
//!   array, and a `GET` by id that finds nothing is not an object);
//! - every resource has `links.self`: the domain, the parent resources
//!   (`picking-lists/{id}/`), its type and id, and the request's query;
//! - a `GET` of a collection has top-level `links.self` (the domain, the
//!   parents, the resource name and the query);
//! - relationships are grouped by the related type,
//!   `{"concrete-products": {"data": [{"type", "id"}]}}`, and left out when
//!   there are none;
//! - relationships are loaded only for types the request names in
//!   `include`, or that are the request's own resource type (a `PATCH` of
//!   `picking-list-items` includes its items unasked); `included` holds each
//!   related resource once, and is left out when empty.

use http::{HeaderValue, Method, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::body::{Body, full};

/// JSON:API's media type.
pub(crate) const JSON_API: &str = "application/vnd.api+json";

/// One resource object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Resource {
    pub(crate) ty: &'static str,
    pub(crate) id: String,
    pub(crate) attributes: Value,
    /// Related resources by type, in order; types without any are dropped.
    pub(crate) relationships: Vec<(&'static str, Vec<String>)>,
}

impl Resource {
    pub(crate) fn new(ty: &'static str, id: impl Into<String>, attributes: Value) -> Self {
        Resource {
            ty,
            id: id.into(),
            attributes,
            relationships: Vec::new(),
        }
    }

    /// Adds a relationship to one resource of `ty` (grouped with the others
    /// of that type).
    pub(crate) fn relate(&mut self, ty: &'static str, id: impl Into<String>) {
        let id = id.into();
        match self.relationships.iter_mut().find(|(t, _)| *t == ty) {
            Some((_, ids)) => ids.push(id),
            None => self.relationships.push((ty, vec![id])),
        }
    }
}

/// What the formatter needs to know about the request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) method: Method,
    /// `http://host`, Glue's configured domain.
    pub(crate) base: String,
    /// Parent resources of the route (`picking-lists/{id}` of
    /// `…/picking-list-items`).
    pub(crate) parents: Vec<(&'static str, String)>,
    /// The route's resource name (the last literal path segment).
    pub(crate) resource: &'static str,
    /// The resource id the path names, if any.
    pub(crate) id: Option<String>,
    /// `?…` (percent-decoded) or empty.
    pub(crate) query: String,
    /// The types named by `include=`.
    pub(crate) include: Vec<String>,
}

impl Ctx {
    /// Whether relationships to `ty` are loaded (Glue's `hasRelationship`).
    pub(crate) fn wants(&self, ty: &str) -> bool {
        ty == self.resource || self.include.iter().any(|i| i == ty)
    }

    fn parents_path(&self) -> String {
        self.parents
            .iter()
            .map(|(ty, id)| format!("{ty}/{id}/"))
            .collect()
    }

    fn self_link(&self, r: &Resource) -> String {
        format!(
            "{}/{}{}/{}{}",
            self.base,
            self.parents_path(),
            r.ty,
            r.id,
            self.query
        )
    }

    fn object(&self, r: &Resource) -> Value {
        let mut o = Map::new();
        o.insert("type".into(), json!(r.ty));
        o.insert("id".into(), json!(r.id));
        o.insert("attributes".into(), r.attributes.clone());
        let rels: Map<String, Value> = r
            .relationships
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(ty, ids)| {
                let data: Vec<Value> = ids.iter().map(|id| json!({"type": ty, "id": id})).collect();
                ((*ty).to_owned(), json!({ "data": data }))
            })
            .collect();
        if !rels.is_empty() {
            o.insert("relationships".into(), Value::Object(rels));
        }
        o.insert("links".into(), json!({"self": self.self_link(r)}));
        Value::Object(o)
    }

    /// The document for `data` and the related resources in `included`
    /// (deduplicated by type and id, first one kept).
    pub(crate) fn document(&self, data: &[Resource], included: &[Resource]) -> Value {
        let mut doc = Map::new();
        let single = data.len() == 1 && (self.id.is_some() || self.method == Method::POST);
        if single {
            doc.insert("data".into(), self.object(&data[0]));
        } else {
            let list: Vec<Value> = data.iter().map(|r| self.object(r)).collect();
            doc.insert("data".into(), Value::Array(list));
            if self.method == Method::GET && self.id.is_none() {
                let link = format!(
                    "{}/{}{}{}",
                    self.base,
                    self.parents_path(),
                    self.resource,
                    self.query
                );
                doc.insert("links".into(), json!({ "self": link }));
            }
        }
        let mut seen: Vec<(&str, &str)> = Vec::new();
        let mut inc = Vec::new();
        for r in included {
            if seen.contains(&(r.ty, r.id.as_str())) {
                continue;
            }
            seen.push((r.ty, r.id.as_str()));
            inc.push(self.object(r));
        }
        if !inc.is_empty() {
            doc.insert("included".into(), Value::Array(inc));
        }
        Value::Object(doc)
    }
}

/// A JSON:API response.
pub(crate) fn respond(status: StatusCode, doc: &Value) -> Response<Body> {
    let mut res = Response::new(full(doc.to_string()));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_API),
    );
    res
}

/// The query string's `key=value` pairs, percent-decoded (`+` is a space),
/// in order.
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        String::from_utf8_lossy(
            &glue_auth_core::PercentDecode::form(s.as_bytes()).collect::<Vec<u8>>(),
        )
        .into_owned()
    };
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// `?query` as Glue writes it into links (decoded), or empty.
pub(crate) fn link_query(query: Option<&str>) -> String {
    match query.filter(|q| !q.is_empty()) {
        Some(q) => {
            let decoded: Vec<u8> = glue_auth_core::PercentDecode::form(q.as_bytes()).collect();
            format!("?{}", String::from_utf8_lossy(&decoded))
        }
        None => String::new(),
    }
}

/// The types named by `include=a,b` (the last `include` wins, as in PHP).
pub(crate) fn include_list(pairs: &[(String, String)]) -> Vec<String> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == "include")
        .map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A `filter[…]` key: `Ok(Some((resource, field, is_list)))` for
/// `filter[resource.field]` or `filter[resource.field][]`, `Ok(None)` for
/// other keys, `Err(())` for a filter without a field (Glue: 400 `011`).
pub(crate) fn filter_key(key: &str) -> Result<Option<(&str, &str, bool)>, ()> {
    let Some(rest) = key.strip_prefix("filter[") else {
        return Ok(None);
    };
    let (inner, tail) = rest.split_once(']').ok_or(())?;
    let list = match tail {
        "" => false,
        t if t.starts_with('[') && t.ends_with(']') => true,
        _ => return Err(()),
    };
    match inner.split_once('.') {
        Some((res, field)) if !field.is_empty() => Ok(Some((res, field, list))),
        _ => Err(()),
    }
}

/// PHP's `FILTER_VALIDATE_BOOLEAN` (Glue's `isActive` filter): `1`, `true`,
/// `on`, `yes` (any case) are true, anything else false.
pub(crate) fn php_bool(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "on" | "yes"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(method: Method, id: Option<&str>, parents: bool) -> Ctx {
        Ctx {
            method,
            base: "http://h".into(),
            parents: if parents {
                vec![("picking-lists", "p1".into())]
            } else {
                Vec::new()
            },
            resource: if parents {
                "picking-list-items"
            } else {
                "picking-lists"
            },
            id: id.map(str::to_owned),
            query: "?include=x".into(),
            include: vec!["x".into()],
        }
    }

    #[test]
    fn data_is_an_object_only_for_the_own_id_or_a_post() {
        let one = [Resource::new("picking-lists", "p1", json!({}))];
        let doc = ctx(Method::GET, Some("p1"), false).document(&one, &[]);
        assert!(doc["data"].is_object());
        assert!(doc.get("links").is_none());
        assert_eq!(
            doc["data"]["links"]["self"],
            "http://h/picking-lists/p1?include=x"
        );
        let doc = ctx(Method::POST, None, true).document(&one, &[]);
        assert!(doc["data"].is_object());
        assert_eq!(
            doc["data"]["links"]["self"],
            "http://h/picking-lists/p1/picking-lists/p1?include=x"
        );
        let doc = ctx(Method::PATCH, None, true).document(&one, &[]);
        assert!(doc["data"].is_array(), "{doc}");
        assert!(doc.get("links").is_none());
        let doc = ctx(Method::GET, None, false).document(&one, &[]);
        assert!(doc["data"].is_array());
        assert_eq!(doc["links"]["self"], "http://h/picking-lists?include=x");
        let doc = ctx(Method::GET, Some("p1"), false).document(&[], &[]);
        assert_eq!(doc["data"], json!([]));
    }

    #[test]
    fn relationships_and_included() {
        let mut r = Resource::new("picking-list-items", "i1", json!({}));
        r.relate("concrete-products", "sku-1");
        r.relate("sales-orders", "DE--1");
        r.relate("concrete-products", "sku-2");
        let c = Resource::new("concrete-products", "sku-1", json!({"sku": "sku-1"}));
        let doc = ctx(Method::GET, None, false).document(&[r], &[c.clone(), c]);
        assert_eq!(
            doc["data"][0]["relationships"]["concrete-products"]["data"],
            json!([{"type": "concrete-products", "id": "sku-1"},
                   {"type": "concrete-products", "id": "sku-2"}])
        );
        assert_eq!(doc["included"].as_array().unwrap().len(), 1);
        let bare = Resource::new("picking-lists", "p", json!({}));
        let doc = ctx(Method::GET, None, false).document(&[bare], &[]);
        assert!(doc["data"][0].get("relationships").is_none());
        assert!(doc.get("included").is_none());
    }

    #[test]
    fn query_parsing() {
        let pairs = query_pairs(Some(
            "include=a%2Cb&filter%5Bpicking-lists.uuids%5D%5B%5D=x&filter[picking-lists.status]=ready",
        ));
        assert_eq!(include_list(&pairs), ["a", "b"]);
        assert_eq!(
            filter_key(&pairs[1].0),
            Ok(Some(("picking-lists", "uuids", true)))
        );
        assert_eq!(
            filter_key("filter[picking-lists.status]"),
            Ok(Some(("picking-lists", "status", false)))
        );
        assert_eq!(filter_key("filter[status]"), Err(()));
        assert_eq!(filter_key("filter[a.b]x"), Err(()));
        assert_eq!(filter_key("include"), Ok(None));
        assert!(php_bool("TRUE") && php_bool("on") && !php_bool("false") && !php_bool("2"));
        assert_eq!(link_query(Some("a=%5B1%5D")), "?a=[1]");
        assert_eq!(link_query(None), "");
    }
}
