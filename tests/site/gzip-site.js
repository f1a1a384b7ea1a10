// What the load benchmarks (tests/site/load.js, tests/site/routes.js) share: a built site served
// gzip-compressed from memory, as static hosts do, on 127.0.0.1; the three networks they measure
// on (DevTools throttling); the median of their runs.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".svg": "image/svg+xml",
  ".webmanifest": "application/manifest+json",
};

// Every file under `dist`, gzipped (`body`) with its size before (`raw`), by URL path; `/` is
// index.html.
function gzipFiles(dist) {
  const files = new Map();
  const add = (dir, prefix) => {
    for (const name of fs.readdirSync(dir)) {
      const full = path.join(dir, name);
      if (fs.statSync(full).isDirectory()) {
        add(full, `${prefix}${name}/`);
        continue;
      }
      const body = fs.readFileSync(full);
      files.set(prefix + name, { body: zlib.gzipSync(body, { level: 9 }), raw: body.length, type: types[path.extname(name)] || "application/octet-stream" });
    }
  };
  add(dist, "/");
  files.set("/", files.get("/index.html"));
  return files;
}

// Serves `dist` gzipped, uncached, on a free port of 127.0.0.1: resolves with the server, its base
// URL and the files.
async function serveGzip(dist) {
  const files = gzipFiles(dist);
  const server = http.createServer((req, res) => {
    const f = files.get(new URL(req.url, "http://x").pathname);
    if (!f) {
      res.writeHead(404);
      return res.end();
    }
    res.writeHead(200, { "Content-Type": f.type, "Content-Encoding": "gzip", "Cache-Control": "no-cache" });
    res.end(f.body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, files, base: `http://127.0.0.1:${server.address().port}/` };
}

const networks = [
  { name: "loopback", conditions: null },
  // Upload as the download for the first; DevTools' "Slow 4G" (1.6 Mbps / 150 ms, 750 kbps up) for the second.
  { name: "9 Mbps / 40 ms", conditions: { latency: 40, downloadThroughput: 9e6 / 8, uploadThroughput: 9e6 / 8 } },
  { name: "1.6 Mbps / 150 ms", conditions: { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 } },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

module.exports = { serveGzip, networks, median };
