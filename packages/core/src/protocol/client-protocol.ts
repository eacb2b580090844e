import { createMaskKeySource } from '../frames/mask.js';
import { Side } from './connection-state.js';
import type { ProtocolOptions } from './protocol-options.js';
import { Protocol } from './protocol.js';

export interface ClientProtocolOptions extends ProtocolOptions {
  /**
   * Where masking keys come from. RFC 6455 §5.3: "The masking key is a 32-bit value chosen at
   * random by the client ... derived from a strong source of entropy". Defaults to a pooled
   * `crypto.randomFillSync`; tests inject a fixed source to make every byte reproducible.
   */
  readonly maskKeySource?: () => Uint8Array;
}

/** The client end: masks every frame it sends and refuses masked frames from the server. */
export class ClientProtocol extends Protocol {
  constructor(options: ClientProtocolOptions = {}) {
    super(Side.Client, options, options.maskKeySource ?? createMaskKeySource());
  }
}
