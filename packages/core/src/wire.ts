export {
  FIN_BIT,
  RSV1_BIT,
  RSV2_BIT,
  RSV3_BIT,
  MASK_BIT,
  MAX_HEADER_LENGTH,
  MAX_CONTROL_PAYLOAD_LENGTH,
  headerLengthFor,
  writeFrameHeader,
} from './frames/frame-header.js';
export { FrameDecoder, DecodeStep } from './frames/frame-decoder.js';
export { encodeFrame, type FrameFields } from './frames/encode-frame.js';
export { applyMask, maskInto, createMaskKeySource } from './frames/mask.js';
export { Utf8Validator } from './utf8/utf8-validator.js';
