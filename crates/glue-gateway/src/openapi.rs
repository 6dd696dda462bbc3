//! `GET /openapi.json`: the gateway's OpenAPI 3.1 document, as Glue serves
//! its schema from the backend API. A static file (`openapi.json` beside
//! `Cargo.toml`), compiled in; `scripts/schemathesis.sh` checks the live
//! gateway against it.
//!
//! Served before the auth layers, like `/healthz` (no token needed), in demo
//! and upstream mode alike.

/// The path the document is served at.
pub(crate) const PATH: &str = "/openapi.json";

/// The document.
pub(crate) const DOCUMENT: &str = include_str!("../openapi.json");

/// Its media type (the OpenAPI Initiative's registered JSON type, with the
/// version).
pub(crate) const CONTENT_TYPE: &str = "application/vnd.oai.openapi+json;version=3.1";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn doc() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    #[test]
    fn is_an_openapi_3_1_document_describing_itself() {
        let d = doc();
        assert!(
            d["openapi"].as_str().unwrap().starts_with("3.1."),
            "{}",
            d["openapi"]
        );
        let op = &d["paths"][PATH]["get"];
        let media = CONTENT_TYPE.split(';').next().unwrap();
        assert!(op["responses"]["200"]["content"][media].is_object(), "{op}");
    }

    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, root: &Value, seen: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let ptr = r.strip_prefix('#').expect("local reference");
                        assert!(root.pointer(ptr).is_some(), "dangling {r}");
                        *seen += 1;
                    }
                    m.values().for_each(|x| walk(x, root, seen));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, root, seen)),
                _ => {}
            }
        }
        let d = doc();
        let mut seen = 0;
        walk(&d, &d, &mut seen);
        assert!(seen > 10);
    }

    #[test]
    fn every_documented_path_is_a_known_route() {
        let d = doc();
        for path in d["paths"].as_object().unwrap().keys() {
            let concrete = path.replace("{id}", "x");
            assert_ne!(
                crate::observe::ROUTES[crate::observe::route_index(&concrete)],
                "other",
                "{path}"
            );
        }
    }
}
