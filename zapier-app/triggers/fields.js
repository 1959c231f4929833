'use strict';

// Labelled output fields of a call event (DESIGN.md "Call events"). Nested keys use Zapier's
// `__` flattening, so `call__from__number` is `call.from.number`.

const party = (prefix, who) => [
  { key: `${prefix}__name`, label: `${who} Name` },
  { key: `${prefix}__number`, label: `${who} Number` },
  { key: `${prefix}__extension`, label: `${who} Extension` },
  { key: `${prefix}__user_id`, label: `${who} User ID` },
  { key: `${prefix}__kind`, label: `${who} Kind` },
];

const common = [
  { key: 'id', label: 'Event ID', primary: true },
  { key: 'type', label: 'Event Type' },
  { key: 'occurred_at', label: 'Occurred At', type: 'datetime' },
  { key: 'summary', label: 'Summary' },
  { key: 'tenant_id', label: 'Tenant ID' },
  { key: 'origin', label: 'Origin (live, or reconciled later from the call history)' },
  { key: 'call__id', label: 'Call ID' },
  { key: 'call__direction', label: 'Direction' },
  ...party('call__from', 'From'),
  ...party('call__to', 'To'),
  ...party('call__user', 'User'),
  { key: 'call__started_at', label: 'Started At', type: 'datetime' },
  { key: 'call__answered_at', label: 'Answered At', type: 'datetime' },
  { key: 'call__ended_at', label: 'Ended At', type: 'datetime' },
  { key: 'call__ring_seconds', label: 'Ring Seconds', type: 'integer' },
  { key: 'call__talk_seconds', label: 'Talk Seconds', type: 'integer' },
  { key: 'call__duration_seconds', label: 'Duration Seconds', type: 'integer' },
  { key: 'call__disposition', label: 'Disposition' },
  { key: 'call__hangup_cause', label: 'Hangup Cause' },
  { key: 'call__hangup_cause_raw', label: 'Hangup Cause (as the Phone System Sent It)' },
  { key: 'call__line__number', label: 'Line Number (Your Number the Call Used)' },
  { key: 'call__line__name', label: 'Line Name' },
  { key: 'call__source', label: 'Source' },
  { key: 'call__source_call_id', label: 'Source Call ID' },
  { key: 'call__correlation__request_id', label: 'Click-to-Call Request ID' },
];

// Audio is served by ringhook; Zapier fetches it with the connection's token. `file` is the
// audio itself (hydrated on use), for steps that take a file.
const media = (prefix, what) => [
  { key: `${prefix}__file`, label: `${what} Audio File`, type: 'file' },
  { key: `${prefix}__media__url`, label: `${what} Audio URL` },
  { key: `${prefix}__media__content_type`, label: `${what} Audio Content Type` },
];

const missed = [
  { key: 'missed__reason', label: 'Missed Reason' },
  { key: 'missed__ring_seconds', label: 'Missed After Ringing (Seconds)', type: 'integer' },
];

const voicemail = [
  { key: 'voicemail__box_id', label: 'Voicemail Box ID' },
  { key: 'voicemail__message_id', label: 'Voicemail Message ID' },
  { key: 'voicemail__duration_seconds', label: 'Voicemail Length (Seconds)', type: 'integer' },
  { key: 'voicemail__transcription', label: 'Voicemail Transcription' },
  ...media('voicemail', 'Voicemail'),
];

const recording = [
  { key: 'recording__id', label: 'Recording ID' },
  { key: 'recording__duration_seconds', label: 'Recording Length (Seconds)', type: 'integer' },
  ...media('recording', 'Recording'),
];

const park = [
  { key: 'park__slot', label: 'Park Slot' },
  { key: 'park__outcome', label: 'Park Outcome' },
  ...party('park__parked_by', 'Parked By'),
  ...party('park__retrieved_by', 'Retrieved By'),
];

const queue = [
  { key: 'queue__id', label: 'Queue ID' },
  { key: 'queue__name', label: 'Queue Name' },
  { key: 'queue__wait_seconds', label: 'Queue Wait Seconds', type: 'integer' },
  { key: 'queue__abandon_reason', label: 'Queue Abandon Reason' },
  ...party('queue__agent', 'Agent'),
];

const transfer = [
  { key: 'transfer__kind', label: 'Transfer Kind' },
  { key: 'transfer__new_call_id', label: 'Transfer New Call ID' },
  ...party('transfer__to', 'Transferred To'),
];

module.exports = { common, missed, voicemail, recording, park, queue, transfer };
