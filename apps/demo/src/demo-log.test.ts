import { Buffer } from 'node:buffer';
import { expect, it } from 'vitest';
import { DemoLog } from './demo-log.js';

it('numbers connections and writes one readable line per event', () => {
  const lines: string[] = [];
  const log = new DemoLog((line) => lines.push(line));
  const first = log.open('/chat?name=ada', '127.0.0.1:5000');
  const second = log.open('/', '[::1]:5001');
  log.fragment(second, 1, 131072);
  log.message(second, Buffer.alloc(262145), true, 3);
  log.message(first, Buffer.from('say "hi"'), false);
  log.close(first, 1001, 'Server shutting down', true);
  log.close(second, 1006, '', false);
  log.info('listening');
  expect(lines).toEqual([
    '#1 open /chat?name=ada from 127.0.0.1:5000',
    '#2 open / from [::1]:5001',
    '#2 fragment 1: 131072 bytes',
    '#2 message binary 262145 bytes in 3 fragments',
    '#1 message text 8 bytes "say \\"hi\\""',
    '#1 close 1001 "Server shutting down" (clean)',
    '#2 close 1006 (not clean)',
    'listening',
  ]);
});

it('cuts long text to 60 characters in the log, not in the message', () => {
  const lines: string[] = [];
  new DemoLog((line) => lines.push(line)).message(1, Buffer.from('a'.repeat(100)), false);
  expect(lines).toEqual([`#1 message text 100 bytes "${'a'.repeat(60)}…"`]);
});
