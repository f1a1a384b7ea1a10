// The seed guide's device-x509.js: Microsoft's Node.js device SDK connects to IoT Hub with an
// X.509 device certificate and sends one telemetry message. Paths and host come from the
// environment so the same script runs against localhub (in tests) or a real hub.
//
//   DEVICE_ID, DEVICE_CERT, DEVICE_KEY   the device and its files
//   IOTHUB_HOST                          HostName (e.g. my-iot-hub.azure-devices.net, or localhost)
//   IOTHUB_CA                            optional CA file to trust for the hub's TLS certificate
const { Client } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { Message } = require('azure-iot-common');
const fs = require('fs');

const deviceId = process.env.DEVICE_ID;
const host = process.env.IOTHUB_HOST;
// With x509=true the SDK always connects to HostName on port 8883.
const connectionString = `HostName=${host};DeviceId=${deviceId};x509=true`;

const client = Client.fromConnectionString(connectionString, Mqtt);
const options = {
  cert: fs.readFileSync(process.env.DEVICE_CERT, 'utf8'),
  key: fs.readFileSync(process.env.DEVICE_KEY, 'utf8'),
};
if (process.env.IOTHUB_CA) options.ca = fs.readFileSync(process.env.IOTHUB_CA, 'utf8');

async function main() {
  // setOptions is asynchronous (it reads the OS for the user agent): open only once it is done,
  // or the transport may still lack the certificate ("Invalid transport configuration").
  await client.setOptions(options);
  await client.open();
  console.log('Connected to IoT Hub using X.509 certificate');
  const msg = new Message(JSON.stringify({ temperature: 22.5, humidity: 65, deviceId }));
  msg.contentType = 'application/json';
  msg.contentEncoding = 'utf-8';
  await client.sendEvent(msg);
  console.log('Telemetry message sent successfully');
  await client.close();
}

const watchdog = setTimeout(() => { console.error('Connection failed: timed out'); process.exit(1); }, 20000);
main()
  .then(() => { clearTimeout(watchdog); process.exit(0); })
  .catch((err) => { console.error('Connection failed:', err.message); process.exit(1); });
