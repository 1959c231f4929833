'use strict';

// REST Hook triggers for ringhook's call events. Each trigger subscribes a hook for one event
// type (or `*`), receives one event object per POST, and lists recent events of the same
// shape for Zapier's "Test trigger". Every trigger comes in two scopes: the connected user's
// calls, and every call of the tenant (tenant admins only: the token needs `tenant:admin`).

const { url } = require('../lib/api');
const fields = require('./fields');
const { withFiles } = require('../lib/media');
const samples = require('../samples/call_events.json');

// Every event type ringhook emits (DESIGN.md), for the "any call event" filter.
const EVENT_TYPES = [
  ['call.ringing', 'Ringing'],
  ['call.answered', 'Answered'],
  ['call.ended', 'Ended'],
  ['call.missed', 'Missed'],
  ['call.voicemail', 'Voicemail'],
  ['call.held', 'Held'],
  ['call.resumed', 'Resumed'],
  ['call.transferred', 'Transferred'],
  ['call.parked', 'Parked'],
  ['call.unparked', 'Unparked'],
  ['call.park_abandoned', 'Park abandoned'],
  ['call.queued', 'Queued'],
  ['call.queue_answered', 'Queue answered'],
  ['call.queue_abandoned', 'Queue abandoned'],
  ['call.recording_ready', 'Recording ready'],
];

// The triggers users asked for: one event type each.
const SPECIFIC = [
  {
    key: 'call_ringing',
    event: 'call.ringing',
    noun: 'Call',
    label: 'New Ringing Call',
    when: 'a phone starts ringing for a call',
  },
  {
    key: 'call_answered',
    event: 'call.answered',
    noun: 'Call',
    label: 'Call Answered',
    when: 'a call is answered',
  },
  {
    key: 'call_ended',
    event: 'call.ended',
    noun: 'Call',
    label: 'Call Ended',
    when: 'a call ends (with its disposition, ring, talk and total seconds)',
  },
  {
    key: 'call_missed',
    event: 'call.missed',
    noun: 'Call',
    label: 'Missed Call',
    when: 'a call rings without being answered, or is declined',
    extra: fields.missed,
  },
  {
    key: 'call_voicemail',
    event: 'call.voicemail',
    noun: 'Voicemail',
    label: 'New Voicemail',
    when: 'a caller leaves a voicemail',
    extra: fields.voicemail,
  },
  {
    key: 'call_parked',
    event: 'call.parked',
    noun: 'Call',
    label: 'Call Parked',
    when: 'a call is parked in a park slot',
    extra: fields.park,
  },
  {
    key: 'call_queued',
    event: 'call.queued',
    noun: 'Call',
    label: 'Call Queued',
    when: 'a call enters a call queue',
    extra: fields.queue,
  },
  {
    key: 'call_queue_abandoned',
    event: 'call.queue_abandoned',
    noun: 'Call',
    label: 'Queue Call Abandoned',
    when: 'a caller hangs up while waiting in a call queue',
    extra: fields.queue,
  },
  {
    key: 'call_recording_ready',
    event: 'call.recording_ready',
    noun: 'Recording',
    label: 'New Call Recording',
    when: 'a recording of a call is ready',
    extra: fields.recording,
  },
];

const SCOPES = {
  user: { keyPrefix: '', labelSuffix: '', whose: 'you take part in' },
  tenant: {
    keyPrefix: 'tenant_',
    labelSuffix: ' (All Users)',
    whose: 'any user of your account takes part in (account admins only)',
  },
};

const EVENT_TYPES_FIELD = {
  key: 'event_types',
  label: 'Event Types',
  list: true,
  required: false,
  choices: EVENT_TYPES.map(([value, label]) => ({ value, label, sample: value })),
  helpText: 'Trigger only for these call events. Leave empty for every call event.',
};

// The event types a Zap asked for; empty means all.
const chosenTypes = (bundle) => {
  const raw = (bundle.inputData && bundle.inputData.event_types) || [];
  const list = Array.isArray(raw) ? raw : String(raw).split(',');
  return list.map((t) => String(t).trim()).filter((t) => t && t !== '*');
};

const makeTrigger = ({ key, event, noun, label, when, extra = [] }, scopeName) => {
  const scope = SCOPES[scopeName];
  const isAny = event === '*';
  // The single event type to subscribe to, or `*` (and filter here) for several.
  const hookEvent = (bundle) => {
    if (!isAny) return event;
    const types = chosenTypes(bundle);
    return types.length === 1 ? types[0] : '*';
  };
  const wanted = (bundle, item) => {
    if (!item || typeof item !== 'object') return false;
    if (!isAny) return item.type === event;
    const types = chosenTypes(bundle);
    return types.length === 0 || types.includes(item.type);
  };

  const performSubscribe = (z, bundle) =>
    z
      .request({
        url: url('/v1/hooks'),
        method: 'POST',
        body: { target_url: bundle.targetUrl, event: hookEvent(bundle), scope: scopeName },
      })
      .then((response) => response.data);

  // DELETE is repeatable on ringhook (204 for a hook that is already gone).
  const performUnsubscribe = (z, bundle) => {
    const id = bundle.subscribeData && bundle.subscribeData.id;
    if (!id) return { unsubscribed: false };
    return z
      .request({ url: url(`/v1/hooks/${encodeURIComponent(id)}`), method: 'DELETE' })
      .then(() => ({ id, unsubscribed: true }));
  };

  // One POST from ringhook = one event object = one Zap run. Voicemail and recording audio
  // is added as a file pointer that Zapier hydrates when a step uses it.
  const perform = (z, bundle) => {
    const body = bundle.cleanedRequest;
    const items = Array.isArray(body) ? body : [body];
    return items
      .filter((item) => wanted(bundle, item))
      .map((item) => {
        // Zapier may put the hook URL's query string beside the body; it is not event data.
        const { querystring, ...event } = item;
        return withFiles(z, event);
      });
  };

  // Recent events, newest first, in exactly the shape perform returns.
  const performList = (z, bundle) => {
    const types = chosenTypes(bundle);
    const single = !isAny || types.length === 1;
    const params = { event: single ? hookEvent(bundle) : '*', limit: single ? 10 : 100 };
    if (scopeName === 'tenant') params.scope = 'tenant';
    return z
      .request({ url: url('/v1/events'), params })
      .then((response) =>
        response.data
          .filter((item) => wanted(bundle, item))
          .slice(0, 10)
          .map((item) => withFiles(z, item)),
      );
  };

  const sample = isAny ? samples['call.answered'] : samples[event];
  return {
    key: `${scope.keyPrefix}${key}`,
    noun,
    display: {
      label: `${label}${scope.labelSuffix}`,
      description: `Triggers when ${when}, for calls ${scope.whose}.`,
    },
    operation: {
      type: 'hook',
      inputFields: isAny ? [EVENT_TYPES_FIELD] : [],
      performSubscribe,
      performUnsubscribe,
      perform,
      performList,
      sample,
      outputFields: [...fields.common, ...extra],
    },
  };
};

const ANY = {
  key: 'call_event',
  event: '*',
  noun: 'Call Event',
  label: 'Any Call Event',
  when: 'any call event you choose happens (ringing, answered, ended, missed, parked, queued, ...)',
  extra: [...fields.park, ...fields.queue, ...fields.transfer],
};

const triggers = ['user', 'tenant'].flatMap((scope) =>
  [...SPECIFIC, ANY].map((spec) => makeTrigger(spec, scope)),
);

module.exports = { triggers, EVENT_TYPES, SPECIFIC };
