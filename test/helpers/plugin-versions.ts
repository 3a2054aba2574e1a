/**
 * Which hook names each build of the vmq_events_sidecar plugin accepts in
 * `vmq_events_sidecar.hooks`. The broker's config validator refuses the whole list (and the node
 * does not start) when one name is not in it, so every hook list this project ships is tested
 * against this table (test/stack/hook-lists.test.ts). Facts only, each with where it was read.
 */
import type { HookName } from '../../src/events/event-types.js';

export interface PluginVersion {
  /** Repository and version as users name them. */
  name: string;
  repository: string;
  /** The tag, when a tag names the commit. */
  tag: string | null;
  commit: string;
  /** Hook names the config validator accepts. */
  hooks: readonly HookName[];
  /** Where the fact comes from. */
  source: string;
}

const TWELVE_HOOKS: readonly HookName[] = [
  'on_register',
  'on_publish',
  'on_subscribe',
  'on_unsubscribe',
  'on_deliver',
  'on_offline_message',
  'on_client_wakeup',
  'on_client_offline',
  'on_client_gone',
  'on_delivery_complete',
  'on_session_expired',
  'on_message_drop',
];

const THIRTEEN_HOOKS: readonly HookName[] = ['on_register', 'on_register_failed', ...TWELVE_HOOKS.slice(1)];

export const PLUGIN_VERSIONS: readonly PluginVersion[] = [
  {
    name: 'gojekfarm/vernemq fdf273ea',
    repository: 'gojekfarm/vernemq',
    tag: null,
    commit: 'fdf273ea206e4788f5be52f65eb721256b44371b',
    hooks: TWELVE_HOOKS,
    source: 'hook_names validator of apps/vmq_events_sidecar/priv/vmq_events_sidecar.schema at that commit (reachable only from refs/pull/72/merge)',
  },
  {
    name: 'gojek/vernemq v5.0.0',
    repository: 'gojek/vernemq',
    tag: 'v5.0.0',
    commit: '5bde753170512f09e3e03d6d22b03457713d5cd9',
    hooks: THIRTEEN_HOOKS,
    source: 'hook_names validator of apps/vmq_events_sidecar/priv/vmq_events_sidecar.schema at tag v5.0.0',
  },
  {
    name: 'gojek/vernemq v5.1.0',
    repository: 'gojek/vernemq',
    tag: 'v5.1.0',
    commit: '72499ba673618e8e28a0e45b089731adda6463e6',
    hooks: THIRTEEN_HOOKS,
    source: 'hook_names validator of apps/vmq_events_sidecar/priv/vmq_events_sidecar.schema at tag v5.1.0',
  },
];

/** The build docker-compose.yml and the Kubernetes example are made for. */
export const PINNED_PLUGIN_VERSION: PluginVersion = PLUGIN_VERSIONS.find((v) => v.tag === 'v5.1.0')!;

/** The names in `hooks` that `version`'s config validator would refuse. */
export function refusedHooks(version: PluginVersion, hooks: readonly string[]): string[] {
  return hooks.filter((h) => !(version.hooks as readonly string[]).includes(h));
}
