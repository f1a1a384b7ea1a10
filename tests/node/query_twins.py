"""Microsoft's Python service SDK (azure-iot-hub's IoTHubRegistryManager.query_iot_hub) on the
twin query: every twin in pages of PAGE_SIZE, following the continuation token to the last page;
a projection with a WHERE on the reported certificate; a query the hub cannot read. Prints one line
per step. Environment: IOTHUB_CONNECTION_STRING (iothubowner), PAGE_SIZE, EXPIRING_BEFORE (an ISO
date), REQUESTS_CA_BUNDLE for localhub's TLS root. The SDK dials
https://{HostName} (port 443), unmodified: the test gives localhub that address."""
import os

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import QuerySpecification
from msrest.exceptions import HttpOperationError

env = os.environ
registry = IoTHubRegistryManager.from_connection_string(env["IOTHUB_CONNECTION_STRING"])
size = int(env["PAGE_SIZE"])


def query_all(text):
    spec = QuerySpecification(query=text)
    token, pages, twins, kinds = None, 0, [], set()
    while True:
        result = registry.query_iot_hub(spec, token, size)
        pages += 1
        twins.extend(result.items)
        kinds.add(result.type)
        token = result.continuation_token
        if not token:
            return twins, pages, kinds


twins, pages, kinds = query_all("SELECT * FROM devices")
ids = [t.device_id for t in twins]
print(f"all {len(twins)} twins in {pages} pages type={','.join(sorted(kinds))} sorted={ids == sorted(ids)} unique={len(set(ids)) == len(ids)}")
reported = [t for t in twins if (t.properties.reported or {}).get("certificate")]
for t in sorted(reported, key=lambda t: t.device_id):
    c = t.properties.reported["certificate"]
    print(f"reported {t.device_id} until={c['validUntil']} auth={t.authentication_type} active={t.last_activity_time.year > 1}")

expiring, pages, kinds = query_all(
    "SELECT deviceId, lastActivityTime, properties.reported.certificate FROM devices "
    f"WHERE properties.reported.certificate.validUntil < '{env['EXPIRING_BEFORE']}' AND status = 'enabled'"
)
print(f"expiring {','.join(sorted(t.device_id for t in expiring))} type={','.join(sorted(kinds))}")

try:
    registry.query_iot_hub(QuerySpecification(query="SELECT * FROM devices WHERE"), None, size)
    print("bad query accepted")
except HttpOperationError as e:
    code = "ArgumentInvalid" if "ErrorCode:ArgumentInvalid;" in e.response.text else e.response.text
    print(f"bad query status={e.response.status_code} code={code}")
