export { workersAiFormat } from "./format.ts";
export { buildWorkersAiRequest, type WorkersAiInput, type WorkersAiMessage } from "./translate-request.ts";
export { translateWorkersAiResponse } from "./translate-response.ts";
export { WorkersAiStreamTranslator } from "./translate-stream.ts";
export { workersAiTranslator } from "./translator.ts";
