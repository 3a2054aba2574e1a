/**
 * The `default` of every `switch (e.hook)` over SidecarEvent in an output: it takes `never`, so a
 * hook added to the events that a switch has no case for is a compile error in that output, not
 * an event silently ignored.
 */
export function unhandledHook(e: never): never {
  throw new Error(`no case for hook ${String((e as { hook?: unknown }).hook)}`);
}
