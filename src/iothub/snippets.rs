//! Ready-to-run device code for a device and its files: the seed's Node.js script, Python with
//! Microsoft's `azure-iot-device`, and `mosquitto_pub`. Each one sends the seed's sample telemetry
//! with the device's X.509 certificate, then reports that certificate (`thumbprint`, `issuer`,
//! `validFrom`, `validUntil`) in the twin's reported properties under `certificate`
//! (`contract::ReportedCertificate`), read from the certificate file when it runs, so the hub's
//! query shows the fleet's expiry (MicrosoftDocs/azure-docs
//! `articles/iot-hub/concept-certificate-renewal.md`, "Reporting certificate expiration with
//! device twins").

use super::az::quote;
use crate::contract::{MqttUserName, Topic, REPORTED_CERTIFICATE};

/// What the snippets are filled with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceFiles {
    /// The hub's host name (`NAME.azure-devices.net`, or `localhost` for localhub).
    pub host: String,
    /// The device id (the certificate's CN).
    pub device_id: String,
    /// The device certificate file (PEM).
    pub cert_file: String,
    /// The device key file (PKCS#8 PEM).
    pub key_file: String,
    /// A root to trust for the hub's TLS certificate (localhub's); `None` for Azure (the system's).
    pub ca_file: Option<String>,
}

fn js(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn sample(device_id: &str) -> String {
    serde_json::json!({"temperature": 22.5, "humidity": 65, "deviceId": device_id}).to_string()
}

/// The seed's sample telemetry for `device_id`, laid out for editing.
pub fn sample_telemetry(device_id: &str) -> String {
    let v = serde_json::json!({"temperature": 22.5, "humidity": 65, "deviceId": device_id});
    serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
}

impl DeviceFiles {
    /// `device-x509.js` (npm `azure-iot-device`, `azure-iot-device-mqtt`), as in the seed guide.
    pub fn node(&self) -> String {
        let ca = match &self.ca_file {
            Some(ca) => format!("\n  ca: fs.readFileSync({}, 'utf8'),", js(ca)),
            None => String::new(),
        };
        format!(
            r#"// device-x509.js: npm install azure-iot-device azure-iot-device-mqtt; node device-x509.js
const {{ Client, Message }} = require('azure-iot-device');
const {{ Mqtt }} = require('azure-iot-device-mqtt');
const {{ X509Certificate }} = require('crypto');
const fs = require('fs');

const client = Client.fromConnectionString({cs}, Mqtt);
client.setOptions({{
  cert: fs.readFileSync({cert}, 'utf8'),
  key: fs.readFileSync({key}, 'utf8'),{ca}
}});

async function main() {{
  await client.open();
  console.log('Connected to IoT Hub using X.509 certificate');
  const msg = new Message(JSON.stringify({body}));
  msg.contentType = 'application/json';
  msg.contentEncoding = 'utf-8';
  await client.sendEvent(msg);
  console.log('Telemetry message sent successfully');
  // Report the certificate this device connected with, so the hub's query shows its expiry.
  const cert = new X509Certificate(fs.readFileSync({cert}, 'utf8'));
  const iso = (date) => new Date(date).toISOString().replace(/\.\d{{3}}Z$/, 'Z');
  const twin = await client.getTwin();
  await new Promise((resolve, reject) => twin.properties.reported.update({{ {reported}: {{
    thumbprint: cert.fingerprint256.replace(/:/g, ''),
    issuer: cert.issuer.split('\n').join(', '),
    validFrom: iso(cert.validFrom),
    validUntil: iso(cert.validTo),
  }} }}, (err) => (err ? reject(err) : resolve())));
  console.log('Certificate reported in the device twin');
  await client.close();
}}

main().catch((err) => {{
  console.error('Connection failed:', err.message);
  process.exit(1);
}});
"#,
            cs = js(&format!(
                "HostName={};DeviceId={};x509=true",
                self.host, self.device_id
            )),
            cert = js(&self.cert_file),
            key = js(&self.key_file),
            body = sample(&self.device_id),
            reported = REPORTED_CERTIFICATE,
        )
    }

    /// `device_x509.py` (PyPI `azure-iot-device`).
    pub fn python(&self) -> String {
        let py = |s: &str| js(s); // a JSON string is a valid Python string literal
        let ca = match &self.ca_file {
            Some(ca) => format!("\n    server_verification_cert=open({}).read(),", py(ca)),
            None => String::new(),
        };
        format!(
            r#"# device_x509.py: pip install azure-iot-device; python device_x509.py
import hashlib
import json
import ssl
from datetime import datetime, timezone
from azure.iot.device import IoTHubDeviceClient, Message, X509

client = IoTHubDeviceClient.create_from_x509_certificate(
    x509=X509(cert_file={cert}, key_file={key}),
    hostname={host},
    device_id={id},{ca}
)
client.connect()
print("Connected to IoT Hub using X.509 certificate")
msg = Message(json.dumps({body}))
msg.content_type = "application/json"
msg.content_encoding = "utf-8"
client.send_message(msg)
print("Telemetry message sent successfully")

# Report the certificate this device connected with, so the hub's query shows its expiry (read
# with the standard library: ssl's certificate decoder and its date reader).
pem = open({cert}).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
decoded = ssl._ssl._test_decode_cert({cert})
short = {{"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C"}}
iso = lambda t: datetime.fromtimestamp(ssl.cert_time_to_seconds(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
client.patch_twin_reported_properties({{{reported}: {{
    "thumbprint": hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper(),
    "issuer": ", ".join(short.get(k, k) + "=" + v for rdn in decoded["issuer"] for k, v in rdn),
    "validFrom": iso(decoded["notBefore"]),
    "validUntil": iso(decoded["notAfter"]),
}}}})
print("Certificate reported in the device twin")
client.shutdown()
"#,
            cert = py(&self.cert_file),
            key = py(&self.key_file),
            host = py(&self.host),
            id = py(&self.device_id),
            body = sample(&self.device_id),
            reported = py(REPORTED_CERTIFICATE),
        )
    }

    /// `mosquitto_pub` over MQTT/TLS (Debian `mosquitto-clients`): the telemetry, then the
    /// certificate reported in the twin (its fields read by `openssl x509` and GNU `date`); `port`
    /// is 8883 on IoT Hub.
    pub fn mosquitto_pub(&self, port: u16) -> String {
        let trust = match &self.ca_file {
            Some(ca) => format!("--cafile {}", quote(ca)),
            None => "--capath /etc/ssl/certs".to_owned(),
        };
        let telemetry = format!(
            "mosquitto_pub -V mqttv311 -h {host} -p {port} {trust} \\\n  --cert {cert} --key {key} \\\n  -i {id} -u {user} \\\n  -t {topic} -q 1 \\\n  -m {body}",
            host = quote(&self.host),
            cert = quote(&self.cert_file),
            key = quote(&self.key_file),
            id = quote(&self.device_id),
            user = quote(&MqttUserName::new(&self.host, &self.device_id).to_string()),
            topic = quote(
                &Topic::telemetry(
                    &self.device_id,
                    &[("$.ct".into(), "application/json".into())]
                )
                .to_string()
            ),
            body = quote(&sample(&self.device_id)),
        );
        format!("{telemetry}\n{}", self.mosquitto_report(port, &trust))
    }

    /// The second `mosquitto_pub` of [`DeviceFiles::mosquitto_pub`]: the reported certificate.
    fn mosquitto_report(&self, port: u16, trust: &str) -> String {
        let field = |name: &str, value: &str| format!(r#"\"{name}\":\"{value}\""#);
        let patch = format!(
            r#"{{\"{REPORTED_CERTIFICATE}\":{{{},{},{},{}}}}}"#,
            field(
                "thumbprint",
                r#"$(openssl x509 -in "$CERT" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)"#
            ),
            field(
                "issuer",
                r#"$(openssl x509 -in "$CERT" -noout -issuer -nameopt sep_comma_plus_space | cut -d= -f2- | sed 's/[\\"]/\\&/g')"#
            ),
            field("validFrom", "$(iso startdate)"),
            field("validUntil", "$(iso enddate)"),
        );
        format!(
            "# Report the certificate this device connected with, so the hub's query shows its expiry.\n\
             CERT={cert}\n\
             iso() {{ date -u -d \"$(openssl x509 -in \"$CERT\" -noout -\"$1\" | cut -d= -f2-)\" +%Y-%m-%dT%H:%M:%SZ; }}\n\
             mosquitto_pub -V mqttv311 -h {host} -p {port} {trust} \\\n  --cert \"$CERT\" --key {key} \\\n  -i {id} -u {user} \\\n  -t {topic} -q 1 \\\n  -m \"{patch}\"",
            cert = quote(&self.cert_file),
            host = quote(&self.host),
            key = quote(&self.key_file),
            id = quote(&self.device_id),
            user = quote(&MqttUserName::new(&self.host, &self.device_id).to_string()),
            topic = quote(&Topic::TwinReportedPatch { rid: "1".into() }.to_string()),
        )
    }
}

/// What the provisioning snippets are filled with: a device that registers with DPS, then sends
/// to the hub DPS assigns it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningFiles {
    /// DPS's device endpoint host (`global.azure-devices-provisioning.net`, or localhub's host).
    pub provisioning_host: String,
    /// The DPS's ID scope.
    pub id_scope: String,
    /// The registration id (the certificate's CN).
    pub registration_id: String,
    /// The device certificate file (PEM, with the chain up to the group's CA).
    pub cert_file: String,
    /// The device key file (PKCS#8 PEM).
    pub key_file: String,
    /// A root to trust for DPS's and the hub's TLS certificates (localhub's); `None` for Azure.
    pub ca_file: Option<String>,
}

impl ProvisioningFiles {
    /// How to run the Node.js snippet. Microsoft's Node provisioning transport takes no CA option,
    /// so a private root (localhub's) is given to Node itself.
    pub fn node_command(&self) -> String {
        match &self.ca_file {
            Some(ca) => format!("NODE_EXTRA_CA_CERTS={} node provision-x509.js", quote(ca)),
            None => "node provision-x509.js".to_owned(),
        }
    }

    /// `provision-x509.js`: npm `azure-iot-provisioning-device` with its MQTT transport, then
    /// `azure-iot-device` on the assigned hub.
    pub fn node(&self) -> String {
        let ca = match &self.ca_file {
            Some(ca) => format!("\n  ca: fs.readFileSync({}, 'utf8'),", js(ca)),
            None => String::new(),
        };
        format!(
            r#"// provision-x509.js: npm install azure-iot-provisioning-device azure-iot-provisioning-device-mqtt azure-iot-security-x509 azure-iot-device azure-iot-device-mqtt
// Run: {command}
const fs = require('fs');
const {{ ProvisioningDeviceClient }} = require('azure-iot-provisioning-device');
const ProvisioningTransport = require('azure-iot-provisioning-device-mqtt').Mqtt;
const {{ X509Security }} = require('azure-iot-security-x509');
const {{ Client, Message }} = require('azure-iot-device');
const {{ Mqtt }} = require('azure-iot-device-mqtt');

const tls = {{
  cert: fs.readFileSync({cert}, 'utf8'),
  key: fs.readFileSync({key}, 'utf8'),{ca}
}};
const security = new X509Security({id}, tls);
const provisioning = ProvisioningDeviceClient.create({host}, {scope}, new ProvisioningTransport(), security);

async function main() {{
  const result = await provisioning.register();
  console.log(`Assigned to ${{result.assignedHub}} as ${{result.deviceId}}`);
  const client = Client.fromConnectionString(`HostName=${{result.assignedHub}};DeviceId=${{result.deviceId}};x509=true`, Mqtt);
  client.setOptions(tls);
  await client.open();
  const msg = new Message(JSON.stringify({body}));
  msg.contentType = 'application/json';
  msg.contentEncoding = 'utf-8';
  await client.sendEvent(msg);
  console.log('Telemetry message sent successfully');
  await client.close();
}}

main().catch((err) => {{
  console.error('Provisioning failed:', err.message);
  process.exit(1);
}});
"#,
            command = self.node_command(),
            cert = js(&self.cert_file),
            key = js(&self.key_file),
            id = js(&self.registration_id),
            host = js(&self.provisioning_host),
            scope = js(&self.id_scope),
            body = sample(&self.registration_id),
        )
    }

    /// `provision_x509.py`: PyPI `azure-iot-device`'s `ProvisioningDeviceClient`, then
    /// `IoTHubDeviceClient` on the assigned hub.
    pub fn python(&self) -> String {
        let py = |s: &str| js(s);
        let (read_ca, ca) = match &self.ca_file {
            Some(ca) => (
                format!("server_ca = open({}).read()\n", py(ca)),
                "\n    server_verification_cert=server_ca,",
            ),
            None => (String::new(), ""),
        };
        format!(
            r#"# provision_x509.py: pip install azure-iot-device; python provision_x509.py
import json
from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient, X509

x509 = X509(cert_file={cert}, key_file={key})
{read_ca}provisioning = ProvisioningDeviceClient.create_from_x509_certificate(
    provisioning_host={host},
    registration_id={id},
    id_scope={scope},
    x509=x509,{ca}
)
result = provisioning.register()
if result.status != "assigned":
    raise SystemExit(f"Provisioning failed: {{result.status}}")
state = result.registration_state
print(f"Assigned to {{state.assigned_hub}} as {{state.device_id}}")
client = IoTHubDeviceClient.create_from_x509_certificate(
    x509=x509,
    hostname=state.assigned_hub,
    device_id=state.device_id,{ca}
)
client.connect()
msg = Message(json.dumps({body}))
msg.content_type = "application/json"
msg.content_encoding = "utf-8"
client.send_message(msg)
print("Telemetry message sent successfully")
client.shutdown()
"#,
            cert = py(&self.cert_file),
            key = py(&self.key_file),
            host = py(&self.provisioning_host),
            id = py(&self.registration_id),
            scope = py(&self.id_scope),
            body = sample(&self.registration_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(ca: Option<&str>) -> DeviceFiles {
        DeviceFiles {
            host: "my-hub.azure-devices.net".into(),
            device_id: "sensor-device-01".into(),
            cert_file: "sensor-device-01.pem".into(),
            key_file: "sensor-device-01.key".into(),
            ca_file: ca.map(str::to_owned),
        }
    }

    #[test]
    fn values_are_filled_in_and_quoted_for_each_language() {
        let f = files(None);
        let node = f.node();
        assert!(node.contains(r#"Client.fromConnectionString("HostName=my-hub.azure-devices.net;DeviceId=sensor-device-01;x509=true", Mqtt)"#), "{node}");
        assert!(node.contains(r#"fs.readFileSync("sensor-device-01.key", 'utf8')"#));
        assert!(!node.contains("ca:"));
        let py = f.python();
        assert!(
            py.contains(r#"hostname="my-hub.azure-devices.net","#),
            "{py}"
        );
        assert!(!py.contains("server_verification_cert"));
        let sh = f.mosquitto_pub(8883);
        assert!(sh.contains("--capath /etc/ssl/certs"), "{sh}");
        assert!(
            sh.contains("-u 'my-hub.azure-devices.net/sensor-device-01/?api-version=2021-04-12'"),
            "{sh}"
        );
        assert!(
            sh.contains(
                "-t devices/sensor-device-01/messages/events/%24.ct=application%2Fjson -q 1"
            ),
            "{sh}"
        );

        // Each reports the certificate it connected with under `certificate`.
        assert!(
            node.contains("twin.properties.reported.update({ certificate: {"),
            "{node}"
        );
        assert!(
            py.contains(r#"client.patch_twin_reported_properties({"certificate": {"#),
            "{py}"
        );
        assert!(
            sh.contains(r#"CERT=sensor-device-01.pem"#)
                && sh.contains(r#"-t '$iothub/twin/PATCH/properties/reported/?$rid=1' -q 1"#)
                && sh.contains(r#"-m "{\"certificate\":{\"thumbprint\":\"$(openssl x509"#),
            "{sh}"
        );

        // A file name with a quote stays one literal in every language.
        let mut odd = files(Some("it's root.pem"));
        odd.cert_file = "dev \"1\".pem".into();
        assert!(odd
            .node()
            .contains(r#"fs.readFileSync("dev \"1\".pem", 'utf8')"#));
        assert!(odd.python().contains(r#"open("it's root.pem").read()"#));
        assert!(odd
            .mosquitto_pub(1)
            .contains(r#"--cafile 'it'\''s root.pem'"#));
    }
}
