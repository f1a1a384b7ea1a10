// Microsoft's Node.js provisioning service SDK (azure-iot-provisioning-service) managing X.509
// enrollment groups: create, get, update with the etag, a stale etag refused, query, delete; then an
// individual enrollment (create, get, delete) and a registration state that does not exist.
// Prints one line per step. DPS_CONNECTION_STRING, CA_PEM (file), GROUP_ID, DEVICE_PEM (file, CN =
// DEVICE_ID), and
// NODE_EXTRA_CA_CERTS for localhub's TLS root. The SDK always dials port 443; DPS_PORT, when set,
// moves its HTTPS requests for that host to another port (localhub's), nothing else.
'use strict';
const fs = require('fs');
const https = require('https');

if (process.env.DPS_PORT) {
  const request = https.request;
  https.request = function (options, ...rest) {
    if (options && typeof options === 'object' && !options.port) {
      options = Object.assign({}, options, { port: Number(process.env.DPS_PORT) });
    }
    return request.call(this, options, ...rest);
  };
}
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');

const client = ProvisioningServiceClient.fromConnectionString(process.env.DPS_CONNECTION_STRING);
const id = process.env.GROUP_ID;
const pem = fs.readFileSync(process.env.CA_PEM, 'utf8');
const fail = (step, err) => {
  console.log(`${step} failed: ${err && (err.responseBody || err.message || err)}`);
  process.exit(2);
};
const status = (err) => (err && err.response && err.response.statusCode) || (err && err.statusCode);

const group = {
  enrollmentGroupId: id,
  attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: pem } } } },
  provisioningStatus: 'enabled',
};
client.createOrUpdateEnrollmentGroup(group, (err, created) => {
  if (err) return fail('create', err);
  console.log(`created ${created.enrollmentGroupId} etag ${created.etag}`);
  client.getEnrollmentGroup(id, (err, got) => {
    if (err) return fail('get', err);
    console.log(`got ${got.enrollmentGroupId} ${got.provisioningStatus}`);
    const firstEtag = got.etag;
    got.provisioningStatus = 'disabled';
    client.createOrUpdateEnrollmentGroup(got, (err, updated) => {
      if (err) return fail('update', err);
      console.log(`updated ${updated.provisioningStatus} etag changed ${updated.etag !== firstEtag}`);
      const stale = Object.assign({}, group, { etag: firstEtag });
      client.createOrUpdateEnrollmentGroup(stale, (err) => {
        console.log(`stale etag ${err ? 'refused ' + status(err) : 'accepted'}`);
        client.createEnrollmentGroupQuery({ query: '*' }).next((err, results) => {
          if (err) return fail('query', err);
          console.log(`query ${results.map((g) => g.enrollmentGroupId).join(',')}`);
          client.deleteEnrollmentGroup(id, updated.etag, (err) => {
            if (err) return fail('delete', err);
            console.log('deleted');
            client.getEnrollmentGroup(id, (err) => {
              console.log(`after delete ${err ? 'not found ' + status(err) : 'still there'}`);
              individual();
            });
          });
        });
      });
    });
  });
});

function individual() {
  const deviceId = process.env.DEVICE_ID;
  const enrollment = {
    registrationId: deviceId,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: fs.readFileSync(process.env.DEVICE_PEM, 'utf8') } } } },
    provisioningStatus: 'enabled',
  };
  client.createOrUpdateIndividualEnrollment(enrollment, (err, created) => {
    if (err) return fail('individual create', err);
    console.log(`enrolled ${created.registrationId} etag ${created.etag ? 'set' : 'missing'}`);
    client.getIndividualEnrollment(deviceId, (err, got) => {
      if (err) return fail('individual get', err);
      console.log(`got enrollment ${got.registrationId} ${got.attestation.type}`);
      got.provisioningStatus = 'disabled';
      client.createOrUpdateIndividualEnrollment(got, (err, updated) => {
        if (err) return fail('individual update', err);
        console.log(`updated enrollment ${updated.provisioningStatus} etag changed ${updated.etag !== got.etag}`);
        client.createIndividualEnrollmentQuery({ query: '*' }).next((err, results) => {
          if (err) return fail('individual query', err);
          console.log(`enrollments ${results.map((e) => e.registrationId).join(',')}`);
          registrationState();
        });
      });
    });
  });
  function registrationState() {
      client.getDeviceRegistrationState(deviceId, (err) => {
        console.log(`registration state ${err ? 'not found ' + status(err) : 'present'}`);
        client.deleteIndividualEnrollment(deviceId, (err) => {
          if (err) return fail('individual delete', err);
          console.log('individual deleted');
          process.exit(0);
        });
      });
  }
}
