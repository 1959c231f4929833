'use strict';

// The web console in headless Chromium (Debian's `chromium`, driven by playwright-core)
// against the real ringhook binary (target/debug/ringhook, built by `cargo test`/`cargo build`)
// on its own SQLite database: an admin signs in, watches a simulated call appear live and
// opens it, links an unlinked extension and sees the next call named, resends a failing hook's
// delivery to a receiver that now answers, revokes the Zapier grant and sees its token
// refused; a non-admin cannot open admin pages nor act on another user's hook (direct URL,
// forged form post); sign-in throttling holds. Every page is checked with axe-core for serious
// or critical violations and photographed into output/ (gitignored). The server disables a
// hook at its second failing round (`hook_disable_after_hours` 0), so that the test can see a
// failing hook disabled and re-enable it; a call's page shows its raw events as received; the
// queue names page adds, renames and deletes a name.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');
const axe = require('axe-core');
const { startRinghook, sleep } = require('../../../zapier-app/test/support/ringhook');
const { consent } = require('../../../zapier-app/test/support/oauth');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUTPUT = path.join(__dirname, '..', 'output');
const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'https://zapier.com/dashboard/auth/oauth/return/App123456CLIAPI/';
const ALICE_KAZOO_OWNER = '6384e2b2184bcbf58eccf10ca7a6563c';

let ringhook;
let browser;
let world;
let receiver;

/** A hook target that answers 500 until `healthy` is set, and records what it gets. */
const flakyReceiver = () =>
  new Promise((resolve) => {
    const state = { healthy: false, received: [] };
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        state.received.push({ path: req.url, healthy: state.healthy });
        res.writeHead(state.healthy ? 200 : 500, { 'content-type': 'text/plain' });
        res.end(state.healthy ? 'ok' : 'receiver is down');
      });
    });
    server.listen(0, '127.0.0.1', () => {
      state.url = `http://127.0.0.1:${server.address().port}/hook`;
      state.close = () => new Promise((r) => { server.close(r); server.closeAllConnections(); });
      resolve(state);
    });
  });

/** Alice (admin, linked by her Kazoo owner id, no extension yet) and Bob (not an admin). */
const createWorld = async () => {
  const tenant = await ringhook.cli(['tenant', 'create', '--name', 'Acme Dental', '--default-country', 'US']);
  const source = await ringhook.cli([
    'source', 'create', '--tenant', tenant.id, '--kind', 'kazoo',
    '--account-id', '4c122831efef10ac68b5223dccd6f614',
  ]);
  const alice = await ringhook.cli(
    ['user', 'create', '--tenant', tenant.id, '--email', 'alice@acme.example', '--name', 'Alice Nguyen',
      '--admin', '--link', `${source.id}:${ALICE_KAZOO_OWNER}`, '--password-stdin'],
    `${PASSWORD}\n`,
  );
  const bob = await ringhook.cli(
    ['user', 'create', '--tenant', tenant.id, '--email', 'bob@acme.example', '--name', 'Bob Martin',
      '--extension', '1002', '--password-stdin'],
    `${PASSWORD}\n`,
  );
  const client = await ringhook.cli(['client', 'create', '--name', 'Zapier', '--redirect-uri', REDIRECT_URI]);
  return { tenant, source, alice, bob, client };
};

/** An access token for `email` through the consent page and the token endpoint, as Zapier gets one. */
const connectZapier = async (email) => {
  const url = new URL(`${ringhook.baseUrl}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: world.client.client_id, redirect_uri: REDIRECT_URI,
    scope: 'calls:read tenant:admin', state: 'console-test',
  }).toString();
  const redirect = await consent({ authorizeUrl: url.toString(), email, password: PASSWORD });
  assert.equal(redirect.error, null);
  const response = await fetch(`${ringhook.baseUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: redirect.code, redirect_uri: REDIRECT_URI,
      client_id: world.client.client_id, client_secret: world.client.client_secret,
      code_verifier: redirect.verifier,
    }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).access_token;
};

const simulate = (scenario, copies = 1) =>
  ringhook.cli([
    'simulate', '--source', world.source.id, '--url', ringhook.baseUrl, '--copies', String(copies),
    path.join(require('../../../zapier-app/test/support/ringhook').FIXTURES, 'kazoo', scenario),
  ]);

/** axe-core on the open page: no serious or critical violation. */
const checkAccessibility = async (page, name) => {
  await page.evaluate(axe.source);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`),
    [],
    `accessibility of ${name}`,
  );
};

/** Photographs the page into output/ and checks it with axe. */
const record = async (page, name) => {
  await page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  await checkAccessibility(page, name);
};

const newPage = async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept());
  return page;
};

const signIn = async (page, email, password = PASSWORD) => {
  await page.goto(`${ringhook.baseUrl}/console/sign-in`);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  return Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]).then(([r]) => r);
};

let admin; // Alice's page, signed in
let zapierToken; // Alice's Zapier access token
let hookId;

before(async () => {
  fs.mkdirSync(OUTPUT, { recursive: true });
  ringhook = await startRinghook({ env: { RINGHOOK_HOOK_DISABLE_AFTER_HOURS: '0' } });
  world = await createWorld();
  receiver = await flakyReceiver();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  if (browser) await browser.close();
  if (receiver) await receiver.close();
  if (ringhook) await ringhook.stop();
});

test('an admin signs in and sees the overview, with frame and script protection', async () => {
  admin = await newPage();
  await admin.goto(`${ringhook.baseUrl}/console/sign-in`);
  await record(admin, 'sign-in');
  const response = await signIn(admin, 'alice@acme.example');
  assert.equal(new URL(admin.url()).pathname, '/console');
  const headers = response.headers();
  assert.equal(headers['x-frame-options'], 'DENY');
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.match(headers['content-security-policy'], /script-src 'self'/);
  const cookies = await admin.context().cookies();
  const session = cookies.find((c) => c.name === 'ringhook_session');
  assert.ok(session.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Lax');
  await admin.getByRole('cell', { name: world.source.id, exact: true }).waitFor();
  await record(admin, 'overview');
});

test('a simulated call appears live on the calls page and opens', async () => {
  await admin.goto(`${ringhook.baseUrl}/console/calls`);
  await admin.getByText('No calls yet.').waitFor();
  await simulate('inbound_answered');
  // No reload: the page's script brings the new call in.
  const link = admin.locator('#calls a', { hasText: 'ACME SUPPLY' }).first();
  await link.waitFor({ timeout: 15000 });
  await record(admin, 'calls');
  await Promise.all([admin.waitForNavigation(), link.click()]);
  assert.match(new URL(admin.url()).pathname, /^\/console\/calls\/call_/);
  await admin.getByRole('heading', { name: /call\.answered/ }).waitFor();
  // The raw events it was made of, in the order received, as Kazoo sent them.
  await admin.getByRole('heading', { name: 'Raw events, as received' }).waitFor();
  const raw = admin.locator('ol.raw > li');
  assert.equal(await raw.count(), 7);
  const first = raw.first();
  assert.match(await first.locator('summary').innerText(), /^channel_create .*application\/json/);
  await first.locator('summary').click();
  assert.match(await first.locator('pre').innerText(), /"caller_id_name": "ACME SUPPLY"/);
  await record(admin, 'call');
});

test('an extension seen in calls is linked in one step and the next call is named', async () => {
  await simulate('park_retrieved');
  await admin.goto(`${ringhook.baseUrl}/console/users`);
  const button = admin.getByRole('button', { name: 'Link extension 1001' });
  await button.waitFor();
  await record(admin, 'users');
  const form = admin.locator('form', { has: button });
  await form.locator('select[name=user]').selectOption({ label: 'Alice Nguyen' });
  await Promise.all([admin.waitForNavigation(), button.click()]);
  assert.equal(await admin.getByRole('button', { name: 'Link extension 1001' }).count(), 0);
  assert.match(await admin.locator('summary', { hasText: 'Alice Nguyen' }).innerText(), /ext 1001/);
  // The next call (a new copy of the scenario) names Alice as a user, not as an unlinked party.
  await simulate('park_retrieved', 2);
  await admin.goto(`${ringhook.baseUrl}/console/calls?type=call.parked`);
  const rows = admin.locator('#calls tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 2);
  const texts = await rows.allInnerTexts();
  assert.equal(texts.filter((t) => /Alice Nguyen \(ext 1001\) · not linked/.test(t)).length, 1, texts.join('\n'));
  assert.equal(texts.filter((t) => /Alice Nguyen \(ext 1001\)(?! · not linked)/.test(t)).length, 1, texts.join('\n'));
  // The change is in the audit log, by Alice.
  await admin.goto(`${ringhook.baseUrl}/console/audit`);
  await admin.getByRole('cell', { name: 'user.update' }).waitFor();
  await record(admin, 'audit');
});

test("a failing hook's delivery is found and resent to a receiver that now answers", async () => {
  zapierToken = await connectZapier('alice@acme.example');
  const created = await fetch(`${ringhook.baseUrl}/v1/hooks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${zapierToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ target_url: receiver.url, event: 'call.answered', scope: 'tenant' }),
  });
  assert.equal(created.status, 201, await created.clone().text());
  hookId = (await created.json()).id;
  await simulate('inbound_answered', 3);
  const deadline = Date.now() + 15000;
  while (receiver.received.length === 0 && Date.now() < deadline) await sleep(100);
  assert.ok(receiver.received.length > 0, 'the hook was tried');

  await admin.goto(`${ringhook.baseUrl}/console`);
  const failing = admin.getByRole('link', { name: hookId });
  await failing.waitFor();
  await Promise.all([admin.waitForNavigation(), failing.click()]);
  await admin.getByText('receiver is down').first().waitFor();
  // It keeps failing, so it is disabled (at once here); an admin turns it back on.
  const disabledBy = Date.now() + 20000;
  while ((await admin.getByText(/disabled: failing continuously/).count()) === 0 && Date.now() < disabledBy) {
    await sleep(500);
    await admin.reload();
  }
  const enable = admin.getByRole('button', { name: 'Re-enable hook' });
  await enable.waitFor();
  await record(admin, 'hook');
  receiver.healthy = true;
  await Promise.all([admin.waitForNavigation(), enable.click()]);
  await admin.getByText('The hook is active again').waitFor();
  assert.equal(await admin.getByRole('button', { name: 'Re-enable hook' }).count(), 0);

  const resend = admin.getByRole('button', { name: 'Resend' }).first();
  await Promise.all([admin.waitForNavigation(), resend.click()]);
  await admin.getByText('queued to be sent again').waitFor();
  const until = Date.now() + 15000;
  while (!receiver.received.some((r) => r.healthy) && Date.now() < until) await sleep(100);
  assert.ok(receiver.received.some((r) => r.healthy), 'the resent delivery arrived');
  await admin.reload();
  await admin.locator('td .good', { hasText: 'delivered' }).first().waitFor({ timeout: 10000 });
  await admin.goto(`${ringhook.baseUrl}/console/hooks`);
  await record(admin, 'hooks');
});

test('queue names are added, renamed and deleted on the queues page', async () => {
  await admin.goto(`${ringhook.baseUrl}/console/queues`);
  await admin.getByText('No queue has a name yet.').waitFor();
  await admin.fill('input[name=queue_id]', 'a9d1cbf71942327e98b40cf5ef38a960');
  await admin.locator('form[action="/console/queues/add"] input[name=name]').fill('Sales');
  await Promise.all([admin.waitForNavigation(), admin.getByRole('button', { name: 'Add' }).click()]);
  const name = admin.getByLabel('Name of queue a9d1cbf71942327e98b40cf5ef38a960');
  assert.equal(await name.inputValue(), 'Sales');
  await name.fill('Support');
  await Promise.all([admin.waitForNavigation(), admin.getByRole('button', { name: 'Rename' }).click()]);
  assert.equal(await admin.getByLabel('Name of queue a9d1cbf71942327e98b40cf5ef38a960').inputValue(), 'Support');
  await record(admin, 'queues');
  const listed = await ringhook.cli(['queue', 'list', '--source', world.source.id]);
  assert.deepEqual(listed.map((q) => q.name), ['Support']);
  await Promise.all([
    admin.waitForNavigation(),
    admin.getByRole('button', { name: 'Delete name of a9d1cbf71942327e98b40cf5ef38a960' }).click(),
  ]);
  await admin.getByText('No queue has a name yet.').waitFor();
  await admin.goto(`${ringhook.baseUrl}/console/audit`);
  for (const action of ['queue.set', 'queue.rename', 'queue.delete', 'hook.enable', 'delivery.resend']) {
    await admin.getByRole('cell', { name: action, exact: true }).first().waitFor();
  }
});

test('a non-admin cannot open admin pages nor act on another user\'s hook', async () => {
  const bob = await newPage();
  await signIn(bob, 'bob@acme.example');
  assert.equal(new URL(bob.url()).pathname, '/console/hooks');
  await record(bob, 'my-hooks');
  for (const page of ['/console/users', '/console/calls', '/console/audit', '/console/sources', '/console/queues']) {
    const response = await bob.goto(`${ringhook.baseUrl}${page}`);
    assert.equal(response.status(), 403, page);
  }
  await bob.goto(`${ringhook.baseUrl}/console/hooks`);
  assert.equal(await bob.getByText(hookId).count(), 0, "Alice's hook is not listed for Bob");
  const direct = await bob.goto(`${ringhook.baseUrl}/console/hooks/${hookId}`);
  assert.equal(direct.status(), 404);
  // A forged post with Bob's own, valid CSRF token: still not his hook.
  await bob.goto(`${ringhook.baseUrl}/console/account`);
  await record(bob, 'account');
  const token = await bob.locator('input[name=csrf_token]').first().inputValue();
  const statuses = await bob.evaluate(async ({ hook, csrf, user }) => {
    const post = async (url, fields) =>
      (await fetch(url, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' })).status;
    return [
      await post(`/console/hooks/${hook}/delete`, { csrf_token: csrf }),
      await post('/console/users/update', { csrf_token: csrf, user, name: 'Mallory', email: 'm@acme.example', admin: 'on' }),
    ];
  }, { hook: hookId, csrf: token, user: world.bob.id });
  assert.deepEqual(statuses, [404, 403]);
  // A post without the token (what another site could forge) is refused even for Alice.
  const forged = await admin.evaluate(async (hook) =>
    (await fetch(`/console/hooks/${hook}/delete`, { method: 'POST', body: new URLSearchParams({}), redirect: 'manual' })).status,
  hookId);
  assert.equal(forged, 403);
  const still = await fetch(`${ringhook.baseUrl}/v1/hooks/${hookId}`, { headers: { authorization: `Bearer ${zapierToken}` } });
  assert.equal(still.status, 200, 'the hook is still there');
  await bob.context().close();
});

test("revoking the Zapier grant refuses the app's token", async () => {
  const before = await fetch(`${ringhook.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${zapierToken}` } });
  assert.equal(before.status, 200);
  await admin.goto(`${ringhook.baseUrl}/console/apps`);
  await record(admin, 'apps');
  await Promise.all([admin.waitForNavigation(), admin.getByRole('button', { name: 'Revoke Zapier' }).click()]);
  await admin.getByText('No app is connected.').waitFor();
  const refused = await fetch(`${ringhook.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${zapierToken}` } });
  assert.equal(refused.status, 401);
});

test('the sources page rotates a secret and shows it once', async () => {
  await admin.goto(`${ringhook.baseUrl}/console/sources`);
  await Promise.all([admin.waitForNavigation(), admin.getByRole('button', { name: 'Rotate secret' }).click()]);
  await admin.getByText('shown this once').waitFor();
  await record(admin, 'sources');
});

test('pages fit a phone screen: nothing but the tables scrolls sideways', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const phone = await context.newPage();
  await signIn(phone, 'alice@acme.example');
  for (const page of ['/console', '/console/calls', '/console/hooks', '/console/users', '/console/queues', '/console/apps']) {
    await phone.goto(`${ringhook.baseUrl}${page}`);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${page} is ${overflow}px wider than the phone`);
  }
  await phone.goto(`${ringhook.baseUrl}/console/calls`);
  await phone.screenshot({ path: path.join(OUTPUT, 'phone-calls.png'), fullPage: true });
  await context.close();
});

test('sign-in throttling holds in the console', async () => {
  const stranger = await newPage();
  for (let i = 0; i < 5; i += 1) {
    await signIn(stranger, 'alice@acme.example', 'a wrong password');
    await stranger.getByText('The email or password is not right.').waitFor();
  }
  const locked = await signIn(stranger, 'alice@acme.example', PASSWORD);
  assert.equal(locked.status(), 429);
  await stranger.getByText('Too many wrong passwords').waitFor();
  assert.equal(new URL(stranger.url()).pathname, '/console/sign-in');
  await stranger.context().close();
});
