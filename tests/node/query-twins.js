// Microsoft's Node.js service SDK (azure-iothub's Registry.createQuery) on the twin query: every
// twin by nextAsTwin in pages of PAGE_SIZE while hasMoreResults; a projection with a WHERE on the
// reported certificate by next; a query the hub cannot read. Prints one line per step.
// IOTHUB_CONNECTION_STRING (iothubowner), PAGE_SIZE, EXPIRING_BEFORE (an ISO date), and
// NODE_EXTRA_CA_CERTS for localhub's TLS root. The SDK dials
// `https://{HostName}` (port 443), unmodified: the test gives localhub that address.
'use strict';
const { Registry } = require('azure-iothub');

const registry = Registry.fromConnectionString(process.env.IOTHUB_CONNECTION_STRING);
const size = Number(process.env.PAGE_SIZE);

async function all(query, read) {
  const items = [];
  let pages = 0;
  do {
    const { result } = await read(query);
    items.push(...result);
    pages += 1;
  } while (query.hasMoreResults);
  return { items, pages };
}

async function main() {
  const twins = await all(registry.createQuery('SELECT * FROM devices', size), (q) => q.nextAsTwin());
  const ids = twins.items.map((t) => t.deviceId);
  const sorted = ids.every((id, i) => i === 0 || ids[i - 1] < id);
  console.log(`all ${ids.length} twins in ${twins.pages} pages sorted=${sorted} unique=${new Set(ids).size === ids.length}`);
  for (const t of twins.items.filter((t) => t.properties.reported.certificate)) {
    console.log(`reported ${t.deviceId} until=${t.properties.reported.certificate.validUntil} auth=${t.authenticationType}`);
  }
  const expiring = await all(
    registry.createQuery(
      'SELECT deviceId, properties.reported.certificate FROM devices ' +
        `WHERE properties.reported.certificate.validUntil < '${process.env.EXPIRING_BEFORE}'`,
      size,
    ),
    (q) => q.next(),
  );
  console.log(`expiring ${expiring.items.map((t) => t.deviceId).sort().join(',')}`);
  try {
    await registry.createQuery('SELECT * FROM devices WHERE (', size).next();
    console.log('bad query accepted');
  } catch (err) {
    const status = (err.response && err.response.statusCode) || err.statusCode;
    const body = String(err.responseBody || err.message);
    const code = body.includes('ErrorCode:ArgumentInvalid;') ? 'ArgumentInvalid' : body;
    console.log(`bad query status=${status} code=${code}`);
  }
}

main().catch((err) => {
  console.log(`failed: ${err && (err.responseBody || err.message || err)}`);
  process.exit(2);
});
