/**
 * The spans the span sink exports, their attributes and events, for docs/telemetry.md (generated
 * by `npm run docs`). test/telemetry/span-export.test.ts holds the exported spans to it: every
 * attribute a span carries is listed here for that span.
 */

export interface SpanAttributeDoc {
  key: string;
  type: 'string' | 'int' | 'bool';
  values: string;
  convention: string;
}

export interface SpanDoc {
  /** Which span: receipt or delivery. */
  span: 'receipt' | 'delivery';
  name: string;
  kind: 'CONSUMER' | 'PRODUCER';
  parent: string;
  times: string;
  attributes: readonly SpanAttributeDoc[];
  events: readonly string[];
}

const SEMCONV = 'semconv messaging (v1.44)';

const common = (operationType: string, operationName: string, clientMeaning: string): SpanAttributeDoc[] => [
  { key: 'messaging.system', type: 'string', values: 'mqtt', convention: SEMCONV },
  { key: 'messaging.operation.type', type: 'string', values: operationType, convention: SEMCONV },
  { key: 'messaging.operation.name', type: 'string', values: operationName, convention: `${SEMCONV}: system-specific name` },
  { key: 'messaging.destination.name', type: 'string', values: 'the topic', convention: SEMCONV },
  {
    key: 'messaging.destination.template',
    type: 'string',
    values: 'the matched ACL pattern when the broker sends one, else the first matching --topic-groups filter; absent otherwise (the log records\' rule)',
    convention: SEMCONV,
  },
  { key: 'messaging.client.id', type: 'string', values: `${clientMeaning}; hashed or absent with --redact client_id`, convention: SEMCONV },
  { key: 'messaging.message.body.size', type: 'int', values: 'payload bytes', convention: SEMCONV },
  { key: 'mqtt.mountpoint', type: 'string', values: 'the VerneMQ mountpoint; absent for the default one', convention: 'as on the log records (no semconv for MQTT)' },
];

export const SPAN_DOCS: readonly SpanDoc[] = [
  {
    span: 'receipt',
    name: '`receive`, or `receive <template>` when messaging.destination.template is known',
    kind: 'CONSUMER',
    parent: "the publisher's span: the span id of the payload's traceparent (remote parent)",
    times: 'an instant at the broker time of on_publish',
    attributes: [
      ...common('receive', 'receive', 'the publisher'),
      { key: 'mqtt.qos', type: 'int', values: "the message's QoS, 0-2", convention: 'as on the log records and metrics' },
      { key: 'mqtt.retain', type: 'bool', values: 'the PUBLISH retain flag', convention: 'as on the log records and metrics' },
    ],
    events: [],
  },
  {
    span: 'delivery',
    name: '`deliver`, or `deliver <template>`',
    kind: 'PRODUCER',
    parent: 'the receipt span (its derived id, also when another sidecar exported it); its own id is derived from the receipt span id and the subscriber client id, so a subscriber can continue the trace under it',
    times:
      'from the broker time of on_publish to the broker time of on_deliver when the receipt time is known; else an instant at on_deliver (vmq_sidecar.receipt_time_known=false)',
    attributes: [
      ...common('send', 'deliver', 'the subscriber'),
      {
        key: 'mqtt.subscription.qos',
        type: 'int',
        values: "the QoS of the subscription it went through, what on_deliver reports (not the message's)",
        convention: 'as on the log records and metrics',
      },
      { key: 'mqtt.retain', type: 'bool', values: 'on_deliver is_retain', convention: 'as on the log records and metrics' },
      { key: 'mqtt.persisted', type: 'bool', values: 'true when delivered from the offline store', convention: 'as on the log records and metrics' },
      {
        key: 'vmq_sidecar.receipt_time_known',
        type: 'bool',
        values: 'false when this sidecar had no receipt time for the message (docs/traces.md says when): the span is then an instant at the delivery',
        convention: 'no convention: the sidecar\'s own knowledge, vmq_sidecar namespace',
      },
      {
        key: 'mqtt.delivery.completed',
        type: 'bool',
        values: 'QoS 1/2 deliveries (the lower of message and subscription QoS above 0): true when on_delivery_complete arrived within --trace-completion-wait, false otherwise; absent at QoS 0',
        convention: 'no semconv for an MQTT acknowledgement; mqtt namespace as the other MQTT attributes',
      },
    ],
    events: ['`vernemq.on_delivery_complete` at the broker time of the completion, with `mqtt.qos` (the QoS the message was delivered with)'],
  },
];
