'use strict';

// OAuth2 (authorization code + PKCE) against ringhook's own authorization server.
// CLIENT_ID / CLIENT_SECRET come from `ringhook client create` and are set with
// `zapier-platform env:set`; ringhook accepts the client credentials in a form body.

const { url } = require('./lib/api');

const SCOPE = 'calls:read calls:write tenant:admin';

const tokenRequest = (z, body) =>
  z
    .request({
      url: url('/oauth/token'),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: {
        client_id: process.env.CLIENT_ID,
        client_secret: process.env.CLIENT_SECRET,
        ...body,
      },
    })
    .then((response) => {
      const data = response.data;
      // Flat on purpose: Zapier stores every top-level key in bundle.authData.
      return {
        access_token: data.access_token,
        refresh_token: data.refresh_token,
        scope: data.scope,
      };
    });

const getAccessToken = (z, bundle) =>
  tokenRequest(z, {
    grant_type: 'authorization_code',
    code: bundle.inputData.code,
    redirect_uri: bundle.inputData.redirect_uri,
    code_verifier: bundle.inputData.code_verifier,
  });

// ringhook rotates refresh tokens (the previous one stays valid for a short grace window, so
// parallel Zap steps refreshing at once do not break the connection); return the new one so
// Zapier stores it.
const refreshAccessToken = (z, bundle) =>
  tokenRequest(z, {
    grant_type: 'refresh_token',
    refresh_token: bundle.authData.refresh_token,
  });

// GET /v1/me; `tenant_name` is flattened out of `tenant` for the label.
const test = (z) =>
  z.request({ url: url('/v1/me') }).then((response) => {
    const me = response.data;
    return { ...me, tenant_name: me.tenant && me.tenant.name };
  });

// "Alice Nguyen (Acme Dental)". Gets the test's result in bundle.inputData.
const connectionLabel = (z, bundle) => {
  const me = bundle.inputData || {};
  const tenant = me.tenant_name || (me.tenant && me.tenant.name) || me.tenant__name;
  const who = me.name || me.email;
  return tenant ? `${who} (${tenant})` : who;
};

module.exports = {
  type: 'oauth2',
  oauth2Config: {
    authorizeUrl: {
      url: '{{process.env.RINGHOOK_BASE_URL}}/oauth/authorize',
      params: {
        client_id: '{{process.env.CLIENT_ID}}',
        state: '{{bundle.inputData.state}}',
        redirect_uri: '{{bundle.inputData.redirect_uri}}',
        response_type: 'code',
        scope: SCOPE,
      },
    },
    getAccessToken,
    refreshAccessToken,
    autoRefresh: true,
    enablePkce: true,
    scope: SCOPE,
  },
  fields: [],
  test,
  connectionLabel,
};
