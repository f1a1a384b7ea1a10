// Microsoft's Node.js provisioning SDK with X.509: register with DPS, then connect to the assigned
// hub with the device SDK and send one message. Prints `assigned <hub> <deviceId>` and `sent`.
//   PROVISIONING_HOST, ID_SCOPE, REGISTRATION_ID, DEVICE_CERT, DEVICE_KEY  (files), and
//   NODE_EXTRA_CA_CERTS for a DPS/hub whose TLS root the system does not trust (localhub's);
//   WEBSOCKETS=1 for MQTT over WebSockets (the SDK then dials port 443 of DPS and of the hub).
'use strict';
const fs = require('fs');
const websockets = process.env.WEBSOCKETS === '1';
const ProvisioningTransport = websockets ? require('azure-iot-provisioning-device-mqtt').MqttWs : require('azure-iot-provisioning-device-mqtt').Mqtt;
const X509Security = require('azure-iot-security-x509').X509Security;
const ProvisioningDeviceClient = require('azure-iot-provisioning-device').ProvisioningDeviceClient;
const { Client, Message } = require('azure-iot-device');
const DeviceTransport = websockets ? require('azure-iot-device-mqtt').MqttWs : require('azure-iot-device-mqtt').Mqtt;

const cert = { cert: fs.readFileSync(process.env.DEVICE_CERT, 'utf8'), key: fs.readFileSync(process.env.DEVICE_KEY, 'utf8') };
const security = new X509Security(process.env.REGISTRATION_ID, cert);
const provisioning = ProvisioningDeviceClient.create(process.env.PROVISIONING_HOST, process.env.ID_SCOPE, new ProvisioningTransport(), security);

provisioning.register((err, result) => {
  if (err) {
    console.log('registration failed: ' + (err.message || err));
    process.exit(2);
  }
  console.log('assigned ' + result.assignedHub + ' ' + result.deviceId);
  const client = Client.fromConnectionString(`HostName=${result.assignedHub};DeviceId=${result.deviceId};x509=true`, DeviceTransport);
  client.setOptions(cert);
  client.open((err) => {
    if (err) {
      console.log('hub connection failed: ' + err.message);
      process.exit(3);
    }
    client.sendEvent(new Message(JSON.stringify({ provisioned: websockets ? 'ws' : true })), (err) => {
      if (err) {
        console.log('send failed: ' + err.message);
        process.exit(4);
      }
      console.log('sent');
      client.close(() => process.exit(0));
    });
  });
});
