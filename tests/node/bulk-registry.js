// Microsoft's Node.js service SDK (azure-iothub's Registry) on the registry's bulk operation:
// addDevices (100 at once; then one already there, one new, one bad id), updateDevices with a
// stale etag and with the current one, removeDevices, and removeDevices of an id that is gone.
// Prints one line per step. IOTHUB_CONNECTION_STRING (iothubowner), PREFIX for the device ids, and
// NODE_EXTRA_CA_CERTS for localhub's TLS root. The SDK dials
// `https://{HostName}` (port 443), unmodified: the test gives localhub that address.
'use strict';
const { Registry } = require('azure-iothub');

const registry = Registry.fromConnectionString(process.env.IOTHUB_CONNECTION_STRING);
const p = process.env.PREFIX;
const fail = (step, err) => {
  console.log(`${step} failed: ${err && (err.responseBody || err.message || err)}`);
  process.exit(2);
};
const status = (err) => (err && err.response && err.response.statusCode) || (err && err.statusCode);
// The per-device errors of a refused call, `id:code` joined by commas.
const errorsOf = (err) => {
  const body = JSON.parse(err.responseBody);
  return `isSuccessful=${body.isSuccessful} errors=${body.errors.map((e) => `${e.deviceId}:${e.errorCode}`).join(',')}`;
};

async function main() {
  const hundred = [];
  for (let i = 0; i < 100; i++) hundred.push({ deviceId: `${p}-${i}` });
  let r = await registry.addDevices(hundred).catch((e) => fail('add 100', e));
  console.log(`added ${hundred.length} isSuccessful=${r.responseBody.isSuccessful}`);

  r = await registry.get(`${p}-7`).catch((e) => fail('get', e));
  console.log(`got ${r.responseBody.deviceId} ${r.responseBody.authentication.type}`);

  const mixed = [{ deviceId: `${p}-0` }, { deviceId: `${p}-new` }, { deviceId: `${p}/bad` }];
  await registry.addDevices(mixed).then(
    () => fail('add mixed', 'succeeded'),
    (e) => console.log(`mixed status=${status(e)} ${errorsOf(e)}`));

  const current = (await registry.get(`${p}-1`).catch((e) => fail('get', e))).responseBody;
  const stale = Object.assign({}, current, { etag: 'c3RhbGU=', status: 'disabled' });
  await registry.updateDevices([stale], false).then(
    () => fail('update stale', 'succeeded'),
    (e) => console.log(`stale status=${status(e)} ${errorsOf(e)}`));

  current.status = 'disabled';
  r = await registry.updateDevices([current], false).catch((e) => fail('update', e));
  console.log(`updated isSuccessful=${r.responseBody.isSuccessful}`);
  r = await registry.get(`${p}-1`).catch((e) => fail('get', e));
  console.log(`now ${r.responseBody.deviceId} ${r.responseBody.status}`);

  hundred.push({ deviceId: `${p}-new` });
  r = await registry.removeDevices(hundred.slice(1), true).catch((e) => fail('remove', e));
  console.log(`removed ${hundred.length - 1} isSuccessful=${r.responseBody.isSuccessful}`);
  await registry.removeDevices([{ deviceId: `${p}-gone` }], true).then(
    () => fail('remove gone', 'succeeded'),
    (e) => console.log(`gone status=${status(e)} ${errorsOf(e)}`));
}

main().catch((e) => fail('run', e));
