import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FrameEncoder } from '../../src/simulator/frame-encoder.js';
import { SessionSnapshot } from '../../src/sessions/session-snapshot.js';
import { SessionTracker } from '../../src/sessions/session-tracker.js';
import { MetricStore } from '../../src/metrics/metric-store.js';
import { fakeHost, registered } from '../helpers/fake-host.js';
import { connect, startTestSidecar, write, type SidecarFixture } from '../helpers/sidecar-fixture.js';
import { eventually } from '../helpers/eventually.js';

const encoder = new FrameEncoder();
const BASE = Math.floor(Date.now() / 1000) - 100;

function ev(hook: string, clientId: string, sec: number, mountpoint = ''): Buffer {
  return encoder.encodeFrame({ hook: hook as 'on_client_wakeup', timestamp: { seconds: BASE + sec, nanos: 0 }, clientId, mountpoint, reason: 2 });
}

async function send(sidecar: SidecarFixture, frames: Buffer[]): Promise<void> {
  const before = sidecar.stats.eventsTotal;
  const s = await connect(sidecar.port);
  await write(s, Buffer.concat(frames));
  await eventually(() => assert.equal(sidecar.stats.eventsTotal, before + frames.length));
  s.destroy();
}

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'vmq-state-'));
}

test('after a restart with a snapshot the gauges continue, and startup events apply in timestamp order', async () => {
  const dir = tmp();
  const stateFile = path.join(dir, 'sessions.bin');
  try {
    const first = await startTestSidecar({ stateFile, logLevel: 'info' });
    await send(first, [
      ev('on_client_wakeup', 'x', 10),
      ev('on_client_wakeup', 'y', 10),
      ev('on_client_offline', 'y', 20),
      ev('on_client_wakeup', 'z', 10, 'tenant'),
      ev('on_client_wakeup', 'g', 10),
      ev('on_client_gone', 'g', 20),
    ]);
    assert.deepEqual([first.component(SessionTracker)!.connectedTotal(), first.component(SessionTracker)!.offlineTotal()], [2, 1]);
    await first.stop(); // writes the final snapshot

    const second = await startTestSidecar({ stateFile, logLevel: 'info' });
    try {
      assert.deepEqual([second.component(SessionTracker)!.connectedCount(''), second.component(SessionTracker)!.connectedCount('tenant'), second.component(SessionTracker)!.offlineTotal()], [1, 1, 1]);
      const restored = second.logLines.find((l) => l.msg === 'session state restored from snapshot');
      assert.equal(restored?.clients, 4);
      // x's offline from before its known wakeup is stale; y's newer wakeup applies; g's late
      // wakeup (older than its gone) stays dead.
      await send(second, [ev('on_client_offline', 'x', 5), ev('on_client_wakeup', 'y', 30), ev('on_client_wakeup', 'g', 15)]);
      assert.deepEqual([second.component(SessionTracker)!.connectedTotal(), second.component(SessionTracker)!.offlineTotal()], [3, 0]);
      assert.equal(second.component(SessionTracker)!.stale, 2);
      const status = second.status() as { snapshot: { restored: { clients: number } } };
      assert.equal(status.snapshot.restored.clients, 4);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sidecar switched to --gauge-mode deltas starts from its sessions-mode snapshot once, and keeps no client entries', async () => {
  const dir = tmp();
  const stateFile = path.join(dir, 'sessions.bin');
  try {
    const first = await startTestSidecar({ stateFile, logLevel: 'warn' });
    await send(first, ['a', 'b', 'c', 'd', 'e'].map((id) => ev('on_client_wakeup', id, 10)));
    await first.stop();

    // The disconnects of the clients it knew come as -1s: the restored +5 makes them add up.
    const deltas = await startTestSidecar({ stateFile, logLevel: 'warn', gaugeMode: 'deltas' });
    try {
      assert.equal(deltas.component(SessionTracker)!.connectedTotal(), 5);
      assert.equal(deltas.component(SessionTracker)!.trackedClients, 0);
      await send(deltas, ['a', 'b', 'c', 'd', 'e'].map((id) => ev('on_client_gone', id, 20)));
      assert.equal(deltas.component(SessionTracker)!.connectedTotal(), 0);
    } finally {
      await deltas.stop();
    }

    // Nothing comes back from the snapshots deltas mode wrote, in either mode.
    for (const gaugeMode of ['deltas', 'sessions'] as const) {
      const again = await startTestSidecar({ stateFile, logLevel: 'warn', gaugeMode });
      try {
        assert.equal(again.component(SessionTracker)!.connectedTotal(), 0, gaugeMode);
      } finally {
        await again.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt, truncated, stale, future-version and foreign snapshots are reported and ignored', async () => {
  const dir = tmp();
  try {
    const store = new MetricStore();
    const tracker = registered(new SessionTracker(fakeHost(), { maxClients: 100 }), store);
    tracker.consume({ hook: 'on_client_wakeup', clientId: 'a', mountpoint: '', timeSec: BASE, timeNanos: 0 } as never);
    const good = path.join(dir, 'good.bin');
    await new SessionSnapshot(good, tracker).write();
    const bytes = readFileSync(good);
    const variants: [string, Buffer, RegExp][] = [
      ['corrupt', Buffer.from(bytes.map((b, i) => (i === 40 ? b ^ 0xff : b))), /checksum mismatch/],
      ['truncated', bytes.subarray(0, bytes.length - 10), /checksum mismatch|truncated/],
      ['future', Buffer.from(bytes.map((b, i) => (i === 8 ? 99 : b))), /version 99 is not supported/],
      ['foreign', Buffer.from('{"clients": []}'), /not a vmq-otel-sidecar snapshot/],
    ];
    const staleFile = path.join(dir, 'stale.bin');
    await new SessionSnapshot(staleFile, tracker).write(Date.now() - 3_600_000);
    for (const [name, content] of variants) writeFileSync(path.join(dir, `${name}.bin`), content);
    const cases: [string, RegExp][] = [...variants.map(([n, , r]) => [path.join(dir, `${n}.bin`), r] as [string, RegExp]), [staleFile, /older than --state-max-age/]];
    for (const [file, reason] of cases) {
      const sidecar = await startTestSidecar({ stateFile: file, stateMaxAgeMs: 600_000, logLevel: 'info' });
      try {
        assert.equal(sidecar.component(SessionTracker)!.connectedTotal(), 0, file);
        const line = sidecar.logLines.find((l) => l.msg === 'session snapshot ignored; gauges start from zero');
        assert.ok(line, `${file}: reported`);
        assert.match(String(line.reason), reason);
      } finally {
        await sidecar.stop();
      }
    }
    // The good one loads.
    const ok = await startTestSidecar({ stateFile: good, logLevel: 'info' });
    assert.equal(ok.component(SessionTracker)!.connectedTotal(), 1);
    await ok.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unwritable state file is reported and counted; ingest goes on', async () => {
  const sidecar = await startTestSidecar({ stateFile: '/nonexistent-dir/sessions.bin', logLevel: 'info' });
  try {
    await send(sidecar, [ev('on_client_wakeup', 'a', 1)]);
    const status = sidecar.status() as { snapshot: { restored: { ignored: string } } };
    assert.match(status.snapshot.restored.ignored, /no snapshot file yet/);
  } finally {
    await sidecar.stop();
  }
  assert.ok(sidecar.logLines.some((l) => l.msg === 'session snapshot could not be written'));
});

test('a snapshot of 200,000 clients round-trips', async () => {
  const dir = tmp();
  try {
    const store = new MetricStore();
    const tracker = registered(new SessionTracker(fakeHost(), { maxClients: 1_000_000 }), store);
    for (let i = 0; i < 200_000; i++) {
      tracker.consume({ hook: i % 3 === 0 ? 'on_client_offline' : 'on_client_wakeup', clientId: `client-${i}`, mountpoint: i % 10 === 0 ? 'm1' : '', timeSec: BASE + (i % 1000), timeNanos: i } as never);
    }
    const file = path.join(dir, 's.bin');
    const w = await new SessionSnapshot(file, tracker).write();
    assert.equal(w.clients, 200_000);
    const copy = registered(new SessionTracker(fakeHost(), { maxClients: 1_000_000 }), new MetricStore());
    const r = await new SessionSnapshot(file, copy).load(60_000);
    assert.ok(r.loaded);
    assert.equal(copy.connectedTotal(), tracker.connectedTotal());
    assert.equal(copy.offlineTotal(), tracker.offlineTotal());
    assert.equal(copy.connectedCount('m1'), tracker.connectedCount('m1'));
    const c = copy.client('m1', 'client-30')!;
    assert.deepEqual([c.offline, c.sec, c.nanos], [true, BASE + 30, 30]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a version 1 snapshot (before the section) still loads; a section round-trips', async () => {
  const dir = tmp();
  try {
    const tracker = registered(new SessionTracker(fakeHost(), { maxClients: 100 }), new MetricStore());
    tracker.consume({ hook: 'on_client_wakeup', clientId: 'a', mountpoint: '', timeSec: BASE, timeNanos: 0 } as never);
    let kept: string | undefined;
    const section = { save: () => Buffer.from('{"n":1}'), restore: (b: Buffer) => void (kept = b.toString()) };
    const v2 = path.join(dir, 'v2.bin');
    await new SessionSnapshot(v2, tracker, section).write();
    const copy = () => registered(new SessionTracker(fakeHost(), { maxClients: 100 }), new MetricStore());
    const r2 = await new SessionSnapshot(v2, copy(), section).load(60_000);
    assert.ok(r2.loaded && r2.section === 'restored');
    assert.equal(kept, '{"n":1}');
    const refused = await new SessionSnapshot(v2, copy(), { save: () => undefined, restore: () => 'not ours' }).load(60_000);
    assert.ok(refused.loaded && typeof refused.section === 'object' && refused.section.ignored === 'not ours', 'the sessions load even when the section is refused');

    // Version 1: the same file without the section's length field, version 1, its own digest.
    const noSection = path.join(dir, 'plain.bin');
    await new SessionSnapshot(noSection, tracker).write();
    const bytes = readFileSync(noSection);
    const body = Buffer.from(bytes.subarray(0, bytes.length - 32 - 4));
    body.writeUInt32LE(1, 8);
    const v1 = path.join(dir, 'v1.bin');
    writeFileSync(v1, Buffer.concat([body, createHash('sha256').update(body).digest()]));
    const loaded = copy();
    const r1 = await new SessionSnapshot(v1, loaded, section).load(60_000);
    assert.ok(r1.loaded && r1.section === 'none', JSON.stringify(r1));
    assert.equal(loaded.connectedTotal(), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a symbolic link planted at the temporary path is never followed: its target stays untouched', async () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'sessions.bin');
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const { symlinkSync, readdirSync } = await import('node:fs');
    symlinkSync(victim, `${file}.tmp-fixed`);
    const tracker = registered(new SessionTracker(fakeHost(), { maxClients: 100 }), new MetricStore());
    await assert.rejects(new SessionSnapshot(file, tracker, undefined, () => 'fixed').write(), /EEXIST/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    // With its own (random) name the write succeeds and leaves no temporary file behind.
    await new SessionSnapshot(file, tracker).write();
    assert.deepEqual(readdirSync(dir).sort(), ['sessions.bin', 'sessions.bin.tmp-fixed', 'victim.txt']);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed rename removes the temporary file', async () => {
  const dir = tmp();
  try {
    const { mkdirSync, readdirSync } = await import('node:fs');
    const file = path.join(dir, 'state');
    mkdirSync(path.join(file, 'occupied'), { recursive: true }); // renaming a file over a non-empty directory fails
    const tracker = registered(new SessionTracker(fakeHost(), { maxClients: 100 }), new MetricStore());
    await assert.rejects(new SessionSnapshot(file, tracker).write());
    assert.deepEqual(readdirSync(dir), ['state']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a --state-file in a missing directory, under a file, or on a file that is not a snapshot exits 64 naming --state-file', async () => {
  const { runCli } = await import('../helpers/cli-process.js');
  const dir = tmp();
  try {
    writeFileSync(path.join(dir, 'plain-file'), '');
    for (const bad of ['/nonexistent-dir/sessions.bin', path.join(dir, 'plain-file', 'sessions.bin')]) {
      const p = runCli(['--listen', '127.0.0.1:0', '--state-file', bad]);
      const { code } = await p.exited;
      assert.equal(code, 64);
      assert.match(p.stderr(), /--state-file/);
      assert.match(p.stderr(), /does not exist|is not a directory/);
    }
    // A file that is not a snapshot (a mistyped path) is not overwritten: exit 64, untouched.
    const notes = path.join(dir, 'notes.txt');
    writeFileSync(notes, 'my notes\n');
    const p = runCli(['--listen', '127.0.0.1:0', '--state-file', notes]);
    assert.equal((await p.exited).code, 64);
    assert.match(p.stderr(), /--state-file: .*exists and is not a vmq-otel-sidecar snapshot/);
    assert.equal(readFileSync(notes, 'utf8'), 'my notes\n');
    // An empty file, or one of ours, is fine.
    const { checkStateFileDirectory } = await import('../../src/sessions/session-snapshot.js');
    writeFileSync(path.join(dir, 'empty.bin'), '');
    assert.doesNotThrow(() => checkStateFileDirectory(path.join(dir, 'empty.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a --state-file naming a character device, a FIFO, a socket, a directory or a link exits 64 without opening it; the device is untouched', async () => {
  const { runCli } = await import('../helpers/cli-process.js');
  const { execFileSync } = await import('node:child_process');
  const { mkdirSync, statSync, symlinkSync } = await import('node:fs');
  const net = await import('node:net');
  const dir = tmp();
  const socketPath = path.join(dir, 'sock');
  const server = net.createServer().listen(socketPath);
  try {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(path.join(dir, 'a-dir'));
    const target = path.join(dir, 'target.bin');
    writeFileSync(target, '');
    symlinkSync(target, path.join(dir, 'link.bin'));
    const devNull = statSync('/dev/null');
    const cases: [string, RegExp][] = [
      ['/dev/null', /is a character device, not a regular file/],
      [fifo, /is a FIFO, not a regular file/],
      [socketPath, /is a socket, not a regular file/],
      [path.join(dir, 'a-dir'), /is a directory/],
      [path.join(dir, 'link.bin'), /is a symbolic link/],
    ];
    for (const [bad, why] of cases) {
      const p = runCli(['--listen', '127.0.0.1:0', '--admin-listen', 'off', '--state-file', bad]);
      // A FIFO opened for reading would block the start forever: this bound is the test's, the
      // sidecar has to exit by itself.
      const timeout = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      const { code } = await p.exited;
      clearTimeout(timeout);
      assert.equal(code, 64, `${bad}: ${p.stderr()}`);
      const lines = p.stderr().trim().split('\n');
      assert.equal(lines.length, 1, p.stderr());
      assert.match(lines[0]!, /--state-file: /);
      assert.match(lines[0]!, why);
    }
    const after = statSync('/dev/null');
    assert.ok(after.isCharacterDevice());
    assert.equal(after.rdev, devNull.rdev);
    assert.equal(after.ino, devNull.ino);
    assert.equal(readFileSync(target, 'utf8'), '', 'the link target is untouched');
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('temporary snapshot files a killed process left behind are gone after the next start; other files stay', async () => {
  const dir = tmp();
  try {
    const { readdirSync } = await import('node:fs');
    const stateFile = path.join(dir, 'sessions.bin');
    // As a kill -9 mid-write leaves them: our naming pattern, partly written.
    writeFileSync(`${stateFile}.tmp-0123456789abcdef`, 'VMQSNAP\npartial');
    writeFileSync(`${stateFile}.tmp-fedcba9876543210`, '');
    writeFileSync(`${stateFile}.tmp-notours`, 'keep');
    writeFileSync(path.join(dir, 'other.bin.tmp-0123456789abcdef'), 'keep');
    const sidecar = await startTestSidecar({ stateFile, logLevel: 'info' });
    try {
      assert.deepEqual(readdirSync(dir).sort(), ['other.bin.tmp-0123456789abcdef', 'sessions.bin.tmp-notours']);
      const line = sidecar.logLines.find((l) => l.msg === 'removed temporary snapshot files an earlier process left behind');
      assert.deepEqual((line?.files as string[]).sort(), ['sessions.bin.tmp-0123456789abcdef', 'sessions.bin.tmp-fedcba9876543210']);
    } finally {
      await sidecar.stop();
    }
    assert.deepEqual(readdirSync(dir).sort(), ['other.bin.tmp-0123456789abcdef', 'sessions.bin', 'sessions.bin.tmp-notours']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
