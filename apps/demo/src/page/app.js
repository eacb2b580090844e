/* global document, location, URLSearchParams, WebSocket */
// The demo page: plain browser JavaScript, no framework and no build step. It opens two
// WebSockets on the page's own origin, one to the echo endpoint and one to the chat room,
// and shows what each of them does in the connection panel.

const origin = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
const encoder = new TextEncoder();
const LOG_LIMIT = 50;

/** Formats a byte count for people: 262145 → "256.0 KiB". */
function formatBytes(count) {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(1)} KiB`;
  return `${(count / 1024 / 1024).toFixed(1)} MiB`;
}

function formatMilliseconds(value) {
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

/** The byte length of a message as it travels: UTF-8 for text. */
function byteLengthOf(data) {
  return typeof data === 'string' ? encoder.encode(data).length : data.byteLength;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Adds an entry at the top of a log list, keeping it short. */
function prepend(list, node) {
  list.prepend(node);
  while (list.children.length > LOG_LIMIT) list.lastElementChild.remove();
}

/** Adds an entry at the bottom of a log list and keeps it scrolled to the end. */
function append(list, node) {
  list.append(node);
  while (list.children.length > LOG_LIMIT) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

const STATE_NAMES = ['connecting', 'open', 'closing', 'closed'];

/**
 * One WebSocket shown in the connection panel: its state, latency, payload bytes each way and
 * how it closed. `open()` (re)connects; `onOpen`/`onMessage` are the panel's users.
 */
class TrackedSocket {
  constructor(name, path, handlers) {
    this.name = name;
    this.path = path;
    this.handlers = handlers;
    this.card = document.querySelector(`[data-connection="${name}"]`);
    this.socket = undefined;
    this.bytesIn = 0;
    this.bytesOut = 0;
    this.latency = '–';
    this.transport = '–';
    this.closeText = '–';
    this.card.querySelector('[data-action="close"]').addEventListener('click', () => this.socket?.close(1000, 'Closed from the page'));
    this.card.querySelector('[data-action="reconnect"]').addEventListener('click', () => this.open());
  }

  open() {
    if (this.socket && this.socket.readyState < WebSocket.CLOSING) this.socket.close(1000, 'Reconnecting');
    // `transport` asks the server to say first which protocol the WebSocket rides.
    const path = this.path();
    const socket = new WebSocket(`${origin}${path}${path.includes('?') ? '&' : '?'}transport`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.closeText = '–';
    this.transport = '–';
    let announced = false;
    socket.addEventListener('open', () => {
      this.render();
      this.handlers.onOpen?.(socket);
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.socket) return;
      if (!announced) {
        // The server's first message: {"type":"transport","httpVersion":"2.0" or "1.1"}.
        announced = true;
        this.transport = JSON.parse(event.data).httpVersion === '2.0' ? 'HTTP/2' : 'HTTP/1.1';
        this.render();
        return;
      }
      this.bytesIn += byteLengthOf(event.data);
      this.handlers.onMessage(event.data);
      this.render();
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.socket) return;
      this.closeText = `${event.code}${event.reason ? ` ${event.reason}` : ''}${event.wasClean ? '' : ' (not clean)'}`;
      this.handlers.onClose?.();
      this.render();
    });
    this.render();
  }

  send(data) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(data);
    this.bytesOut += byteLengthOf(data);
    this.render();
    return true;
  }

  setLatency(text) {
    this.latency = text;
    this.render();
  }

  render() {
    const state = STATE_NAMES[this.socket?.readyState ?? 3];
    const field = (name) => this.card.querySelector(`[data-field="${name}"]`);
    // The `transport` query is the panel's own question, not part of the endpoint's address.
    field('url').textContent = this.socket?.url.replace(/[?&]transport$/, '') ?? '';
    field('state').textContent = state;
    field('state').dataset.state = state;
    field('latency').textContent = this.latency;
    field('transport').textContent = this.transport;
    field('bytes-in').textContent = formatBytes(this.bytesIn);
    field('bytes-out').textContent = formatBytes(this.bytesOut);
    field('close').textContent = this.closeText;
  }
}

// ---- Echo ------------------------------------------------------------------------------------

const echoLog = document.getElementById('echo-log');
/** What was sent and is waiting for its echo; the echo endpoint answers in order. */
const pendingEchoes = [];

/** A recognisable pattern, so that the echo can be checked byte for byte. */
function patternBytes(length) {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = (index * 31 + 7) & 0xff;
  return bytes;
}

function sameBytes(left, right) {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}

const echo = new TrackedSocket('echo', () => '/', {
  onMessage(data) {
    const sent = pendingEchoes.shift();
    const roundTrip = sent ? performance.now() - sent.at : undefined;
    if (roundTrip !== undefined) echo.setLatency(formatMilliseconds(roundTrip));
    const entry = element('li', 'received');
    entry.dataset.kind = typeof data === 'string' ? 'text' : 'binary';
    if (typeof data === 'string') {
      entry.append(element('span', 'arrow', '←'), element('q', '', data));
    } else {
      const bytes = new Uint8Array(data);
      const intact = sent?.bytes !== undefined && sameBytes(bytes, sent.bytes);
      entry.dataset.intact = String(intact);
      entry.append(
        element('span', 'arrow', '←'),
        element('span', '', `binary ${bytes.length} bytes`),
        element('span', intact ? 'badge ok' : 'badge bad', intact ? 'intact' : 'differs'),
      );
    }
    if (roundTrip !== undefined) entry.append(element('span', 'meta', formatMilliseconds(roundTrip)));
    prepend(echoLog, entry);
  },
  onClose() {
    pendingEchoes.length = 0;
  },
});

function logSent(text) {
  const entry = element('li', 'sent');
  entry.append(element('span', 'arrow', '→'), element('span', '', text));
  prepend(echoLog, entry);
}

document.getElementById('echo-text-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = document.getElementById('echo-text').value;
  if (echo.send(text)) {
    pendingEchoes.push({ at: performance.now() });
    logSent(`text ${byteLengthOf(text)} bytes`);
  }
});

document.getElementById('echo-binary-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const size = Math.max(0, Math.floor(Number(document.getElementById('echo-size').value) || 0));
  const bytes = patternBytes(size);
  if (echo.send(bytes)) {
    pendingEchoes.push({ at: performance.now(), bytes });
    logSent(`binary ${size} bytes`);
  }
});

// ---- Chat ------------------------------------------------------------------------------------

const chatMessages = document.getElementById('chat-messages');
const chatMembers = document.getElementById('chat-members');
const nameInput = document.getElementById('chat-name');
// `?name=ada` in the page's address picks the chat name; otherwise a guest name is made up.
nameInput.value = new URLSearchParams(location.search).get('name') ?? `guest-${Math.floor(Math.random() * 9000 + 1000)}`;
let me;
let members = [];

/** A stable colour per member, so that a conversation is easy to follow. */
function hueOf(id) {
  return (id * 137) % 360;
}

function memberName(member) {
  const name = element('span', 'name', member.name);
  name.style.setProperty('--hue', String(hueOf(member.id)));
  return name;
}

function renderMembers() {
  chatMembers.replaceChildren(
    ...members.map((member) => {
      const item = element('li');
      item.append(memberName(member));
      if (member.id === me?.id) item.append(element('span', 'meta', '(you)'));
      return item;
    }),
  );
}

function systemLine(text) {
  append(chatMessages, element('li', 'system', text));
}

const chatHandlers = {
  welcome(message) {
    me = message.you;
    members = message.members;
    nameInput.value = me.name;
    renderMembers();
    systemLine(`You joined as ${me.name}.`);
  },
  join(message) {
    members = [...members, message.member];
    renderMembers();
    systemLine(`${message.member.name} joined.`);
  },
  leave(message) {
    members = members.filter((member) => member.id !== message.member.id);
    renderMembers();
    systemLine(`${message.member.name} left.`);
  },
  rename(message) {
    members = members.map((member) => (member.id === message.member.id ? message.member : member));
    if (message.member.id === me?.id) me = message.member;
    renderMembers();
    systemLine(`${message.previous} is now ${message.member.name}.`);
  },
  say(message) {
    const entry = element('li', message.member.id === me?.id ? 'said mine' : 'said');
    entry.append(memberName(message.member), element('span', 'text', message.text));
    append(chatMessages, entry);
  },
  latency(message) {
    chat.setLatency(formatMilliseconds(message.milliseconds));
  },
  error(message) {
    systemLine(`Server: ${message.reason}`);
  },
};

const chat = new TrackedSocket('chat', () => `/chat?name=${encodeURIComponent(nameInput.value.trim())}`, {
  onMessage(data) {
    const message = JSON.parse(data);
    chatHandlers[message.type]?.(message);
  },
  onClose() {
    members = [];
    renderMembers();
    systemLine('Disconnected.');
  },
});

document.getElementById('chat-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = document.getElementById('chat-input');
  const text = input.value.trim();
  if (text !== '' && chat.send(JSON.stringify({ type: 'say', text }))) input.value = '';
});

document.getElementById('chat-name-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  if (name !== '') chat.send(JSON.stringify({ type: 'rename', name }));
});

// ---- Start -----------------------------------------------------------------------------------

// Two lines: `send` only works once the connection is open.
document.getElementById('console-snippet').textContent =
  `var ws = new WebSocket("${origin}"); ws.onmessage = e => console.log(e.data);\nws.send('hello world')`;

echo.open();
chat.open();
