/**
 * The one attribute-folding service of a sidecar, handed to every output by the host
 * (src/host.ts): the mountpoint limit (--max-mountpoints, bounded-values.ts), the client grouper
 * (--client-groups, client-grouper.ts), and the interned values both hand out. No output owns
 * them and none lends them to another (as the Collector's components get what they share from
 * component.Host).
 *
 * One event is one sighting of its mountpoint, whichever outputs read it and in whichever order
 * they run: the ingest core hands every event here before the outputs (consume), where its
 * mountpoint is folded once; the outputs then read that verdict (mountpointOf). Two sightings
 * per event would let one-off mountpoints take the places kept for recurring ones. (A fan-out
 * built by hand, in tests, puts this service first instead.)
 */
import type { EventSink } from '../sinks/event-sink.js';
import type { SidecarEvent } from '../events/event-types.js';
import type { MetricStore } from './metric-store.js';
import { SIDECAR_METRICS } from './metric-catalog.js';
import { BoundedValues, type ClientGroup, type Mountpoint } from './bounded-values.js';
import { ClientGrouper, type ClientGroupPattern } from './client-grouper.js';

export interface AttributeFoldingOptions {
  /** --max-mountpoints. */
  maxMountpoints: number;
  /** --client-groups; empty: no mqtt.client.group attribute (the value is ""). */
  clientGroups: readonly ClientGroupPattern[];
}

/** An attribute's counts of values folded into "other" and of malformed values (a BoundedValues, or an output's own count). */
export interface ReportedValues {
  readonly attribute: string;
  readonly folded: number;
  readonly invalid: number;
}

export class AttributeFolding implements EventSink {
  readonly mountpoints: BoundedValues<'mqtt.mountpoint'>;
  /**
   * --client-groups, one for every output: it remembers the username a client registered with
   * (on_register) for the events that carry none, and the session tracker must put a client's
   * -1 on the series of its +1. Null without patterns.
   */
  readonly clientGrouper: ClientGrouper | null;
  /** The attributes whose folded and invalid values are reported (vmq_sidecar.attribute.values.*), in report order. */
  private readonly reported: ReportedValues[];
  /**
   * The event whose mountpoint was sighted last, and the verdict. Not its raw value: a fresh
   * string every event, which a long-lived object must not point to (a write barrier and a
   * remembered-set entry per event, measured as a tenth of the CPU per event).
   */
  private sightedEvent: SidecarEvent | null = null;
  private sightedValue = '' as Mountpoint;

  constructor(options: AttributeFoldingOptions) {
    this.mountpoints = new BoundedValues('mqtt.mountpoint', options.maxMountpoints);
    this.clientGrouper = options.clientGroups.length > 0 ? new ClientGrouper(options.clientGroups) : null;
    this.reported = [this.mountpoints];
  }

  /** The sighting of the event's mountpoint: the ingest core calls it for every event, before the outputs. */
  consume(e: SidecarEvent): void {
    this.sightedEvent = e;
    this.sightedValue = this.mountpoints.fold(e.mountpoint);
  }

  /**
   * The event's mountpoint as attribute value. The verdict of its sighting when the host's
   * fan-out sighted it; otherwise (a reader fed outside a fan-out) this read is the sighting.
   */
  mountpointOf(e: SidecarEvent): Mountpoint {
    if (e === this.sightedEvent) return this.sightedValue;
    return this.mountpoints.fold(e.mountpoint);
  }

  /** A sighting outside an event (a client restored from a snapshot). */
  foldMountpoint(raw: string): Mountpoint {
    return this.mountpoints.fold(raw);
  }

  /** mqtt.client.group, or "" (absent) without --client-groups; `username` undefined: the one remembered. */
  clientGroup(clientId: string, username?: string): ClientGroup {
    const g = this.clientGrouper;
    return g === null ? '' : (g.group(clientId, username) as ClientGroup);
  }

  /** mqtt.client.group from the client id patterns alone (deltas mode), or "". */
  clientGroupByClientId(clientId: string): ClientGroup {
    const g = this.clientGrouper;
    return g === null ? '' : (g.groupByClientId(clientId) as ClientGroup);
  }

  /** Reports another bounded attribute's folded and invalid values beside the mountpoints (an output's own, the gRPC user-type). */
  report(values: ReportedValues): void {
    this.reported.push(values);
  }

  /**
   * The folded and invalid values of every reported attribute, set at each collection. The
   * assembly (startSidecar) calls it once, before every component registers its own families.
   */
  registerMetrics(store: MetricStore): void {
    const folded = store.sum(SIDECAR_METRICS.attributeValuesFolded);
    const invalid = store.sum(SIDECAR_METRICS.attributeValuesInvalid);
    store.onCollect(() => {
      for (const b of this.reported) {
        if (b.folded > 0) folded.get(b.attribute).value = b.folded;
        if (b.invalid > 0) invalid.get(b.attribute).value = b.invalid;
      }
    });
  }
}
