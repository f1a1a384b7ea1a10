"""Microsoft's Python device SDK (azure-iot-device) with a symmetric key over MQTT, or MQTT over
WebSockets when WEBSOCKETS=1 (the SDK then dials port 443 for both): register with
DPS (ProvisioningDeviceClient.create_from_symmetric_key), then connect to the assigned hub with the
same key and send one message. Prints `assigned <hub> <deviceId>` and `sent`, or
`registration failed: ...`.
Environment: PROVISIONING_HOST, ID_SCOPE, REGISTRATION_ID, SYMMETRIC_KEY (the device's key: an
individual enrollment's, or derived from its group's), MESSAGE (the JSON sent), SERVER_CA (file),
WEBSOCKETS (optional)."""
import os
import sys

from azure.iot.device import IoTHubDeviceClient, Message, ProvisioningDeviceClient

env = os.environ
websockets = env.get("WEBSOCKETS") == "1"
with open(env["SERVER_CA"]) as f:
    server_ca = f.read()
provisioning = ProvisioningDeviceClient.create_from_symmetric_key(
    provisioning_host=env["PROVISIONING_HOST"],
    registration_id=env["REGISTRATION_ID"],
    id_scope=env["ID_SCOPE"],
    symmetric_key=env["SYMMETRIC_KEY"],
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
client = IoTHubDeviceClient.create_from_symmetric_key(
    symmetric_key=env["SYMMETRIC_KEY"],
    hostname=state.assigned_hub,
    device_id=state.device_id,
    server_verification_cert=server_ca,
    websockets=websockets,
)
client.connect()
client.send_message(Message(env["MESSAGE"]))
print("sent", flush=True)
client.shutdown()
