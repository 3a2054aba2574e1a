/** A loopback port some other process holds (a listener that accepts nothing), for bind-failure tests. */
import net from 'node:net';

export async function busyPort(): Promise<{ port: number; release: () => void }> {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  return { port: (blocker.address() as net.AddressInfo).port, release: () => blocker.close() };
}
