export { type ConcurrentOptions, concurrentScenario } from "./concurrent.ts";
export { type EventDelayOptions, eventDelayScenario } from "./event-delay.ts";
export { peakMemoryScenario } from "./memory.ts";
export { type ThroughputOptions, throughputScenario } from "./throughput.ts";
export { type TtftOptions, ttftScenario } from "./ttft.ts";
