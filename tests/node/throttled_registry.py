"""Microsoft's Python service SDK (azure-iot-hub's IoTHubRegistryManager) against a throttled hub:
two bulk creates of 50 devices pass on one S1 unit, a third in the same minute is refused, and so is
a single read. Prints how the SDK reports each refusal: its exception, the HTTP status and the
error code of the body. Environment: IOTHUB_CONNECTION_STRING (iothubowner),
PREFIX for the device ids, REQUESTS_CA_BUNDLE for localhub's TLS root. The SDK dials
https://{HostName} (port 443), unmodified: the test gives localhub that address."""
import os

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import ExportImportDevice

env = os.environ
p = env["PREFIX"]
registry = IoTHubRegistryManager.from_connection_string(env["IOTHUB_CONNECTION_STRING"])


def fifty(start):
    return [
        ExportImportDevice(id=f"{p}-{i}", import_mode="create", status="enabled")
        for i in range(start, start + 50)
    ]


def refused(step, call):
    try:
        call()
    except Exception as e:  # what the SDK raises is the point
        response = getattr(e, "response", None)
        status = getattr(response, "status_code", None)
        try:
            code = response.json()["Message"].split(";")[0]
        except Exception:
            code = None
        print(f"{step} refused type={type(e).__name__} status={status} code={code} message={e}")
    else:
        print(f"{step} succeeded")


for start in (0, 50):
    r = registry.bulk_create_or_update_devices(fifty(start))
    print(f"added {start}+50 is_successful={r.is_successful}")
refused("third add", lambda: registry.bulk_create_or_update_devices(fifty(100)))
refused("get", lambda: registry.get_device(f"{p}-0"))
