// protocols/ has no import cycle: every relative import (type imports and re-exports included) is an edge, and a depth-first search finds no back edge.
import { expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../protocols", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative specifiers of `import … from "./x.ts"`, `import type …`, `export … from`, and bare `import "./x.ts"`. */
export function relativeImports(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\sfrom\s+)?["'](\.{1,2}\/[^"']+)["']/g;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) out.push(m[1]!);
  return out;
}

/** The first cycle found, as a list of files (first = last), or undefined. */
export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      const s = state.get(m);
      if (s === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of graph.keys()) {
    if (state.get(n) === undefined) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

test("the cycle finder and import scanner catch what they must", () => {
  expect(relativeImports(`import type { A } from "../x/a.ts";\nexport { b } from "./b.ts";\nimport { c,\n d } from './c.ts';\nimport "./side.ts";\nconst s = "import x from './no.ts'";`)).toEqual(["../x/a.ts", "./b.ts", "./c.ts", "./side.ts"]);
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", []]]);
  expect(findCycle(g)).toEqual(["a", "b", "c", "a"]);
  expect(findCycle(new Map([["a", ["b"]], ["b", []]]))).toBeUndefined();
});

test("no import cycle in protocols/", () => {
  const graph = new Map<string, string[]>();
  for (const f of files(ROOT)) {
    const deps = relativeImports(readFileSync(f, "utf8")).map((s) => resolve(dirname(f), s)).filter((p) => p.startsWith(ROOT));
    graph.set(f, deps);
  }
  expect(graph.size).toBeGreaterThan(30);
  const cycle = findCycle(graph);
  expect(cycle?.map((p) => relative(ROOT, p)).join(" → ")).toBeUndefined();
});
