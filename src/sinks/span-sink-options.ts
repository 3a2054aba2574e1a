/** The span sink's rows of the option table: the broker hop's service name, its waits and the bounds on its state. */
import { durationInRange, intInRange, sizeInRange, textOfLength, type OptionRows } from '../config/option-parser.js';

export const SPAN_SINK_OPTIONS = {
  traceServiceName: {
    flag: 'trace-service-name',
    help: { value: 'NAME', summary: 'service.name of the broker hop\'s spans (default vernemq)' },
    env: 'VMQ_SIDECAR_TRACE_SERVICE_NAME',
    default: 'vernemq',
    accepted: 'a name of 1 to 128 characters',
    description:
      "service.name of the spans of the broker hop (docs/traces.md), so that a trace shows the broker as its own service; their other resource attributes are the sidecar's (service.instance.id, host, Kubernetes pod: the broker node).",
    parse: textOfLength(1, 128),
  },
  traceReorderWindowMs: {
    flag: 'trace-reorder-window',
    help: { value: 'DURATION', summary: 'how long a delivery waits for its publish (spans)' },
    env: 'VMQ_SIDECAR_TRACE_REORDER_WINDOW',
    default: '1s',
    accepted: 'a duration from 10ms to 1m',
    description:
      "With spans on: how long a delivery that arrives before its publish (the plugin's pool reorders events) waits for it, and a completion for its delivery. Past it the delivery span is exported without the receipt time (an instant at the delivery).",
    parse: durationInRange(10, 60_000),
  },
  traceCompletionWaitMs: {
    flag: 'trace-completion-wait',
    help: { value: 'DURATION', summary: 'how long a QoS 1/2 delivery span waits for its completion' },
    env: 'VMQ_SIDECAR_TRACE_COMPLETION_WAIT',
    default: '2s',
    accepted: 'a duration from 10ms to 5m',
    description: 'With spans on: how long a QoS 1/2 delivery span waits for its on_delivery_complete before it is exported without it (mqtt.delivery.completed=false).',
    parse: durationInRange(10, 300_000),
  },
  traceReceiptRetentionMs: {
    flag: 'trace-receipt-retention',
    help: { value: 'DURATION', summary: 'how long a traced message\'s receipt time is kept for its deliveries' },
    env: 'VMQ_SIDECAR_TRACE_RECEIPT_RETENTION',
    default: '30s',
    accepted: 'a duration from 100ms to 1h',
    description:
      'With spans on: how long the broker receipt time of a traced message is kept for its deliveries. Deliveries later than this (offline sessions coming back, retained messages) get a span without it and no duration.',
    parse: durationInRange(100, 3_600_000),
  },
  traceStateMaxEntries: {
    flag: 'trace-state-max-entries',
    help: { value: 'N', summary: 'receipt times and held deliveries kept for spans, at most' },
    env: 'VMQ_SIDECAR_TRACE_STATE_MAX_ENTRIES',
    default: '100000',
    accepted: 'a whole number from 100 to 10000000',
    description:
      'With spans on: receipt times, waiting and held deliveries and early completions kept at most, together; past it the oldest goes first (counted in vmq_sidecar.trace.state.evicted).',
    parse: intInRange(100, 10_000_000),
  },
  traceStateMaxBytes: {
    flag: 'trace-state-max-bytes',
    help: { value: 'BYTES', summary: 'memory for the same, beside the entry bound' },
    env: 'VMQ_SIDECAR_TRACE_STATE_MAX_BYTES',
    default: '32MiB',
    accepted: 'a byte size from 1MiB to 4GiB',
    description: 'With spans on: memory for the same entries (estimated), beside --trace-state-max-entries (whichever is reached first).',
    parse: sizeInRange(1024 * 1024, 4 * 1024 * 1024 * 1024),
  },
} satisfies OptionRows;
