// Plays recordings in headless Chromium and prints one JSON line per file:
//   node play.mjs CHROMIUM ROOT FILE...
// FILE is a path under ROOT: .mp4 plays in a <video> element, .m3u8 through hls.js (MSE), .flv
// through mpegts.js (MSE). Each result says whether playback reached the end, the first media
// error, and the decoded video frames. Files are served from 127.0.0.1; nothing is fetched from
// elsewhere.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const [chromium, root, ...files] = process.argv.slice(2);
const libs = {
  '/lib/hls.js': path.join(here, 'node_modules/hls.js/dist/hls.min.js'),
  '/lib/mpegts.js': path.join(here, 'node_modules/mpegts.js/dist/mpegts.js'),
  '/play.html': path.join(here, 'play.html'),
};
const types = {
  '.mp4': 'video/mp4', '.m4s': 'video/iso.segment', '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t', '.flv': 'video/x-flv', '.js': 'text/javascript', '.html': 'text/html',
};

const server = http.createServer((req, res) => {
  const url = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = libs[url] ?? path.join(root, path.normalize(url).replace(/^(\.\.[/\\])+/, ''));
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(data);
  });
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const base = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kls-rec-chromium-'));
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  userDataDir: profile,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
let failed = false;
try {
  for (const file of files) {
    const page = await browser.newPage();
    const url = `${base}/play.html?src=${encodeURIComponent('/' + file)}`;
    let result;
    try {
      await page.goto(url);
      await page.waitForFunction(() => window.result, { timeout: 60000, polling: 100 });
      result = await page.evaluate(() => window.result);
    } catch (e) {
      result = { ended: false, error: `no result: ${e.message}` };
    }
    result.file = file;
    if (!result.ended || result.error) failed = true;
    console.log(JSON.stringify(result));
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
