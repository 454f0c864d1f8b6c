// Payout address → output script for Bitcoin-family chains (bech32/bech32m segwit, base58check P2PKH/P2SH via @scure/base), checked against one chain's prefixes; no network or key handling.
import { sha256 } from "@noble/hashes/sha2.js";
import { base58, bech32, bech32m, createBase58check } from "@scure/base";

export type ChainName =
  | "bitcoin"
  | "bitcoin-testnet"
  | "bitcoin-regtest"
  | "bitcoin-signet"
  | "litecoin"
  | "litecoin-testnet"
  | "litecoin-regtest"
  | "dogecoin"
  | "dogecoin-testnet";

export interface ChainParams {
  /** Human name used in error messages. */
  readonly label: string;
  /** Segwit human-readable part; null when the chain has no segwit addresses. */
  readonly bech32Hrp: string | null;
  readonly p2pkhVersion: number;
  readonly p2shVersion: number;
  /** A second accepted P2SH version byte (Litecoin's SCRIPT_ADDRESS2 beside the Bitcoin-compatible one). */
  readonly altP2shVersion?: number;
}

/**
 * Address prefixes per chain, as in each node's chainparams.cpp (base58Prefixes / bech32_hrp).
 * Litecoin Core v0.21: main PUBKEY 48 (L), SCRIPT 5 (3, legacy), SCRIPT2 50 (M), hrp "ltc";
 * testnet/regtest PUBKEY 111, SCRIPT 196, SCRIPT2 58 (Q), hrp "tltc"/"rltc" — checked against litecoind's
 * validateaddress on all three networks (see test/protocols/bitcoin/address.test.ts).
 * Dogecoin Core: main PUBKEY 30 (D), SCRIPT 22 (9/A); testnet PUBKEY 113, SCRIPT 196; no segwit.
 */
export const CHAINS: Readonly<Record<ChainName, ChainParams>> = {
  bitcoin: { label: "bitcoin mainnet", bech32Hrp: "bc", p2pkhVersion: 0x00, p2shVersion: 0x05 },
  "bitcoin-testnet": { label: "bitcoin testnet", bech32Hrp: "tb", p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  "bitcoin-regtest": { label: "bitcoin regtest", bech32Hrp: "bcrt", p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  "bitcoin-signet": { label: "bitcoin signet", bech32Hrp: "tb", p2pkhVersion: 0x6f, p2shVersion: 0xc4 },
  litecoin: { label: "litecoin mainnet", bech32Hrp: "ltc", p2pkhVersion: 0x30, p2shVersion: 0x32, altP2shVersion: 0x05 },
  "litecoin-testnet": { label: "litecoin testnet", bech32Hrp: "tltc", p2pkhVersion: 0x6f, p2shVersion: 0x3a, altP2shVersion: 0xc4 },
  "litecoin-regtest": { label: "litecoin regtest", bech32Hrp: "rltc", p2pkhVersion: 0x6f, p2shVersion: 0x3a, altP2shVersion: 0xc4 },
  dogecoin: { label: "dogecoin mainnet", bech32Hrp: null, p2pkhVersion: 0x1e, p2shVersion: 0x16 },
  "dogecoin-testnet": { label: "dogecoin testnet", bech32Hrp: null, p2pkhVersion: 0x71, p2shVersion: 0xc4 },
};

export type AddressType = "p2pkh" | "p2sh" | "p2wpkh" | "p2wsh" | "p2tr" | "witness_unknown";
export type DecodedAddress = { ok: true; script: Uint8Array; type: AddressType } | { ok: false; error: string };

// ───────────────────────────── bech32 / bech32m (BIP173, BIP350) ─────────────────────────────
// Checksums and bit regrouping come from @scure/base; the format checks below stay here only so that a
// rejected payout address gets a message naming what is wrong (the library's errors are generic).

export type Bech32Encoding = "bech32" | "bech32m";
const CODERS = { bech32, bech32m } as const;
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

export type Bech32Decoded =
  | { ok: true; hrp: string; words: Uint8Array; encoding: Bech32Encoding }
  | { ok: false; error: string };

/**
 * Decodes a bech32 or bech32m string (BIP173 §Bech32 / BIP350): ≤ 90 chars, US-ASCII 33..126, not mixed
 * case, hrp 1..83 chars, ≥ 6 checksum chars. Returns the lowercase hrp, the data words without checksum
 * and which checksum constant matched (no string can satisfy both).
 */
export function decodeBech32(str: string): Bech32Decoded {
  if (str.length > 90) return { ok: false, error: `too long: ${str.length} characters (bech32 allows 90)` };
  let lower = false;
  let upper = false;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 33 || c > 126) return { ok: false, error: `character out of range at position ${i}` };
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
  }
  if (lower && upper) return { ok: false, error: "mixed upper and lower case" };
  const s = str.toLowerCase();
  const sep = s.lastIndexOf("1");
  if (sep < 0) return { ok: false, error: "no separator '1'" };
  if (sep === 0) return { ok: false, error: "empty human-readable part" };
  if (s.length - sep - 1 < 6) return { ok: false, error: "checksum too short" };
  for (let i = sep + 1; i < s.length; i++) {
    if (!CHARSET.includes(s[i] as string)) return { ok: false, error: `invalid bech32 character '${s[i]}'` };
  }
  for (const encoding of ["bech32", "bech32m"] as const) {
    const d = CODERS[encoding].decodeUnsafe(s, 90);
    if (d !== undefined) return { ok: true, hrp: d.prefix, words: Uint8Array.from(d.words), encoding };
  }
  return { ok: false, error: "bad checksum" };
}

/** Encodes hrp + 5-bit words with the given checksum variant (lowercase); no length limit. */
export function encodeBech32(hrp: string, words: ArrayLike<number>, encoding: Bech32Encoding): string {
  return CODERS[encoding].encode(hrp, Array.from(words), false);
}

/** Segwit address for a witness version and program: bech32 for v0, bech32m for v1..16 (BIP350). */
export function encodeSegwitAddress(hrp: string, version: number, program: Uint8Array): string {
  return encodeBech32(hrp, [version, ...bech32.toWords(program)], version === 0 ? "bech32" : "bech32m");
}

/** Output script OP_n <program>: OP_0 = 0x00, OP_1..OP_16 = 0x51..0x60 (BIP141). */
function witnessScript(version: number, program: Uint8Array): Uint8Array {
  const s = new Uint8Array(2 + program.length);
  s[0] = version === 0 ? 0 : 0x50 + version;
  s[1] = program.length;
  s.set(program, 2);
  return s;
}

/** Decodes a segwit address already known to carry `expectHrp`; enforces version, program length and checksum variant. */
function decodeSegwit(address: string, expectHrp: string, label: string): DecodedAddress {
  const d = decodeBech32(address);
  if (!d.ok) return { ok: false, error: `invalid ${label} segwit address: ${d.error}` };
  if (d.hrp !== expectHrp) return { ok: false, error: `hrp '${d.hrp}' is not ${label}'s '${expectHrp}'` };
  if (d.words.length < 1) return { ok: false, error: "empty data section" };
  const version = d.words[0] as number;
  if (version > 16) return { ok: false, error: `invalid witness version ${version}` };
  // Strict 5→8 regrouping: ≤ 4 padding bits, all zero, as BIP173 requires.
  const program = bech32.fromWordsUnsafe(Array.from(d.words.subarray(1)));
  if (program === undefined) return { ok: false, error: "invalid padding in the witness program" };
  if (program.length < 2 || program.length > 40) {
    return { ok: false, error: `invalid witness program length ${program.length} (2..40 bytes)` };
  }
  if (version === 0 && program.length !== 20 && program.length !== 32) {
    return { ok: false, error: `witness v0 program must be 20 or 32 bytes, got ${program.length}` };
  }
  const want: Bech32Encoding = version === 0 ? "bech32" : "bech32m";
  if (d.encoding !== want) {
    return { ok: false, error: `witness v${version} requires a ${want} checksum, got ${d.encoding}` };
  }
  const script = witnessScript(version, program);
  const type: AddressType =
    version === 0 ? (program.length === 20 ? "p2wpkh" : "p2wsh") : version === 1 && program.length === 32 ? "p2tr" : "witness_unknown";
  return { ok: true, script, type };
}

// ───────────────────────────── base58check ─────────────────────────────

const BASE58CHECK = createBase58check(sha256);

/** Plain base58 → bytes (leading '1's are leading zero bytes); null on a non-alphabet character. Quadratic: callers cap the length. */
export function decodeBase58(str: string): Uint8Array | null {
  try {
    return base58.decode(str);
  } catch {
    return null;
  }
}

/** Bytes → plain base58 (each leading zero byte becomes '1'). */
export function encodeBase58(data: Uint8Array): string {
  return base58.encode(data);
}

/** version byte ‖ payload, plus the first 4 bytes of sha256d as checksum, in base58. */
export function encodeBase58Check(version: number, payload: Uint8Array): string {
  const body = new Uint8Array(1 + payload.length);
  body[0] = version;
  body.set(payload, 1);
  return BASE58CHECK.encode(body);
}

/** P2PKH address of a 20-byte pubkey hash on a chain. */
export function encodeP2pkh(hash160: Uint8Array, chain: ChainName): string {
  return encodeBase58Check(CHAINS[chain].p2pkhVersion, hash160);
}

/** P2SH address of a 20-byte script hash on a chain (the chain's primary P2SH version). */
export function encodeP2sh(hash160: Uint8Array, chain: ChainName): string {
  return encodeBase58Check(CHAINS[chain].p2shVersion, hash160);
}

/** P2WPKH address of a 20-byte pubkey hash; null for chains without segwit. */
export function encodeP2wpkh(hash160: Uint8Array, chain: ChainName): string | null {
  const hrp = CHAINS[chain].bech32Hrp;
  return hrp === null ? null : encodeSegwitAddress(hrp, 0, hash160);
}

/** The chains (labels) whose base58 version bytes include v, for "this is a … address" messages. */
function chainsWithVersion(v: number): string[] {
  const out: string[] = [];
  for (const p of Object.values(CHAINS)) {
    if (p.p2pkhVersion === v || p.p2shVersion === v || p.altP2shVersion === v) out.push(p.label);
  }
  return out;
}

function chainsWithHrp(hrp: string): string[] {
  return Object.values(CHAINS)
    .filter((p) => p.bech32Hrp === hrp)
    .map((p) => p.label);
}

function decodeBase58Address(address: string, p: ChainParams): DecodedAddress {
  // 25 bytes encode to at most 34 characters; a few more leave room for odd inputs without a quadratic blow-up.
  if (address.length > 40) return { ok: false, error: `too long for a base58 address (${address.length} characters)` };
  const raw = decodeBase58(address);
  if (raw === null) return { ok: false, error: "not a valid address: invalid base58 character" };
  if (raw.length !== 25) return { ok: false, error: `base58 payload is ${raw.length} bytes, expected 25 (version + 20-byte hash + checksum)` };
  // Alphabet and length are checked first (above) so each failure gets its own message; the checksum is the library's.
  try {
    BASE58CHECK.decode(address);
  } catch {
    return { ok: false, error: "bad checksum" };
  }
  const version = raw[0] as number;
  const hash = raw.subarray(1, 21);
  if (version === p.p2pkhVersion) {
    const s = new Uint8Array(25);
    s.set([0x76, 0xa9, 0x14]); // OP_DUP OP_HASH160 <20>
    s.set(hash, 3);
    s[23] = 0x88; // OP_EQUALVERIFY
    s[24] = 0xac; // OP_CHECKSIG
    return { ok: true, script: s, type: "p2pkh" };
  }
  if (version === p.p2shVersion || version === p.altP2shVersion) {
    const s = new Uint8Array(23);
    s.set([0xa9, 0x14]); // OP_HASH160 <20>
    s.set(hash, 2);
    s[22] = 0x87; // OP_EQUAL
    return { ok: true, script: s, type: "p2sh" };
  }
  const others = chainsWithVersion(version);
  const v = `0x${version.toString(16).padStart(2, "0")}`;
  return {
    ok: false,
    error:
      others.length > 0
        ? `${address.slice(0, 4)}… (version ${v}) is a ${others.join(" / ")} address, not ${p.label}`
        : `unknown base58 version ${v} for ${p.label}`,
  };
}

/**
 * Payout address → scriptPubKey for `chain`. Bech32 is tried when the text before the last '1' is a known
 * segwit hrp (any chain's, so a wrong-chain address gets a precise message); otherwise base58check.
 * Witness versions 2..16 and v1 programs other than 32 bytes decode as witness_unknown (valid per BIP350,
 * but unspendable until a soft fork defines them: callers may refuse them as payouts).
 */
export function decodeAddress(address: string, chain: ChainName): DecodedAddress {
  const p = CHAINS[chain];
  if (typeof address !== "string" || address.length === 0) return { ok: false, error: "empty address" };
  // Litecoin MWEB stealth addresses (hrp ltcmweb / tmweb, ~130 characters) have no output script to pay.
  if (/^[a-z]*mweb1/i.test(address)) {
    return { ok: false, error: "MWEB addresses cannot be paid by a coinbase output; use a segwit or base58 address" };
  }
  if (address.length > 90) return { ok: false, error: `address too long (${address.length} characters)` };
  const sep = address.lastIndexOf("1");
  const hrp = sep > 0 ? address.slice(0, sep).toLowerCase() : "";
  const hrpChains = hrp === "" ? [] : chainsWithHrp(hrp);
  if (hrpChains.length > 0) {
    if (p.bech32Hrp === hrp) return decodeSegwit(address, hrp, p.label);
    const prefix = address.slice(0, sep + 1);
    return {
      ok: false,
      error:
        p.bech32Hrp === null
          ? `${prefix}… is a ${hrpChains.join(" / ")} address; ${p.label} has no segwit addresses`
          : `${prefix}… is a ${hrpChains.join(" / ")} address, not ${p.label}`,
    };
  }
  const b58 = decodeBase58Address(address, p);
  if (b58.ok) return b58;
  // Not base58 either: if it is well-formed bech32 with an unknown hrp, say so rather than blame base58.
  if (sep > 0) {
    const d = decodeBech32(address);
    if (d.ok) return { ok: false, error: `unknown segwit prefix '${d.hrp}1' for ${p.label}${p.bech32Hrp ? ` (expected '${p.bech32Hrp}1')` : ""}` };
  }
  return b58;
}
