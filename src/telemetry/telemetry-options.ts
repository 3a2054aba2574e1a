/** The telemetry pipeline's row of the option table (its exporters are the standard OTEL_* variables, otel-config.ts). */
import { sizeInRange, type OptionRows } from '../config/option-parser.js';

export const TELEMETRY_OPTIONS = {
  logQueueMaxBytes: {
    flag: 'log-queue-max-bytes',
    help: { value: 'BYTES', summary: 'memory for log records waiting to be exported' },
    env: 'VMQ_SIDECAR_LOG_QUEUE_MAX_BYTES',
    default: '64MiB',
    accepted: 'a byte size from 1MiB to 16GiB, e.g. 64MiB',
    description:
      'Memory for log records waiting to be exported, beside OTEL_BLRP_MAX_QUEUE_SIZE (whichever is reached first): ' +
      'the records\' OTLP protobuf bytes with the http/protobuf exporter, 1 KiB a record with the others. ' +
      'Past it, records are dropped and counted (otel.sdk.processor.log.processed{error.type=queue_full}).',
    parse: sizeInRange(1024 * 1024, 16 * 1024 * 1024 * 1024),
  },
} satisfies OptionRows;
