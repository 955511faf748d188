//! The API's OpenAPI document at `/api/openapi.json` and its documentation page at `/docs`,
//! which must work with no network: every asset it loads comes from this server.

mod common;

use app::backend::security::DOCS_POLICY;
use common::spawn_app;
use serde_json::Value;

#[tokio::test]
async fn the_document_describes_every_operation_with_its_auth_and_errors() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.expect("JSON");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let paths = document["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, operation) in item.as_object().expect("path item") {
            operations += 1;
            let name = format!("{} {path}", method.to_uppercase());
            let public = path.ends_with("/register") || path.ends_with("/login");
            let secured = operation["security"]
                .as_array()
                .is_some_and(|schemes| schemes.iter().any(|s| s.get("bearer").is_some()));
            assert_eq!(secured, !public, "{name}: bearer auth unless it signs in");
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2') || s == "101"),
                "{name}: a success response"
            );
            let mut expected_errors = vec!["503"];
            if secured {
                expected_errors.extend(["401", "403"]);
            }
            if operation.get("requestBody").is_some() {
                expected_errors.extend(["400", "413", "415", "422"]);
            }
            if path.contains('{') {
                expected_errors.push("404");
            }
            for status in expected_errors {
                let error = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{name}: documents {status}"));
                assert_eq!(
                    error["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{name} {status}: errors are {{detail}}"
                );
            }
            assert!(
                operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tagged"
            );
        }
    }
    assert_eq!(operations, 27, "the API's operations, each documented once");

    // Schemas carry the limits the server enforces, so clients and the fuzzer see them.
    let template = &document["components"]["schemas"]["TemplateInput"]["properties"];
    assert_eq!(template["title"]["maxLength"], 200);
    assert_eq!(template["time_limit_minutes"]["maximum"], 600);
    assert_eq!(
        document["components"]["schemas"]["Id"]["pattern"],
        "^[0-9a-f]{24}$"
    );
}

#[tokio::test]
async fn the_docs_page_loads_only_from_this_server_under_its_own_policy() {
    let app = spawn_app().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        DOCS_POLICY,
        "Swagger UI gets its policy: own scripts only, inline styles"
    );
    let html = page.text().await.expect("text");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN: {html}"
    );

    // Every script and stylesheet the page names is served here.
    let assets: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.ends_with(".js") || part.ends_with(".css"))
        .collect();
    assert!(assets.len() >= 3, "{assets:?}");
    for asset in assets {
        let path = format!("/docs/{}", asset.trim_start_matches("./"));
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .expect("text");
    assert!(initializer.contains("/api/openapi.json"), "{initializer}");
}
