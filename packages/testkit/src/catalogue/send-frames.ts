import type { SendFrameOptions } from '../peer/frame-writer.js';
import type { ScriptedPeer } from '../peer/scripted-peer.js';

/**
 * How a case puts its frames on the wire: all in one write, one write per frame with a pause
 * between ("frame-wise chops"), or one byte per write ("octet-wise chops"). The latter two make
 * the implementation parse across reads, where incremental decoders break.
 */
export type Chopping = 'none' | 'frames' | 'octets';

/** Pause between frame-wise chops, ms: enough for each to arrive in its own read. */
const FRAME_PAUSE = 5;

export async function sendFrames(peer: ScriptedPeer, frames: readonly SendFrameOptions[], chopping: Chopping = 'none'): Promise<void> {
  if (chopping === 'frames') {
    for (const [index, frame] of frames.entries()) {
      if (index > 0) await new Promise((resolve) => setTimeout(resolve, FRAME_PAUSE));
      await peer.sendFrame(frame);
    }
    return;
  }
  await peer.sendFrames(frames, chopping === 'octets' ? { chop: 1, delay: 1 } : {});
}
