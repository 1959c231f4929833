'use strict';

// New Voicemail and New Call Recording hand over the audio as a Zapier file, and the two
// searches, against a real ringhook: a fake Kazoo API holds the voicemail, a fake Zorio file
// store the recording, and a stand-in for Zapier's stash (RPC + S3) receives the file the
// hydrator streams from ringhook's /v1/media with the connection's token.
//
// Needs the binary from `cargo build` (see test/support/ringhook.js for RINGHOOK_BIN).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRinghook, FIXTURES } = require('./support/ringhook');
const { startReceiver } = require('./support/receiver');
const { startFakeZapier, startFileServer } = require('./support/fake_zapier');
const { connectApp } = require('./support/oauth');
const { createWorld, REDIRECT_URI, PASSWORD } = require('./support/world');

const KAZOO_ACCOUNT = '4c122831efef10ac68b5223dccd6f614';
const VM_BOX = '220ad06ea76be98c9259cdbfee6bae11';
const VM_MESSAGE = '202406-09b2183cf6f76347435902822b5a4e80';
const VOICEMAIL_RAW = `/v2/accounts/${KAZOO_ACCOUNT}/vmboxes/${VM_BOX}/messages/${VM_MESSAGE}/raw`;
const ZORIO_CALL = '5b2f8e1c-3d4a-4b6c-9e7f-0a1b2c3d4e5f';

// Audio that is not text, large enough to take several reads.
const audio = (tag, size) => {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + tag.length) % 256;
  Buffer.from(`ID3${tag}`).copy(bytes);
  return bytes;
};
const VOICEMAIL_AUDIO = audio('voicemail', 300 * 1024);
const RECORDING_AUDIO = audio('recording', 200 * 1024);

let zapier; // zapier-platform-core, loaded once the fake stash's address is known
let App;
let appTester;
let stash;
let kazoo;
let files;
let ringhook;
let receiver;
let world;
let zorio;
let alice;
let bob;
let scratch;

/** The hydrator and its input a dehydrated file pointer names. */
const pointer = (value) => {
  const match = /^hydrate\|\|\|(.*)\|\|\|hydrate$/.exec(value);
  expect(match).not.toBeNull();
  return JSON.parse(match[1]);
};

/** A copy of a fixture scenario with `from` replaced by `to` in its bodies. */
const scenarioWith = (scenario, from, to) => {
  const dir = path.join(scratch, scenario.replace('/', '_'));
  fs.mkdirSync(dir, { recursive: true });
  const source = path.join(FIXTURES, scenario);
  for (const name of fs.readdirSync(source)) {
    const text = fs.readFileSync(path.join(source, name), 'utf8');
    fs.writeFileSync(path.join(dir, name), name.endsWith('.body.json') ? text.split(from).join(to) : text);
  }
  return dir;
};

/** The file part of the one multipart upload the stash received. */
const uploadedFile = (upload) => {
  const boundary = /boundary=(.+)$/.exec(upload.headers['content-type'])[1];
  const parts = upload.body.toString('latin1').split(`--${boundary}`);
  const part = parts.find((p) => /name="file"/.test(p));
  const [head, ...rest] = part.split('\r\n\r\n');
  const body = rest.join('\r\n\r\n').replace(/\r\n$/, '');
  return { head, bytes: Buffer.from(body, 'latin1') };
};

beforeAll(async () => {
  stash = await startFakeZapier();
  // Read by zapier-platform-core when it loads: z.stashFile's RPC goes to the stand-in.
  process.env.ZAPIER_BASE_ENDPOINT = stash.url;
  process.env.ZAPIER_DEPLOY_KEY = 'test-deploy-key';
  zapier = require('zapier-platform-core');
  App = require('../index');
  appTester = zapier.createAppTester(App);

  kazoo = await startFileServer({
    'PUT /v2/api_auth': {
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth_token: 'kz-token', status: 'success' }),
    },
    [`GET ${VOICEMAIL_RAW}`]: { headers: { 'content-type': 'audio/mpeg' }, body: VOICEMAIL_AUDIO },
  });
  files = await startFileServer({
    [`GET /rec/${ZORIO_CALL}.mp3`]: { headers: { 'content-type': 'audio/mpeg' }, body: RECORDING_AUDIO },
  });
  ringhook = await startRinghook();
  receiver = await startReceiver();
  world = await createWorld(ringhook, { pbxUrl: kazoo.url });
  zorio = await ringhook.cli(['source', 'create', '--tenant', world.tenant.id, '--kind', 'zorio']);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ringhook-zapier-media-'));
  process.env.RINGHOOK_BASE_URL = ringhook.baseUrl;
  process.env.CLIENT_ID = world.client.client_id;
  process.env.CLIENT_SECRET = world.client.client_secret;
  const login = (email) => connectApp(appTester, App, { email, password: PASSWORD, redirectUri: REDIRECT_URI });
  alice = await login('alice@acme.example');
  bob = await login('bob@acme.example');
});

afterAll(async () => {
  for (const server of [receiver, kazoo, files, stash]) if (server) await server.close();
  if (ringhook) await ringhook.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** Subscribes `key` for `authData`, replays `scenario` as `sourceId`, returns the delivery and perform's output. */
const deliver = async (key, authData, sourceId, scenario) => {
  const trigger = App.triggers[key].operation;
  const targetUrl = `${receiver.url}/hooks/${key}`;
  const subscribeData = await appTester(trigger.performSubscribe, { authData, targetUrl, inputData: {} });
  await ringhook.simulate(sourceId, scenario);
  const [delivery] = await receiver.waitFor(`/hooks/${key}`);
  const results = await appTester(trigger.perform, {
    authData,
    inputData: {},
    subscribeData,
    targetUrl,
    cleanedRequest: delivery.json,
  });
  await appTester(trigger.performUnsubscribe, { authData, subscribeData });
  return { delivery: delivery.json, results };
};

describe('New Voicemail', () => {
  let voicemail;

  test('perform hands over the message with its audio as a file pointer to ringhook', async () => {
    const { delivery, results } = await deliver('call_voicemail', alice, world.source.id, 'kazoo/inbound_voicemail');
    expect(results).toHaveLength(1);
    [voicemail] = results;
    expect(voicemail).toMatchObject({
      type: 'call.voicemail',
      voicemail: { box_id: VM_BOX, message_id: VM_MESSAGE, duration_seconds: 31 },
    });
    const { url } = delivery.voicemail.media;
    expect(url.startsWith(`${ringhook.baseUrl}/v1/media/med_`)).toBe(true);
    // Everything the hook delivered is kept; only the file is added.
    const { file, ...rest } = voicemail.voicemail;
    expect(rest).toEqual(delivery.voicemail);
    expect(pointer(file)).toEqual({ type: 'file', method: 'hydrators.downloadMedia', bundle: { url } });
    // The subscriber never sees the phone system's address.
    expect(JSON.stringify(delivery)).not.toContain(kazoo.url);
  });

  test('hydrating the file streams the audio from ringhook into Zapier with the connection token', async () => {
    const { bundle } = pointer(voicemail.voicemail.file);
    const before = kazoo.requests.length;
    const stashed = await appTester(App.hydrators.downloadMedia, { authData: alice, inputData: bundle });
    expect(stashed).toBe(stash.stashedUrl);
    const upload = stash.uploads[stash.uploads.length - 1];
    const file = uploadedFile(upload);
    expect(file.bytes.equals(VOICEMAIL_AUDIO)).toBe(true);
    expect(file.head).toMatch(/Content-Type: audio\/mpeg/i);
    // ringhook fetched it from Kazoo with the account's token, not the subscriber's.
    const fetched = kazoo.requests.slice(before).filter((r) => r.path === VOICEMAIL_RAW);
    expect(fetched).toHaveLength(1);
    expect(fetched[0].headers['x-auth-token']).toBe('kz-token');
    expect(fetched[0].headers.authorization).toBeUndefined();
  });

  test('the file of a call the connection cannot see is not handed over', async () => {
    const { bundle } = pointer(voicemail.voicemail.file);
    const uploads = stash.uploads.length;
    // Bob took no part in the call and is not an admin: ringhook answers 404.
    await expect(appTester(App.hydrators.downloadMedia, { authData: bob, inputData: bundle })).rejects.toThrow(
      /404|not found/i,
    );
    expect(stash.uploads).toHaveLength(uploads);
  });

  test('the hydrator sends the token to ringhook only', async () => {
    const before = files.requests.length;
    const elsewhere = { url: `${files.url}/rec/${ZORIO_CALL}.mp3` };
    await expect(appTester(App.hydrators.downloadMedia, { authData: alice, inputData: elsewhere })).rejects.toThrow(
      /not a ringhook media url/i,
    );
    expect(files.requests).toHaveLength(before);
  });

  test('Test trigger lists the voicemail with the same file pointer', async () => {
    const listed = await appTester(App.triggers.call_voicemail.operation.performList, {
      authData: alice,
      inputData: {},
    });
    const same = listed.find((e) => e.id === voicemail.id);
    expect(same).toEqual(voicemail);
  });
});

describe('New Call Recording', () => {
  test('a Zorio recording reaches the trigger and its file hydrates with the recorded bytes', async () => {
    const recordingUrl = `${files.url}/rec/${ZORIO_CALL}.mp3`;
    const scenario = scenarioWith(
      'zorio/inbound_answered',
      `https://files.zorio.example/rec/${ZORIO_CALL}.mp3`,
      recordingUrl,
    );
    const { delivery, results } = await deliver('tenant_call_recording_ready', alice, zorio.id, scenario);
    expect(results).toHaveLength(1);
    const [event] = results;
    expect(event).toMatchObject({ type: 'call.recording_ready', recording: { id: ZORIO_CALL } });
    expect(JSON.stringify(delivery)).not.toContain(files.url);
    const { bundle, method } = pointer(event.recording.file);
    expect(method).toBe('hydrators.downloadMedia');
    expect(bundle.url).toBe(delivery.recording.media.url);

    const stashed = await appTester(App.hydrators.downloadMedia, { authData: alice, inputData: bundle });
    expect(stashed).toBe(stash.stashedUrl);
    const file = uploadedFile(stash.uploads[stash.uploads.length - 1]);
    expect(file.bytes.equals(RECORDING_AUDIO)).toBe(true);
    expect(files.requests.filter((r) => r.path === `/rec/${ZORIO_CALL}.mp3`)).toHaveLength(1);
  });
});

describe('Find User', () => {
  const find = (authData, inputData) => appTester(App.searches.find_user.operation.perform, { authData, inputData });

  test('finds a user by email (any case) or by extension, for any connected user', async () => {
    expect(await find(bob, { email: 'ALICE@acme.example' })).toEqual([
      { id: world.alice.id, name: 'Alice Nguyen', extension: '1001' },
    ]);
    expect(await find(bob, { extension: '1002' })).toEqual([
      { id: world.bob.id, name: 'Bob Martin', extension: '1002' },
    ]);
    expect(await find(alice, { email: 'alice@acme.example', extension: '1002' })).toEqual([]);
    expect(await find(alice, { email: 'nobody@acme.example' })).toEqual([]);
  });

  test('asks for an email or an extension', async () => {
    await expect(find(alice, { email: ' ', extension: '' })).rejects.toThrow(/email address or an extension/);
  });
});

describe('Find Recent Call', () => {
  const find = (authData, inputData) =>
    appTester(App.searches.find_recent_call.operation.perform, { authData, inputData });

  test('finds the call with a number typed in any format, once, as its latest event', async () => {
    for (const number of ['(312) 555-0188', '+1 312 555 0188', '312.555.0188']) {
      const calls = await find(alice, { number });
      expect(calls.length).toBeGreaterThan(0);
      expect(new Set(calls.map((c) => c.call.id)).size).toBe(calls.length);
      for (const event of calls) {
        const numbers = [event.call.from, event.call.to, event.call.line].map((p) => p && p.number);
        expect(numbers).toContain('+13125550188');
      }
      // The voicemail call from DR PATEL OFFICE, in its newest state.
      expect(calls[0].call.from.name).toBe('DR PATEL OFFICE');
      const everything = await fetch(
        `${ringhook.baseUrl}/v1/events?number=${encodeURIComponent('+13125550188')}&limit=100`,
        { headers: { authorization: `Bearer ${alice.access_token}` } },
      ).then((r) => r.json());
      const newest = everything.find((e) => e.call.id === calls[0].call.id);
      expect(calls[0].id).toBe(newest.id);
    }
  });

  test("a non-admin sees only their own calls; an admin may search everyone's", async () => {
    // Bob took no part in DR PATEL OFFICE's call to Alice.
    expect(await find(bob, { number: '+13125550188' })).toEqual([]);
    await expect(find(bob, { number: '+13125550188', all_users: true })).rejects.toThrow(/tenant:admin|scope|permission/i);
    const all = await find(alice, { number: '+13125550188', all_users: true });
    expect(all.length).toBeGreaterThan(0);
  });

  test('a number nobody called finds nothing, and text that is no number is refused clearly', async () => {
    expect(await find(alice, { number: '+1 212 555 0199' })).toEqual([]);
    await expect(find(alice, { number: 'call me maybe' })).rejects.toThrow(/number/i);
  });
});
