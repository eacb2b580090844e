import type { Buffer } from 'node:buffer';
import { once } from 'node:events';
import WebSocket from 'ws';

export interface Received {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

export interface CommandClient {
  readonly client: WebSocket;
  /** Sends a JSON command and resolves with the server's answer (a text message starting `{"done"`). */
  command(command: Record<string, unknown>): Promise<{ done: true; deliveries: number }>;
  /** The next message that is not an answer: what was published to this client. */
  next(): Promise<Received>;
}

/**
 * A `ws` client of a server process that takes JSON commands (the cluster and Redis fixtures),
 * which keeps the answers to its commands apart from the messages published to it.
 */
export async function commandClient(url: string, cleanups: (() => unknown)[]): Promise<CommandClient> {
  const client = new WebSocket(url);
  cleanups.push(() => client.terminate());
  const published: Received[] = [];
  const waiting: ((message: Received) => void)[] = [];
  const answers: ((answer: { done: true; deliveries: number }) => void)[] = [];
  client.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary && data.toString().startsWith('{"done"')) {
      answers.shift()?.(JSON.parse(data.toString()) as { done: true; deliveries: number });
      return;
    }
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter({ data, isBinary });
    else published.push({ data, isBinary });
  });
  await once(client, 'open');
  return {
    client,
    command: (command) =>
      new Promise((resolve) => {
        answers.push(resolve);
        client.send(JSON.stringify(command));
      }),
    next: () => {
      const message = published.shift();
      return message !== undefined ? Promise.resolve(message) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
