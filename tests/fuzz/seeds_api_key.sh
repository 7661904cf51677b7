#!/usr/bin/env bash
# Seeds for fuzz_api_key, made at run time (test keys are never committed): a fresh EC P-256 key as
# SEC1 and PKCS#8 PEM (also with literal \n, as env files hold it), a fresh Ed25519 key as PKCS#8
# PEM, as base64 of its 32-byte seed and of seed || public key, and the key JSON Coinbase hands out
# (with "name" and with "id"). Usage: seeds_api_key.sh DIR (written into DIR).
set -euo pipefail
dir=$1
mkdir -p "$dir"
command -v openssl >/dev/null || { echo "seeds_api_key.sh: openssl not found, no generated seeds" >&2; exit 0; }
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ec_sec1" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$dir/ec_sec1" -out "$dir/ec_pkcs8"
awk '{printf "%s\\n", $0}' "$dir/ec_sec1" >"$dir/ec_sec1_escaped"
openssl genpkey -algorithm ed25519 -out "$dir/ed_pkcs8" 2>/dev/null
# The seed is the last 32 bytes of the 48-byte PKCS#8 DER; the public key the last 32 of its SPKI DER.
seed_b64=$(openssl pkey -in "$dir/ed_pkcs8" -outform DER | tail -c 32 | base64 -w0)
pub=$(openssl pkey -in "$dir/ed_pkcs8" -pubout -outform DER | tail -c 32 | base64 -w0)
printf '%s' "$seed_b64" >"$dir/ed_seed32"
{ printf '%s' "$seed_b64" | base64 -d; printf '%s' "$pub" | base64 -d; } | base64 -w0 >"$dir/ed_seed64"
printf '{"id": "3f2a9c4e-0000-4000-8000-00000000ed25", "privateKey": "%s"}' "$(cat "$dir/ed_seed64")" >"$dir/json_id"
printf '{"name": "organizations/0a1b/apiKeys/9f8e", "privateKey": "%s"}' "$(cat "$dir/ec_sec1_escaped")" >"$dir/json_name"
