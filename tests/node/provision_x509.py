"""Microsoft's Python device SDK (azure-iot-device) with X.509: register with DPS, then connect to
the assigned hub and send one message. Prints `assigned <hub> <deviceId>` and `sent`.
Environment: PROVISIONING_HOST, ID_SCOPE, REGISTRATION_ID, DEVICE_CERT, DEVICE_KEY, SERVER_CA (files);
WEBSOCKETS=1 for MQTT over WebSockets (the SDK then dials port 443 of DPS and of the hub)."""
import os
import sys

from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient, X509

env = os.environ
websockets = env.get("WEBSOCKETS") == "1"
x509 = X509(cert_file=env["DEVICE_CERT"], key_file=env["DEVICE_KEY"])
with open(env["SERVER_CA"]) as f:
    server_ca = f.read()
provisioning = ProvisioningDeviceClient.create_from_x509_certificate(
    provisioning_host=env["PROVISIONING_HOST"],
    registration_id=env["REGISTRATION_ID"],
    id_scope=env["ID_SCOPE"],
    x509=x509,
    server_verification_cert=server_ca,
    websockets=websockets,
)
try:
    result = provisioning.register()
except Exception as e:  # the SDK raises its own error types
    print(f"registration failed: {e}")
    sys.exit(2)
if result.status != "assigned":
    print(f"registration failed: {result.status}")
    sys.exit(2)
state = result.registration_state
print(f"assigned {state.assigned_hub} {state.device_id}", flush=True)
client = IoTHubDeviceClient.create_from_x509_certificate(
    x509=x509,
    hostname=state.assigned_hub,
    device_id=state.device_id,
    server_verification_cert=server_ca,
    websockets=websockets,
)
client.connect()
client.send_message(Message('{"provisioned":"python-ws"}' if websockets else '{"provisioned":"python"}'))
print("sent", flush=True)
client.shutdown()
