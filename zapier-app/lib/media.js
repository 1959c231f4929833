'use strict';

// Voicemail and recording audio as Zapier files. ringhook serves the audio itself
// (`GET /v1/media/{id}`, bearer token, streamed from the phone system), so the file is fetched
// with the connection's own token and the phone system's credentials never reach Zapier.
//
// Events carry a dehydrated pointer (`voicemail.file`, `recording.file`): Zapier downloads the
// audio only when a later step uses the file, once, and stashes it.

const { baseUrl } = require('./api');

// Only ringhook's own media URLs are fetched: the connection's token goes nowhere else.
const isRinghookMedia = (raw) => {
  let target;
  let base;
  try {
    target = new URL(raw);
    base = new URL(`${baseUrl()}/`);
  } catch (e) {
    return false;
  }
  return (
    target.origin === base.origin &&
    target.pathname.startsWith(`${base.pathname.replace(/\/$/, '')}/v1/media/med_`)
  );
};

/** Hydrator: streams the audio from ringhook (the bearer token is added by `beforeRequest`). */
const downloadMedia = (z, bundle) => {
  const { url } = bundle.inputData;
  if (!isRinghookMedia(url)) {
    throw new z.errors.Error(
      `Not a ringhook media URL: ${url}`,
      'invalid_media_url',
      400,
    );
  }
  return z.stashFile(z.request({ url, raw: true }));
};

// Where an event holds audio: the event type's object with a `media.url`.
const AUDIO_OF = ['voicemail', 'recording'];

/** The event with `file` pointers beside each `media` it has; other events unchanged. */
const withFiles = (z, event) => {
  if (!event || typeof event !== 'object') return event;
  let out = event;
  for (const key of AUDIO_OF) {
    const holder = event[key];
    const url = holder && holder.media && holder.media.url;
    if (url) {
      out = { ...out, [key]: { ...holder, file: z.dehydrateFile(downloadMedia, { url }) } };
    }
  }
  return out;
};

module.exports = { downloadMedia, withFiles, isRinghookMedia };
