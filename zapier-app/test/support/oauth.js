'use strict';

// The browser's half of the OAuth dance, over plain HTTP: Zapier opens the app's authorize
// URL (adding PKCE), the user signs in and allows on ringhook's consent page, and ringhook
// redirects back with a code. Zapier's half (the token exchange) runs through the app.

const crypto = require('node:crypto');

const base64url = (buf) => buf.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');

/** RFC 7636 §4.1–4.2, as Zapier computes them with `enablePkce`. */
const pkcePair = () => {
  const verifier = base64url(crypto.randomBytes(32));
  const challenge = base64url(crypto.createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
};

const unescapeHtml = (s) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** `name → value` of the page's `<input type="hidden">`s. */
const hiddenInputs = (html) => {
  const fields = {};
  for (const tag of html.match(/<input[^>]*>/g) || []) {
    if (!/type="hidden"/.test(tag)) continue;
    const name = /name="([^"]*)"/.exec(tag);
    const value = /value="([^"]*)"/.exec(tag);
    if (name) fields[unescapeHtml(name[1])] = value ? unescapeHtml(value[1]) : '';
  }
  return fields;
};

const cookiesOf = (response) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');

/**
 * Opens `authorizeUrl` (plus the PKCE parameters Zapier adds), signs in as `email` and allows.
 * Returns the redirect's `code` and `state` and the `verifier` for the token exchange.
 */
const consent = async ({ authorizeUrl, email, password, decision = 'allow' }) => {
  const { verifier, challenge } = pkcePair();
  const url = new URL(authorizeUrl);
  url.searchParams.set('code_challenge', challenge);
  url.searchParams.set('code_challenge_method', 'S256');

  const page = await fetch(url, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authorize page answered ${page.status}: ${html}`);
  const form = hiddenInputs(html);
  if (!form.csrf_token) throw new Error(`no CSRF token on the authorize page: ${html}`);

  const body = new URLSearchParams({ ...form, email, password, decision });
  const answer = await fetch(url.origin + url.pathname, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookiesOf(page) },
    body,
  });
  if (answer.status !== 303) {
    throw new Error(`consent answered ${answer.status}: ${await answer.text()}`);
  }
  const location = new URL(answer.headers.get('location'));
  return {
    location,
    code: location.searchParams.get('code'),
    state: location.searchParams.get('state'),
    error: location.searchParams.get('error'),
    verifier,
  };
};

/**
 * A Zapier connection for `email`: the app's authorize URL, the consent page, then the app's
 * own token exchange, all through `appTester`. Returns the connection's authData.
 */
const connectApp = async (appTester, App, { email, password, redirectUri }) => {
  const state = crypto.randomUUID();
  const authorizeUrl = await appTester(App.authentication.oauth2Config.authorizeUrl, {
    inputData: { state, redirect_uri: redirectUri },
  });
  const redirect = await consent({ authorizeUrl, email, password });
  if (redirect.error || redirect.state !== state) {
    throw new Error(`consent for ${email} answered ${redirect.location}`);
  }
  return appTester(App.authentication.oauth2Config.getAccessToken, {
    inputData: {
      code: redirect.code,
      state,
      redirect_uri: redirectUri,
      code_verifier: redirect.verifier,
    },
  });
};

module.exports = { consent, connectApp, pkcePair, hiddenInputs };
