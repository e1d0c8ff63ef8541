#!/usr/bin/env bash
# What depending on plex-tv costs to build: a cold debug build of a minimal
# app on plex-tv (default features) next to the same app written on bare
# reqwest (rustls, the HTTP features plex-tv enables) + serde + chrono +
# tokio. Prints wall and CPU seconds, crates compiled, and the ratios.
#
#   benches/build_cost.sh              # this checkout
#   benches/build_cost.sh DIR...       # other plex-tv checkouts (a "before"),
#                                      # each built in turn after the baseline
#   RUNS=3 benches/build_cost.sh       # repeat, alternating the apps
#   FLOOR=1 benches/build_cost.sh      # also the floor: the same app on a
#                                      # crate that is only build.rs running
#                                      # progenitor over openapi/plex-tv.json
#                                      # and the generated code
#
# Offline: it needs the crates already downloaded (`cargo fetch` in the
# repository once). Each build gets a fresh CARGO_TARGET_DIR under a temp
# directory, removed once the build is measured. Not part of CI: it takes minutes
# and its wall times depend on what else runs on the machine, so it prints
# the load average next to every build.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$repo"
runs=${RUNS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/plex-tv-build-cost.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A compiler cache would make the second build warm.
unset RUSTC_WRAPPER CARGO_BUILD_RUSTC_WRAPPER CARGO_TARGET_DIR

# Both apps: a tokio main that fetches the account and prints two fields.
make_app() {
    local name=$1 deps=$2 main=$3 lock=$4
    mkdir -p "$work/$name/src"
    cat >"$work/$name/Cargo.toml" <<EOF
[package]
name = "$name"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
$deps
EOF
    printf '%s\n' "$main" >"$work/$name/src/main.rs"
    # The repository's lock file, so both apps build the versions plex-tv
    # is tested with (cargo drops what an app does not use).
    cp "$lock" "$work/$name/Cargo.lock"
}

plex_main='
use plex_tv::{ClientIdentifier, ClientIdentity, PlexTv};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = PlexTv::builder()
        .identity(ClientIdentity::new("build-cost", ClientIdentifier::new_random()))
        .token(std::env::var("PLEX_TOKEN")?)
        .build()?;
    let user = client.get_user().send().await?.into_inner();
    println!("{:?} joined {:?}", user.username, user.joined_at);
    Ok(())
}'

apps=()
for dir in "$@"; do
    dir=$(cd "$dir" && pwd)
    app="on-plex-tv-${#apps[@]}"
    apps+=("$app")
    make_app "$app" "plex-tv = { path = \"$dir\" }
tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }" "$plex_main" "$dir/Cargo.lock"
    echo "$app: plex-tv at $dir ($(git -C "$dir" log -1 --format='%h %s' 2>/dev/null | cut -c1-60 || echo 'not a git checkout'))"
done

# The floor of the project's shape: build.rs and the generated client with
# the crate's generation settings, the runtime crates they need, nothing
# hand-written (the three replaced schemas become plain types).
make_floor() {
    local dir="$work/floor"
    mkdir -p "$dir/src"
    cp "$repo/openapi/plex-tv.json" "$dir/spec.json"
    cat >"$dir/Cargo.toml" <<'TOML'
[package]
name = "floor"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
progenitor-client = "0.15.1"
reqwest = { version = "0.13", default-features = false, features = ["json", "query", "stream", "form", "http2", "rustls"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_urlencoded = "0.7"
chrono = { version = "0.4", default-features = false, features = ["serde", "clock", "std"] }
schemars = { version = "0.8", features = ["chrono", "uuid1"] }
uuid = { version = "1", features = ["v4", "serde"] }
futures-core = "0.3"
bytes = "1"

[build-dependencies]
progenitor = { version = "0.15.1", default-features = false }
syn = "3"
prettyplease = "0.3"
openapiv3 = "2"
serde_json = "1"
TOML
    cat >"$dir/build.rs" <<'RUST'
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle, TypeImpl};

fn main() {
    let spec: openapiv3::OpenAPI =
        serde_json::from_str(&std::fs::read_to_string("spec.json").unwrap()).unwrap();
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("schemars::JsonSchema")
        .with_derive("PartialEq");
    for (schema, rust_type) in [
        ("AuthToken", "String"),
        ("WebhooksForm", "String"),
        ("DiscoverItem", "serde_json::Value"),
    ] {
        settings.with_replacement(schema, rust_type, std::iter::empty::<TypeImpl>());
    }
    let tokens = Generator::new(&settings).generate_tokens(&spec).unwrap();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("generated.rs");
    std::fs::write(out, prettyplease::unparse(&syn::parse2(tokens).unwrap())).unwrap();
    println!("cargo:rerun-if-changed=spec.json");
}
RUST
    printf '%s\n' '#![allow(warnings)]' \
        'include!(concat!(env!("OUT_DIR"), "/generated.rs"));' >"$dir/src/lib.rs"
    make_app on-floor 'floor = { path = "../floor" }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }' '
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let user = floor::Client::new("https://plex.tv").get_user().send().await?.into_inner();
    println!("{:?} joined {:?}", user.username, user.joined_at);
    Ok(())
}' "$repo/Cargo.lock"
    apps+=(on-floor)
    echo "on-floor: build.rs and the generated client of $repo, nothing hand-written"
}
if [ "${FLOOR:-0}" = 1 ]; then make_floor; fi

make_app on-reqwest 'reqwest = { version = "0.13", default-features = false, features = ["rustls", "json", "query", "stream", "form", "http2"] }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
chrono = { version = "0.4", default-features = false, features = ["serde", "clock", "std"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }' '
use chrono::{DateTime, Utc};

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    username: Option<String>,
    #[serde(with = "chrono::serde::ts_seconds_option", default)]
    joined_at: Option<DateTime<Utc>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let user: User = reqwest::Client::new()
        .get("https://plex.tv/api/v2/user")
        .header("Accept", "application/json")
        .header("X-Plex-Client-Identifier", "build-cost")
        .header("X-Plex-Token", std::env::var("PLEX_TOKEN")?)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let _: serde_json::Value = serde_json::json!({ "user": user.username });
    println!("{:?} joined {:?}", user.username, user.joined_at);
    Ok(())
}' "$1/Cargo.lock"

echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "toolchain: $(rustc -V), $(cargo -V)"
echo

# One cold build of app $1: "wall cpu crates", and a line on stderr.
build() {
    local app=$1 dir="$work/$1" target="$work/target-$1"
    rm -rf "$target"
    local load
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    (cd "$dir" && CARGO_TARGET_DIR="$target" CARGO_TERM_COLOR=never \
        /usr/bin/time -f '%e %U %S' -o "$work/time" \
        cargo build --offline --quiet --message-format=json >"$work/messages" 2>"$work/log") || {
        cat "$work/log" >&2
        echo "the $app build failed (crates missing? run 'cargo fetch' in $repo)" >&2
        exit 1
    }
    # A cold target is 1-2 GB: gone before the next build starts.
    rm -rf "$target"
    local wall user sys crates
    read -r wall user sys <"$work/time"
    # Packages rustc compiled (a build script and its crate count once).
    crates=$(python3 -c '
import json, sys
print(len({m["package_id"] for m in map(json.loads, open(sys.argv[1]))
           if m.get("reason") == "compiler-artifact"}))' "$work/messages")
    local cpu
    cpu=$(python3 -c "print(round($user + $sys, 1))")
    printf '%-11s wall %6.1f s  cpu %6.1f s  crates %4d  (load before: %s)\n' \
        "$app" "$wall" "$cpu" "$crates" "$load" >&2
    echo "$wall $cpu $crates"
}

for run in $(seq "$runs"); do
    echo "run $run of $runs"
    read -r bare_wall bare_cpu bare_crates < <(build on-reqwest)
    for app in "${apps[@]}"; do
        read -r plex_wall plex_cpu plex_crates < <(build "$app")
        printf 'RATIO run %d %s: wall %.2f  cpu %.2f  crates %d vs %d  (target wall <= 1.25)\n' \
            "$run" "$app" "$(python3 -c "print($plex_wall / $bare_wall)")" \
            "$(python3 -c "print($plex_cpu / $bare_cpu)")" "$plex_crates" "$bare_crates"
    done
    echo
done
