// Microsoft's Node.js provisioning SDK over HTTPS (azure-iot-provisioning-device-http): register
// with DPS by a symmetric key (azure-iot-security-symmetric-key) or an X.509 certificate
// (azure-iot-security-x509), then connect to the assigned hub with the device SDK over MQTT over
// WebSockets (port 443, as the HTTPS registration) and send one message.
// Prints `assigned <hub> <deviceId>` and `sent`, or `registration failed: ...`.
//   PROVISIONING_HOST, ID_SCOPE, REGISTRATION_ID, MESSAGE (the JSON sent), and either
//   SYMMETRIC_KEY (the device's key: an individual enrollment's, or derived from its group's) or
//   DEVICE_CERT and DEVICE_KEY (files); NODE_EXTRA_CA_CERTS for localhub's TLS root.
'use strict';
const fs = require('fs');
const { Http } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { X509Security } = require('azure-iot-security-x509');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Client, Message } = require('azure-iot-device');
const { MqttWs } = require('azure-iot-device-mqtt');

const env = process.env;
const symmetricKey = env.SYMMETRIC_KEY;
const cert = symmetricKey ? null : { cert: fs.readFileSync(env.DEVICE_CERT, 'utf8'), key: fs.readFileSync(env.DEVICE_KEY, 'utf8') };
const security = symmetricKey
  ? new SymmetricKeySecurityClient(env.REGISTRATION_ID, symmetricKey)
  : new X509Security(env.REGISTRATION_ID, cert);
const provisioning = ProvisioningDeviceClient.create(env.PROVISIONING_HOST, env.ID_SCOPE, new Http(), security);

provisioning.register((err, result) => {
  if (err) {
    console.log('registration failed: ' + (err.message || err) + (err.responseBody ? ' ' + err.responseBody : ''));
    process.exit(2);
  }
  console.log('assigned ' + result.assignedHub + ' ' + result.deviceId);
  const connectionString = symmetricKey
    ? `HostName=${result.assignedHub};DeviceId=${result.deviceId};SharedAccessKey=${symmetricKey}`
    : `HostName=${result.assignedHub};DeviceId=${result.deviceId};x509=true`;
  const client = Client.fromConnectionString(connectionString, MqttWs);
  if (cert) {
    client.setOptions(cert);
  }
  client.open((err) => {
    if (err) {
      console.log('hub connection failed: ' + err.message);
      process.exit(3);
    }
    client.sendEvent(new Message(env.MESSAGE), (err) => {
      if (err) {
        console.log('send failed: ' + err.message);
        process.exit(4);
      }
      console.log('sent');
      client.close(() => process.exit(0));
    });
  });
});
