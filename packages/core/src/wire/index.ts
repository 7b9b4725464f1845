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
export type { FrameLimits } from './codec.js'
export * from './frames.js'
export { MAX_DEPTH, checkStructure } from './structure.js'
export * from './names.js'
