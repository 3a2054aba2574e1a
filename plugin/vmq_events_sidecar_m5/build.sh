#!/bin/sh
# Compiles the companion plugin with erlc alone (no rebar3, no VerneMQ sources) into ebin/,
# the layout `plugins.vmq_events_sidecar_m5.path` points at.
#   sh build.sh [OUTDIR]     OUTDIR defaults to ./ebin
set -eu
cd "$(dirname "$0")"
out="${1:-ebin}"
mkdir -p "$out"
erlc -Werror -I include -o "$out" src/*.erl
cp src/vmq_events_sidecar_m5.app "$out/"
