import { Buffer } from 'node:buffer';
import { type ClientConnection, connect, type Message } from '@ws/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatEvent } from './chat-room.js';
import { createDemoServer, type DemoServer } from './create-demo-server.js';

let demo: DemoServer;
let logLines: string[];
const clients: ClientConnection[] = [];

beforeEach(async () => {
  logLines = [];
  demo = await createDemoServer({ port: 0, log: (line) => logLines.push(line), heartbeatInterval: 50 });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await demo.close();
});

async function open(path: string, options: Parameters<typeof connect>[1] = {}): Promise<ClientConnection> {
  const client = await connect(new URL(path, demo.webSocketUrl), options);
  clients.push(client);
  return client;
}

/** Reads messages in order; `next()` waits for the next one (text as string, binary as Buffer). */
function reader(client: ClientConnection): { next(): Promise<Message> } {
  const iterator = client.messages();
  return {
    async next() {
      const result = await iterator.next();
      if (result.done === true) throw new Error('The connection closed');
      return result.value;
    },
  };
}

/** Reads chat events until one of `type` comes (the heartbeat's `latency` events come at any time). */
async function nextEvent<Type extends ChatEvent['type']>(
  messages: { next(): Promise<Message> },
  type: Type,
): Promise<Extract<ChatEvent, { type: Type }>> {
  for (;;) {
    const event = JSON.parse(String(await messages.next())) as ChatEvent;
    if (event.type === type) return event as Extract<ChatEvent, { type: Type }>;
  }
}

describe('the page', () => {
  it('serves index.html, app.js and style.css with their types', async () => {
    const page = await fetch(demo.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    const script = await fetch(new URL('/app.js', demo.url));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('new WebSocket(');
    const style = await fetch(new URL('/style.css', demo.url));
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers 404 for other paths, 405 for other methods, and HEAD without a body', async () => {
    expect((await fetch(new URL('/../package.json', demo.url))).status).toBe(404);
    expect((await fetch(new URL('/create-demo-server.ts', demo.url))).status).toBe(404);
    const post = await fetch(demo.url, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(demo.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(1000);
    expect(await head.text()).toBe('');
  });
});

describe('the echo endpoint', () => {
  it('echoes text as text and binary as binary, on / and any path but /chat', async () => {
    const client = await open('/');
    const messages = reader(client);
    client.send('hello world');
    expect(await messages.next()).toBe('hello world');
    client.send(Buffer.from([1, 2, 3]));
    expect(await messages.next()).toEqual(Buffer.from([1, 2, 3]));

    const elsewhere = await open('/anything/else?x=1');
    const elsewhereMessages = reader(elsewhere);
    elsewhere.send('still echo');
    expect(await elsewhereMessages.next()).toBe('still echo');
    expect(logLines).toContainEqual(expect.stringMatching(/^#1 open \/ from 127\.0\.0\.1:\d+$/));
    expect(logLines).toContain('#1 message text 11 bytes "hello world"');
    expect(logLines).toContain('#1 message binary 3 bytes');
  });

  it('logs each fragment of a fragmented message as it ends, and echoes the whole message', async () => {
    const client = await open('/', { fragmentSize: 100 });
    const messages = reader(client);
    const payload = Buffer.alloc(250, 7);
    client.send(payload);
    expect(await messages.next()).toEqual(payload);
    const lines = logLines.filter((line) => line.startsWith('#1 ') && !line.includes(' open '));
    expect(lines).toEqual([
      '#1 fragment 1: 100 bytes',
      '#1 fragment 2: 100 bytes',
      '#1 fragment 3: 50 bytes',
      '#1 message binary 250 bytes in 3 fragments',
    ]);
  });

  it('echoes a fragmented text message as one text message', async () => {
    const client = await open('/', { fragmentSize: 4 });
    const messages = reader(client);
    client.send('héllo wörld');
    expect(await messages.next()).toBe('héllo wörld');
    expect(logLines).toContain('#1 message text 13 bytes in 4 fragments "héllo wörld"');
  });

  it('logs the close with its code and reason', async () => {
    const client = await open('/');
    await client.close(4000, 'done here');
    await expect.poll(() => logLines).toContain('#1 close 4000 "done here" (clean)');
  });
});

describe('the chat room on /chat', () => {
  it('welcomes a member, tells the others of joins, speech, renames and leaves', async () => {
    const ada = await open('/chat?name=ada');
    const adaEvents = reader(ada);
    const welcome = await nextEvent(adaEvents, 'welcome');
    expect(welcome.you).toEqual({ id: 1, name: 'ada' });
    expect(welcome.members).toEqual([{ id: 1, name: 'ada' }]);

    const bob = await open('/chat?name=bob');
    const bobEvents = reader(bob);
    expect((await nextEvent(bobEvents, 'welcome')).members).toEqual([
      { id: 1, name: 'ada' },
      { id: 2, name: 'bob' },
    ]);
    expect((await nextEvent(adaEvents, 'join')).member).toEqual({ id: 2, name: 'bob' });

    bob.send(JSON.stringify({ type: 'say', text: '  hi ada  ' }));
    for (const events of [adaEvents, bobEvents]) {
      const said = await nextEvent(events, 'say');
      expect(said.member).toEqual({ id: 2, name: 'bob' });
      expect(said.text).toBe('hi ada');
    }

    ada.send(JSON.stringify({ type: 'rename', name: 'Ada L.' }));
    const renamed = await nextEvent(bobEvents, 'rename');
    expect(renamed).toEqual({ type: 'rename', member: { id: 1, name: 'Ada L.' }, previous: 'ada' });

    await ada.close();
    expect((await nextEvent(bobEvents, 'leave')).member).toEqual({ id: 1, name: 'Ada L.' });
  });

  it('cleans names up and names the nameless', async () => {
    const blank = await open('/chat');
    expect((await nextEvent(reader(blank), 'welcome')).you).toEqual({ id: 1, name: 'guest-1' });
    const messy = await open(`/chat?name=${encodeURIComponent('  two\n\u0000lines\u200b  ')}`);
    expect((await nextEvent(reader(messy), 'welcome')).you.name).toBe('two lines');
    const long = await open(`/chat?name=${'x'.repeat(100)}`);
    expect((await nextEvent(reader(long), 'welcome')).you.name).toBe('x'.repeat(32));
  });

  it('answers what it does not understand with an error event, to the sender only', async () => {
    const client = await open('/chat?name=ada');
    const events = reader(client);
    await nextEvent(events, 'welcome');
    client.send('not json');
    expect(await nextEvent(events, 'error')).toEqual({ type: 'error', reason: 'Chat messages are JSON text' });
    client.send(Buffer.from('{}'));
    expect(await nextEvent(events, 'error')).toEqual({ type: 'error', reason: 'Chat messages are JSON text' });
    client.send(JSON.stringify({ type: 'shout', text: 'HI' }));
    expect(await nextEvent(events, 'error')).toEqual({ type: 'error', reason: 'Unknown message "shout"' });
  });

  it('tells each member its heartbeat latency', async () => {
    const client = await open('/chat?name=ada');
    const latency = await nextEvent(reader(client), 'latency');
    expect(latency.milliseconds).toBeGreaterThanOrEqual(0);
    expect(latency.milliseconds).toBeLessThan(1000);
  });

  it('closes with 1009 a chat message over 64 KiB', async () => {
    const client = await open('/chat?name=ada');
    client.send(JSON.stringify({ type: 'say', text: 'x'.repeat(70_000) }));
    expect((await client.closed).code).toBe(1009);
  });
});

describe('shutdown', () => {
  it('closes every connection with 1001, logs it, then refuses new ones', async () => {
    const echo = await open('/');
    const chat = await open('/chat?name=ada');
    await nextEvent(reader(chat), 'welcome');
    await demo.close();
    expect(await echo.closed).toEqual({ code: 1001, reason: 'Server shutting down', wasClean: true });
    expect(await chat.closed).toEqual({ code: 1001, reason: 'Server shutting down', wasClean: true });
    // The log shows the peer's close frame: @ws/client echoes the code and the reason.
    expect(logLines).toContain('#1 close 1001 "Server shutting down" (clean)');
    expect(logLines).toContain('#2 close 1001 "Server shutting down" (clean)');
    await expect(connect(demo.webSocketUrl, { handshakeTimeout: 2_000 })).rejects.toThrow();
  });
});
