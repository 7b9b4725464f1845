/** First bytes of the WebRTC benchmark's messages (webrtc.ts ↔ webrtc-echo.ts). */
export const PING = 1
export const BULK = 2
export const END = 3
