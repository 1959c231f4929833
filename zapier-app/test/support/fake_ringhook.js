'use strict';

// A stand-in for ringhook's `POST /v1/calls` as DESIGN.md describes it, for testing the
// Place a Call action where the server under test does not have the route yet.

const http = require('node:http');

const TOKEN = 'fake-access-token';
const E164 = /^\+[1-9]\d{6,14}$/;

const problem = (res, status, code, detail) => {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `https://ringhook.dev/problems/${code}`, title: code, status, code, detail }));
};

const startFakeRinghook = () =>
  new Promise((resolve) => {
    const requests = [];
    let next = 1;
    const server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        requests.push({ method: req.method, path: req.url, headers: req.headers, raw });
        if (req.headers.authorization !== `Bearer ${TOKEN}`) {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
          res.end();
          return;
        }
        if (req.method !== 'POST' || req.url !== '/v1/calls') {
          problem(res, 404, 'not_found', 'no such route');
          return;
        }
        let body;
        try {
          body = JSON.parse(raw);
        } catch (e) {
          problem(res, 400, 'invalid_json', 'the body is not JSON');
          return;
        }
        if (!E164.test(String(body.to || ''))) {
          problem(res, 422, 'invalid_number', `${JSON.stringify(body.to)} is not a phone number`);
          return;
        }
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `c2c_01HZX9Q3T4M5N6P7R8S${next++}`,
            status: 'requested',
            to: body.to,
            from_user_id: body.from_user_id || 'usr_01m8447pwt41dzpwk4cnx3vwdq',
            created_at: new Date().toISOString(),
          }),
        );
      });
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        token: TOKEN,
        requests,
        close: () =>
          new Promise((r) => {
            server.close(r);
            server.closeAllConnections();
          }),
      });
    });
  });

module.exports = { startFakeRinghook };
