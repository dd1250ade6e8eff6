#!/usr/bin/env bash
# Deploy soviet-art-bot to AWS Lambda in one command; re-run it after every change.
#
# Settings come only from the environment (ART_BOT_STORE, ART_BOT_PLATFORMS,
# ART_BOT_SSM_PATH, AWS_REGION, ...; see docs/operations.md). Secrets are never
# read here: the function reads them from SSM Parameter Store at run time.
#   ./lambda_deploy.sh                 build build/lambda.zip, then create or update
#   ./lambda_deploy.sh --plan          say what a deploy would change; change nothing
#   ./lambda_deploy.sh --destroy       remove what the deploy made (asks; --yes for scripts)
#   ./lambda_deploy.sh --build-only    build the zip and report its size
#   ./lambda_deploy.sh --help          every option
# Needs `make venv` once (or PYTHON=/path/to/python with boto3 installed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "Error: $PY not found; run 'make venv' first (or set PYTHON)" >&2
    exit 1
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m soviet_art_bot.deploy "$@"
