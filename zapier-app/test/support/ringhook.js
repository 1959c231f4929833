'use strict';

// A real ringhook for the tests: the binary built by `cargo build`, on a free loopback port,
// with its own SQLite database in a temporary folder, and its admin CLI on the same database.

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../../..');

// `cargo build` must have run first (the project's test command does it).
const RINGHOOK_BIN = process.env.RINGHOOK_BIN || path.join(REPO, 'target/debug/ringhook');
// In a checkout, `shared/` sits beside the repository.
const FIXTURES = process.env.RINGHOOK_FIXTURES || path.resolve(REPO, '../shared/fixtures');

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

// ringhook refuses unknown `RINGHOOK_*` variables, and this process has some of its own
// (RINGHOOK_BIN, RINGHOOK_FIXTURES, the app's RINGHOOK_BASE_URL): pass on none but the log filter.
const inheritedEnv = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('RINGHOOK_')),
  );

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// A deadline that does not keep the process alive once nothing else waits on it.
const deadline = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

class Ringhook {
  /** `env`: more settings for the server and the CLI (e.g. `RINGHOOK_HOOK_DISABLE_AFTER_HOURS`). */
  constructor(dir, port, env = {}) {
    this.dir = dir;
    this.port = port;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.env = {
      ...inheritedEnv(),
      RINGHOOK_DATABASE_URL: `sqlite://${path.join(dir, 'ringhook.db')}`,
      RINGHOOK_LISTEN: `127.0.0.1:${port}`,
      RINGHOOK_PUBLIC_URL: this.baseUrl,
      RINGHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      RINGHOOK_ALLOW_HTTP_TARGETS: 'true',
      RINGHOOK_CALL_SETTLE_SECONDS: '0',
      RINGHOOK_SHUTDOWN_GRACE_SECONDS: '2',
      RINGHOOK_LOG_FILTER: process.env.RINGHOOK_LOG_FILTER || 'warn',
      ...env,
    };
    this.logs = [];
  }

  /** Runs `ringhook ARGS…`, returning its one JSON object. */
  cli(args, stdin) {
    return new Promise((resolve, reject) => {
      const child = execFile(
        RINGHOOK_BIN,
        args,
        { env: this.env, maxBuffer: 10 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) {
            reject(new Error(`ringhook ${args.join(' ')} failed: ${stderr || error.message}`));
            return;
          }
          try {
            resolve(JSON.parse(stdout));
          } catch (e) {
            reject(new Error(`ringhook ${args.join(' ')} printed no JSON: ${stdout}`));
          }
        },
      );
      child.stdin.end(stdin || '');
    });
  }

  async start() {
    if (!fs.existsSync(RINGHOOK_BIN)) {
      throw new Error(
        `no ringhook binary at ${RINGHOOK_BIN}: run \`cargo build\` first or set RINGHOOK_BIN`,
      );
    }
    // The database is created and migrated before the server starts, so admin commands and
    // the server never race to migrate it.
    await this.cli(['migrate']);
    this.child = spawn(RINGHOOK_BIN, ['serve'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk) => this.logs.push(chunk.toString());
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    for (let i = 0; i < 200; i += 1) {
      const code = await Promise.race([exited, sleep(50).then(() => undefined)]);
      if (code !== undefined) {
        throw new Error(`ringhook serve exited (${code}):\n${this.logs.join('')}`);
      }
      try {
        const response = await fetch(`${this.baseUrl}/readyz`);
        if (response.ok) return this;
      } catch (e) {
        // not listening yet
      }
    }
    throw new Error(`ringhook did not become ready:\n${this.logs.join('')}`);
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await Promise.race([exited, deadline(5000)]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
      this.child.stdout.destroy();
      this.child.stderr.destroy();
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Replays a fixture scenario (e.g. `kazoo/inbound_answered`, or the absolute path of a
   * folder of raw events) signed as `sourceId`.
   */
  simulate(sourceId, scenario) {
    return this.cli([
      'simulate',
      '--source',
      sourceId,
      '--url',
      this.baseUrl,
      path.isAbsolute(scenario) ? scenario : path.join(FIXTURES, scenario),
    ]);
  }
}

const startRinghook = async ({ env } = {}) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-zapier-'));
  const server = new Ringhook(dir, await freePort(), env);
  try {
    return await server.start();
  } catch (e) {
    await server.stop();
    throw e;
  }
};

module.exports = { startRinghook, RINGHOOK_BIN, FIXTURES, sleep };
