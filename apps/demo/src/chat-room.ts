import type { AuthenticateResult, HandshakeInfo, ServerConnection, WebSocketServer } from '@ws/server';

/** What the handshake settled about a guest: the name asked for with `?name=`. */
export interface ChatGuest {
  readonly requestedName: string;
}

/** A member as the page sees it. */
export interface ChatMember {
  readonly id: number;
  readonly name: string;
}

/**
 * The chat protocol, JSON text both ways.
 *
 * From the page: `{ type: 'say', text }` and `{ type: 'rename', name }`.
 * From the room: `welcome` (to a new member: `you` and everyone in the room), `join`, `leave`,
 * `rename` (with the `previous` name), `say` (to everyone, the speaker included), `latency` (the
 * member's own heartbeat round trip, after each heartbeat) and `error` (to the sender only).
 */
export type ChatEvent =
  | { readonly type: 'welcome'; readonly you: ChatMember; readonly members: readonly ChatMember[] }
  | { readonly type: 'join'; readonly member: ChatMember }
  | { readonly type: 'leave'; readonly member: ChatMember }
  | { readonly type: 'rename'; readonly member: ChatMember; readonly previous: string }
  | { readonly type: 'say'; readonly member: ChatMember; readonly text: string; readonly at: number }
  | { readonly type: 'latency'; readonly milliseconds: number }
  | { readonly type: 'error'; readonly reason: string };

export const MAX_NAME_LENGTH = 32;
export const MAX_TEXT_LENGTH = 2000;

export interface ChatRoomOptions {
  /**
   * Member ids count up from here. Rooms in several processes that share the room's topic
   * through an adapter start far apart, so that their members' ids differ. Default 0.
   */
  readonly firstId?: number;
}

/**
 * A chat room over one WebSocketServer: every connection is a member subscribed to the room's
 * topic, everything said is published to it (framed once for all members), and each member
 * learns its own latency from the server's heartbeat. With the server's adapter (the demo's
 * Redis one), the servers of other processes that run a room share its messages, joins,
 * renames and leaves; the member list a newcomer gets is its own server's.
 */
export class ChatRoom {
  /** The topic every member is subscribed to. */
  static readonly TOPIC = 'chat';

  readonly #server: WebSocketServer<ChatGuest>;
  readonly #members = new Map<ServerConnection<ChatGuest>, ChatMember>();
  #lastId: number;

  constructor(server: WebSocketServer<ChatGuest>, options: ChatRoomOptions = {}) {
    this.#server = server;
    this.#lastId = options.firstId ?? 0;
    server.on('connection', (connection) => this.#join(connection));
  }

  /** The `authenticate` hook of the room's server: everyone may come in, under the name asked for. */
  static admit(this: void, _request: unknown, info: HandshakeInfo): AuthenticateResult<ChatGuest> {
    return { accept: true, data: { requestedName: info.searchParams.get('name') ?? '' } };
  }

  get members(): readonly ChatMember[] {
    return [...this.#members.values()];
  }

  #join(connection: ServerConnection<ChatGuest>): void {
    const id = ++this.#lastId;
    const member: ChatMember = { id, name: cleanName(connection.data.requestedName) || `guest-${id}` };
    this.#members.set(connection, member);
    connection.subscribe(ChatRoom.TOPIC);
    send(connection, { type: 'welcome', you: member, members: this.members });
    this.#broadcast({ type: 'join', member }, connection);

    connection.on('message', (data, isBinary) => this.#receive(connection, data, isBinary));
    connection.on('pong', () => {
      // The server updates `latency` before the application hears of the pong.
      const latency = connection.latency;
      if (latency !== undefined) send(connection, { type: 'latency', milliseconds: Math.round(latency * 10) / 10 });
    });
    connection.on('close', () => {
      const leaving = this.#members.get(connection);
      this.#members.delete(connection);
      if (leaving !== undefined) this.#broadcast({ type: 'leave', member: leaving });
    });
  }

  #receive(connection: ServerConnection<ChatGuest>, data: Buffer, isBinary: boolean): void {
    const member = this.#members.get(connection);
    if (member === undefined) return;
    const message = isBinary ? undefined : parseJson(data.toString('utf8'));
    if (message === undefined) {
      send(connection, { type: 'error', reason: 'Chat messages are JSON text' });
      return;
    }
    if (message.type === 'say' && typeof message.text === 'string') {
      const text = message.text.trim().slice(0, MAX_TEXT_LENGTH);
      if (text !== '') this.#broadcast({ type: 'say', member, text, at: Date.now() });
      return;
    }
    if (message.type === 'rename' && typeof message.name === 'string') {
      const name = cleanName(message.name);
      if (name === '' || name === member.name) return;
      const renamed: ChatMember = { id: member.id, name };
      this.#members.set(connection, renamed);
      this.#broadcast({ type: 'rename', member: renamed, previous: member.name });
      return;
    }
    send(connection, { type: 'error', reason: `Unknown message ${JSON.stringify(message.type)}` });
  }

  #broadcast(event: ChatEvent, except?: ServerConnection<ChatGuest>): void {
    this.#server.publish(ChatRoom.TOPIC, JSON.stringify(event), except === undefined ? {} : { except });
  }
}

function send(connection: ServerConnection<ChatGuest>, event: ChatEvent): void {
  connection.send(JSON.stringify(event));
}

/** Names are one line of at most 32 characters: line breaks become spaces, control and format characters go. */
function cleanName(name: string): string {
  return name
    .replace(/\s+/g, ' ')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .trim()
    .slice(0, MAX_NAME_LENGTH);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
