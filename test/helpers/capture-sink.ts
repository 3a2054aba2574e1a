import type { EventSink } from '../../src/sinks/event-sink.js';
import type { SidecarEvent } from '../../src/events/event-types.js';

/** Keeps every event it is given (payloads copied, since they are views into read buffers). */
export class CaptureSink implements EventSink {
  readonly events: SidecarEvent[] = [];

  consume(event: SidecarEvent): void {
    if ('payload' in event) (event as { payload: Uint8Array }).payload = Buffer.from(event.payload);
    this.events.push(event);
  }

  countBy(hook: string): number {
    return this.events.filter((e) => e.hook === hook).length;
  }
}
