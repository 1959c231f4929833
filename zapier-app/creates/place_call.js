'use strict';

// "Place a Call": POST /v1/calls (click-to-call). ringhook rings the user's phone first and
// then dials `to`; the call's triggers carry `call.correlation.request_id` = the returned id.

const { url } = require('../lib/api');

const perform = (z, bundle) => {
  const { to, from_user_id, caller_id } = bundle.inputData;
  const body = { to };
  if (from_user_id) body.from_user_id = from_user_id;
  if (caller_id) body.caller_id = caller_id;
  return z
    .request({ url: url('/v1/calls'), method: 'POST', body })
    .then((response) => response.data);
};

module.exports = {
  key: 'place_call',
  noun: 'Call',
  display: {
    label: 'Place a Call',
    description: "Rings a user's phone and, once they answer, dials the number you give.",
  },
  operation: {
    inputFields: [
      {
        key: 'to',
        label: 'Number to Call',
        required: true,
        type: 'string',
        helpText: 'The phone number to dial, preferably in E.164 form (e.g. +12125550199).',
      },
      {
        key: 'from_user_id',
        label: 'From User',
        required: false,
        dynamic: 'user.id.name',
        helpText: 'Whose phone rings first. Leave empty to use the connected user.',
      },
      {
        key: 'caller_id',
        label: 'Caller ID',
        required: false,
        type: 'string',
        helpText: 'The number the called party sees. Leave empty for the default.',
      },
    ],
    perform,
    sample: {
      id: 'c2c_01HZX9Q3T4M5N6P7R8S9',
      status: 'requested',
      to: '+12125550199',
      from_user_id: 'usr_01m8447pwt41dzpwk4cnx3vwdq',
      created_at: '2024-06-03T16:00:00Z',
    },
    outputFields: [
      { key: 'id', label: 'Call Request ID' },
      { key: 'status', label: 'Status' },
      { key: 'to', label: 'Number Called' },
      { key: 'from_user_id', label: 'From User ID' },
      { key: 'created_at', label: 'Created At', type: 'datetime' },
    ],
  },
};
