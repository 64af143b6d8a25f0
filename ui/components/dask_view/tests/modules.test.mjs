// The component's modules as the browser links them, without a browser: every relative
// import names a .js file of the component that exports what is imported, and no module
// grows past 400 lines. The vendored libraries (classic scripts) are not modules.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const COMPONENT = join(dirname(fileURLToPath(import.meta.url)), "..");
const MAX_LINES = 400;

function modules(folder = COMPONENT) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return ["vendor", "tests", "node_modules"].includes(entry.name) ? [] : modules(path);
    return entry.name.endsWith(".js") ? [path] : [];
  });
}

// import { a, b as c } from "./x.js"  ->  { from: "./x.js", names: ["a", "b"] }; import("./x.js") too.
function imports(source) {
  const found = [];
  for (const [, names, from] of source.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";/gm)) {
    found.push({ from, names: names.split(",").map((name) => name.trim().split(/\s+as\s+/)[0]).filter(Boolean) });
  }
  for (const [, from] of source.matchAll(/\bimport\("([^"]+)"\)/g)) found.push({ from, names: [] });
  for (const [, from] of source.matchAll(/^import\s+(?!\{)[^"(]*"([^"]+)";/gm)) found.push({ from, names: [] });
  return found;
}

function exported(source) {
  const names = new Set();
  for (const [, name] of source.matchAll(/^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+([A-Za-z_$][\w$]*)/gm)) {
    names.add(name);
  }
  return names;
}

const all = modules();

test("the component has its modules", () => {
  const names = all.map((path) => relative(COMPONENT, path));
  for (const name of ["bridge.js", "loader.js", "tasks.js", "zoom.js", "logic/words.js", "logic/states.js"]) {
    assert.ok(names.includes(name), `${name} missing from ${names}`);
  }
});

test("index.html loads the bridge as a module", () => {
  const page = readFileSync(join(COMPONENT, "index.html"), "utf8");
  assert.match(page, /<script type="module">\s*import \{ start \} from "\.\/bridge\.js";/);
});

for (const path of all) {
  const name = relative(COMPONENT, path);
  const source = readFileSync(path, "utf8");

  test(`${name}: its imports resolve to exports of the component's modules`, () => {
    for (const { from, names } of imports(source)) {
      assert.match(from, /^\.\.?\/.*\.js$/, `${name} imports ${from}: a relative path to a .js file`);
      const target = join(dirname(path), from);
      assert.ok(all.includes(target), `${name} imports ${from}, which is not a module of the component`);
      const exports = exported(readFileSync(target, "utf8"));
      for (const imported of names) assert.ok(exports.has(imported), `${name} imports ${imported}, which ${from} does not export`);
    }
  });

  test(`${name}: under ${MAX_LINES} lines`, () => {
    const lines = source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
    assert.ok(lines < MAX_LINES, `${name} has ${lines} lines`);
  });
}

test("the modules without a DOM touch none", () => {
  for (const path of all.filter((module) => relative(COMPONENT, module).startsWith("logic"))) {
    const source = readFileSync(path, "utf8").replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(source, /\b(document|window|Element|requestAnimationFrame)\b/, relative(COMPONENT, path));
  }
});
