/**
 * --print-events: one readable line per event on stdout, for seeing the sidecar work.
 * Lines are batched into one write per event-loop turn; if stdout cannot keep up, lines are
 * dropped (and counted) rather than slowing down reading from the broker.
 */
import type { SidecarEvent } from '../events/event-types.js';
import type { EventSink } from './event-sink.js';
import type { SidecarLogger } from '../logging/sidecar-logger.js';
import { escapeControl, hasControl } from './control-chars.js';
import { unhandledHook } from '../events/unhandled-hook.js';

/** Lines held before a write; past this, lines are dropped until stdout drains. */
const MAX_PENDING_LINES = 10_000;

/** Seconds from the epoch that Date can represent (±100,000,000 days). */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * RFC 3339 with nanoseconds for any value the schema allows: a timestamp outside what Date can
 * represent (int64 seconds reach ±9.2e18) or nanos outside 0..999,999,999 is printed as its raw
 * numbers instead of throwing, so one odd event cannot stop a printer or an exporter.
 */
export function formatEventTime(sec: number, nanos: number): string {
  if (!Number.isInteger(sec) || Math.abs(sec) > MAX_DATE_SECONDS || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    return `@${sec}s+${nanos}ns`;
  }
  const iso = new Date(sec * 1000).toISOString();
  return `${iso.slice(0, -5)}.${String(nanos).padStart(9, '0')}Z`;
}

/** A field value: quoted when it has spaces, quotes or '='; control characters always escaped. */
function str(v: string): string {
  return v === '' ? '""' : /[\s"=]/.test(v) || hasControl(v) ? escapeControl(JSON.stringify(v)) : v;
}

/** The matched ACL entry's name and pattern, when the broker sent one. */
function acl(a: { name: string; pattern: string } | null): string {
  return a && (a.name !== '' || a.pattern !== '') ? ` acl=${str(a.name)} acl_pattern=${str(a.pattern)}` : '';
}

function userProperties(props: Record<string, string>): string {
  let out = '';
  for (const k in props) out += ` user_property[${str(k)}]=${str(props[k]!)}`;
  return out;
}

/** Each topic as topic@qos ("refused" for 128), with ;acl=NAME;acl_pattern=PATTERN when sent. */
function subscribedTopics(topics: readonly { topic: string; qos: number; matchedAcl: { name: string; pattern: string } | null; reasonCode?: number }[]): string {
  return topics
    .map((t) => {
      const a = t.matchedAcl && (t.matchedAcl.name !== '' || t.matchedAcl.pattern !== '') ? `;acl=${t.matchedAcl.name};acl_pattern=${t.matchedAcl.pattern}` : '';
      // MQTT 5 (the companion) says why a filter was refused: refused(0x87).
      const code = t.qos === 128 && t.reasonCode !== undefined && t.reasonCode !== 128 ? `(0x${t.reasonCode.toString(16)})` : '';
      return `${t.topic}@${t.qos === 128 ? 'refused' : t.qos}${code}${a}`;
    })
    .join(',');
}

/**
 * One line with every field of the event; the payload as its size only (bytes=N). Strings are
 * quoted when empty or holding spaces, quotes or "=".
 */
export function formatEvent(e: SidecarEvent): string {
  // mqtt=5 marks the companion's events (vmq_events_sidecar_m5); the plugin's lines are as before.
  const head = `${formatEventTime(e.timeSec, e.timeNanos)} ${e.hook}${e.protocolVersion === '5' ? ' mqtt=5' : ''}${e.timeMissing ? ' time_missing=true' : ''} mountpoint=${str(e.mountpoint)} client_id=${str(e.clientId)}`;
  switch (e.hook) {
    case 'on_register':
      return `${head} username=${str(e.username)} peer=${str(e.peerAddr)}:${e.peerPort} session_id=${str(e.sessionId)}${userProperties(e.userProperties)}`;
    case 'on_register_failed':
      return `${head} username=${str(e.username)} peer=${str(e.peerAddr)}:${e.peerPort} clean_session=${e.cleanSession} reason=${e.reasonName}`;
    case 'on_client_wakeup':
    case 'on_session_expired':
      return `${head} session_id=${str(e.sessionId)}`;
    case 'on_client_offline':
    case 'on_client_gone':
      return `${head} username=${str(e.username)} reason=${e.reasonName} session_id=${str(e.sessionId)}`;
    case 'on_subscribe':
      return `${head} username=${str(e.username)} session_id=${str(e.sessionId)} topics=${str(subscribedTopics(e.topics))}`;
    case 'on_unsubscribe':
      return `${head} username=${str(e.username)} session_id=${str(e.sessionId)} topics=${str(e.topics.join(','))}`;
    case 'on_publish':
      return `${head} username=${str(e.username)} session_id=${str(e.sessionId)} topic=${str(e.topic)} qos=${e.qos} retain=${e.retain} bytes=${e.payload.length}${acl(e.matchedAcl)}${e.userProperties ? userProperties(e.userProperties) : ''}`;
    case 'on_deliver':
    case 'on_delivery_complete':
      return `${head} username=${str(e.username)} session_id=${str(e.sessionId)} topic=${str(e.topic)} qos=${e.qos} retain=${e.isRetain} persisted=${e.persisted} bytes=${e.payload.length}${acl(e.matchedAcl)}${e.hook === 'on_deliver' && e.userProperties ? userProperties(e.userProperties) : ''}`;
    case 'on_offline_message':
      return `${head} session_id=${str(e.sessionId)} topic=${str(e.topic)} qos=${e.qos} retain=${e.retain} bytes=${e.payload.length}`;
    case 'on_message_drop':
      return `${head} session_id=${str(e.sessionId)} topic=${str(e.topic)} qos=${e.qos} reason=${str(e.reason)} bytes=${e.payload.length}${acl(e.matchedAcl)}`;
    default:
      return unhandledHook(e);
  }
}

export class EventPrinter implements EventSink {
  /** Lines dropped because the output could not keep up. */
  dropped = 0;
  private pending: string[] = [];
  private scheduled = false;
  private blocked = false;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    /** Told of drops, at most once a minute; null: nobody (tests). */
    private readonly logger: SidecarLogger | null = null,
  ) {
    out.on('drain', () => {
      this.blocked = false;
    });
  }

  consume(event: SidecarEvent): void {
    if (this.blocked || this.pending.length >= MAX_PENDING_LINES) {
      this.dropped++;
      this.logger?.limited('warn', 'print-events-dropped', 60_000, '--print-events: stdout does not keep up; event lines dropped', { droppedTotal: this.dropped });
      return;
    }
    // Fields printed without str() (topic lists) are client-chosen too: one event, one line.
    this.pending.push(escapeControl(formatEvent(event)));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushPending());
    }
  }

  async shutdown(): Promise<void> {
    this.flushPending();
  }

  status(): { printEvents: { dropped: number } } {
    return { printEvents: { dropped: this.dropped } };
  }

  private flushPending(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending = [];
    if (!this.out.write(text)) this.blocked = true;
  }
}
