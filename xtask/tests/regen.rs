//! Tests of `cargo xtask regen`. Offline: URLs are served on loopback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Value};
use xtask::{load, pipeline, write, Config, Options, Overlay, RegenError};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace() -> PathBuf {
    manifest_dir()
        .parent()
        .expect("xtask sits in the workspace")
        .to_owned()
}

fn fixtures() -> PathBuf {
    manifest_dir().join("tests/fixtures")
}

fn config() -> Config {
    Config {
        upstream: "unused".into(),
        hosts: vec!["plex.tv".into(), "clients.plex.tv".into()],
        xml: false,
        error_schema: "ErrorResponse".into(),
    }
}

fn empty_overlay() -> Overlay {
    Overlay::parse(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n",
        Path::new("empty.yaml"),
    )
    .expect("a valid overlay")
}

/// Runs the pipeline on a fixture's input with no committed spec and
/// compares with its `expected.json`, byte for byte. `REGEN_BLESS=1`
/// rewrites the expectation instead (review the diff before committing).
fn check_fixture(name: &str) {
    let folder = fixtures().join("pipeline").join(name);
    let input = load::load(folder.join("input.yaml").to_str().unwrap()).expect("fixture loads");
    let result =
        pipeline(input.clone(), None, &empty_overlay(), &config()).expect("fixture regenerates");
    let mut text = write::render(&result.doc);
    let mut extras = report_lines(&result.skipped, &result.notes);
    for candidate in &result.candidates {
        extras.push_str(&format!("// candidate: {candidate}\n"));
    }
    text.push_str(&extras);
    let expected_path = folder.join("expected.json");
    if std::env::var_os("REGEN_BLESS").is_some() {
        std::fs::write(&expected_path, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&expected_path).expect("expected.json exists");
    assert_eq!(text, expected, "fixture {name} differs from expected.json");

    // Idempotence: the same input again, with the output as the committed
    // spec (what the next refresh does), comes out byte for byte the same.
    let again = pipeline(input, Some(&result.doc), &empty_overlay(), &config()).unwrap();
    assert_eq!(
        write::render(&again.doc),
        write::render(&result.doc),
        "fixture {name} is not idempotent"
    );
}

/// The report lines of a fixture, appended after the JSON so that the
/// expectation also pins what was skipped and rewritten.
fn report_lines(skipped: &[String], notes: &[String]) -> String {
    let mut out = String::new();
    for line in skipped {
        out.push_str(&format!("// skipped: {line}\n"));
    }
    for line in notes {
        out.push_str(&format!("// note: {line}\n"));
    }
    out
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        $( #[test] fn $name() { check_fixture(stringify!($name)); } )*
    };
}

fixtures!(
    type_lists,
    examples_const,
    exclusive_bounds,
    format_nullable,
    in_list,
    number_ids,
    ref_siblings,
    tuples_and_content,
    document_31,
    select_hosts,
    responses,
    operation_ids,
    parameters,
    request_bodies,
    security,
    external_ref,
    doubled_prefixes,
);

// ---- the committed files -------------------------------------------------

/// The committed spec is already in the output format.
#[test]
fn committed_spec_round_trips_byte_identical() {
    let text = std::fs::read_to_string(workspace().join("openapi/plex-tv.json")).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(write::render(&value), text);
}

/// What CI runs: `cargo xtask regen --check` on the committed files.
#[test]
fn committed_spec_passes_check() {
    let options = Options::defaults(&workspace());
    let options = Options {
        check: true,
        ..options
    };
    let temp = copy_project_files(&options);
    let outcome = xtask::run(&temp.options);
    if let Err(RegenError::Drift { diff, .. }) = &outcome {
        panic!("the committed spec drifts from regen's output:\n{diff}");
    }
    outcome.expect("check passes");
}

struct TempProject {
    _dir: tempfile::TempDir,
    options: Options,
}

/// Copies the committed spec, overlay and config into a temporary folder,
/// so that tests never touch the real ones.
fn copy_project_files(options: &Options) -> TempProject {
    let dir = tempfile::tempdir().unwrap();
    let copy = |from: &Path| {
        let to = dir.path().join(from.file_name().unwrap());
        std::fs::copy(from, &to).unwrap();
        to
    };
    let options = Options {
        from: options.from.clone(),
        check: options.check,
        spec: copy(&options.spec),
        overlay: copy(&options.overlay),
        config: copy(&options.config),
        src: options.src.clone(),
    };
    TempProject { _dir: dir, options }
}

#[test]
fn check_reports_drift_with_a_diff_and_writes_nothing() {
    let options = Options {
        check: true,
        ..Options::defaults(&workspace())
    };
    let temp = copy_project_files(&options);
    // Same JSON, other formatting: regen would rewrite it.
    let text = std::fs::read_to_string(&temp.options.spec).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let drifted = serde_json::to_string(&value).unwrap();
    std::fs::write(&temp.options.spec, &drifted).unwrap();
    match xtask::run(&temp.options) {
        Err(RegenError::Drift { diff, .. }) => {
            assert!(diff.contains("+{"), "diff shows the change:\n{diff}");
        }
        other => panic!("expected drift, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(&temp.options.spec).unwrap(),
        drifted
    );
}

#[test]
fn check_reports_content_drift() {
    let options = Options {
        check: true,
        ..Options::defaults(&workspace())
    };
    let temp = copy_project_files(&options);
    let mut value: Value =
        serde_json::from_str(&std::fs::read_to_string(&temp.options.spec).unwrap()).unwrap();
    // An operation without an id: regen would derive one.
    let paths = value["paths"].as_object_mut().unwrap();
    let (_, item) = paths.iter_mut().next().unwrap();
    let op = item.as_object_mut().unwrap().values_mut().next().unwrap();
    op.as_object_mut().unwrap().remove("operationId");
    let drifted = write::render(&value);
    std::fs::write(&temp.options.spec, &drifted).unwrap();
    let error = xtask::run(&temp.options).unwrap_err();
    // The overlay names every operation by path, so it gives the id back:
    // the drift is the missing id itself.
    match error {
        RegenError::Drift { diff, .. } => {
            let added = |l: &str| l.starts_with('+') && l.contains("\"operationId\"");
            assert!(diff.lines().any(added), "{diff}")
        }
        other => panic!("expected drift, got {other:?}"),
    }
}

// ---- refresh from a file, written to a temporary spec ---------------------

fn minimal_spec() -> &'static str {
    r#"openapi: 3.1.0
info: {title: t, version: '1'}
servers: [{url: 'https://plex.tv/api/v2'}]
paths:
  /ping:
    get:
      operationId: ping
      responses:
        '200': {description: ok}
  /pins:
    post: {operationId: postPins, responses: {'201': {description: a pin, content: {application/json: {schema: {type: object, properties: {code: {type: string}}}}}}}}
"#
}

/// A temporary project with its own config and an empty overlay.
fn scratch_project() -> (tempfile::TempDir, Options) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("regen.toml");
    std::fs::write(&config, "upstream = \"http://127.0.0.1:9/unused.yaml\"\n").unwrap();
    let overlay = dir.path().join("overlay.yaml");
    std::fs::write(
        &overlay,
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n",
    )
    .unwrap();
    let options = Options {
        from: None,
        check: false,
        spec: dir.path().join("spec.json"),
        overlay,
        config,
        src: dir.path().join("src"),
    };
    (dir, options)
}

#[test]
fn regen_writes_then_is_stable_and_check_passes() {
    let (dir, options) = scratch_project();
    let input = dir.path().join("upstream.yaml");
    std::fs::write(&input, minimal_spec()).unwrap();
    let options = Options {
        from: Some(input.display().to_string()),
        ..options
    };
    let first = xtask::run(&options).unwrap();
    assert!(first.written);
    assert_eq!(
        first.report.operations_added,
        vec!["GET /api/v2/ping (ping)", "POST /api/v2/pins (postPins)"]
    );
    let bytes = std::fs::read(&options.spec).unwrap();
    let second = xtask::run(&options).unwrap();
    assert!(!second.written);
    assert!(second.report.is_unchanged());
    assert_eq!(std::fs::read(&options.spec).unwrap(), bytes);
    let check = Options {
        from: None,
        check: true,
        ..options
    };
    xtask::run(&check).expect("a freshly written spec passes --check");
}

#[test]
fn overlay_update_remove_and_unions() {
    let mut doc = json!({"a": {"b": {"c": 1, "d": [1]}, "e": 2}, "list": [1, 2, 3]});
    let overlay = Overlay::parse(
        r#"overlay: 1.0.0
info: {title: t, version: '1'}
actions:
  - target: $.a.b
    update: {c: 5, d: [9], f: {g: 1}}
  - target: "$.a['e','missing']"
    remove: true
  - target: $.list
    update: 4
  - target: $.list[?@ < 3]
    remove: true
"#,
        Path::new("o.yaml"),
    )
    .unwrap();
    overlay.apply(&mut doc).unwrap();
    assert_eq!(
        doc,
        json!({"a": {"b": {"c": 5, "d": [9], "f": {"g": 1}}}, "list": [3, 4]})
    );
}

// ---- bad inputs: clear errors, nothing written ----------------------------

/// Runs regen from `source` into a scratch spec that already has content,
/// and checks that the run fails and leaves the spec byte for byte alone.
fn fails_without_writing(source: &str, overlay: Option<&str>) -> RegenError {
    let (dir, options) = scratch_project();
    let seed = dir.path().join("seed.yaml");
    std::fs::write(&seed, minimal_spec()).unwrap();
    xtask::run(&Options {
        from: Some(seed.display().to_string()),
        ..options.clone()
    })
    .unwrap();
    if let Some(overlay) = overlay {
        std::fs::write(&options.overlay, overlay).unwrap();
    }
    let before = std::fs::read(&options.spec).unwrap();
    let error = xtask::run(&Options {
        from: Some(source.into()),
        ..options.clone()
    })
    .unwrap_err();
    assert_eq!(
        std::fs::read(&options.spec).unwrap(),
        before,
        "the spec is untouched"
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 4, "no temporary files are left behind");
    error
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn unreachable_url_is_an_error() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = fails_without_writing(&format!("http://127.0.0.1:{port}/spec.yaml"), None);
    assert!(matches!(error, RegenError::Fetch { .. }), "{error}");
    assert!(
        error.to_string().contains("--from"),
        "says what to do next: {error}"
    );
}

#[test]
fn url_is_fetched() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buffer = [0u8; 4096];
        let _ = stream.read(&mut buffer).unwrap();
        let body = minimal_spec();
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
    });
    let doc = load::load(&format!("http://127.0.0.1:{port}/plex-api-spec.yaml")).unwrap();
    server.join().unwrap();
    assert_eq!(doc["paths"]["/ping"]["get"]["operationId"], "ping");
}

#[test]
fn a_file_that_is_not_openapi_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "notes.yaml", "title: shopping list\nitems: [milk]\n");
    let error = fails_without_writing(&path, None);
    assert!(matches!(error, RegenError::NotOpenApi { .. }), "{error}");
    let path = write_temp(&dir, "garbage.yaml", "{ this is: [not yaml\n");
    assert!(matches!(
        fails_without_writing(&path, None),
        RegenError::Parse { .. }
    ));
}

#[test]
fn swagger_2_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(
        &dir,
        "swagger.json",
        r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#,
    );
    let error = fails_without_writing(&path, None);
    assert!(matches!(error, RegenError::Swagger2 { .. }), "{error}");
    assert!(error.to_string().contains("Convert it"), "{error}");
}

#[test]
fn broken_refs_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let internal = minimal_spec().replace(
        "'200': {description: ok}",
        "'200': {$ref: '#/components/responses/Missing'}",
    );
    let path = write_temp(&dir, "internal.yaml", &internal);
    let error = fails_without_writing(&path, None);
    assert!(
        matches!(&error, RegenError::BrokenRef { reference, .. } if reference == "#/components/responses/Missing"),
        "{error}"
    );
    let external = minimal_spec().replace(
        "'200': {description: ok}",
        "'200': {$ref: 'nowhere.yaml#/Ok'}",
    );
    let path = write_temp(&dir, "external.yaml", &external);
    let error = fails_without_writing(&path, None);
    assert!(matches!(error, RegenError::BrokenRef { .. }), "{error}");
}

#[test]
fn an_overlay_target_that_matches_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "ok.yaml", minimal_spec());
    let overlay = "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths['/nope'].get\n    update: {summary: x}\n";
    let error = fails_without_writing(&path, Some(overlay));
    assert!(
        matches!(&error, RegenError::OverlayUnmatched { index: 1, .. }),
        "{error}"
    );
}

#[test]
fn a_result_that_breaks_the_build_is_rejected_naming_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "ok.yaml", minimal_spec());
    // An enum whose default is not one of its values: nothing before
    // progenitor notices it.
    let overlay = r#"overlay: 1.0.0
info: {title: t, version: '1'}
actions:
  - target: $.paths['/api/v2/ping'].get
    update:
      parameters:
        - name: mode
          in: query
          required: true
          schema: {type: string, enum: [a, b], default: c}
"#;
    let error = fails_without_writing(&path, Some(overlay));
    match &error {
        RegenError::Invalid(message) => assert!(message.contains("ping"), "{message}"),
        other => panic!("expected a rejected result, got {other}"),
    }
}

// ---- the reference upstream file -------------------------------------------

/// A real upstream file of `shared/plex-tv/reference` (reference data, never
/// committed here), if it is beside the workspace.
fn reference_file(name: &str) -> Option<PathBuf> {
    let path = workspace().join("../shared/plex-tv/reference").join(name);
    path.exists().then_some(path)
}

#[test]
fn refresh_from_the_2024_reference_keeps_the_public_api() {
    refresh_from_reference_keeps_the_public_api("community-plextv-spec-2024-01.yaml", 0);
}

/// The current combined file: 53 operations on plex.tv hosts, most of them
/// new to the crate, several with doubled prefixes or XML-only answers.
#[test]
fn refresh_from_the_2026_reference_keeps_the_public_api() {
    refresh_from_reference_keeps_the_public_api("community-spec-2026-08.yaml", 20);
}

/// Refreshing from the community file keeps every public name and type the
/// crate uses: each committed operation keeps its id, parameters, body and
/// responses, and each committed schema stays as it is.
/// Refreshes the committed spec from a reference file: every public
/// operation keeps its name, parameters, body, responses and servers, every
/// schema stays, nothing new is admitted (at least `min_candidates` are
/// reported instead), and the result is a fixed point.
fn refresh_from_reference_keeps_the_public_api(name: &str, min_candidates: usize) {
    let Some(reference) = reference_file(name) else {
        eprintln!("skipped: shared/plex-tv/reference/{name} is not here");
        return;
    };
    let defaults = Options::defaults(&workspace());
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(&defaults.spec).unwrap()).unwrap();
    let overlay = Overlay::load(&defaults.overlay).unwrap();
    let config = Config::load(&defaults.config).unwrap();
    let input = load::load(reference.to_str().unwrap()).unwrap();
    let result = pipeline(input, Some(&committed), &overlay, &config).unwrap();
    let doc = &result.doc;

    for (path, item) in committed["paths"].as_object().unwrap() {
        for (method, ours) in item.as_object().unwrap() {
            let new = &doc["paths"][path][method];
            let id = &ours["operationId"];
            assert_eq!(&new["operationId"], id, "{method} {path}");
            for key in ["parameters", "requestBody", "responses", "servers"] {
                assert_eq!(new.get(key), ours.get(key), "{id}: {key} changed");
            }
        }
    }
    let operations = |doc: &Value| -> usize {
        doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| item.as_object().unwrap().len())
            .sum()
    };
    assert_eq!(
        operations(doc),
        operations(&committed),
        "nothing is admitted"
    );
    assert!(
        result.candidates.len() >= min_candidates,
        "{} candidates",
        result.candidates.len()
    );
    let ids: Vec<&str> = committed["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for candidate in &result.candidates {
        assert!(!ids.contains(&candidate.suggested.as_str()), "{candidate}");
    }
    for (name, schema) in committed["components"]["schemas"].as_object().unwrap() {
        assert_eq!(
            &doc["components"]["schemas"][name], schema,
            "schema {name} changed"
        );
    }
    let pin = &doc["components"]["schemas"]["Pin"]["properties"];
    assert_eq!(pin["id"]["format"], "int64");
    let code = xtask::validate::generated_code(doc).expect("code generates");
    for name in [
        "pub struct Pin",
        "pub struct User",
        "pub struct Resource",
        "pub fn create_pin",
        "pub fn get_resources",
    ] {
        assert!(code.contains(name), "generated code lacks `{name}`");
    }
    // And the refreshed spec is a fixed point, as --check requires.
    let again = pipeline(doc.clone(), Some(doc), &overlay, &config).unwrap();
    assert_eq!(write::render(&again.doc), write::render(doc));
}

// ---- speed -------------------------------------------------------------------

/// A synthetic ~1 MB 3.1 file, half plex.tv operations with inline schemas,
/// half media-server ones.
fn large_spec() -> String {
    let mut text = String::from("openapi: 3.1.0\ninfo: {title: big, version: '1'}\nservers: [{url: 'http://{ip}:32400', variables: {ip: {default: 10.0.0.1}}}]\npaths:\n");
    for i in 0..700 {
        let server = if i % 2 == 0 {
            "    servers: [{url: 'https://plex.tv/api/v2'}]\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "  /things{i}/{{thingID}}:\n{server}    get:\n      operationId: getThing{i}\n"
        ));
        text.push_str("      parameters:\n        - {name: thingID, in: path, required: true, schema: {type: number}}\n");
        text.push_str("        - {name: X-Plex-Token, in: header, schema: {type: string}}\n");
        text.push_str("      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: object\n                properties:\n");
        for p in 0..8 {
            text.push_str(&format!("                  field{p}: {{type: [string, 'null'], examples: [value{p}], description: A field that is here to make the file large enough.}}\n"));
        }
        text.push_str("        '401':\n          description: no\n");
    }
    text
}

#[test]
fn a_one_megabyte_file_takes_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let text = large_spec();
    assert!(text.len() > 1_000_000, "{} bytes", text.len());
    let path = write_temp(&dir, "big.yaml", &text);
    let start = Instant::now();
    let input = load::load(&path).unwrap();
    let result = pipeline(input, None, &empty_overlay(), &config()).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(result.doc["paths"].as_object().unwrap().len(), 350);
    assert_eq!(result.skipped.len(), 350);
    eprintln!("1 MB file: {elapsed:?}");
    // Generous for unoptimised test builds on a 2-core machine.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

// ---- malformed documents: typed errors, never a panic ----------------------

/// What a malformed document must fail with.
enum Expected {
    /// `RegenError::Malformed` at this JSON pointer.
    Malformed(&'static str),
    /// The text does not parse (including the parsers' nesting limits).
    Parse,
    /// A reference that cannot be inlined.
    BrokenRef,
    /// The overlay leaves the document malformed at this pointer.
    Overlay(&'static str),
}

struct Case {
    name: &'static str,
    text: String,
    overlay: Option<&'static str>,
    expected: Expected,
    /// Words the error message must contain.
    mentions: &'static str,
}

fn case(name: &'static str, text: impl Into<String>, expected: Expected) -> Case {
    Case {
        name,
        text: text.into(),
        overlay: None,
        expected,
        mentions: "",
    }
}

/// `minimal_spec()` with `old` replaced by `new` (which must be there).
fn edited(old: &str, new: &str) -> String {
    let spec = minimal_spec();
    assert!(spec.contains(old), "`{old}` is not in the minimal spec");
    spec.replace(old, new)
}

/// A parameter chain `P0 -> P1 -> ...`, each nested 120 arrays deep: every
/// file parses (under the parsers' 128 levels) but inlining would nest the
/// document thousands of levels deep.
fn deeply_inlined_references() -> String {
    let mut text = edited(
        "      responses:",
        "      parameters: [{$ref: '#/components/parameters/P0'}]\n      responses:",
    );
    text.push_str("components:\n  parameters:\n");
    for i in 0..40 {
        let open = "[".repeat(120);
        let close = "]".repeat(120);
        text.push_str(&format!(
            "    P{i}: {{name: p{i}, in: query, x-deep: {open}{{$ref: '#/components/parameters/P{}'}}{close}}}\n",
            i + 1
        ));
    }
    text.push_str("    P40: {name: last, in: query}\n");
    text
}

/// The YAML "billion laughs": nine levels of aliases, each ten of the last.
fn alias_bomb() -> String {
    let mut text = String::from(
        "openapi: 3.1.0\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for level in 1..9 {
        let prev = format!("*a{}", level - 1);
        let items = [prev.as_str(); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    text.push_str("paths: {x-bomb: *a8}\n");
    text
}

fn malformed_cases() -> Vec<Case> {
    use Expected::*;
    let deep = 100_000;
    vec![
        case("yaml scalar", "just some words\n", Malformed("")),
        case("empty file", "", Malformed("")),
        case("blank file", "\n\n   \n", Malformed("")),
        case("json array at the top", "[1, 2, 3]\n", Malformed("")),
        case("openapi is a number", edited("openapi: 3.1.0", "openapi: 3.1"), Malformed("/openapi")),
        case("info is a list", edited("info: {title: t, version: '1'}", "info: [t, '1']"), Malformed("/info")),
        case("servers is an object", edited("servers: [{url: 'https://plex.tv/api/v2'}]", "servers: {url: 'https://plex.tv/api/v2'}"), Malformed("/servers")),
        case("server url is a number", edited("[{url: 'https://plex.tv/api/v2'}]", "[{url: 42}]"), Malformed("/servers/0/url")),
        Case {
            mentions: "`url`",
            ..case("server without url", edited("[{url: 'https://plex.tv/api/v2'}]", "[{description: plex}]"), Malformed("/servers/0"))
        },
        case("paths is a list", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: [/ping]\n", Malformed("/paths")),
        case("path item is a list", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {/ping: []}\n", Malformed("/paths/~1ping")),
        case("operation is a list", edited("    get:\n      operationId: ping\n      responses:\n        '200': {description: ok}\n", "    get: [ping]\n"), Malformed("/paths/~1ping/get")),
        case("operation is a string", edited("    get:\n      operationId: ping\n      responses:\n        '200': {description: ok}\n", "    get: ping\n"), Malformed("/paths/~1ping/get")),
        case("parameters is an object", edited("      responses:", "      parameters: {name: a, in: query}\n      responses:"), Malformed("/paths/~1ping/get/parameters")),
        case("path-level parameters is a string", edited("    get:", "    parameters: none\n    get:"), Malformed("/paths/~1ping/parameters")),
        case("parameter is a string", edited("      responses:", "      parameters: [a]\n      responses:"), Malformed("/paths/~1ping/get/parameters/0")),
        Case {
            mentions: "`in`",
            ..case("parameter without in", edited("      responses:", "      parameters: [{name: a, schema: {type: string}}]\n      responses:"), Malformed("/paths/~1ping/get/parameters/0"))
        },
        Case {
            mentions: "`name`",
            ..case("parameter without name", edited("      responses:", "      parameters: [{in: query}]\n      responses:"), Malformed("/paths/~1ping/get/parameters/0"))
        },
        case("parameter name is a number", edited("      responses:", "      parameters: [{name: 7, in: query}]\n      responses:"), Malformed("/paths/~1ping/get/parameters/0/name")),
        case("parameter required is a string", edited("      responses:", "      parameters: [{name: a, in: query, required: 'yes'}]\n      responses:"), Malformed("/paths/~1ping/get/parameters/0/required")),
        case("responses is a list", edited("      responses:\n        '200': {description: ok}\n", "      responses: ['200']\n"), Malformed("/paths/~1ping/get/responses")),
        case("response is a string", edited("'200': {description: ok}", "'200': ok"), Malformed("/paths/~1ping/get/responses/200")),
        case("content is a list", edited("'200': {description: ok}", "'200': {description: ok, content: [application/json]}"), Malformed("/paths/~1ping/get/responses/200/content")),
        case("request body is a list", edited("      responses:", "      requestBody: [x]\n      responses:"), Malformed("/paths/~1ping/get/requestBody")),
        case("$ref is a number", edited("'200': {description: ok}", "'200': {$ref: 5}"), Malformed("/paths/~1ping/get/responses/200/$ref")),
        case("schema $ref is a list", edited("'200': {description: ok}", "'200': {description: ok, content: {application/json: {schema: {$ref: [a]}}}}"), Malformed("/paths/~1ping/get/responses/200/content/application~1json/schema/$ref")),
        case("components is a list", format!("{}components: []\n", minimal_spec()), Malformed("/components")),
        case("schemas is a list", format!("{}components: {{schemas: []}}\n", minimal_spec()), Malformed("/components/schemas")),
        case("schema is a number", format!("{}components: {{schemas: {{Pin: 5}}}}\n", minimal_spec()), Malformed("/components/schemas/Pin")),
        case("property schema is a string", format!("{}components: {{schemas: {{Pin: {{type: object, properties: {{id: integer}}}}}}}}\n", minimal_spec()), Malformed("/components/schemas/Pin/properties/id")),
        case("allOf is an object", format!("{}components: {{schemas: {{Pin: {{allOf: {{type: object}}}}}}}}\n", minimal_spec()), Malformed("/components/schemas/Pin/allOf")),
        case("component parameters is a list", format!("{}components: {{parameters: [a]}}\n", minimal_spec()), Malformed("/components/parameters")),
        // An inlined reference is checked where it lands.
        case("inlined response is a list", format!("{}components: {{responses: {{Ok: {{$ref: '#/x-list'}}}}}}\nx-list: [1]\n", edited("'200': {description: ok}", "'200': {$ref: '#/components/responses/Ok'}")), Malformed("/paths/~1ping/get/responses/200")),
        case("json nested 100k arrays deep", format!("{{\"openapi\": \"3.1.0\", \"x-deep\": {}{}}}", "[".repeat(deep), "]".repeat(deep)), Parse),
        case("yaml nested 100k flow arrays deep", format!("{}x-deep: {}{}\n", minimal_spec(), "[".repeat(deep), "]".repeat(deep)), Parse),
        case("yaml nested 100k flow maps deep", format!("{}x-deep: {}1{}\n", minimal_spec(), "{a: ".repeat(deep), "}".repeat(deep)), Parse),
        case("yaml nested 200 deep (over the parser's 128)", format!("{}x-deep: {}{}\n", minimal_spec(), "[".repeat(200), "]".repeat(200)), Parse),
        case("yaml nested 100k deep after an apostrophe", format!("{}x-note: don't\nx-deep: {}{}\n", minimal_spec(), "[".repeat(deep), "]".repeat(deep)), Parse),
        case("yaml that is only 100k nested arrays", format!("{}{}", "[".repeat(deep), "]".repeat(deep)), Parse),
        case("yaml nested 1k block maps deep", {
            let mut text = minimal_spec().to_owned();
            text.push_str("x-deep:\n");
            for level in 1..1000 {
                text.push_str(&" ".repeat(level));
                text.push_str("a:\n");
            }
            text
        }, Parse),
        case("yaml alias bomb", alias_bomb(), Parse),
        case("references that inline thousands of levels deep", deeply_inlined_references(), BrokenRef),
        Case {
            overlay: Some("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.paths['/api/v2/ping']\n    update: {get: [broken]}\n"),
            ..case("an overlay that makes an operation a list", minimal_spec(), Overlay("/paths/~1api~1v2~1ping/get"))
        },
        Case {
            overlay: Some("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $\n    remove: true\n"),
            ..case("an overlay that removes the whole document", minimal_spec(), Overlay(""))
        },
    ]
}

/// Every malformed document ends in the expected typed error: no panic
/// (caught, to prove it), nothing written, a message that names the place;
/// and quickly, however deep the nesting.
#[test]
fn malformed_documents_are_typed_errors_and_write_nothing() {
    let start = Instant::now();
    let cases = malformed_cases();
    assert!(cases.len() >= 12);
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let path = write_temp(&dir, &format!("case{index}.yaml"), &case.text);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            fails_without_writing(&path, case.overlay)
        }));
        let error = match outcome {
            Ok(error) => error,
            Err(payload) => {
                let reason = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: panicked: {reason}", case.name));
                continue;
            }
        };
        let message = error.to_string();
        let matches = match (&case.expected, &error) {
            (Expected::Malformed(want), RegenError::Malformed { pointer, .. }) => {
                pointer == want && message.contains(&format!("`#{want}`"))
            }
            (Expected::Parse, RegenError::Parse { .. }) => true,
            (Expected::BrokenRef, RegenError::BrokenRef { .. }) => true,
            (Expected::Overlay(want), RegenError::Overlay { reason, .. }) => {
                reason.contains(&format!("`#{want}`"))
            }
            _ => false,
        };
        if !matches || !message.contains(case.mentions) {
            failures.push(format!(
                "{}: unexpected error: {error:?}\n  {message}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let elapsed = start.elapsed();
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}

/// Brackets in quoted text and comments are not nesting: a document with
/// thousands of them loads.
#[test]
fn brackets_in_strings_and_comments_are_not_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let many = "[{".repeat(2000);
    let text = edited(
        "      operationId: ping\n",
        &format!("      operationId: ping\n      summary: '{many}'\n      description: \"{many}\" # {many}\n"),
    );
    let path = write_temp(&dir, "brackets.yaml", &text);
    let doc = load::load(&path).expect("quoted brackets are text");
    assert_eq!(doc["paths"]["/ping"]["get"]["summary"], many.as_str());
}

#[test]
fn the_pipeline_refuses_malformed_values() {
    let good: Value = load::parse(minimal_spec(), "minimal").unwrap();
    let bad = json!({"openapi": "3.0.3", "paths": {"/ping": []}});
    for (input, base) in [
        (bad.clone(), None),
        (good.clone(), Some(&bad)),
        (json!(null), None),
    ] {
        let result =
            std::panic::catch_unwind(|| pipeline(input, base, &empty_overlay(), &config()));
        match result {
            Ok(Err(RegenError::Malformed { .. })) => {}
            other => panic!("expected a Malformed error, got {other:?}"),
        }
    }
    pipeline(good, None, &empty_overlay(), &config()).expect("the good one passes");
}

#[test]
fn a_malformed_committed_spec_is_an_error_naming_it() {
    let (dir, options) = scratch_project();
    std::fs::write(
        &options.spec,
        r#"{"openapi": "3.0.3", "paths": {"/a": {"get": []}}}"#,
    )
    .unwrap();
    let input = write_temp(&dir, "upstream.yaml", minimal_spec());
    let before = std::fs::read(&options.spec).unwrap();
    let error = xtask::run(&Options {
        from: Some(input),
        ..options.clone()
    })
    .unwrap_err();
    match &error {
        RegenError::Malformed {
            location, pointer, ..
        } => {
            assert_eq!(location, &options.spec.display().to_string());
            assert_eq!(pointer, "/paths/~1a/get");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    assert_eq!(std::fs::read(&options.spec).unwrap(), before);
}

// ---- refreshing twice, operationIds, permissions ---------------------------

/// The same upstream twice, the first output committed in between, gives
/// the same bytes: an inline success schema keeps its lifted name.
#[test]
fn inline_success_schemas_keep_their_name_on_refresh() {
    let input = load::parse(minimal_spec(), "minimal").unwrap();
    let first = pipeline(input.clone(), None, &empty_overlay(), &config()).unwrap();
    let lifted = &first.doc["paths"]["/api/v2/pins"]["post"]["responses"]["201"]["content"]
        ["application/json"]["schema"];
    assert_eq!(lifted["$ref"], "#/components/schemas/PostPinsResponse");
    let mut previous = first.doc;
    for _ in 0..2 {
        let again = pipeline(input.clone(), Some(&previous), &empty_overlay(), &config()).unwrap();
        assert_eq!(write::render(&again.doc), write::render(&previous));
        previous = again.doc;
    }
    let names: Vec<&String> = previous["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(names, ["ErrorResponse", "PostPinsResponse"]);
}

/// An upstream operation that claims one of our operationIds on another
/// path gets a derived name; ours keeps its id.
/// A committed spec that keeps every rule, for tests that refresh it.
fn compliant_base() -> Value {
    let errors = json!({
        "4XX": {"description": "A client error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
        "5XX": {"description": "A server error.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    });
    let mut user_responses = errors.clone();
    user_responses["200"] = json!({"description": "ok"});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "ours", "version": "2"},
        "servers": [{"url": "https://plex.tv"}],
        "paths": {
            "/api/v2/user": {"get": {
                "operationId": "getUser", "summary": "Ours", "description": "Our words.",
                "parameters": [{"name": "x", "in": "query", "description": "Ours.", "schema": {"type": "string"}}],
                "responses": user_responses
            }}
        },
        "components": {"schemas": {"ErrorResponse": {"description": "An error.", "type": "object"}}}
    })
}

/// An upstream operation new to the crate is a candidate, under a name that
/// no operation of ours has, even when upstream reuses one of ours.
#[test]
fn upstream_cannot_take_our_operation_ids() {
    let base = compliant_base();
    let upstream = load::parse(
        r#"openapi: 3.1.0
info: {title: theirs, version: '9'}
servers: [{url: 'https://plex.tv/api/v2'}]
paths:
  /account:
    get:
      operationId: getUser
      responses:
        '200': {description: ok}
"#,
        "upstream",
    )
    .unwrap();
    let result = pipeline(upstream, Some(&base), &empty_overlay(), &config()).unwrap();
    assert_eq!(
        result.doc["paths"]["/api/v2/user"]["get"]["operationId"],
        "getUser"
    );
    assert!(
        result.doc["paths"].get("/api/v2/account").is_none(),
        "not admitted"
    );
    let [candidate] = result.candidates.as_slice() else {
        panic!("{:?}", result.candidates);
    };
    assert_eq!(
        (
            candidate.method.as_str(),
            candidate.host.as_str(),
            candidate.path.as_str()
        ),
        ("GET", "plex.tv", "/api/v2/account")
    );
    assert_eq!(candidate.upstream_id.as_deref(), Some("getUser"));
    assert_eq!(candidate.suggested, "getUserV2");
}

/// The admission rule: a candidate enters only under the name an overlay
/// entry gives it (the one regen suggests, pasted, works as it is); an
/// XML-only one cannot enter until the crate decodes XML.
#[test]
fn the_overlay_admits_candidates_by_naming_them() {
    let base = compliant_base();
    let upstream = load::parse(
        r#"openapi: 3.1.0
info: {title: theirs, version: '9'}
servers: [{url: 'https://plex.tv/api/v2'}]
paths:
  /friends/{friendId}:
    delete:
      operationId: removeFriendship
      parameters: [{name: friendId, in: path, required: true, schema: {type: integer}}]
      responses:
        '204': {description: gone}
  /legacy:
    get:
      operationId: getLegacy
      responses:
        '200': {description: xml, content: {application/xml: {schema: {type: object}}}}
"#,
        "upstream",
    )
    .unwrap();
    let first = pipeline(upstream.clone(), Some(&base), &empty_overlay(), &config()).unwrap();
    assert_eq!(first.candidates.len(), 2, "{:?}", first.candidates);
    let friend = &first.candidates[0];
    assert_eq!(friend.suggested, "removeFriendship");
    assert!(!friend.xml_only && first.candidates[1].xml_only);
    let entry = friend.overlay_entry();
    assert!(
        entry.contains("target: \"$.paths['/api/v2/friends/{friendId}'].delete\"")
            && entry.contains("operationId: removeFriendship"),
        "{entry}"
    );

    // The suggested entry, pasted as it is, admits the operation.
    let overlay_text = format!(
        "overlay: 1.0.0\ninfo: {{title: t, version: '1'}}\nactions:\n{}",
        entry
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let overlay = Overlay::parse(&overlay_text, Path::new("overlay.yaml")).unwrap();
    let admitted = pipeline(upstream.clone(), Some(&base), &overlay, &config()).unwrap();
    let op = &admitted.doc["paths"]["/api/v2/friends/{friendId}"]["delete"];
    assert_eq!(op["operationId"], "removeFriendship");
    assert_eq!(
        op["parameters"][0]["schema"]["format"], "int64",
        "ids widened"
    );
    assert!(op["responses"]["4XX"].is_object() && op["description"].is_string());
    assert!(op.get("x-upstream-operation-id").is_none());
    assert_eq!(admitted.candidates.len(), 1);

    // Naming the XML-only one is refused, and says why.
    let overlay = Overlay::parse(
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: \"$.paths['/api/v2/legacy'].get\"\n    update: {operationId: getLegacy}\n",
        Path::new("overlay.yaml"),
    )
    .unwrap();
    match pipeline(upstream, Some(&base), &overlay, &config()) {
        Err(RegenError::Rules(rules)) => {
            assert!(
                rules[0].contains("xml-success") && rules[0].contains("/api/v2/legacy"),
                "{rules:?}"
            )
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// An operation the committed spec has keeps everything of ours and takes
/// only upstream's summary and description: the overlay restates nothing.
#[test]
fn existing_operations_keep_ours_and_take_upstream_texts() {
    let base = compliant_base();
    let upstream = load::parse(
        r#"openapi: 3.1.0
info: {title: theirs, version: '9'}
servers: [{url: 'https://plex.tv/api/v2'}]
paths:
  /user:
    get:
      operationId: getTokenDetails
      summary: Theirs
      parameters: [{name: y, in: query, schema: {type: integer}}]
      responses:
        '200': {description: theirs, content: {application/json: {schema: {type: object}}}}
"#,
        "upstream",
    )
    .unwrap();
    let result = pipeline(upstream, Some(&base), &empty_overlay(), &config()).unwrap();
    let (new, ours) = (
        &result.doc["paths"]["/api/v2/user"]["get"],
        &base["paths"]["/api/v2/user"]["get"],
    );
    assert_eq!(new["operationId"], "getUser");
    assert_eq!(new["summary"], "Theirs");
    assert_eq!(new["description"], "Our words.", "upstream said none");
    assert_eq!(new["parameters"], ours["parameters"]);
    assert_eq!(new["responses"], ours["responses"]);
    assert!(result.candidates.is_empty());
}

/// A result that breaks a spec rule is refused, naming the rule and the
/// operation, and nothing is written.
#[test]
fn a_result_that_breaks_a_rule_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_temp(&dir, "ok.yaml", minimal_spec());
    let overlay = r#"overlay: 1.0.0
info: {title: t, version: '1'}
actions:
  - target: $.paths['/api/v2/ping'].get
    update:
      servers: [{url: 'https://plex.tv'}, {url: 'http://{host}'}]
"#;
    match fails_without_writing(&path, Some(overlay)) {
        RegenError::Rules(rules) => assert!(
            rules
                .iter()
                .any(|r| r.starts_with("one-server: GET /api/v2/ping (ping)")),
            "{rules:?}"
        ),
        other => panic!("expected a rule violation, got {other}"),
    }
}

#[test]
fn written_spec_keeps_or_gets_readable_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let fresh = dir.path().join("fresh.json");
    write::write_atomic(&fresh, "{}\n").unwrap();
    assert_eq!(mode(&fresh), 0o644);
    let existing = dir.path().join("existing.json");
    std::fs::write(&existing, "old\n").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o664)).unwrap();
    write::write_atomic(&existing, "{}\n").unwrap();
    assert_eq!(mode(&existing), 0o664);
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "{}\n");
}

/// With no 2xx response, a `default` that carries the body becomes `200`.
#[test]
fn default_response_becomes_200_without_a_success_status() {
    let upstream = load::parse(
        r#"openapi: 3.1.0
info: {title: t, version: '1'}
servers: [{url: 'https://plex.tv/api/v2'}]
paths:
  /thing:
    get:
      operationId: getThing
      responses:
        '404': {description: missing}
        default: {description: the thing, content: {application/json: {schema: {type: string}}}}
"#,
        "upstream",
    )
    .unwrap();
    let result = pipeline(upstream, None, &empty_overlay(), &config()).unwrap();
    let responses = &result.doc["paths"]["/api/v2/thing"]["get"]["responses"];
    assert!(responses.get("default").is_none(), "{responses}");
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["type"], "string",
        "{responses}"
    );
    assert!(responses.get("404").is_some());
}
