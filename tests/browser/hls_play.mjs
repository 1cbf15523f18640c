// Plays an HLS master playlist with hls.js in headless Chromium and prints what the player saw,
// as JSON: the ladder it parsed, every rung it buffered a fragment of, how far playback went.
// Usage: node hls_play.mjs <server base URL> <master playlist path>
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';

const [base, masterPath] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const hlsPath = require.resolve('hls.js/dist/hls.min.js');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
});
try {
  const page = await browser.newPage();
  // Same origin as the API, so the player's requests need no CORS.
  await page.goto(`${base}/healthz`);
  await page.setContent('<html><body><video id="v" muted playsinline></video></body></html>');
  await page.addScriptTag({ path: hlsPath });
  const result = await page.evaluate(async (url) => {
    const out = { supported: Hls.isSupported(), levels: [], buffered: [], errors: [], currentTime: 0 };
    if (!out.supported) return out;
    const video = document.getElementById('v');
    const hls = new Hls({ capLevelToPlayerSize: false });
    hls.on(Hls.Events.ERROR, (_, d) => out.errors.push(`${d.type}:${d.details}:${d.fatal}`));
    const buffered = new Set();
    hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => buffered.add(d.frag.level));
    const parsed = new Promise((r) => hls.on(Hls.Events.MANIFEST_PARSED, r));
    hls.loadSource(url);
    hls.attachMedia(video);
    await parsed;
    out.levels = hls.levels.map((l) => ({ width: l.width, height: l.height, bitrate: l.bitrate, codecs: `${l.videoCodec},${l.audioCodec}` }));
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    // Every rung in turn: each must load and buffer a fragment.
    for (let i = out.levels.length - 1; i >= 0; i--) {
      hls.currentLevel = i;
      const until = Date.now() + 15000;
      while (!buffered.has(i) && Date.now() < until) await sleep(100);
    }
    await video.play().catch((e) => out.errors.push(`play:${e}`));
    const until = Date.now() + 15000;
    while (video.currentTime < 3 && Date.now() < until) await sleep(100);
    out.currentTime = video.currentTime;
    out.buffered = [...buffered].sort();
    out.videoWidth = video.videoWidth;
    hls.destroy();
    return out;
  }, `${base}${masterPath}`);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
