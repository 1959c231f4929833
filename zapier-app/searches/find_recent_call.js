'use strict';

// Find Recent Call: the latest calls with a phone number as caller, callee or line
// (`GET /v1/events?number=`), typed in any format; ringhook compares numbers in E.164.
// Each call is returned once, as its newest event (so an ended call carries its durations).

const { url } = require('../lib/api');
const fields = require('../triggers/fields');
const { withFiles } = require('../lib/media');
const samples = require('../samples/call_events.json');

const perform = (z, bundle) => {
  const number = String(bundle.inputData.number || '').trim();
  if (!number) {
    throw new z.errors.Error('Give a phone number to search for.', 'invalid_search', 400);
  }
  const params = { number, limit: 100 };
  if (bundle.inputData.all_users === true || bundle.inputData.all_users === 'true') {
    params.scope = 'tenant';
  }
  return z.request({ url: url('/v1/events'), params }).then((response) => {
    const seen = new Set();
    const calls = [];
    // Newest first: the first event of each call is its latest.
    for (const event of response.data) {
      const callId = event.call && event.call.id;
      if (!callId || seen.has(callId)) continue;
      seen.add(callId);
      calls.push(withFiles(z, event));
    }
    return calls;
  });
};

module.exports = {
  key: 'find_recent_call',
  noun: 'Call',
  display: {
    label: 'Find Recent Call',
    description: 'Finds the most recent call with a phone number as caller, callee or the line it used.',
  },
  operation: {
    inputFields: [
      {
        key: 'number',
        label: 'Phone Number',
        required: true,
        helpText:
          'In any format, such as (415) 555-0123 or +1 415 555 0123; national numbers are read with your account\'s country.',
      },
      {
        key: 'all_users',
        label: "Search Every User's Calls",
        type: 'boolean',
        required: false,
        default: 'false',
        helpText: 'Account admins only. Otherwise only the calls you took part in are searched.',
      },
    ],
    perform,
    sample: samples['call.ended'],
    outputFields: [...fields.common, ...fields.missed, ...fields.voicemail],
  },
};
