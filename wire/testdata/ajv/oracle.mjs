// Records the original validator's verdict and message for every case in
// cases.json into golden.json: AJV 8 with the original's options
// (allErrors, strict:false, removeAdditional:false) on the data as
// JSON.parse reads it, the errors formatted by the original's own
// formatValidationErrors. TestWalkerMatchesAJV replays golden.json; CI
// never needs Node. Regenerate after editing cases.json or the schemas:
//
//   PEER_ROOT=~/.cache/clawdbot-peer node wire/testdata/ajv/oracle.mjs
//
// (PEER_ROOT is the original's install, ../shared/tools/peer/install-peer.sh.)
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { homedir } from "node:os";

const here = dirname(fileURLToPath(import.meta.url));
const peer = process.env.PEER_ROOT ?? join(homedir(), ".cache", "clawdbot-peer");
const mods = join(peer, "cb", "node_modules");
const { formatValidationErrors } = await import(join(mods, "clawdbot", "dist", "gateway", "protocol", "index.js"));
const AjvPkg = (await import(join(mods, "ajv", "dist", "ajv.js"))).default;
const Ajv = AjvPkg.default ?? AjvPkg;
const ajvVersion = JSON.parse(readFileSync(join(mods, "ajv", "package.json"), "utf8")).version;

const ajv = new Ajv({ allErrors: true, strict: false, removeAdditional: false });
const schemaDir = join(here, "..", "..", "schema");
const compiled = new Map();
function validator(schema) {
  const key = typeof schema === "string" ? schema : JSON.stringify(schema);
  if (!compiled.has(key)) {
    let s = typeof schema === "string" ? JSON.parse(readFileSync(join(schemaDir, schema + ".json"), "utf8")) : schema;
    // Our files declare draft 2020-12, which AJV's default class does not
    // load; every keyword they use means the same in its draft-07 vocabulary.
    s = { ...s };
    delete s.$schema;
    delete s.$id;
    compiled.set(key, ajv.compile(s));
  }
  return compiled.get(key);
}

const cases = JSON.parse(readFileSync(join(here, "cases.json"), "utf8"));
const out = cases.map((c) => {
  const v = validator(c.schema);
  const ok = v(JSON.parse(c.data));
  return { ...c, valid: ok, message: ok ? "" : formatValidationErrors(v.errors) };
});
writeFileSync(join(here, "golden.json"), JSON.stringify({ ajv: ajvVersion, cases: out }, null, 1) + "\n");
console.log(`${out.length} cases, ajv ${ajvVersion}`);
