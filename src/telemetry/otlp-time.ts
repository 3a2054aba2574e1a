/**
 * Event times as OTLP carries them: time_unix_nano is a fixed64, unsigned nanoseconds since the
 * epoch, so it holds 1970-01-01 up to 2554-07-21 (2^64 - 1 ns). The plugin's timestamp is an
 * int64 of seconds and an int32 of nanos, so a broker (or a fuzzer) can send times before 1970,
 * after 2554, or nanos outside 0..999,999,999.
 *
 * Such a time is exported as 0, which OTLP defines as "unknown or missing timestamp" (the
 * record's observed time, when the sidecar received the event, is always valid). Clamping to the
 * nearest representable time would invent a date; wrapping modulo 2^64 (what the SDK's protobuf
 * serializer does) would invent a different one; the SDK's JSON serializer would send a number
 * the collector refuses. The console exporter and --print-events still print the raw value.
 */
import type { HrTime } from '@opentelemetry/api';

/** Largest whole second whose nanoseconds fit in an unsigned 64-bit integer. */
export const MAX_OTLP_SECONDS = 18_446_744_072;

export const UNKNOWN_TIME: HrTime = [0, 0];

export function isOtlpTime(t: HrTime): boolean {
  return isOtlpTimeParts(t[0], t[1]);
}

export function isOtlpTimeParts(sec: number, nanos: number): boolean {
  return Number.isInteger(sec) && sec >= 0 && sec <= MAX_OTLP_SECONDS && Number.isInteger(nanos) && nanos >= 0 && nanos <= 999_999_999;
}

/** t when OTLP can carry it, else 0 (unknown). */
export function otlpTime(t: HrTime): HrTime {
  return isOtlpTime(t) ? t : UNKNOWN_TIME;
}
