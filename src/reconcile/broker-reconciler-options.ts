/** The broker reconciler's rows of the option table: the broker's metrics endpoint and how it is scraped. */
import { durationInRange, type OptionRows } from '../config/option-parser.js';

/**
 * Ports fetch() refuses (https://fetch.spec.whatwg.org/#port-blocking): the broker scrape uses
 * fetch, and a URL on one of them would pass here and then fail every scrape with "bad port".
 */
const FETCH_BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137,
  139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723,
  2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export const BROKER_RECONCILER_OPTIONS = {
  brokerMetricsUrl: {
    flag: 'broker-metrics-url',
    help: { value: 'URL', summary: 'this broker node\'s Prometheus endpoint; off when not set' },
    env: 'VMQ_SIDECAR_BROKER_METRICS_URL',
    accepted: 'an http:// or https:// URL, e.g. http://127.0.0.1:8888/metrics',
    description:
      "Scrape this broker node's Prometheus endpoint and export its connection counts, the drift of our gauges from them, and its sidecar send attempts and failures per hook. Off when not set.",
    parse: parseBrokerMetricsUrl,
  },
  brokerScrapeIntervalMs: {
    flag: 'broker-scrape-interval',
    help: { value: 'DURATION', summary: 'how often it is scraped' },
    env: 'VMQ_SIDECAR_BROKER_SCRAPE_INTERVAL',
    default: '15s',
    accepted: 'a duration from 1s to 1h',
    description: 'How often --broker-metrics-url is scraped.',
    parse: durationInRange(1000, 3_600_000),
  },
  brokerScrapeTimeoutMs: {
    flag: 'broker-scrape-timeout',
    help: { value: 'DURATION', summary: 'a slower scrape is abandoned and counted' },
    env: 'VMQ_SIDECAR_BROKER_SCRAPE_TIMEOUT',
    default: '5s',
    accepted: 'a duration from 100ms to 1m',
    description: 'A broker scrape taking longer is abandoned and counted as a timeout.',
    parse: durationInRange(100, 60_000),
  },
} satisfies OptionRows;

/** An http(s) URL on a port fetch() connects to. */
function parseBrokerMetricsUrl(raw: string): string {
  const u = new URL(raw.trim());
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  if (FETCH_BAD_PORTS.has(Number(u.port))) throw new Error(`port ${u.port} is one Node's fetch refuses to connect to (the Fetch standard's "bad ports"); serve the broker's metrics on another port`);
  return u.href;
}
