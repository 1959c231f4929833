'use strict';

// The app definition, checked by Zapier's own schema and by what the schema does not check
// (it accepts a hook trigger without subscribe/list/sample and a dropdown pointing nowhere).

const { validateAppDefinition } = require('zapier-platform-schema');
const TriggerSchema = require('zapier-platform-schema/lib/schemas/TriggerSchema');
const CreateSchema = require('zapier-platform-schema/lib/schemas/CreateSchema');
const SearchSchema = require('zapier-platform-schema/lib/schemas/SearchSchema');
const App = require('../index');
const { SPECIFIC } = require('../triggers/call_events');
const { addBearerToken } = require('../lib/api');
const OPENAPI = require('../../openapi/openapi.json');

// Functions are serialised the way zapier-platform-core does before validating.
const serialise = (value) =>
  JSON.parse(JSON.stringify(value, (key, v) => (typeof v === 'function' ? '$func$2$f$' : v)));

const triggers = Object.values(App.triggers);
const hookTriggers = triggers.filter((t) => t.operation.type === 'hook');
const creates = Object.values(App.creates);
const searches = Object.values(App.searches);
const messages = (result) => result.errors.map((e) => `${e.property} ${e.message}`);

test('the app definition passes zapier-platform-schema', () => {
  expect(messages(validateAppDefinition(serialise(App)))).toEqual([]);
});

test('the validators used here do reject broken definitions', () => {
  const broken = serialise(App);
  broken.triggers.call_answered.key = 'not_the_same_key';
  expect(validateAppDefinition(broken).errors.length).toBeGreaterThan(0);
  const noSample = serialise(App.triggers.call_missed);
  delete noSample.operation.sample;
  expect(messages(TriggerSchema.validate(noSample)).join()).toMatch(/sample/);
});

test.each(triggers.map((t) => [t.key, t]))('trigger %s passes the trigger schema', (key, t) => {
  expect(messages(TriggerSchema.validate(serialise(t)))).toEqual([]);
});

test.each(creates.map((c) => [c.key, c]))('create %s passes the create schema', (key, c) => {
  expect(messages(CreateSchema.validate(serialise(c)))).toEqual([]);
});

test.each(searches.map((s) => [s.key, s]))('search %s passes the search schema', (key, s) => {
  expect(messages(SearchSchema.validate(serialise(s)))).toEqual([]);
});

test('the searches users asked for exist, and file pointers name a registered hydrator', () => {
  expect(Object.keys(App.searches).sort()).toEqual(['find_recent_call', 'find_user']);
  expect(typeof App.hydrators.downloadMedia).toBe('function');
  for (const key of ['call_voicemail', 'call_recording_ready']) {
    const keys = App.triggers[key].operation.outputFields.map((f) => f.key);
    const file = App.triggers[key].operation.outputFields.find((f) => f.type === 'file');
    expect(file).toBeDefined();
    expect(keys).toContain(file.key);
  }
});

test('there is a hook trigger for each call event users asked for, in both scopes', () => {
  const wanted = [
    'call.ringing',
    'call.answered',
    'call.ended',
    'call.missed',
    'call.voicemail',
    'call.parked',
    'call.queued',
    'call.queue_abandoned',
    'call.recording_ready',
  ];
  expect(SPECIFIC.map((s) => s.event)).toEqual(wanted);
  for (const spec of SPECIFIC) {
    expect(App.triggers[spec.key].operation.type).toBe('hook');
    expect(App.triggers[`tenant_${spec.key}`].operation.type).toBe('hook');
  }
  expect(App.triggers.call_event.operation.inputFields[0].key).toBe('event_types');
  expect(App.triggers.tenant_call_event.operation.type).toBe('hook');
  expect(hookTriggers).toHaveLength(2 * (SPECIFIC.length + 1));
});

test.each(hookTriggers.map((t) => [t.key, t]))(
  'hook trigger %s can subscribe, unsubscribe, list and show a sample',
  (key, { operation }) => {
    for (const name of ['perform', 'performSubscribe', 'performUnsubscribe', 'performList']) {
      expect(typeof operation[name]).toBe('function');
    }
    expect(operation.sample).toEqual(expect.objectContaining({ id: expect.stringMatching(/^evt_/) }));
  },
);

test.each(SPECIFIC.map((s) => [s.key, s.event]))(
  "trigger %s's sample is a real %s event",
  (key, event) => {
    expect(App.triggers[key].operation.sample.type).toBe(event);
    expect(App.triggers[`tenant_${key}`].operation.sample.type).toBe(event);
  },
);

test('every trigger and create has labelled output fields including an id, and a sample with an id', () => {
  for (const item of [...triggers, ...creates, ...searches]) {
    const { outputFields, sample } = item.operation;
    expect(sample).toHaveProperty('id');
    const keys = outputFields.map((f) => f.key);
    expect(keys).toContain('id');
    expect(new Set(keys).size).toBe(keys.length);
    for (const field of outputFields) {
      expect(field.label).toEqual(expect.any(String));
    }
  }
});

test('output fields name fields that exist in the event shape', () => {
  // Every top-level part of a call event's output field keys is a real event key.
  const topLevel = [
    'id',
    'type',
    'occurred_at',
    'origin',
    'summary',
    'tenant_id',
    'call',
    'missed',
    'voicemail',
    'recording',
    'park',
    'queue',
    'transfer',
  ];
  for (const t of hookTriggers) {
    for (const field of t.operation.outputFields) {
      expect(topLevel).toContain(field.key.split('__')[0]);
    }
  }
});

test('every dropdown points at a trigger that exists and returns its id and label fields', () => {
  const dropdowns = [...triggers, ...creates]
    .flatMap((item) => item.operation.inputFields || [])
    .filter((field) => field.dynamic);
  expect(dropdowns.length).toBeGreaterThan(0);
  for (const field of dropdowns) {
    const [key, idField, labelField] = field.dynamic.split('.');
    const source = App.triggers[key];
    expect(source).toBeDefined();
    expect(source.operation.sample).toHaveProperty(idField);
    expect(source.operation.sample).toHaveProperty(labelField);
    expect(field.choices).toBeUndefined();
  }
});

test('the "any call event" filter offers every event type ringhook emits', () => {
  // What ringhook emits is the EventType enum of its published API description, read here
  // independently of the list the app builds its choices from.
  const emitted = OPENAPI.components.schemas.EventType.enum;
  const choices = App.triggers.call_event.operation.inputFields[0].choices.map((c) => c.value);
  expect([...choices].sort()).toEqual([...emitted].sort());
  expect(new Set(choices).size).toBe(choices.length);
});

test('authentication is OAuth2 with PKCE, refresh on 401, the three scopes and a test', () => {
  const { authentication } = App;
  expect(authentication.type).toBe('oauth2');
  expect(authentication.oauth2Config).toMatchObject({
    enablePkce: true,
    autoRefresh: true,
    scope: 'calls:read calls:write tenant:admin',
  });
  expect(typeof authentication.test).toBe('function');
  expect(typeof authentication.connectionLabel).toBe('function');
  expect(App.beforeRequest).toContain(addBearerToken);
});

test('the bearer token goes to the API but not to the OAuth endpoints', () => {
  const bundle = { authData: { access_token: 'tok' } };
  const api = addBearerToken({ url: 'https://r.example/v1/me', headers: {} }, {}, bundle);
  expect(api.headers.Authorization).toBe('Bearer tok');
  const token = addBearerToken({ url: 'https://r.example/oauth/token', headers: {} }, {}, bundle);
  expect(token.headers.Authorization).toBeUndefined();
});
