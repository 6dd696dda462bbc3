#!/usr/bin/env bash
# Installs a cargo tool at a pinned version from crates.io when it is missing
# (`cargo install --locked`): bash scripts/install-tool.sh NAME VERSION.
#
# The tools are checkers run once per CI job, not servers, so they are built
# with opt-level 1, 16 codegen units and no LTO: on this project's 2-core
# machines that takes cargo-deny from about 3 to about 2 minutes and
# cargo-check-external-types from 80 to 50 seconds; running them stays well
# under a second per check.
set -euo pipefail
name=$1
version=$2
if cargo install --list | grep -qxF "$name v$version:"; then
    exit 0
fi
echo "== installing $name $version"
CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install --locked "$name" --version "$version"
