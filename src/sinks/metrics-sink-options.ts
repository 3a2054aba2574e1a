/** The metrics sink's rows of the option table: topic groups and the bounds on its own attributes' values. */
import { intInRange, type OptionRows } from '../config/option-parser.js';
import { parseTopicGroups } from '../metrics/topic-grouper.js';

export const METRICS_SINK_OPTIONS = {
  topicGroups: {
    flag: 'topic-groups',
    help: { value: 'FILTER[=NAME],...', summary: 'topic families for mqtt.topic.group' },
    env: 'VMQ_SIDECAR_TOPIC_GROUPS',
    default: '',
    accepted: 'comma-separated MQTT topic filters, each optionally =NAME, e.g. devices/+/telemetry=telemetry,fleet/#=fleet',
    description: 'Topic families for the mqtt.topic.group attribute when the broker sends no matched ACL name; the first matching filter wins.',
    parse: parseTopicGroups,
  },
  maxTopicGroups: {
    flag: 'max-topic-groups',
    help: { value: 'N', summary: 'distinct mqtt.topic.group values before "other"' },
    env: 'VMQ_SIDECAR_MAX_TOPIC_GROUPS',
    default: '200',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct mqtt.topic.group values before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
  maxDropReasons: {
    flag: 'max-drop-reasons',
    help: { value: 'N', summary: 'distinct drop reasons before "other"' },
    env: 'VMQ_SIDECAR_MAX_DROP_REASONS',
    default: '50',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct drop reasons (error.type of mqtt.message.dropped) before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
} satisfies OptionRows;
