//! The C allocator's settings for model inference. Whisper and the other models allocate and free
//! tensors of a few megabytes per layer; glibc hands blocks that large out as fresh mappings and
//! gives them back on free, so every layer paid for page faults and zeroed pages again (30 % of
//! the transcription's time was in the kernel, measured with perf). Keeping blocks up to 64 MiB
//! in the heap, and up to 128 MiB of free heap before trimming, turns that into reuse (kernel
//! time ≈ 10 %).

/// Applies the settings; call once, early, before threads start (the binary's `serve`, bench-ai).
pub fn tune_for_inference() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    unsafe {
        // Fixed values also turn off glibc's own sliding threshold, which never settles here.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
    }
}
