/**
 * A component's part of the configuration, after the Collector's factories (a default config
 * each) and Config.Validate(): its rows of the option table and its rules across options. The
 * CLI still parses one flat set of flags and variables (sidecar-config.ts assembles the rows);
 * every component's validate() runs on the parsed settings, and every problem of one run is
 * reported at once, each naming the setting and what it accepts (exit status 64).
 */
import type { OptionTable } from './option-parser.js';
import type { OtelConfig } from '../telemetry/otel-config.js';

/** What validate() reads besides the settings: the OTEL_* variables that choose an address. */
export type ValidationContext = Pick<OtelConfig, 'prometheusHost' | 'prometheusPort'>;

/**
 * `S`: the component's own settings (its rows parse into them); `R`: what its rules read, its own
 * settings and the few of other components' they depend on (named here, so that no component
 * imports the whole settings type assembled above it).
 */
export interface ComponentConfig<S extends object, R extends object = S> {
  /** The component, as the docs name it. */
  readonly name: string;
  /** Its rows: flag, variable, default, what is accepted, the parser, its --help line. */
  readonly options: OptionTable<S>;
  /**
   * Its rules across options (its own and the others' it depends on), one line per problem
   * naming the setting and what is accepted; none: [].
   */
  validate?(settings: Readonly<R>, context: ValidationContext): string[];
}
