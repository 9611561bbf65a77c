export { SseDecodeStream } from "./decode-stream.ts";
export { SseDecoder } from "./decoder.ts";
export type { EventFields } from "./encode.ts";
export { comment, encodeText, formatEvent, withId } from "./encode.ts";
export type { SseEvent } from "./types.ts";
