'use strict';

// Find User: a user of the ringhook account by email address or extension
// (`GET /v1/users?email=&extension=`), e.g. to pick the "From User" of Place a Call from a
// CRM's owner email.

const { url } = require('../lib/api');

const given = (value) => (value === undefined || value === null ? '' : String(value).trim());

const perform = (z, bundle) => {
  const email = given(bundle.inputData.email);
  const extension = given(bundle.inputData.extension);
  if (!email && !extension) {
    throw new z.errors.Error('Give an email address or an extension to search for.', 'invalid_search', 400);
  }
  const params = {};
  if (email) params.email = email;
  if (extension) params.extension = extension;
  return z.request({ url: url('/v1/users'), params }).then((response) => response.data);
};

module.exports = {
  key: 'find_user',
  noun: 'User',
  display: {
    label: 'Find User',
    description: 'Finds a user of your ringhook account by email address or extension.',
  },
  operation: {
    inputFields: [
      {
        key: 'email',
        label: 'Email',
        required: false,
        helpText: "The user's sign-in email address (any case).",
      },
      {
        key: 'extension',
        label: 'Extension',
        required: false,
        helpText: "The user's extension, such as 1001. With an email too, the user must have both.",
      },
    ],
    perform,
    sample: { id: 'usr_01m8vwg0kywa03mg4q2xwbzgey', name: 'Alice Nguyen', extension: '1001' },
    outputFields: [
      { key: 'id', label: 'User ID' },
      { key: 'name', label: 'Name' },
      { key: 'extension', label: 'Extension' },
    ],
  },
};
