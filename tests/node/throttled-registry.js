// Microsoft's Node.js service SDK (azure-iothub's Registry) against a throttled hub: two bulk
// creates of 50 devices pass on one S1 unit, a third in the same minute is refused, and so is a
// single read; prints how the SDK reports each refusal (its error class, the HTTP status, the
// message). IOTHUB_CONNECTION_STRING (iothubowner), PREFIX for the device ids, and
// NODE_EXTRA_CA_CERTS for localhub's TLS root. The SDK dials
// `https://{HostName}` (port 443), unmodified: the test gives localhub that address.
'use strict';
const { Registry } = require('azure-iothub');
// The errors azure-iothub throws (its own copy of azure-iot-common's, not exported at the top).
const errors = require('azure-iothub/dist/common-core/errors');

const registry = Registry.fromConnectionString(process.env.IOTHUB_CONNECTION_STRING);
const p = process.env.PREFIX;
const fail = (step, err) => {
  console.log(`${step} failed: ${err && (err.responseBody || err.message || err)}`);
  process.exit(2);
};
const status = (err) => (err && err.response && err.response.statusCode) || (err && err.statusCode);
const fifty = (from) => Array.from({ length: 50 }, (_, i) => ({ deviceId: `${p}-${from + i}` }));
const refused = (step) => (e) => console.log(
  `${step} refused name=${e.name} throttling=${e instanceof errors.ThrottlingError} status=${status(e)} message=${e.message}`);

async function main() {
  for (const from of [0, 50]) {
    const r = await registry.addDevices(fifty(from)).catch((e) => fail(`add ${from}`, e));
    console.log(`added ${from}+50 isSuccessful=${r.responseBody.isSuccessful}`);
  }
  await registry.addDevices(fifty(100)).then(() => fail('third add', 'succeeded'), refused('third add'));
  await registry.get(`${p}-0`).then(() => fail('get', 'succeeded'), refused('get'));
}

main().catch((e) => fail('run', e));
