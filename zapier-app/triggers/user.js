'use strict';

// Hidden trigger behind the "From User" dropdown of Place a Call: the tenant's users.

const { url } = require('../lib/api');

const perform = (z) =>
  z.request({ url: url('/v1/users') }).then((response) =>
    response.data.map((u) => ({
      id: u.id,
      name: u.extension ? `${u.name} (ext ${u.extension})` : u.name,
      extension: u.extension,
    })),
  );

module.exports = {
  key: 'user',
  noun: 'User',
  display: {
    label: 'List Users',
    description: 'Lists the users of your ringhook account, for dropdowns.',
    hidden: true,
  },
  operation: {
    perform,
    sample: { id: 'usr_01m8447pwt41dzpwk4cnx3vwdq', name: 'Alice Nguyen (ext 1001)', extension: '1001' },
    outputFields: [
      { key: 'id', label: 'User ID' },
      { key: 'name', label: 'Name' },
      { key: 'extension', label: 'Extension' },
    ],
  },
};
