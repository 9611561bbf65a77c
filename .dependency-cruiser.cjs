/**
 * The dependency rule of the gateway's layers (docs/architecture.md), checked by `npm test`
 * (`npm run check:layers`). Layers are listed lowest first; a module may import only from its own
 * layer or the ones below it, so every import points down and no two folders can import each
 * other. Type-only imports count too (`tsPreCompilationDeps`): a type that climbs is still a climb.
 */
const LAYERS = [
  { name: "foundation", path: "^src/(protocol|errors|env)\\.ts$" },
  { name: "sse", path: "^src/sse/" },
  { name: "analytics", path: "^src/analytics/" },
  { name: "upstream", path: "^src/upstream/" },
  { name: "pipeline", path: "^src/pipeline/" },
  // The AI SDK UI message stream: useChat's requests in, the gateway's OpenAI chunks out as UI chunks.
  { name: "ui-stream", path: "^src/ui-stream/" },
  { name: "guardrail", path: "^src/guardrail/" },
  { name: "resumable", path: "^src/resumable/" },
  { name: "http", path: "^src/http/" },
  { name: "auth", path: "^src/auth/" },
  { name: "quota", path: "^src/quota/" },
  { name: "exchange", path: "^src/exchange/" },
  // The gateway's WebSocket: messages in, the routes' own streams out as socket messages.
  { name: "socket", path: "^src/socket/" },
  // The edges: the only modules that read Env, configuration or `cloudflare:workers`.
  { name: "edges", path: "^src/(config|bindings|router|index)\\.ts$|^src/(routes|objects|static)/" },
];

const layerRules = LAYERS.flatMap((layer, i) =>
  LAYERS.slice(i + 1).map((above) => ({
    name: `${layer.name}-not-above`,
    comment: `${layer.name} must not import ${above.name}: imports point down the layers (docs/architecture.md)`,
    severity: "error",
    from: { path: layer.path },
    to: { path: above.path },
  })),
);

/** @type {import('dependency-cruiser').IConfiguration} */
const config = {
  forbidden: [
    ...layerRules,
    {
      name: "no-circular",
      comment: "no import cycle between modules",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "env-imports-nothing",
      comment: "env.ts describes the bindings and imports nothing from the gateway",
      severity: "error",
      from: { path: "^src/env\\.ts$" },
      to: { path: "^src/" },
    },
    {
      name: "runtime-only-at-edges",
      comment: "only the edges touch cloudflare:workers",
      severity: "error",
      from: { path: "^src/", pathNot: LAYERS.at(-1).path },
      to: { path: "^cloudflare:workers$" },
    },
    {
      name: "client-stands-alone",
      comment: "the browser client ships on its own: it imports only its own files",
      severity: "error",
      from: { path: "^src/client/" },
      to: { path: "^src/", pathNot: "^src/client/" },
    },
    {
      name: "nothing-imports-client",
      comment: "the worker serves the client's built bundle, it does not import its modules",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(client|static)/" },
      to: { path: "^src/client/" },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.gen\\.ts$" },
  },
};
module.exports = config;
