'use strict';

// A hook target standing in for hooks.zapier.com (or a fake PBX API): records every request
// and answers 200 with `answer`.

const http = require('node:http');

const startReceiver = ({ answer = { status: 'success' } } = {}) =>
  new Promise((resolve) => {
    const requests = [];
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(raw);
        } catch (e) {
          json = undefined;
        }
        requests.push({ method: req.method, path: req.url, headers: req.headers, raw, json });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        requests,
        /** The requests to `path`, once `count` of them arrived. */
        async waitFor(path, count = 1, timeoutMs = 15000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const got = requests.filter((r) => r.path === path);
            if (got.length >= count) return got;
            if (Date.now() > deadline) {
              throw new Error(`${got.length} of ${count} requests to ${path} arrived`);
            }
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      });
    });
  });

module.exports = { startReceiver };
