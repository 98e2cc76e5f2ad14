import Pipelines
import RunnelCLI
import RunnelKafka

// The `runnel` executable: the command line with the sample network's catalog, and Kafka
// (`relay --to kafka`, `log mirror`, `run --from kafka`) through librdkafka.
await RunnelCommand.main(catalog: SampleCatalog.catalog, kafka: LibrdkafkaConnector())
