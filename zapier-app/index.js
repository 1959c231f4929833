'use strict';

const authentication = require('./authentication');
const { addBearerToken, problemToError } = require('./lib/api');
const { triggers } = require('./triggers/call_events');
const user = require('./triggers/user');
const placeCall = require('./creates/place_call');

const byKey = (list) => Object.fromEntries(list.map((item) => [item.key, item]));

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,

  authentication,
  beforeRequest: [addBearerToken],
  afterResponse: [problemToError],

  triggers: byKey([...triggers, user]),
  searches: {},
  creates: byKey([placeCall]),
  resources: {},
};
