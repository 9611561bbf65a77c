/**
 * Builds the three files the gateway serves itself, the demo page, its script and the browser client,
 * into `src/static/files.gen.ts` (generated, not committed). Run by wrangler.toml's [build] before every
 * `wrangler dev` and `wrangler deploy`, and by `npm test` before type-checking.
 *
 * Why the worker serves them rather than `[assets]`: static assets put a router in front of every
 * request, API calls included, and that hop costs more time to first token than anything else
 * between the client and the gateway's own code (see bench/README.md). Three small files do not need it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { build, type Plugin } from "esbuild";

const USAGE = `usage: npm run build:static [-- --no-type-check]
Type-checks the demo page's scripts (public/tsconfig.json), bundles them and src/client, and reads
public/index.html into src/static/files.gen.ts, which the worker serves at /, /demo.js and /client.js.
  --no-type-check  bundle without the type check (wrangler's [build] before every dev run and deploy:
                   types are checked by npm run check, as for the worker's own code)`;

const NO_TYPE_CHECK = "--no-type-check";
const args = process.argv.slice(2);
const unknown = args.find((a) => a !== NO_TYPE_CHECK);
if (unknown !== undefined) {
  const help = args.includes("--help") || args.includes("-h");
  (help ? process.stdout : process.stderr).write(
    `${help ? "" : `build-static: unknown argument ${JSON.stringify(unknown)}\n`}${USAGE}\n`,
  );
  process.exit(help ? 0 : 2);
}

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(root, "src/static/files.gen.ts");

/**
 * The page's scripts run in a browser, so they are checked against the DOM library in their own
 * program (the root tsconfig.json has the Workers types, which clash with it). A type error stops the
 * build, as it would stop `tsc` for the worker's own code.
 */
async function typeCheckPage(): Promise<void> {
  // Loaded only here: the compiler takes a moment to load, which a build without the check skips.
  const { default: ts } = await import("typescript");
  const configPath = path.join(root, "public/tsconfig.json");
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error !== undefined)
    throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  const config = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath));
  const program = ts.createProgram(config.fileNames, config.options);
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
  if (diagnostics.length === 0) return;
  process.stderr.write(
    ts.formatDiagnosticsWithColorAndContext(diagnostics, {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: () => root,
      getNewLine: () => "\n",
    }),
  );
  process.exit(1);
}

/**
 * The page imports the client's index for its types; in the bundle that import becomes `/client.js`,
 * the very file other pages load, instead of a second copy of the client inside the page's script.
 */
const servedClient: Plugin = {
  name: "served-client",
  setup(b) {
    b.onResolve({ filter: /\/src\/client\/index\.ts$/ }, () => ({ path: "/client.js", external: true }));
  },
};

if (!args.includes(NO_TYPE_CHECK)) await typeCheckPage();

/** How every script the gateway serves is bundled: one minified ES module for browsers, kept in memory. */
const BROWSER_BUNDLE = {
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: true,
  legalComments: "none",
  write: false,
  logLevel: "warning",
} as const;

const client = await build({ ...BROWSER_BUNDLE, entryPoints: [path.join(root, "src/client/index.ts")] });
const clientJs = client.outputFiles[0]?.text;
if (clientJs === undefined) throw new Error("esbuild produced no client bundle");
const page = await build({
  ...BROWSER_BUNDLE,
  entryPoints: [path.join(root, "public/demo/main.ts")],
  metafile: true,
  plugins: [servedClient],
});
const demoJs = page.outputFiles[0]?.text;
if (demoJs === undefined) throw new Error("esbuild produced no demo page bundle");
// Only the index is swapped for /client.js: a deeper import would bundle a second copy of the client.
const copied = Object.keys(page.metafile.inputs).filter((input) => input.startsWith("src/client/"));
if (copied.length > 0) throw new Error(`public/demo imports the client past its index: ${copied.join(", ")}`);
const indexHtml = readFileSync(path.join(root, "public/index.html"), "utf8");

/** A strong validator from the content, so a browser revalidates with a cheap 304. */
function etag(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
}

const entry = (type: string, body: string) =>
  `{ type: ${JSON.stringify(type)}, etag: ${JSON.stringify(etag(body))}, body: ${JSON.stringify(body)} }`;

mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `// Generated by scripts/build-static.ts from public/ and src/client. Do not edit.
import type { StaticFile } from "./static-file.ts";

/** The demo page. */
export const INDEX_HTML: StaticFile = ${entry("text/html; charset=utf-8", indexHtml)};

/** The demo page's script, bundled and minified; it imports /client.js. */
export const DEMO_JS: StaticFile = ${entry("text/javascript; charset=utf-8", demoJs)};

/** The browser client, bundled and minified. */
export const CLIENT_JS: StaticFile = ${entry("text/javascript; charset=utf-8", clientJs)};
`,
);
