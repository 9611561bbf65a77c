import { MemoryEventStore } from "../../../src/resumable/memory-event-store.ts";
import { eventStoreContract, type WithStore } from "../../support/event-store-contract.ts";

// The SQL store runs the same suite inside a Durable Object: test/workers/event-store.test.ts.
const withMemoryStore: WithStore = async (body) => {
  const store = new MemoryEventStore();
  return body({ store, reopen: () => store });
};

eventStoreContract("MemoryEventStore", withMemoryStore);
