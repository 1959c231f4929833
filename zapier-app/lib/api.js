'use strict';

// Where ringhook lives and how its answers become Zapier errors.
//
// The base URL is read from the environment on every call (not when the app is built), so
// the same app runs against any ringhook: `zapier-platform env:set 1.0.0 RINGHOOK_BASE_URL=…`
// in production, a local server in the tests.

const baseUrl = () => {
  const raw = process.env.RINGHOOK_BASE_URL;
  if (!raw) {
    throw new Error(
      'RINGHOOK_BASE_URL is not set: set it to the ringhook server, e.g. https://ringhook.example.net',
    );
  }
  return raw.replace(/\/+$/, '');
};

const url = (path) => `${baseUrl()}${path}`;

// ringhook answers errors as application/problem+json with a stable `code`; show the user its
// `detail` instead of a raw body. 401 never gets here with autoRefresh (core turns it into a
// RefreshAuthError first), nor does 429 (core's ThrottledError).
const problemToError = (response, z) => {
  if (response.status < 400) {
    return response;
  }
  const type = String(response.getHeader('content-type') || '');
  if (!type.includes('problem+json')) {
    return response;
  }
  let problem = {};
  try {
    problem = JSON.parse(response.content);
  } catch (e) {
    return response;
  }
  const message = problem.detail || problem.title || `ringhook answered ${response.status}`;
  throw new z.errors.Error(message, problem.code || 'ringhook_error', response.status);
};

// Every call to the API carries the user's access token; the OAuth endpoints do not (the
// client authenticates there with its id and secret, and ringhook refuses a Bearer header on
// /oauth/token, which the refresh request would otherwise carry).
const addBearerToken = (request, z, bundle) => {
  const isOAuth = /\/oauth\//.test(String(request.url || ''));
  const token = bundle.authData && bundle.authData.access_token;
  if (token && !isOAuth && !request.headers.Authorization) {
    request.headers.Authorization = `Bearer ${token}`;
  }
  return request;
};

module.exports = { baseUrl, url, problemToError, addBearerToken };
