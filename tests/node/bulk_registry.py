"""Microsoft's Python service SDK (azure-iot-hub's IoTHubRegistryManager) on the registry's bulk
operation: bulk_create_or_update_devices with 100 creates, then one already there, one new and one
bad id, 101 entries, an updateIfMatchETag with a stale etag, and 100 deletes. Prints one line per
step. Environment: IOTHUB_CONNECTION_STRING (iothubowner), PREFIX for the device ids,
REQUESTS_CA_BUNDLE for localhub's TLS root. The SDK dials https://{HostName} (port 443), unmodified: the test gives localhub that address."""
import base64
import os
import sys

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import AuthenticationMechanism, ExportImportDevice, SymmetricKey
from msrest.exceptions import HttpOperationError

env = os.environ
p = env["PREFIX"]
registry = IoTHubRegistryManager.from_connection_string(env["IOTHUB_CONNECTION_STRING"])


def sas(i):
    key = base64.b64encode(f"primary-key-of-device-{i:04}".encode()).decode()
    return AuthenticationMechanism(
        type="sas", symmetric_key=SymmetricKey(primary_key=key, secondary_key=key)
    )


def errors_of(result):
    return ",".join(f"{e.device_id}:{e.error_code}" for e in result.errors or [])


def create(ids):
    return [ExportImportDevice(id=i, import_mode="create", status="enabled") for i in ids]


try:
    hundred = [
        ExportImportDevice(id=f"{p}-{i}", import_mode="create", status="enabled", authentication=sas(i))
        for i in range(100)
    ]
    result = registry.bulk_create_or_update_devices(hundred)
    print(f"created 100 is_successful={result.is_successful}")

    device = registry.get_device(f"{p}-7")
    print(f"got {device.device_id} {device.authentication.type} {device.status}")

    result = registry.bulk_create_or_update_devices(create([f"{p}-0", f"{p}-new", f"{p}/bad"]))
    print(f"mixed is_successful={result.is_successful} errors={errors_of(result)}")

    try:
        registry.bulk_create_or_update_devices(create([f"{p}-many-{i}" for i in range(101)]))
        print("101 accepted")
    except HttpOperationError as e:
        print(f"101 refused status={e.response.status_code}")

    stale = ExportImportDevice(
        id=f"{p}-2", import_mode="updateIfMatchETag", e_tag="c3RhbGU=", status="disabled"
    )
    result = registry.bulk_create_or_update_devices([stale])
    print(f"stale is_successful={result.is_successful} errors={errors_of(result)}")

    deletes = [ExportImportDevice(id=f"{p}-{i}", import_mode="delete") for i in range(100)]
    result = registry.bulk_create_or_update_devices(deletes)
    print(f"deleted 100 is_successful={result.is_successful}")
except Exception as e:  # the SDK raises its own error types
    print(f"failed: {type(e).__name__}: {e}")
    sys.exit(2)
