'use strict';

// One tenant as the fixtures know it: "Acme Dental" with a Kazoo source and its Support queue,
// Alice (admin, ext 1001) and Bob (ext 1002) linked to their Kazoo owner ids, and a Zapier
// OAuth client.

const ALICE_KAZOO_OWNER = '6384e2b2184bcbf58eccf10ca7a6563c';
const BOB_KAZOO_OWNER = '9f9d51bc70ef21ca5c14f307980a29d8';
const REDIRECT_URI = 'https://zapier.com/dashboard/auth/oauth/return/App123456CLIAPI/';
const PASSWORD = 'correct horse battery staple';

const KAZOO_ACCOUNT = '4c122831efef10ac68b5223dccd6f614';
const SUPPORT_QUEUE = 'a9d1cbf71942327e98b40cf5ef38a960';

/** `pbxUrl`: a fake Kazoo API for click-to-call. */
const createWorld = async (ringhook, { pbxUrl }) => {
  const tenant = await ringhook.cli(['tenant', 'create', '--name', 'Acme Dental', '--default-country', 'US']);
  const source = await ringhook.cli([
    'source', 'create', '--tenant', tenant.id, '--kind', 'kazoo',
    '--account-id', KAZOO_ACCOUNT, '--api-url', `${pbxUrl}/v2`, '--api-key', 'test-api-key',
  ]);
  await ringhook.cli(['queue', 'set', '--source', source.id, '--queue-id', SUPPORT_QUEUE, '--name', 'Support']);
  const alice = await ringhook.cli(
    [
      'user', 'create', '--tenant', tenant.id, '--email', 'alice@acme.example',
      '--name', 'Alice Nguyen', '--extension', '1001', '--number', '+16285550100',
      '--admin', '--link', `${source.id}:${ALICE_KAZOO_OWNER}`, '--password-stdin',
    ],
    `${PASSWORD}\n`,
  );
  const bob = await ringhook.cli(
    [
      'user', 'create', '--tenant', tenant.id, '--email', 'bob@acme.example',
      '--name', 'Bob Martin', '--extension', '1002',
      '--link', `${source.id}:${BOB_KAZOO_OWNER}`, '--password-stdin',
    ],
    `${PASSWORD}\n`,
  );
  const client = await ringhook.cli(['client', 'create', '--name', 'Zapier', '--redirect-uri', REDIRECT_URI]);
  return { tenant, source, alice, bob, client };
};

module.exports = { createWorld, REDIRECT_URI, PASSWORD };
