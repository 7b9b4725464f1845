export { Pid } from './pid.js'
export {
  DEFAULT_MAX_FRAME_BYTES,
  FrameBatch,
  decodeValue,
  encodeMessage,
  encodeShared,
  encodeValue,
  readFrames,
} from './codec.js'
export * from './frames.js'
