// Offline schema check of Kubernetes manifests, two ways, each against the Kubernetes API types as published in
// the npm package kubernetes-models (generated from the Kubernetes OpenAPI document):
//  1. its JSON-schema validators: types, required fields, enums and formats (an int where a string is due, a
//     missing container name, a bad quantity);
//  2. TypeScript's excess-property check on every object typed as its kind's interface: unknown and misspelled
//     fields, which the JSON schemas allow (they do not set additionalProperties: false).
// usage: node validate.mjs FILE.yaml...   (multi-document YAML); exit 1 with the reasons when anything fails.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const failures = [];
const objects = [];

for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { failures.push(`${file}: YAML: ${doc.errors.map(e => e.message).join("; ")}`); continue; }
    const object = doc.toJS();
    if (object == null) continue;
    objects.push({ file, object });
  }
}

// The module path of a kind: core "v1" is kubernetes-models/v1, others kubernetes-models/<group>/<version>.
const modulePath = apiVersion => `kubernetes-models/${apiVersion}`;
const describe = ({ file, object }) => `${file}: ${object.kind ?? "?"} ${object.metadata?.name ?? "?"}`;

for (const entry of objects) {
  const { object } = entry;
  if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
    failures.push(`${describe(entry)}: no apiVersion/kind`);
    continue;
  }
  let Model;
  try {
    Model = (await import(modulePath(object.apiVersion)))[object.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) { failures.push(`${describe(entry)}: unknown kind ${object.apiVersion} ${object.kind}`); entry.unknown = true; continue; }
  try {
    new Model(object).validate();
  } catch (e) {
    failures.push(`${describe(entry)}: ${e.message}`);
  }
}

// Excess properties: one typed constant per object, compiled with tsc.
const dir = mkdtempSync(join(here, ".check-"));
try {
  const lines = [];
  objects.filter(e => !e.unknown && e.object.apiVersion).forEach((entry, i) => {
    lines.push(`import type { I${entry.object.kind} as T${i} } from "${modulePath(entry.object.apiVersion)}/${entry.object.kind}";`);
  });
  objects.filter(e => !e.unknown && e.object.apiVersion).forEach((entry, i) => {
    lines.push(`// ${describe(entry)}`);
    // null is "unset" to the API server (kubectl itself prints creationTimestamp: null); the types say undefined.
    lines.push(`export const o${i}: T${i} = ${JSON.stringify(entry.object, (_, v) => (v === null ? undefined : v), 1)};`);
  });
  writeFileSync(join(dir, "check.ts"), lines.join("\n") + "\n");
  const tsc = spawnSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict",
    "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", join(dir, "check.ts")],
    { encoding: "utf8", cwd: here });
  if (tsc.status !== 0) {
    // Name the object each error is in: the comment line above its constant.
    const source = readFileSync(join(dir, "check.ts"), "utf8").split("\n");
    for (const line of (tsc.stdout + tsc.stderr).split("\n").filter(l => l.includes("error TS"))) {
      const at = Number(/check\.ts\((\d+),/.exec(line)?.[1] ?? 0);
      let owner = "";
      for (let n = at - 1; n >= 0; n--) if (source[n]?.startsWith("// ")) { owner = source[n].slice(3); break; }
      failures.push(`${owner}: ${line.replace(/^.*error (TS\d+): /, "$1 ")}`);
    }
    if (!failures.length) failures.push(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (failures.length) {
  for (const f of failures) console.error(`invalid: ${f}`);
  process.exit(1);
}
console.log(`valid: ${objects.length} objects`);
