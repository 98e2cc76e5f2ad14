"""Reads a Runnel segment file with kafka-python's RecordBatch reader (a Kafka client library)
and prints every record as one JSON line: offset, timestamp, key, value, headers (hex).
Exits 2 when a batch fails kafka-python's CRC check."""
import json
import struct
import sys

from kafka.record.default_records import DefaultRecordBatch


def hexed(data):
    return None if data is None else bytes(data).hex()


with open(sys.argv[1], "rb") as segment:
    data = segment.read()
position = 0
while position < len(data):
    length = struct.unpack(">i", data[position + 8:position + 12])[0]
    batch = DefaultRecordBatch(bytearray(data[position:position + 12 + length]))
    if not batch.validate_crc():
        print(f"CRC check failed at byte {position}", file=sys.stderr)
        sys.exit(2)
    for record in batch:
        print(json.dumps({
            "offset": record.offset,
            "timestamp": record.timestamp,
            "key": hexed(record.key),
            "value": hexed(record.value),
            "headers": [[name, hexed(value)] for name, value in record.headers],
        }))
    position += 12 + length
