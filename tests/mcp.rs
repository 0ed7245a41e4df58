//! `cargo capgate mcp` end to end, driven by rmcp's own client over the
//! real stdio transport: initialize, tools/list, and a call of every tool,
//! each answer checked against the output schema the tool advertises (which
//! must stand alone: a client has no files to resolve references in).

use std::path::Path;

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

use crate::util;

type Client = RunningService<RoleClient, ()>;

/// Starts `cargo-capgate mcp` in `dir` with its own cache, and connects.
async fn connect(dir: &Path, cache: &Path) -> Client {
    let command =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_cargo-capgate")).configure(|cmd| {
            cmd.arg("mcp")
                .current_dir(dir)
                .env("CAPGATE_CACHE_DIR", cache);
        });
    let transport = TokioChildProcess::new(command).expect("cargo-capgate mcp starts");
    ().serve(transport)
        .await
        .expect("the MCP session initializes")
}

async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object");
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The structured answer of a call that succeeded, valid against the
/// tool's advertised schema.
fn answer(tools: &[Tool], tool: &str, result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(false), "{tool}: {result:#?}");
    let value = result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("{tool} gives structured content"));
    let schema = tools
        .iter()
        .find(|t| t.name == tool)
        .and_then(|t| t.output_schema.as_deref())
        .unwrap_or_else(|| panic!("{tool} advertises an output schema"));
    let validator = jsonschema::options()
        .offline()
        .build(&Value::Object(schema.clone()))
        .unwrap_or_else(|e| panic!("{tool}'s output schema compiles alone: {e}"));
    crate::schema::assert_valid(&validator, tool, &value);
    value
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "current_thread")]
async fn an_agent_lists_the_tools_and_calls_each_one() {
    let rt = util::copy_fixture("round-trip");
    let cache = tempfile::tempdir().unwrap();
    let manifest = rt.path().join("Cargo.toml").display().to_string();
    // The BoM an agent would be handed: the workspace's own.
    let bom = util::run(&["bom", "--manifest-path", &manifest, "--locked", "--offline"]);
    bom.assert_code(0);

    let client = connect(rt.path(), cache.path()).await;
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("cargo-capgate")
    );
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|i| i.contains("vet_bom")),
        "{info:#?}"
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort();
    assert_eq!(
        names,
        ["check_workspace", "explain", "propose_policy", "vet_bom"]
    );
    for tool in &tools {
        let input = Value::Object(Map::clone(&tool.input_schema));
        assert_eq!(input["type"], "object", "{}", tool.name);
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{} is described",
            tool.name
        );
        let hints = tool.annotations.as_ref().expect("annotated");
        assert_eq!(hints.read_only_hint, Some(true), "{}", tool.name);
    }
    let explain_input = &tools
        .iter()
        .find(|t| t.name == "explain")
        .unwrap()
        .input_schema;
    assert_eq!(explain_input["required"], json!(["package"]));

    // vet_bom, the BoM as text: every component read from disk and within
    // the workspace's policy.
    let result = call(
        &client,
        "vet_bom",
        json!({"bom": bom.stdout, "manifest_path": manifest, "offline": true}),
    )
    .await;
    let report = answer(&tools, "vet_bom", &result);
    assert_eq!(report["verdict"], "pass", "{report:#}");
    let statuses: Vec<&str> = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "ok"], "{report:#}");

    // …and as a path, relative to the server's directory.
    std::fs::write(rt.path().join("bom.json"), &bom.stdout).unwrap();
    let result = call(
        &client,
        "vet_bom",
        json!({"bom_path": "bom.json", "offline": true}),
    )
    .await;
    assert_eq!(answer(&tools, "vet_bom", &result)["verdict"], "pass");

    // check_workspace: passes under the fixture's policy, fails (an answer,
    // not a tool error) under an empty one, with the grant that fixes it.
    let result = call(
        &client,
        "check_workspace",
        json!({"manifest_path": manifest, "offline": true}),
    )
    .await;
    assert_eq!(
        answer(&tools, "check_workspace", &result)["verdict"],
        "pass"
    );
    std::fs::write(rt.path().join("empty.toml"), "").unwrap();
    let result = call(
        &client,
        "check_workspace",
        json!({"manifest_path": manifest, "offline": true, "policy": "empty.toml"}),
    )
    .await;
    let report = answer(&tools, "check_workspace", &result);
    assert_eq!(report["verdict"], "fail");
    let grants: Vec<&Value> = report["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["grant"])
        .collect();
    assert!(
        grants.iter().any(|g| g["table"] == "pkg.rt-featured"),
        "{report:#}"
    );

    // explain: why rt-app reads files, through its path dependency.
    let result = call(
        &client,
        "explain",
        json!({"package": "rt-app", "capability": "fs", "manifest_path": manifest, "offline": true}),
    )
    .await;
    let report = answer(&tools, "explain", &result);
    let cap = &report["packages"][0]["capabilities"][0];
    assert_eq!(cap["capability"], "fs.read");
    assert_eq!(cap["granted"], true);
    assert!(
        cap["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["through"] == json!(["rt-app 0.1.0", "rt-featured 0.3.1"])),
        "{report:#}"
    );

    // propose_policy: the text `init` would write, written nowhere.
    let result = call(
        &client,
        "propose_policy",
        json!({"manifest_path": manifest, "offline": true}),
    )
    .await;
    let proposal = answer(&tools, "propose_policy", &result);
    assert_eq!(proposal["exists"], true);
    assert!(
        proposal["policy"]
            .as_str()
            .unwrap()
            .contains("[pkg.rt-featured]")
    );
    assert!(!rt.path().join("capgate.toml.new").exists());

    client.cancel().await.expect("the session closes");
}

#[tokio::test(flavor = "current_thread")]
async fn bad_calls_are_tool_errors_that_say_what_is_wrong() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    let cache = tempfile::tempdir().unwrap();
    let client = connect(dir.path(), cache.path()).await;

    // A name the build does not have: the error object, with the nearest.
    let result = call(&client, "explain", json!({"package": "subjcet"})).await;
    assert_eq!(result.is_error, Some(true));
    let error = result.structured_content.clone().expect("the error object");
    crate::schema::assert_valid(&crate::schema::validator("error"), "explain", &error);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `subject`?"),
        "{error:#}"
    );

    // A key the schema does not have is refused, not ignored.
    let result = call(&client, "check_workspace", json!({"all_feature": true})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("unknown argument all_feature"),
        "{result:#?}"
    );

    // Neither BoM text nor path; and a BoM that is not JSON.
    let result = call(&client, "vet_bom", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text_of(&result).contains("exactly one of `bom`"));
    let result = call(
        &client,
        "vet_bom",
        json!({"bom": "not json", "offline": true}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    let error = result.structured_content.clone().expect("the error object");
    crate::schema::assert_valid(&crate::schema::validator("error"), "vet_bom", &error);

    // A value that looks like an option stays a value.
    let result = call(&client, "explain", json!({"package": "--format=sarif"})).await;
    assert_eq!(result.is_error, Some(true));
    let error = result.structured_content.clone().expect("the error object");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no package `--format=sarif`"),
        "{error:#}"
    );

    client.cancel().await.expect("the session closes");
}

#[test]
fn build_options_given_to_the_server_are_refused() {
    let run = util::run(&["mcp", "--all-features"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains(
            "`--all-features` has no effect on `mcp` (each tool call names its own workspace and options)"
        ),
        "{}",
        run.describe()
    );
}

#[tokio::test(flavor = "current_thread")]
async fn hostile_arguments_stay_values_end_in_errors_and_leave_the_session_working() {
    let dir = util::copy_fixture("corpus/transitive-two-levels");
    let cache = tempfile::tempdir().unwrap();
    let client = connect(dir.path(), cache.path()).await;
    let bom = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"type": "library", "name": "x", "purl": "pkg:cargo/x@1.0.0"}],
    })
    .to_string();
    let calls = [
        // `-` as the path is stdin, which a call never shares with the
        // server: an empty BoM at once, not a wait for the client's input.
        ("vet_bom", json!({"bom_path": "-"})),
        ("vet_bom", json!({"bom": bom, "timeout": "--offline"})),
        (
            "vet_bom",
            json!({"bom": bom, "offline": true, "min_age_days": 1e300}),
        ),
        (
            "vet_bom",
            json!({"bom": bom, "offline": true, "timeout": "400000000000y"}),
        ),
        ("vet_bom", json!({"bom": bom, "registry": "--offline"})),
        (
            "check_workspace",
            json!({"features": ["--all-features"], "target": "--help", "policy": "--version"}),
        ),
        ("propose_policy", json!({"manifest_path": "--help"})),
        ("explain", json!({"package": "-", "capability": "--help"})),
    ];
    for (tool, arguments) in calls {
        let result = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            call(&client, tool, arguments.clone()),
        )
        .await
        .unwrap_or_else(|_| panic!("{tool} {arguments}: no answer in 120 s"));
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} {arguments}: {result:#?}"
        );
        let text = format!("{}{:?}", text_of(&result), result.structured_content);
        let version = format!("cargo-capgate {}", env!("CARGO_PKG_VERSION"));
        for never in ["panicked", "\"pass\"", "Usage:", &version] {
            assert!(
                !text.contains(never),
                "{tool} {arguments}: {never:?} in {text}"
            );
        }
    }
    // The protocol is intact: the server still answers.
    let tools = client
        .list_all_tools()
        .await
        .expect("tools/list still works");
    assert_eq!(tools.len(), 4);
    client.cancel().await.expect("the session closes");
}
