// librdkafka, the C client of Apache Kafka (Debian: librdkafka-dev; Homebrew: librdkafka), and
// its mock cluster, which the tests and `runnel-bench kafka-relay` run in place of brokers.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
