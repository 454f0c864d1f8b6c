// The documented JSON-RPC envelope shapes as zod/mini schemas and the zod reference parser, for tests and benches only; the hot path (parseLine in envelope.ts) never loads zod.
import * as z from "zod/mini";
import { en } from "zod/locales";
import { jsonErrorDetail, recoverId, type JsonRpcId, type RpcMessage, type RpcParseError, type RpcRequest } from "./envelope.ts";

// parseLineWithZod's "bad envelope: ..." detail quotes zod's English text; zod/mini loads no locale itself.
z.config(en());

// The documented shape. parseLine validates by hand (same rules) because the zod path measured
// slower on the submit hot path (see bench/framer_parse.ts); test/protocols/jsonrpc/envelope.test.ts
// checks both agree on a corpus.
export const JsonRpcIdSchema = z.union([z.number(), z.string(), z.null()]);

export const RpcRequestSchema = z.looseObject({
  id: z.optional(JsonRpcIdSchema),
  method: z.string(),
  params: z.nullish(z.union([z.array(z.unknown()), z.record(z.string(), z.unknown())])),
  worker: z.optional(z.unknown()),
});

export const RpcResponseSchema = z
  .looseObject({
    id: z.optional(JsonRpcIdSchema),
    result: z.optional(z.unknown()),
    error: z.optional(z.unknown()),
  })
  .check(z.refine((o) => !("method" in o) && ("result" in o || "error" in o), "response needs result or error and no method"));

export const RpcEnvelopeSchema = z.union([RpcRequestSchema, RpcResponseSchema]);

/** Parses with the zod schemas (reference path; slower). Same outputs as parseLine for valid envelopes. */
export function parseLineWithZod(line: string): RpcMessage | RpcParseError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { kind: "invalid", id: null, detail: jsonErrorDetail(e) };
  }
  const r = RpcEnvelopeSchema.safeParse(v);
  if (!r.success) return { kind: "invalid", id: recoverId(v), detail: "bad envelope: " + (r.error.issues[0]?.message ?? "invalid") };
  const o = r.data as Record<string, unknown>;
  const id = (o.id ?? null) as JsonRpcId;
  if ("method" in o) {
    const req: RpcRequest = {
      kind: "request",
      id,
      method: o.method as string,
      params: (o.params ?? []) as unknown[] | Record<string, unknown>,
    };
    if (typeof o.worker === "string") req.worker = o.worker;
    return req;
  }
  return { kind: "response", id, result: o.result ?? null, error: o.error ?? null };
}
