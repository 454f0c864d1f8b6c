// Guards the sans-I/O rule: no runtime, timer, logging, network or hono use in any .ts file under protocols/.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..", "protocols");

/** Removes // and /* *\/ comments, keeping string and template contents (an import specifier is a string). */
export function stripComments(src: string): string {
  let out = "";
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      while (i < n && src[i] !== "\n") i++;
    } else if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
      out += " ";
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === "\\") j++;
        else if (c !== "`" && src[j] === "\n") break;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const RULES: [string, RegExp][] = [
  ["node: import", /\b(?:from|import)\s*\(?\s*["']node:/],
  ["node builtin import", /\b(?:from|import)\s*\(?\s*["'](?:fs|net|tls|http|https|dgram|os|path|child_process|worker_threads|crypto|fs\/promises)["']/],
  ["require()", /\brequire\s*\(/],
  ["bun import", /\b(?:from|import)\s*\(?\s*["']bun(?::[^"']*)?["']/],
  ["Bun global", /\bBun\s*\./],
  ["Deno", /\bDeno\b/],
  ["setTimeout", /\bsetTimeout\b/],
  ["setInterval", /\bsetInterval\b/],
  ["setImmediate", /\bsetImmediate\b/],
  ["console", /\bconsole\s*\./],
  ["process", /\bprocess\s*\./],
  ["fetch", /\bfetch\s*\(/],
  ["hono", /["']hono(?:\/[^"']*)?["']/],
];

export function findImpurities(src: string): string[] {
  const code = stripComments(src);
  return RULES.filter(([, re]) => re.test(code)).map(([name]) => name);
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

describe("the checker itself", () => {
  const bad: [string, string][] = [
    ['import { readFileSync } from "node:fs";', "node: import"],
    ["import net from 'node:net';", "node: import"],
    ['const m = await import("node:crypto");', "node: import"],
    ['import * as fs from "fs";', "node builtin import"],
    ['const fs = require("fs");', "require()"],
    ['import { serve } from "bun";', "bun import"],
    ['import { Database } from "bun:sqlite";', "bun import"],
    ["const f = Bun.file('x');", "Bun global"],
    ["const f = Bun .file('x');", "Bun global"],
    ["Deno.exit(1);", "Deno"],
    ["if (typeof Deno !== 'undefined') {}", "Deno"],
    ["setTimeout(() => {}, 10);", "setTimeout"],
    ["const t = globalThis.setInterval;", "setInterval"],
    ["console.log('x');", "console"],
    ["const e = process.env.X;", "process"],
    ["await fetch('http://x');", "fetch"],
    ['import { Hono } from "hono";', "hono"],
    ['import { cors } from "hono/cors";', "hono"],
    ['const s = "// not a comment"; console.log(s);', "console"],
  ];
  for (const [src, rule] of bad) {
    test(`flags: ${src}`, () => {
      expect(findImpurities(src)).toContain(rule);
    });
  }

  const clean = [
    "// no Bun., Deno., setTimeout or console. here: this is a comment\nexport const x = 1;",
    "/* import x from 'node:fs'; Bun.file() */ export const y = 2;",
    "export function f(now: number) { return now + 1; }",
    'import { z } from "zod";\nimport { sha256 } from "@noble/hashes/sha2.js";',
    'export const url = "http://example.com"; // fine',
    "const bundle = 1; const processed = 2; const honorific = 3; const prefetch = 4;",
  ];
  for (const src of clean) {
    test(`accepts: ${src.slice(0, 50).replace(/\n/g, " ")}`, () => {
      expect(findImpurities(src)).toEqual([]);
    });
  }
});

describe("protocols/ is pure", () => {
  const files = walk(ROOT);
  test("there are files to check", () => {
    expect(files.length).toBeGreaterThan(0);
  });
  for (const f of files) {
    test(relative(ROOT, f), () => {
      expect(findImpurities(readFileSync(f, "utf8"))).toEqual([]);
    });
  }
});
