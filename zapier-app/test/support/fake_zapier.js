'use strict';

// A stand-in for Zapier's side of file stashing: the RPC endpoint `z.stashFile` asks for a
// presigned upload (`get_presigned_upload_post_data`) and the S3 bucket that upload goes to.
// Every upload is recorded as its raw multipart body, so a test can find the file's bytes.

const http = require('node:http');

const STASH_KEY = 'stash/ringhook-audio';

const startFakeZapier = () =>
  new Promise((resolve) => {
    const uploads = [];
    const rpcCalls = [];
    let base;
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.method === 'POST' && req.url === '/platform/rpc/cli') {
          const call = JSON.parse(body.toString('utf8'));
          rpcCalls.push({ method: call.method, deployKey: req.headers['x-deploy-key'] });
          const answer =
            call.method === 'get_presigned_upload_post_data'
              ? { id: call.id, result: { url: `${base}/s3/`, fields: { key: STASH_KEY } } }
              : { id: call.id, error: `the fake has no ${call.method}` };
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer));
          return;
        }
        if (req.method === 'POST' && req.url === '/s3/') {
          uploads.push({ headers: req.headers, body });
          res.writeHead(204);
          res.end();
          return;
        }
        res.writeHead(404);
        res.end();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url: base,
        stashedUrl: `${base}/s3/${STASH_KEY}`,
        uploads,
        rpcCalls,
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      });
    });
  });

/** A file server (the phone system's API or file store) answering each path with `files[path]`. */
const startFileServer = (routes) =>
  new Promise((resolve) => {
    const requests = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests.push({ method: req.method, path: req.url, headers: req.headers });
        const route = routes[`${req.method} ${req.url}`];
        if (!route) {
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('no such file');
          return;
        }
        res.writeHead(route.status || 200, route.headers || {});
        res.end(route.body);
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        requests,
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      });
    });
  });

module.exports = { startFakeZapier, startFileServer, STASH_KEY };
