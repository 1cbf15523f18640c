#!/usr/bin/env python3
"""faster-whisper (CTranslate2) transcribing a file with a Whisper model folder, as a peer for
Acervo's benchmark: greedy decoding (beam 1), no voice-activity filter, no conditioning on the
previous window, timestamps on — what Acervo's decoder does.

  PYTHONPATH=~/.local/share/acervo/models/bench-peers python3 scripts/whisper_peer.py MODEL_DIR AUDIO THREADS COMPUTE_TYPE

Prints JSON: {"seconds": transcription time, "language": ..., "segments": [[start, end, text], ...]}.
"""
import json
import sys
import time

from faster_whisper import WhisperModel


def main():
    model_dir, audio, threads, compute = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model = WhisperModel(model_dir, device="cpu", compute_type=compute, cpu_threads=threads)
    # One untimed pass over the first seconds warms the runtime, as Acervo's benchmark does.
    list(model.transcribe(audio, beam_size=1, vad_filter=False, condition_on_previous_text=False, clip_timestamps=[0, 5])[0])
    start = time.perf_counter()
    segments, info = model.transcribe(audio, beam_size=1, vad_filter=False, condition_on_previous_text=False, temperature=0.0)
    segments = [[s.start, s.end, s.text] for s in segments]
    seconds = time.perf_counter() - start
    json.dump({"seconds": seconds, "language": info.language, "segments": segments}, sys.stdout)


if __name__ == "__main__":
    main()
