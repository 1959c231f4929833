'use strict';

// Place a Call against a stand-in for `POST /v1/calls` (DESIGN.md). The same action runs
// against the live server in live.test.js once ringhook has the route.

const zapier = require('zapier-platform-core');
const App = require('../index');
const { startFakeRinghook } = require('./support/fake_ringhook');

const appTester = zapier.createAppTester(App);
const perform = App.creates.place_call.operation.perform;

let fake;
let savedBaseUrl;

beforeAll(async () => {
  fake = await startFakeRinghook();
  savedBaseUrl = process.env.RINGHOOK_BASE_URL;
  process.env.RINGHOOK_BASE_URL = fake.url;
});

afterAll(async () => {
  if (savedBaseUrl === undefined) delete process.env.RINGHOOK_BASE_URL;
  else process.env.RINGHOOK_BASE_URL = savedBaseUrl;
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
});

const authData = () => ({ access_token: fake.token, refresh_token: 'r' });

test('posts the number, user and caller id with the bearer token and returns the call', async () => {
  const call = await appTester(perform, {
    authData: authData(),
    inputData: { to: '+12125550199', from_user_id: 'usr_01bob', caller_id: '+16285550111' },
  });
  expect(call).toMatchObject({
    id: expect.stringMatching(/^c2c_/),
    status: 'requested',
    to: '+12125550199',
    from_user_id: 'usr_01bob',
  });
  expect(fake.requests).toHaveLength(1);
  const [request] = fake.requests;
  expect(request.method).toBe('POST');
  expect(request.path).toBe('/v1/calls');
  expect(request.headers.authorization).toBe(`Bearer ${fake.token}`);
  expect(request.headers['content-type']).toMatch(/application\/json/);
  expect(JSON.parse(request.raw)).toEqual({
    to: '+12125550199',
    from_user_id: 'usr_01bob',
    caller_id: '+16285550111',
  });
});

test('leaves out the optional fields the user left empty', async () => {
  await appTester(perform, { authData: authData(), inputData: { to: '+12125550199', caller_id: '' } });
  expect(JSON.parse(fake.requests[0].raw)).toEqual({ to: '+12125550199' });
});

test('the result has the sample and output fields shape', async () => {
  const call = await appTester(perform, { authData: authData(), inputData: { to: '+12125550199' } });
  const { sample, outputFields } = App.creates.place_call.operation;
  expect(Object.keys(call).sort()).toEqual(Object.keys(sample).sort());
  expect(outputFields.map((f) => f.key).sort()).toEqual(Object.keys(sample).sort());
});

test("ringhook's problem detail becomes the error the user sees", async () => {
  const attempt = appTester(perform, { authData: authData(), inputData: { to: 'not a number' } });
  const error = await attempt.then(
    () => null,
    (e) => e,
  );
  // z.errors.Error carries its parts JSON-encoded; Zapier shows `message`.
  expect(error.name).toBe('AppError');
  expect(JSON.parse(error.message)).toEqual({
    message: '"not a number" is not a phone number',
    code: 'invalid_number',
    status: 422,
  });
});

test('a refused token asks Zapier to refresh', async () => {
  const attempt = appTester(perform, {
    authData: { access_token: 'stale', refresh_token: 'r' },
    inputData: { to: '+12125550199' },
  });
  await expect(attempt).rejects.toHaveProperty('name', 'RefreshAuthError');
});
