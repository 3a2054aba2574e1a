/** The rows of the host's attribute-folding service (attribute-folding.ts): client groups and the mountpoint bound, for every output. */
import { intInRange, type OptionRows } from '../config/option-parser.js';
import { CLIENT_GROUPS_OPTION } from './client-grouper.js';

export const ATTRIBUTE_FOLDING_OPTIONS = {
  clientGroups: CLIENT_GROUPS_OPTION,
  maxMountpoints: {
    flag: 'max-mountpoints',
    help: { value: 'N', summary: 'distinct mqtt.mountpoint values before "other"' },
    env: 'VMQ_SIDECAR_MAX_MOUNTPOINTS',
    default: '100',
    accepted: 'a whole number from 1 to 10000',
    description:
      'Distinct mqtt.mountpoint values before further ones become "other". Half of them go to values at their first event, the other half to values seen twice ' +
      '(so one-off garbage cannot take every place); malformed values become "invalid".',
    parse: intInRange(1, 10_000),
  },
} satisfies OptionRows;
