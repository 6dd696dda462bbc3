//! Proxy mode decides on what the upstream will interpret: every request an
//! attacker used to get around the route table (2026-12-03 black-box run)
//! is refused before the upstream sees it, with no token and with a
//! warehouse token; the upstream marks its answers (`x-upstream: yes`), so a
//! refusal proves the request never reached it.

mod common;

use common::*;

const LIST: &str = "a3c1e5b0-3f4d-5e6a-9b7c-000000000001";

/// One attack: the raw request line's method and target, extra headers.
struct Case {
    name: &'static str,
    method: &'static str,
    target: String,
    headers: &'static [(&'static str, &'static str)],
    /// Expected status with no token and with a warehouse token.
    expect: (u16, u16),
}

fn items() -> String {
    format!("/picking-lists/{LIST}/picking-list-items")
}

fn cases() -> Vec<Case> {
    let case = |name, method, target: String, headers, expect| Case {
        name,
        method,
        target,
        headers,
        expect,
    };
    vec![
        case(
            "X-HTTP-Method-Override",
            "POST",
            items(),
            &[("X-HTTP-Method-Override", "PATCH")],
            (400, 400),
        ),
        case(
            "X-HTTP-Method",
            "POST",
            items(),
            &[("X-HTTP-Method", "PATCH")],
            (400, 400),
        ),
        case(
            "X-Method-Override",
            "POST",
            items(),
            &[("X-Method-Override", "PATCH")],
            (400, 400),
        ),
        case(
            "_method query parameter",
            "POST",
            format!("{}?_method=PATCH", items()),
            &[],
            (400, 400),
        ),
        case(
            "encoded _method parameter",
            "POST",
            format!("{}?%5Fmethod=PATCH", items()),
            &[],
            (400, 400),
        ),
        case("lowercase patch", "patch", items(), &[], (405, 405)),
        // Outside the table: refused by the default `deny` (401 without a
        // token, 403 with one that does not fit).
        case("PUT", "PUT", items(), &[], (401, 403)),
        case("POST to PATCH-only route", "POST", items(), &[], (401, 403)),
        case(
            "upper-case path",
            "POST",
            "/WAREHOUSE-TOKENS".into(),
            &[],
            (401, 403),
        ),
        case(
            "upper-case picking-list-items",
            "PATCH",
            items().to_uppercase(),
            &[],
            (401, 403),
        ),
        case(
            "%2F for /",
            "PATCH",
            format!("/picking-lists%2F{LIST}%2Fpicking-list-items"),
            &[],
            (400, 400),
        ),
        case(
            "%2f for /",
            "PATCH",
            format!("/picking-lists/{LIST}%2fpicking-list-items"),
            &[],
            (400, 400),
        ),
        case(
            ";x=1 path parameter",
            "PATCH",
            format!("{};x=1", items()),
            &[],
            (400, 400),
        ),
        case("%00", "PATCH", format!("{}%00", items()), &[], (400, 400)),
        case(
            "%20",
            "POST",
            "/warehouse-tokens%20".into(),
            &[],
            (400, 400),
        ),
        case(
            "backslash",
            "PATCH",
            format!("/picking-lists\\{LIST}\\picking-list-items"),
            &[],
            (400, 400),
        ),
        case(
            "%5C",
            "PATCH",
            format!("/picking-lists%5C{LIST}%5Cpicking-list-items"),
            &[],
            (400, 400),
        ),
        case(
            "%2570 double encoding",
            "PATCH",
            format!("/picking-lists/{LIST}/%2570icking-list-items"),
            &[],
            (400, 400),
        ),
        case(
            "dot segment",
            "PATCH",
            format!("/picking-lists/x/../{LIST}/picking-list-items"),
            &[],
            (400, 400),
        ),
    ]
}

fn raw_request(c: &Case, token: Option<&str>) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: gw\r\nconnection: close\r\ncontent-type: application/vnd.api+json\r\ncontent-length: 2\r\n",
        c.method, c.target
    );
    for (k, v) in c.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(t) = token {
        head.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n{}");
    head.into_bytes()
}

#[test]
fn proxy_mode_refuses_every_route_around_the_scope_table() {
    let upstream = Upstream::start(std::time::Duration::ZERO);
    let url = format!("http://{}", upstream.addr);
    let gw = Gateway::start(&["--upstream", &url]);
    let user = gw.login();
    let warehouse = gw.warehouse_token(&user);
    let mut failures = Vec::new();
    for c in cases() {
        for (token, want) in [(None, c.expect.0), (Some(warehouse.as_str()), c.expect.1)] {
            let res = send_raw(gw.addr, &raw_request(&c, token));
            let who = if token.is_some() {
                "warehouse token"
            } else {
                "no token"
            };
            if res.status != want || res.header("x-upstream").is_some() {
                failures.push(format!(
                    "{} ({who}): {} {}, upstream reached: {}",
                    c.name,
                    res.status,
                    res.text(),
                    res.header("x-upstream").is_some()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The routes in the table still reach the upstream, in their normal form.
    let res = gw
        .get(&format!("/%70icking-lists/{LIST}"))
        .bearer(&warehouse)
        .send();
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("x-upstream"), Some("yes"));
    assert_eq!(res.json()["path"], format!("/picking-lists/{LIST}"));
    let res = send_raw(
        gw.addr,
        &raw_request(
            &Case {
                name: "PATCH by a user",
                method: "PATCH",
                target: items(),
                headers: &[],
                expect: (200, 200),
            },
            Some(&user),
        ),
    );
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["method"], "PATCH");
}

#[test]
fn unmatched_routes_setting() {
    let upstream = Upstream::start(std::time::Duration::ZERO);
    let url = format!("http://{}", upstream.addr);
    let deny = Gateway::start(&["--upstream", &url]);
    let user = deny.login();
    // Default in proxy mode: deny, also for a valid user token.
    assert_eq!(deny.get("/service-points").bearer(&user).send().status, 403);
    assert_eq!(deny.get("/service-points").send().status, 401);
    // Public routes of Glue stay public.
    let res = deny.post("/token").body("grant_type=password").send();
    assert_eq!(res.status, 400, "{}", res.text());
    let authenticated =
        Gateway::start(&["--upstream", &url, "--unmatched-routes", "authenticated"]);
    let user = authenticated.login();
    let res = authenticated.get("/service-points").bearer(&user).send();
    assert_eq!(res.status, 200);
    assert_eq!(res.header("x-upstream"), Some("yes"));
    assert_eq!(authenticated.get("/service-points").send().status, 401);
    let (status, stderr) = run_to_exit(&["--unmatched-routes", "maybe"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`unmatched_routes`"), "{stderr}");
}

#[test]
fn demo_mode_refuses_or_does_not_find_the_same_requests() {
    let gw = Gateway::start(&[]);
    let user = gw.login();
    let warehouse = gw.warehouse_token(&user);
    for c in cases() {
        let res = send_raw(gw.addr, &raw_request(&c, Some(&warehouse)));
        assert!(
            matches!(res.status, 400 | 403 | 404 | 405),
            "{}: {} {}",
            c.name,
            res.status,
            res.text()
        );
    }
}
