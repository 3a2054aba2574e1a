/** The admin listener's row of the option table, and its rule: an address of its own. */
import { parseHostPortOrOff, type OptionRows, type SettingsOf } from '../config/option-parser.js';
import type { ComponentConfig } from '../config/component-config.js';
import type { TcpReceiverSettings } from '../receiver/tcp-receiver-options.js';
import type { GrpcReceiverSettings } from '../receiver/grpc-receiver-options.js';
import { listenCollision, resolveAdminListen, type ListenAddress } from '../config/listen-address.js';

export const ADMIN_OPTIONS = {
  adminListen: {
    flag: 'admin-listen',
    help: { value: 'HOST:PORT|off', summary: '/healthz, /readyz, /status, /metrics (default 127.0.0.1:9464)' },
    env: 'VMQ_SIDECAR_ADMIN_LISTEN',
    accepted: 'HOST:PORT, or off',
    description:
      'Admin HTTP listener: /healthz, /readyz, /status and (with the prometheus metrics exporter) /metrics. ' +
      'Defaults to OTEL_EXPORTER_PROMETHEUS_HOST:OTEL_EXPORTER_PROMETHEUS_PORT, else 127.0.0.1:9464.',
    parse: parseHostPortOrOff,
  },
} satisfies OptionRows;

/** The admin listener's settings. */
export type AdminSettings = SettingsOf<typeof ADMIN_OPTIONS>;

/** The other listeners its address must not collide with. */
type AdminRuleSettings = AdminSettings & Pick<TcpReceiverSettings, 'listen'> & Pick<GrpcReceiverSettings, 'grpcListen'>;

export const ADMIN_CONFIG: ComponentConfig<AdminSettings, AdminRuleSettings> = {
  name: 'admin listener',
  options: ADMIN_OPTIONS,
  validate(settings, context) {
    const at = resolveAdminListen(settings, context);
    if (at === null) return [];
    const others: ListenAddress[] = [{ ...settings.listen, setting: '--listen' }, ...(settings.grpcListen ? [{ ...settings.grpcListen, setting: '--grpc-listen' }] : [])];
    return others.flatMap((taken) => listenCollision(at, taken) ?? []);
  },
};
