import { isObject, num, obj, str } from "../upstream/json.ts";
import type { UiChunk } from "./chunks.ts";

/** One streamed tool call: its id and name from its first fragment, its argument fragments in order. */
interface OpenCall {
  readonly toolCallId: string;
  readonly toolName: string;
  readonly args: string[];
}

/**
 * The tool calls of one answer, from OpenAI `delta.tool_calls` fragments (addressed by `index`) to the
 * protocol's tool-input chunks. The arguments are kept per call (the protocol's last chunk carries the
 * parsed input), never for the whole stream.
 */
export class ToolCalls {
  readonly #open = new Map<number, OpenCall>();

  /** True while a call has started and not yet been closed. */
  get open(): boolean {
    return this.#open.size > 0;
  }

  /** The chunks for one delta's `tool_calls` fragments; `beforeStart` closes text or reasoning first. */
  push(fragments: readonly unknown[], beforeStart: () => UiChunk[]): UiChunk[] {
    const out: UiChunk[] = [];
    for (const fragment of fragments) {
      if (!isObject(fragment)) continue;
      const index = num(fragment, "index") ?? 0;
      const fn = obj(fragment, "function");
      let call = this.#open.get(index);
      if (call === undefined) {
        out.push(...beforeStart());
        call = {
          // A server that leaves the id out still gets a stable one: the index is the call's address.
          toolCallId: str(fragment, "id") ?? `call-${index}`,
          toolName: (fn === undefined ? undefined : str(fn, "name")) ?? "",
          args: [],
        };
        this.#open.set(index, call);
        out.push({ type: "tool-input-start", toolCallId: call.toolCallId, toolName: call.toolName });
      }
      const args = fn === undefined ? undefined : str(fn, "arguments");
      if (args) {
        call.args.push(args);
        out.push({ type: "tool-input-delta", toolCallId: call.toolCallId, inputTextDelta: args });
      }
    }
    return out;
  }

  /** Closes every open call: its parsed input, or an input error when the arguments are not JSON. */
  close(): UiChunk[] {
    const out: UiChunk[] = [];
    for (const call of this.#open.values()) out.push(finished(call));
    this.#open.clear();
    return out;
  }
}

function finished(call: OpenCall): UiChunk {
  const text = call.args.join("");
  // A call without arguments is a call with none: OpenAI sends "" for a function without parameters.
  const input = parseArgs(text === "" ? "{}" : text);
  const { toolCallId, toolName } = call;
  if (input.ok) return { type: "tool-input-available", toolCallId, toolName, input: input.value };
  return {
    type: "tool-input-error",
    toolCallId,
    toolName,
    input: text,
    errorText: "the model's tool-call arguments are not valid JSON",
  };
}

function parseArgs(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
