'use strict';

const authentication = require('./authentication');
const { addBearerToken, problemToError } = require('./lib/api');
const { triggers } = require('./triggers/call_events');
const user = require('./triggers/user');
const placeCall = require('./creates/place_call');
const findUser = require('./searches/find_user');
const findRecentCall = require('./searches/find_recent_call');
const { downloadMedia } = require('./lib/media');

const byKey = (list) => Object.fromEntries(list.map((item) => [item.key, item]));

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,

  authentication,
  beforeRequest: [addBearerToken],
  afterResponse: [problemToError],

  triggers: byKey([...triggers, user]),
  searches: byKey([findUser, findRecentCall]),
  creates: byKey([placeCall]),
  resources: {},
  // Dehydrated voicemail and recording files (lib/media.js).
  hydrators: { downloadMedia },
};
