export { SseByteDecoder } from "./byte-decoder.ts";
export type { SseDecodeError, SseDecoderOptions } from "./decoder.ts";
export { SseDecoder } from "./decoder.ts";
export type { EventFields } from "./encode.ts";
export { commentEvent, formatEvent, sseEvent, withId } from "./encode.ts";
export type { SseEvent } from "./types.ts";
