export { type ClassifierHoldOptions, classifierHoldScenario } from "./classifier-hold.ts";
export { type ConcurrentOptions, concurrentScenario } from "./concurrent.ts";
export { type EventDelayOptions, eventDelayScenario } from "./event-delay.ts";
export { type FirstContentOptions, firstContentScenario } from "./first-content.ts";
export { type ScanOptions, scanThroughputScenario } from "./guardrail-scan.ts";
export { type HostCapacityOptions, hostCapacityScenario } from "./host-capacity.ts";
export { peakMemoryScenario } from "./memory.ts";
export { type ResilienceOptions, resilienceScenario } from "./resilience.ts";
export {
  type ReplayOptions,
  replayScenario,
  type StoredRowsOptions,
  storedRowsScenario,
} from "./resumable.ts";
export { type ThroughputOptions, throughputScenario } from "./throughput.ts";
export { type TranslatedOptions, translatedScenario } from "./translated.ts";
export { type TtftOptions, ttftScenario } from "./ttft.ts";
export { type WebSocketOptions, webSocketScenario } from "./websocket.ts";
