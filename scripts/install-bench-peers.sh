#!/usr/bin/env bash
# Installs the Python peers the AI benchmark (bench-ai) runs beside Acervo, into
# bench-peers/ in the models folder (not needed to run or test Acervo):
#   - faster-whisper 1.2.1 (CTranslate2), running the same Whisper model.bin as Acervo;
#   - numpy, for the MobileNetV2 and MiniLM NumPy references (scripts/*_reference.py).
set -euo pipefail
cd "$(dirname "$0")/.."
peers="${ACERVO_AI__MODELS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/acervo/models}/bench-peers"
if [ ! -e "$peers/faster_whisper" ]; then
  echo "installing faster-whisper and numpy into $peers"
  python3 -m pip install --quiet --disable-pip-version-check --target "$peers" faster-whisper==1.2.1 numpy safetensors tokenizers
fi
