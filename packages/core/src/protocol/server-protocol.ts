import { Side } from './connection-state.js';
import type { ProtocolOptions } from './protocol-options.js';
import { Protocol } from './protocol.js';

/** The server end: expects masked frames and sends unmasked ones (RFC 6455 §5.1). */
export class ServerProtocol extends Protocol {
  constructor(options: ProtocolOptions = {}) {
    super(Side.Server, options);
  }
}
