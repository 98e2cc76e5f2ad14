"""Builds kafka-recordbatch-v2-nulls.log and its .json description with kafka-python's own
DefaultRecordBatchBuilder (kafka-python 3.0.12): one RecordBatch v2 holding tombstones (null
values), a null key and a header whose value is null, beside an empty value and an empty header
value, so that a reader that turns null into empty bytes (or back) fails the byte-for-byte match.

    python -m venv /tmp/kafka-venv && /tmp/kafka-venv/bin/pip install kafka-python==3.0.12
    /tmp/kafka-venv/bin/python build_kafka_nulls_fixture.py
"""
import json

import kafka
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

RECORDS = [
    # (offset delta, timestamp, key, value, headers)
    (0, 1763000000000, b"member:7", None, [("outbox-id", b"41"), ("deleted-by", None)]),
    (1, 1763000000005, None, b"", [("trace", b""), ("reason", None)]),
    (2, 1763000000003, b"member:8", None, []),
    (3, 1763000000009, b"", b'{"n":3}', [("outbox-id", b"44")]),
]

builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                    producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                    batch_size=1 << 20)
for offset, timestamp, key, value, headers in RECORDS:
    builder.append(offset, timestamp=timestamp, key=key, value=value, headers=headers)
data = bytes(builder.build())

# Read back with kafka-python's reader: what it decodes is what the .json states.
batch = DefaultRecordBatch(bytearray(data))
assert batch.validate_crc()


def hexed(value):
    return None if value is None else bytes(value).hex()


records = [{
    "offset": record.offset,
    "timestamp": record.timestamp,
    "key_hex": hexed(record.key),
    "value_hex": hexed(record.value),
    "headers": [[name, hexed(value)] for name, value in record.headers],
} for record in batch]

with open("kafka-recordbatch-v2-nulls.log", "wb") as out:
    out.write(data)
with open("kafka-recordbatch-v2-nulls.json", "w") as out:
    json.dump({
        "about": ("One Kafka RecordBatch v2 (magic 2, uncompressed, not transactional, producer id, "
                  "epoch and base sequence -1, base offset 0) built with kafka-python "
                  f"{kafka.__version__}'s DefaultRecordBatchBuilder by build_kafka_nulls_fixture.py, "
                  "and read back with its DefaultRecordBatch. Keys, values and header values are "
                  "hex; null is null (a tombstone's value, a missing key, a header without a value), "
                  "distinct from the empty string (an empty value, key or header value)."),
        "built_with": f"kafka-python {kafka.__version__}",
        "batches": [{
            "base_offset": 0,
            "file_position": 0,
            "batch_bytes": len(data),
            "records": records,
        }],
    }, out, indent=2)
    out.write("\n")
